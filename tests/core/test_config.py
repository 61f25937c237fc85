"""Configuration: defaults, strict parsing, round trips, presets and named errors."""

from __future__ import annotations

import dataclasses
import doctest
import re
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from rl_environments.ticket_routing.core import config, config_sections, data_models, records, validation
from rl_environments.ticket_routing.core.config import (
    DEFAULT_CONFIG_PATH,
    PRESETS_DIR,
    PRIORITIES,
    TICKET_TYPES,
    WEEKDAYS,
    Agent,
    AgentConfig,
    ArrivalConfig,
    ConfigError,
    ConfigSection,
    EnvironmentConfig,
    RewardConfig,
    ServiceConfig,
    SlaConfig,
    load_yaml_mapping,
)


def test_brief_constructor_and_defaults() -> None:
    cfg = EnvironmentConfig(num_agents=10, episode_length=2000, max_queue_size=100)
    assert (cfg.num_agents, cfg.episode_length, cfg.max_queue_size) == (10, 2000, 100)
    assert len(cfg.arrivals.type_mix) == len(TICKET_TYPES)
    assert len(cfg.sla.resolution_hours) == len(PRIORITIES)
    assert sum(cfg.arrivals.priority_mix) == pytest.approx(1.0)


def test_config_is_frozen() -> None:
    cfg = EnvironmentConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.num_agents = 3  # type: ignore[misc]


def test_dict_and_yaml_round_trip_exactly(tmp_path: Path) -> None:
    cfg = EnvironmentConfig(
        num_agents=3,
        arrivals={"weekly_profile": {d: [1.0 + h for h in range(24)] for d in ArrivalConfig._named["weekly_profile"]}},
        agents={"expertise": [[0.1, 0.2, 0.3, 0.4, 0.5]] * 3, "shift_hours": 8},
        service={"distribution": "lognormal", "cv": 0.7},
    )
    assert EnvironmentConfig.from_dict(cfg.to_dict()) == cfg
    path = tmp_path / "c.yaml"
    cfg.to_yaml(path)
    assert EnvironmentConfig.from_yaml(path) == cfg
    assert EnvironmentConfig.from_yaml_text(cfg.to_yaml()) == cfg


def test_shipped_default_yaml_equals_defaults() -> None:
    assert EnvironmentConfig.from_yaml(DEFAULT_CONFIG_PATH) == EnvironmentConfig()
    assert EnvironmentConfig.default() == EnvironmentConfig()


@pytest.mark.parametrize("name", ["easy", "balanced", "hard"])
def test_presets_list_only_what_they_change(name: str) -> None:
    assert name in EnvironmentConfig.preset_names()
    changes = load_yaml_mapping(PRESETS_DIR / f"{name}.yaml")
    defaults = EnvironmentConfig().to_dict()
    for key, value in changes.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                assert defaults[key][sub] != v, f"{name}: {key}.{sub} repeats the default"
        else:
            assert defaults[key] != value, f"{name}: {key} repeats the default"
    preset = EnvironmentConfig.preset(name)
    assert isinstance(preset, EnvironmentConfig)


def test_mapping_and_sequence_forms_agree() -> None:
    as_map = ArrivalConfig(priority_mix={"critical": 0.1, "high": 0.2, "medium": 0.3, "low": 0.4})
    as_seq = ArrivalConfig(priority_mix=(0.1, 0.2, 0.3, 0.4))
    assert as_map == as_seq
    assert as_map.priority_mix == (0.1, 0.2, 0.3, 0.4)


def test_replace_merges_sections() -> None:
    cfg = EnvironmentConfig().replace(num_agents=8, reward={"resolution": 0.5})
    assert cfg.num_agents == 8
    assert cfg.reward.resolution == 0.5
    assert cfg.reward.assignment == RewardConfig().assignment
    assert EnvironmentConfig().replace(reward=RewardConfig(rejection=1.0)).reward.rejection == 1.0


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({"num_agnets": 4}, "num_agnets: invalid value 4; unknown key"),
    ({"num_agents": 0}, "num_agents: invalid value 0; must be an integer between 1 and 1000"),
    ({"num_agents": 2.5}, "num_agents: invalid value 2.5; expected an integer"),
    ({"num_agents": True}, "num_agents: invalid value True; expected an integer"),
    ({"episode_length": -5}, "episode_length: invalid value -5"),
    ({"max_queue_size": "ten"}, "max_queue_size: invalid value 'ten'; expected an integer"),
    ({"arrivals": {"rate_per_day": -1.0}}, "arrivals.rate_per_day: invalid value -1.0; must lie in [0.001, 1000000.0]"),
    (
        {"arrivals": {"rate_per_day": float("nan")}},
        "arrivals.rate_per_day: invalid value nan; expected a finite number",
    ),
    ({"arrivals": {"rate": 3}}, "arrivals.rate: invalid value 3; unknown key"),
    (
        {
            "arrivals": {
                "type_mix": {
                    "technical": 0.5,
                    "billing": 0.5,
                    "feature_request": 0.5,
                    "bug_report": 0,
                    "integration": 0,
                }
            }
        },
        "arrivals.type_mix: invalid value",
    ),
    ({"arrivals": {"priority_mix": {"critical": 1.0}}}, "missing key(s) high, medium, low"),
    ({"arrivals": {"priority_mix": {"urgent": 1.0}}}, "arrivals.priority_mix.urgent: invalid value 1.0; unknown key"),
    (
        {"arrivals": {"priority_mix": [1.5, -0.5, 0.0, 0.0]}},
        "arrivals.priority_mix.critical: invalid value 1.5; must lie in [0.0, 1.0]",
    ),
    ({"arrivals": {"weekly_profile": {"monday": [1.0] * 23}}}, "arrivals.weekly_profile"),
    (
        {"agents": {"expertise_range": [0.2, 1.4]}},
        "agents.expertise_range[1]: invalid value 1.4; must lie in [0.0, 1.0]",
    ),
    (
        {"agents": {"expertise_range": [0.8, 0.2]}},
        "agents.expertise_range: invalid value [0.8, 0.2]; low must not exceed high",
    ),
    ({"agents": {"specialties_per_agent": 6}}, "agents.specialties_per_agent: invalid value 6"),
    ({"agents": {"work_days": ["funday"]}}, "agents.work_days: invalid value 'funday'; unknown weekday"),
    ({"agents": {"shift_hours": 0}}, "agents.shift_hours: invalid value 0"),
    (
        {"num_agents": 2, "agents": {"expertise": [[0.5] * 5]}},
        "agents.expertise: invalid value '1 rows'; needs one row per agent",
    ),
    ({"agents": {"expertise": [[0.5, 0.5, 0.5, 0.5, 1.5]]}}, "agents.expertise[0].integration: invalid value 1.5"),
    ({"service": {"distribution": "weibull"}}, "service.distribution: invalid value 'weibull'; allowed: exponential"),
    ({"service": {"base_effort_hours": {"technical": 0.0}}}, "service.base_effort_hours"),
    ({"service": {"min_speed": 0.0}}, "service.min_speed: invalid value 0.0; must lie in (0.0, 1.0]"),
    ({"sla": {"resolution_hours": [8, 24, 72, -1]}}, "sla.resolution_hours.low: invalid value -1"),
    # Zero divisors of the kernels (which compile without division-by-zero checks) are refused:
    (
        {"sla": {"resolution_hours": [0, 24, 72, 120]}},
        "sla.resolution_hours.critical: invalid value 0; must lie in (0.0",
    ),
    (
        {"service": {"priority_weights": [1, 0, 1, 1]}},
        "service.priority_weights.high: invalid value 0; must lie in (0.0",
    ),
    ({"reward": {"assignment": -10}}, "reward.assignment: invalid value -10; must lie in [0.0"),
    ({"reward": {"bonus": 1}}, "reward.bonus: invalid value 1; unknown key"),
    ({"csat": {"intercept": "high"}}, "csat.intercept: invalid value 'high'; expected a number"),
    ({"reward": 5}, "reward: invalid value 5; expected a mapping"),
    ({"max_invalid_retries": 0}, "max_invalid_retries: invalid value 0"),
]


@pytest.mark.parametrize(
    ("data", "message"), BAD_INPUTS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_INPUTS)]
)
def test_invalid_config_raises_named_error(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as err:
        EnvironmentConfig.from_dict(data)
    assert message in str(err.value)


def test_at_least_fifteen_distinct_bad_inputs() -> None:
    assert len({m for _, m in BAD_INPUTS}) >= 15


def test_yaml_is_read_with_the_safe_loader(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("num_agents: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        EnvironmentConfig.from_yaml(path)


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file not found"):
        EnvironmentConfig.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "list.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="expected a mapping of settings at the top level"):
        EnvironmentConfig.from_yaml(bad)
    with pytest.raises(ValueError, match="not valid YAML"):
        EnvironmentConfig.from_yaml_text("num_agents: [1, 2", source="upload")
    assert EnvironmentConfig.from_yaml_text("") == EnvironmentConfig()


def test_unknown_preset_lists_known_ones() -> None:
    with pytest.raises(ValueError, match=r"preset: invalid value 'impossible'; known presets: .*balanced"):
        EnvironmentConfig.preset("impossible")


def test_from_dict_rejects_non_mappings() -> None:
    with pytest.raises(ValueError, match="config: invalid value"):
        EnvironmentConfig.from_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="arrivals: invalid value"):
        EnvironmentConfig(arrivals=3)  # type: ignore[arg-type]


def test_yaml_output_is_plain_data() -> None:
    data = yaml.safe_load(EnvironmentConfig().to_yaml())
    assert data["arrivals"]["priority_mix"]["critical"] == EnvironmentConfig().arrivals.priority_mix[0]


def test_agent_record_room() -> None:
    agent = Agent(agent_id=0, expertise=dict.fromkeys(TICKET_TYPES, 0.5), workload=2, capacity=2, online=True)
    assert not agent.has_room
    assert Agent(0, {}, 1, 2, True).has_room
    assert not Agent(0, {}, 0, 2, False).has_room


# --------------------------------------------------------------------------- fields typed as stored
SECTION_CLASSES: tuple[type[ConfigSection], ...] = (
    ArrivalConfig,
    AgentConfig,
    ServiceConfig,
    SlaConfig,
    config.CsatConfig,
    RewardConfig,
)


def _holds(value: object, hint: object) -> bool:
    """Whether ``value`` is an instance of the annotation ``hint`` (the forms the config uses)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_holds(value, arg) for arg in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_holds(v, args[0]) for v in value)
        return len(value) == len(args) and all(_holds(v, a) for v, a in zip(value, args, strict=True))
    if hint is type(None):
        return value is None
    if hint is float:
        return type(value) is float
    if hint is int:
        return type(value) is int
    assert isinstance(hint, type), hint
    return isinstance(value, hint)


def _assert_holds_annotations(cfg: EnvironmentConfig) -> None:
    for obj in (
        cfg,
        *(getattr(cfg, f.name) for f in dataclasses.fields(cfg) if isinstance(getattr(cfg, f.name), ConfigSection)),
    ):
        hints = typing.get_type_hints(type(obj))
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            value = getattr(obj, f.name)
            assert _holds(value, hints[f.name]), f"{type(obj).__name__}.{f.name} = {value!r} is not {hints[f.name]}"


@pytest.mark.parametrize("cls", [*SECTION_CLASSES, EnvironmentConfig])
def test_fields_are_annotated_with_what_is_stored_not_with_input_forms(cls: type) -> None:
    for name, hint in typing.get_type_hints(cls).items():
        text = str(hint)
        assert "Mapping" not in text and "Sequence" not in text and "Any" not in text, f"{cls.__name__}.{name}: {text}"


def test_values_built_from_mappings_hold_their_annotations() -> None:
    profile = {d: [float(1 + (h % 5)) for h in range(24)] for d in WEEKDAYS}
    data = {
        "num_agents": 2,
        "arrivals": {
            "type_mix": dict(zip(TICKET_TYPES, (0.2,) * 5, strict=True)),
            "priority_mix": [0.25, 0.25, 0.25, 0.25],
            "weekly_profile": profile,
        },
        "agents": {"expertise": [dict.fromkeys(TICKET_TYPES, 1), [0, 0, 1, 0, 0.5]], "work_days": ["friday"]},
        "service": {"base_effort_hours": dict.fromkeys(TICKET_TYPES, 2), "priority_weights": [8, 4, 2, 1]},
        "sla": {"resolution_hours": dict(zip(PRIORITIES, (4, 8, 24, 48), strict=True))},
        "reward": {"priority_multipliers": dict.fromkeys(PRIORITIES, 1)},
    }
    cfg = EnvironmentConfig.from_dict(data)
    _assert_holds_annotations(cfg)
    assert cfg.agents.expertise == ((1.0,) * 5, (0.0, 0.0, 1.0, 0.0, 0.5))
    assert cfg.sla.resolution_hours == (4.0, 8.0, 24.0, 48.0)
    assert cfg.service.priority_weights == (8.0, 4.0, 2.0, 1.0)
    assert EnvironmentConfig().replace(**data) == cfg
    assert config.resolve_config(data) == cfg
    assert EnvironmentConfig.from_yaml_text(yaml.safe_dump(data)) == cfg
    for name in EnvironmentConfig.preset_names():
        _assert_holds_annotations(EnvironmentConfig.preset(name))


def test_sections_have_a_typed_from_dict_at_the_boundary() -> None:
    sla = SlaConfig.from_dict({"resolution_hours": {"critical": 4, "high": 8, "medium": 24, "low": 48}})
    assert sla == SlaConfig(resolution_hours=(4.0, 8.0, 24.0, 48.0))
    assert type(sla.resolution_hours[0]) is float
    assert ServiceConfig.from_dict({}) == ServiceConfig()
    with pytest.raises(
        ConfigError, match=r"sla\.targets: invalid value 3; unknown key; allowed keys: resolution_hours"
    ):
        SlaConfig.from_dict({"targets": 3})
    with pytest.raises(ConfigError, match=r"agents: invalid value \[1\]; expected a mapping of settings"):
        AgentConfig.from_dict([1])  # type: ignore[arg-type]


def test_direct_construction_still_normalises_mappings_at_run_time() -> None:
    cfg = EnvironmentConfig(arrivals={"rate_per_day": 10})  # type: ignore[arg-type]
    assert cfg.arrivals == ArrivalConfig(rate_per_day=10.0)
    agents = AgentConfig(work_days=["monday", "friday"], expertise=[[1, 1, 1, 1, 1]])  # type: ignore[arg-type]
    assert agents.work_days == ("monday", "friday")
    assert agents.expertise == ((1.0,) * 5,)
    with pytest.raises(ConfigError, match=r"agents\.work_days: invalid value 'monday'; expected a non-empty list"):
        AgentConfig(work_days="monday")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"agents\.expertise: invalid value \{\}; expected a list"):
        AgentConfig(expertise={})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- modules and re-exports
def test_config_and_data_models_export_the_same_objects() -> None:
    for name in data_models.__all__:
        assert getattr(data_models, name) is getattr(config, name), name
    assert set(data_models.__all__) <= set(config.__all__)
    assert config.Ticket is records.Ticket and config.Agent is records.Agent
    assert config.TICKET_TYPES is config_sections.TICKET_TYPES
    assert config.ConfigError is data_models.ConfigError


def test_name_constants_are_declared_once_in_the_package() -> None:
    package = Path(config.__file__).resolve().parent.parent
    names = ("TICKET_TYPES", "PRIORITIES", "WEEKDAYS", "SERVICE_DISTRIBUTIONS", "REWARD_COMPONENTS", "ConfigError")
    found: dict[str, list[str]] = {name: [] for name in names}
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in names:
            if re.search(rf"^(?:{name}\s*(?::[^=]*)?=|class {name}\b)", text, re.MULTILINE):
                found[name].append(path.name)
    assert found == {name: [("validation.py" if name == "ConfigError" else "config_sections.py")] for name in names}


@pytest.mark.parametrize("module", [config, config_sections, validation, records], ids=lambda m: m.__name__)
def test_module_doctests(module: types.ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_config_modules_stay_under_500_lines() -> None:
    for module in (config, config_sections, records, data_models, validation):
        lines = len(Path(module.__file__ or "").read_text(encoding="utf-8").splitlines())
        assert lines <= 500, f"{module.__name__}: {lines} lines"


# --------------------------------------------------------------------------- one diff
def test_changes_and_diff_are_one_computation() -> None:
    base = EnvironmentConfig()
    cfg = base.replace(num_agents=3, sla={"resolution_hours": [4, 8, 24, 48]}, reward={"holding": 1.0})
    expected = {
        "num_agents": 3,
        "sla": {"resolution_hours": dict(zip(PRIORITIES, (4.0, 8.0, 24.0, 48.0), strict=True))},
        "reward": {"holding": 1.0},
    }
    assert cfg.changes() == expected
    assert list(cfg.changes()) == ["num_agents", "sla", "reward"]
    assert cfg.diff() == ["num_agents", "sla.resolution_hours", "reward.holding"]
    assert cfg.changes(cfg) == {} and cfg.diff(cfg) == []
    assert base.diff(cfg) == cfg.diff()
    assert base.changes(cfg)["reward"] == {"holding": 0.0}


@pytest.mark.parametrize("name", ["easy", "balanced", "hard", "balanced+resolution_sla"])
def test_changes_rebuild_the_config_from_its_base(name: str) -> None:
    cfg = EnvironmentConfig.named(name)
    for base in (EnvironmentConfig(), EnvironmentConfig.preset("hard")):
        changes = cfg.changes(base)
        assert base.replace(**changes) == cfg
        names = cfg.diff(base)
        assert len(names) == sum(len(v) if isinstance(v, dict) else 1 for v in changes.values())
        assert list(dict.fromkeys(n.partition(".")[0] for n in names)) == list(changes)
    flat = EnvironmentConfig().replace(arrivals={"weekly_profile": None}, agents={"expertise": [[0.5] * 5] * 14})
    assert flat.diff() == ["arrivals.weekly_profile", "agents.expertise"]
    assert flat.changes()["arrivals"] == {"weekly_profile": None}
