"""Configuration: defaults, strict parsing, round trips, presets and named errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from rl_environments.ticket_routing.core.config import (
    DEFAULT_CONFIG_PATH,
    PRESETS_DIR,
    PRIORITIES,
    TICKET_TYPES,
    Agent,
    ArrivalConfig,
    EnvironmentConfig,
    RewardConfig,
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
