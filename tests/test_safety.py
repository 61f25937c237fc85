"""Safety: bounded time and memory on any input, a named error for every bad input.

One test per finding of the reliability audit (each from its reproduction), then property tests
that feed random bytes and random nested YAML/JSON to every reader and require a named error or
success within a time and memory bound. The model-file findings are in ``tests/sb3/test_sb3.py``
(``test_a_crafted_model_runs_no_code``, ``test_broken_model_files_get_a_named_error``).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv
from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.core import data_models, safe_yaml
from rl_environments.ticket_routing.core.config import ConfigError
from rl_environments.ticket_routing.core.safe_yaml import DataFileError
from rl_environments.ticket_routing.dashboard import config_form

NAMED = (DataFileError, ConfigError)
MAX_MESSAGE = 1000

BILLION_LAUGHS = "\n".join(
    ['lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"l{c}: &{c} [{','.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
)
"""490 bytes of YAML that expand to 9**9 strings through aliases."""


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


def _named_exit(code: int, err: str, *words: str) -> None:
    assert code == 2
    assert err.startswith("ticket-routing: error:")
    assert "Traceback" not in err
    assert len(err) < MAX_MESSAGE
    for word in words:
        assert word in err, err


def _bounded(func: Callable[[], object], seconds: float = 2.0, megabytes: float = 32.0) -> BaseException | None:
    """Run ``func``; require it to finish within ``seconds`` and ``megabytes`` of peak allocation and
    to succeed or raise a named error with a short message. Returns the error, if any."""
    tracemalloc.start()
    start = time.perf_counter()
    error: BaseException | None = None
    try:
        func()
    except NAMED as exc:
        error = exc
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f} s"
    assert peak < megabytes, f"peaked at {peak:.1f} MB"
    if error is not None:
        assert len(str(error)) < MAX_MESSAGE, str(error)[:300]
    return error


# --------------------------------------------------------------------------- finding 2: YAML/JSON bombs
def test_billion_laughs_in_config_validate_is_refused_fast_and_small(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS.replace("li:", "num_agents:"), encoding="utf-8")
    assert len(path.read_bytes()) < 500
    start = time.perf_counter()
    code, err = _cli(capsys, "config", "validate", str(path))
    assert time.perf_counter() - start < 2.0
    _named_exit(code, err, "bomb.yaml: line 1: YAML anchors")
    # The dashboard's import and matrix fields go through the same reader.
    error = _bounded(lambda: config_form.parse_config_upload(path.read_bytes(), "bomb.yaml"))
    assert isinstance(error, DataFileError)
    values = config_form.widget_values(EnvironmentConfig())
    values["cfg:agents.expertise"] = BILLION_LAUGHS
    error = _bounded(lambda: config_form.config_from_widgets(values))
    assert isinstance(error, DataFileError) and str(error).startswith("agents.expertise: line 1: YAML anchors")


def test_deep_nesting_and_duplicate_keys_are_named_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    deep_yaml = "num_agents: " + "[" * 50_000 + "]" * 50_000
    error = _bounded(lambda: EnvironmentConfig.from_yaml_text(deep_yaml))
    assert isinstance(error, DataFileError) and "nest" in str(error)
    deep_json = ('{"a": ' * 10_000 + "1" + "}" * 10_000).encode()
    error = _bounded(lambda: config_form.parse_config_upload(deep_json, "deep.json"))
    assert isinstance(error, DataFileError) and "nested deeper than 32 levels" in str(error)
    with pytest.raises(DataFileError, match=r"dup.json: line 3: duplicate key 'num_agents' \(first given on line 2\)"):
        config_form.parse_config_upload(b'{\n"num_agents": 3,\n"num_agents": 5}', "dup.json")
    path = tmp_path / "dup.yaml"
    path.write_text("arrivals:\n  rate_per_day: 30\n  rate_per_day: 40\n", encoding="utf-8")
    _named_exit(*_cli(capsys, "config", "validate", str(path)), "line 3: duplicate key 'rate_per_day'")


def test_error_messages_quote_a_bounded_preview_of_the_value() -> None:
    huge = {"k" * 10_000: ["x" * 100_000] * 100}
    for data in (
        {"num_agents": huge},
        {"arrivals": {"rate_per_day": "9" * 100_000}},
        {"arrivals": {"type_mix": {"technical": huge}}},
        {"agents": {"work_days": ["y" * 100_000]}},
        {"y" * 100_000: 1},
        {"service": {"y" * 100_000: 1}},
        {"arrivals": {"weekly_profile": {"z" * 100_000: [1.0] * 24}}},
    ):
        error = _bounded(lambda data=data: EnvironmentConfig.from_dict(data))
        assert isinstance(error, ConfigError)
        assert len(str(error)) < 500
    assert len(safe_yaml.preview(huge)) <= safe_yaml.PREVIEW_CHARS


# --------------------------------------------------------------------------- finding 3: configs that validate terminate
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"arrivals": {"rate_per_day": 1e-12}}, "arrivals.rate_per_day: invalid value 1e-12; must lie in [0.001, "),
        ({"arrivals": {"rate_per_day": 2e6}}, "must lie in [0.001, 1000000.0]"),
        (
            {"arrivals": {"weekly_profile": {d: [1e308] * 24 for d in data_models.WEEKDAYS}}},
            "arrivals.weekly_profile.monday[0]: invalid value 1e+308; must lie in [0.0, 1000000.0]",
        ),
        (
            {"arrivals": {"weekly_profile": {d: [0.0] * 24 for d in data_models.WEEKDAYS}}},
            "at least one hour must have a positive intensity",
        ),
        (
            {"service": {"min_speed": 0.01, "base_effort_hours": [10_000.0] * 5}},
            "service.base_effort_hours / service.min_speed: invalid value '10000 / 0.01 = 1e+06 hours'",
        ),
        (
            {"service": {"priority_weights": [1000.0, 1.0, 1.0, 1e-4]}},
            "at most MAX_PRIORITY_WEIGHT_RATIO = 1e+06 times the smallest (here 1e+07 times)",
        ),
    ],
)
def test_configs_that_could_not_terminate_are_refused_in_python_and_in_the_form(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as python_error:
        EnvironmentConfig.from_dict(changes)
    assert message in str(python_error.value)
    values = config_form.widget_values(EnvironmentConfig())
    section, settings_ = next(iter(changes.items()))
    for key, value in settings_.items():
        if isinstance(value, dict):  # the weekly profile: a YAML text field
            values[f"cfg:{section}.{key}"] = yaml.safe_dump(value)
        elif not isinstance(value, list):
            values[f"cfg:{section}.{key}"] = value
    _set_named(values, section, settings_)
    with pytest.raises(ConfigError) as form_error:
        config_form.config_from_widgets(values)
    assert str(form_error.value) == str(python_error.value)


def _set_named(values: dict[str, Any], section: str, settings_: dict[str, Any]) -> None:
    """Write list-valued settings into the form's per-name widgets (``cfg:service.priority_weights.low``)."""
    names = {"base_effort_hours": data_models.TICKET_TYPES, "priority_weights": data_models.PRIORITIES}
    for key, value in settings_.items():
        if isinstance(value, list) and key in names:
            for name, item in zip(names[key], value, strict=True):
                values[f"cfg:{section}.{key}.{name}"] = item


def test_the_bounds_themselves_are_accepted_and_terminate() -> None:
    at_bounds = EnvironmentConfig.from_dict(
        {
            "episode_length": 30,
            "arrivals": {"rate_per_day": data_models.MIN_RATE_PER_DAY},
            "service": {"min_speed": 0.5, "base_effort_hours": [5_000.0] * 5, "priority_weights": [1000, 1, 1, 1e-3]},
        }
    )
    env = TicketRoutingEnv(at_bounds)
    start = time.perf_counter()
    env.reset(seed=0)
    for _ in range(30):
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            break
    assert time.perf_counter() - start < 30.0


# --------------------------------------------------------------------------- finding 4: file problems in the CLI
def test_output_paths_are_checked_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rl_environments.ticket_routing import evaluation

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the work started before the output path was checked")

    monkeypatch.setattr(evaluation, "episode_log", no_work)
    monkeypatch.setattr(evaluation, "evaluate_many", no_work)
    missing = tmp_path / "no" / "such" / "log.csv"
    _named_exit(
        *_cli(capsys, "simulate", "--policy", "random", "--out", str(missing)),
        f"the folder {missing.parent} does not exist",
    )
    (tmp_path / "dir.csv").mkdir()
    _named_exit(*_cli(capsys, "simulate", "--policy", "random", "--out", str(tmp_path / "dir.csv")), "is a folder")
    (tmp_path / "file").write_text("x")
    _named_exit(*_cli(capsys, "compare", "--episodes", "1", "--out", str(tmp_path / "file")), "is a file, not a folder")
    _named_exit(*_cli(capsys, "config", "export", "--out", str(tmp_path)), "is a folder")
    _named_exit(*_cli(capsys, "config", "export", "--out", str(missing)), "does not exist")


def test_a_directory_is_reported_as_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _named_exit(*_cli(capsys, "config", "validate", str(tmp_path)), "is a directory")
    _named_exit(*_cli(capsys, "simulate", "--policy", "random", "--config", str(tmp_path)), "is a directory")
    _named_exit(*_cli(capsys, "fit-trace", str(tmp_path)), "is a directory")
    with pytest.raises(DataFileError, match="is a directory"):
        EnvironmentConfig.from_yaml(tmp_path)


def test_write_failures_after_the_checks_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: Any, path: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(Path, "write_text", disk_full)
    _named_exit(*_cli(capsys, "config", "export", "--out", str(tmp_path / "c.yaml")), "c.yaml: No space left on device")
    import pandas as pd

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    out = str(tmp_path / "log.csv")
    _named_exit(
        *_cli(capsys, "simulate", "--policy", "random", "--episode-length", "3", "--out", out),
        "log.csv: No space left on device",
    )


def test_a_scenario_beyond_the_event_budget_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rl_environments.ticket_routing.core import params

    monkeypatch.setattr(params, "EVENT_WORK_BUDGET", 100)
    monkeypatch.setattr(params, "MIN_EVENT_BUDGET", 100)
    path = tmp_path / "busy.yaml"
    EnvironmentConfig(max_queue_size=1, start_hour_of_week=120, arrivals={"rate_per_day": 500.0}).to_yaml(path)
    _named_exit(*_cli(capsys, "simulate", "--policy", "random", "--config", str(path)), "stopped after 100 simulation")


# --------------------------------------------------------------------------- finding 8: API edge cases
def test_actions_outside_the_action_space_are_refused_by_name() -> None:
    env = TicketRoutingEnv(EnvironmentConfig(num_agents=5, episode_length=10))
    env.reset(seed=0)
    for bad in (float("inf"), float("-inf"), float("nan"), 2.0, True, np.bool_(True), 10**30, np.uint64(2**63)):
        with pytest.raises(ValueError, match=r"not in the action space Discrete\(5\)"):
            env.step(bad)
    with pytest.raises(ValueError, match=r"action: invalid value array\(\[1\]\)"):
        env.step(np.array([1]))
    env.step(np.array(1))  # a 0-d integer array is an action, as in Gymnasium
    env.step(np.int16(2))


def test_numpy_seeds_and_numpy_scalars_in_configs() -> None:
    vec = TicketRoutingVectorEnv(2, EnvironmentConfig(episode_length=10))
    obs_np, _ = vec.reset(seed=np.int64(3))
    obs_int, _ = vec.reset(seed=3)
    for key in obs_int:
        np.testing.assert_array_equal(obs_np[key], obs_int[key])
    obs_list, _ = vec.reset(seed=[np.int32(3), np.uint8(4)])
    np.testing.assert_array_equal(obs_list["agent_expertise"], obs_int["agent_expertise"])
    for bad, message in ((2.5, "expected an integer, a list or None"), ([1, 2.0], r"seed\[1\]"), (-1, ">= 0")):
        with pytest.raises(ValueError, match=message):
            vec.reset(seed=bad)  # type: ignore[arg-type]
    env = TicketRoutingEnv(EnvironmentConfig(episode_length=10))
    a, _ = env.reset(seed=np.int64(7))
    b, _ = env.reset(seed=7)
    np.testing.assert_array_equal(a["agent_expertise"], b["agent_expertise"])

    config = EnvironmentConfig.from_dict(
        {
            "num_agents": np.int64(5),
            "max_workload": np.int32(4),
            "agents": {"work_days": list(np.array(["monday", "friday"])), "shift_hours": np.int8(8)},
            "arrivals": {"rate_per_day": np.float32(30.5)},
            "service": {"distribution": np.str_("lognormal"), "min_speed": np.float64(0.5)},
        }
    )
    assert type(config.num_agents) is int and type(config.agents.shift_hours) is int
    assert all(type(day) is str for day in config.agents.work_days)
    assert type(config.service.distribution) is str
    assert EnvironmentConfig.from_yaml_text(config.to_yaml()) == config
    for bad in (np.bool_(True), np.float64(5.0), "5"):
        with pytest.raises(ConfigError, match=r"num_agents: invalid value .*expected an integer"):
            EnvironmentConfig(num_agents=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="expected a finite number"):
        EnvironmentConfig.from_dict({"arrivals": {"rate_per_day": 10**400}})


# --------------------------------------------------------------------------- every reader on random input
JSON_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
NESTED = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=40,
)
CONFIG_KEYS = st.sampled_from([f.name for f in dataclasses.fields(EnvironmentConfig)] + ["other"])
SECTION_VALUES = st.dictionaries(
    st.sampled_from(["rate_per_day", "type_mix", "weekly_profile", "min_speed", "priority_weights", "work_days", "x"]),
    NESTED,
    max_size=4,
)
CONFIGS = st.dictionaries(CONFIG_KEYS, NESTED | SECTION_VALUES | st.floats(), max_size=5)
FUZZ = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def _documents(data: object) -> list[str]:
    """``data`` written as JSON and as YAML."""
    return [json.dumps(data), yaml.safe_dump(data)]


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_give_a_named_error_or_data(raw: bytes) -> None:
    for name in ("x.yaml", "x.json"):
        _bounded(lambda name=name: config_form.parse_config_upload(raw, name))
    _bounded(lambda: safe_yaml.load_yaml(raw))
    _bounded(lambda: safe_yaml.load_json(raw))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_bytes(raw)
        _bounded(lambda: EnvironmentConfig.from_yaml(path))


@FUZZ
@given(NESTED)
def test_random_nested_documents_give_a_named_error_or_data(data: object) -> None:
    for text, load in zip(_documents(data), (safe_yaml.load_json, safe_yaml.load_yaml), strict=True):
        loaded: list[object] = []
        error = _bounded(lambda text=text, load=load, loaded=loaded: loaded.append(load(text)))
        assert loaded == [data] or "nested deeper than 32 levels" in str(error)  # data round-trips
        _bounded(lambda text=text: EnvironmentConfig.from_yaml_text(text))
        _bounded(lambda text=text: config_form.parse_config_upload(text.encode(), "x.json"))


@FUZZ
@given(CONFIGS)
def test_random_configs_give_a_named_error_or_a_config(data: dict[str, Any]) -> None:
    error = _bounded(lambda: EnvironmentConfig.from_dict(data))
    assert error is None or isinstance(error, ConfigError)
    for text in _documents(data):
        _bounded(lambda text=text: EnvironmentConfig.from_yaml_text(text))
