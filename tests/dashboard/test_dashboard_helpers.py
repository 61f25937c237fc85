"""Unit tests of the dashboard helper modules (no Streamlit runtime needed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.dashboard import analytics, config_form
from rl_environments.ticket_routing.dashboard.session import (
    SimulatorSession,
    current_config,
    set_config,
    simulator,
    start_simulator,
)

SMALL = EnvironmentConfig(num_agents=3, episode_length=40)


# ----------------------------------------------------------------------------- config_form
@pytest.mark.parametrize("name", EnvironmentConfig.preset_names())
def test_widget_values_round_trip_every_preset(name: str) -> None:
    config = EnvironmentConfig.preset(name)
    assert config_form.config_from_widgets(config_form.widget_values(config)) == config


def test_fixed_expertise_matrix_round_trips() -> None:
    config = SMALL.replace(agents={"expertise": [[0.9, 0.1, 0.2, 0.3, 0.4]] * 3})
    values = config_form.widget_values(config)
    assert values["cfg:agents.expertise"].strip().startswith("- {technical: 0.9")
    assert config_form.config_from_widgets(values) == config


def test_fields_cover_every_leaf_with_unique_keys() -> None:
    fields = config_form.config_fields()
    keys = [f.key for f in fields]
    assert len(keys) == len(set(keys))
    assert {"cfg:num_agents", "cfg:reward.priority_multipliers.critical", "cfg:agents.specialist_range.1"} <= set(keys)
    by_key = {f.key: f for f in fields}
    assert by_key["cfg:agents.specialist_range.1"].label == "specialist_range · high"
    assert by_key["cfg:sla.resolution_hours.low"].section == "sla"
    assert by_key["cfg:num_agents"].section == "general"


def test_leaf_kinds_for_other_value_types() -> None:
    assert [f.kind for f in config_form._leaf_fields(("x", "flag"), True)] == ["bool"]
    assert [f.kind for f in config_form._leaf_fields(("x", "name"), "abc")] == ["text"]
    assert [f.kind for f in config_form._leaf_fields(("service", "distribution"), "lognormal")] == ["choice"]


@pytest.mark.parametrize(
    ("message", "section"),
    [
        ("arrivals.type_mix: invalid value", "arrivals"),
        ("agents.expertise[2].billing: invalid", "agents"),
        ("num_agents: invalid value 0", "general"),
        ("reward.assignment: must lie in", "reward"),
        ("nonsense: unknown key", "general"),
    ],
)
def test_error_section(message: str, section: str) -> None:
    assert config_form.error_section(message) == section


def test_parse_upload_rejects_oversized_binary_and_non_mapping_files() -> None:
    with pytest.raises(ValueError, match=r"big.yaml: file too large"):
        config_form.parse_config_upload(b"#" * (config_form.MAX_UPLOAD_BYTES + 1), "big.yaml")
    with pytest.raises(ValueError, match=r"model.json: not UTF-8 text"):
        config_form.parse_config_upload(b"\x80\x81PK\x03\x04", "model.json")
    with pytest.raises(ValueError, match=r"list.json: expected a JSON object of settings, got list"):
        config_form.parse_config_upload(b"[1, 2]", "list.json")
    with pytest.raises(ValueError, match=r"x.yml: not valid YAML/JSON"):
        config_form.parse_config_upload(b"!!python/name:os.system ''", "x.yml")


def test_export_json_round_trips() -> None:
    config = EnvironmentConfig.preset("hard")
    text = config_form.export_json(config)
    assert EnvironmentConfig.from_dict(json.loads(text)) == config
    assert config_form.parse_config_upload(text.encode(), "hard.JSON") == config
    assert config_form.parse_config_upload(config.to_yaml().encode(), "hard.yaml") == config


# ----------------------------------------------------------------------------- session
def test_config_state_defaults_and_sharing() -> None:
    state: dict[str, object] = {}
    assert current_config(state) == EnvironmentConfig()
    assert state["config_name"] == "balanced (default)"
    set_config(state, SMALL, "small")
    assert current_config(state) is SMALL
    assert simulator(state) is None


def test_simulator_session_reuses_env_and_rebuilds_on_new_config() -> None:
    state: dict[str, object] = {"config": SMALL}
    sim = start_simulator(state, 3)
    env = sim.env
    sim.step(0)
    again = start_simulator(state, 4)
    assert again is sim
    assert again.env is env
    assert (again.seed, again.history) == (4, [])
    state["config"] = SMALL.replace(num_agents=5)
    rebuilt = start_simulator(state, 4)
    assert rebuilt is not sim
    assert rebuilt.config.num_agents == 5


def test_simulator_session_same_seed_same_episode_and_end() -> None:
    a = SimulatorSession(SMALL, seed=11)
    b = SimulatorSession(SMALL, seed=11)
    assert a.run("least_loaded", 10) == 10
    assert b.run("least_loaded", 10) == 10
    assert [r.reward for r in a.history] == [r.reward for r in b.history]
    assert a.history_frame()["cumulative_reward"].iloc[-1] == pytest.approx(a.cumulative_reward)
    calls: list[tuple[int, int]] = []
    taken = a.run("least_loaded", 100, progress=lambda done, total: calls.append((done, total)))
    assert taken == SMALL.episode_length - 10
    assert a.done
    assert calls[-1] == (taken, 100)
    assert a.kpis() is a.episode_kpis
    with pytest.raises(RuntimeError, match="reset the simulator"):
        a.step(0)
    assert a.run("least_loaded", 5) == 0


def test_simulator_session_views() -> None:
    sim = SimulatorSession(SMALL, seed=0)
    assert sim.explain(7) == "agent 7 does not exist (choose 0 to 2)"
    assert sim.history_frame().empty
    assert list(sim.agents_frame()["agent"]) == [0, 1, 2]
    ticket = sim.ticket()
    assert ticket is not None
    assert ticket["age_hours"] >= 0.0
    assert "mean_resolution_hours" in sim.kpis()


# ----------------------------------------------------------------------------- analytics
def test_scenarios() -> None:
    names = analytics.scenario_names()
    assert names[0] == analytics.CURRENT
    assert analytics.scenario_config(analytics.CURRENT, SMALL) is SMALL
    assert analytics.scenario_config("hard", SMALL) == EnvironmentConfig.preset("hard")


def test_load_trained_policy_only_from_the_models_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="model: none chosen"):
        analytics.load_trained_policy("   ", SMALL)
    monkeypatch.setenv(analytics.MODELS_DIR_ENV, str(tmp_path / "models"))
    assert analytics.models_dir() == tmp_path / "models"
    assert analytics.model_names() == []  # no folder yet
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.zip").write_bytes(b"x")
    (tmp_path / "models" / "notes.txt").write_text("x")
    (tmp_path / "models" / "dir.zip").mkdir()
    (tmp_path / "outside.zip").write_bytes(b"x")
    assert analytics.model_names() == ["a.zip"]
    # A path elsewhere gets the same answer whether or not it exists: nothing about the server leaks.
    for name in (str(tmp_path / "outside.zip"), str(tmp_path / "missing.zip"), "../outside.zip", "/etc/passwd"):
        with pytest.raises(ValueError) as info:
            analytics.load_trained_policy(name, SMALL)
        assert str(info.value) == f"model: {name!r} is not one of the models in the models folder"
    monkeypatch.delenv(analytics.MODELS_DIR_ENV)
    monkeypatch.chdir(tmp_path)
    assert analytics.models_dir() == tmp_path / "models"


def test_run_policies_and_ci_table() -> None:
    with pytest.raises(ValueError, match="choose at least one policy"):
        analytics.run_policies([], SMALL, 2, 0)
    seen: list[str] = []
    results = analytics.run_policies(["random", "least_loaded"], SMALL, 2, 5, lambda d, t, text: seen.append(text))
    assert seen[-1] == "Done."
    assert len(seen) == 3
    assert list(results["seed"]) == [5, 6, 5, 6]
    tidy = analytics.summary(results)
    assert set(tidy["kpi"]) <= set(analytics.TABLE_KPIS)
    table = analytics.ci_table(tidy)
    assert table.shape == (2, len(set(tidy["kpi"])))


def test_ci_table_cells() -> None:
    tidy = pd.DataFrame(
        [
            {"policy": "p", "kpi": "a", "mean": 1.0, "ci95_low": 0.5, "ci95_high": 1.5},
            {"policy": "p", "kpi": "b", "mean": 2.0, "ci95_low": math.nan, "ci95_high": math.nan},
            {"policy": "p", "kpi": "c", "mean": math.nan, "ci95_low": math.nan, "ci95_high": math.nan},
        ]
    )
    assert analytics.ci_table(tidy).loc["p"].tolist() == ["1.00 [0.50, 1.50]", "2.00", "–"]


def test_compare_configs_without_difference_for_three() -> None:
    table = analytics.compare_configs(
        "least_loaded", {"x": SMALL, "y": SMALL.replace(num_agents=4), "z": SMALL}, episodes=2, seed=0
    )
    assert list(table.columns) == ["x", "y", "z"]
    assert table.loc["csat_pct", "x"] == table.loc["csat_pct", "z"]
