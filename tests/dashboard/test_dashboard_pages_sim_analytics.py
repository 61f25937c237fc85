"""AppTest tests of the Simulator and Analytics pages."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.policies import POLICY_NAMES

# Always-online agents: every agent can take the first ticket.
OPEN = EnvironmentConfig(
    num_agents=4,
    episode_length=200,
    start_hour_of_week=0,
    arrivals={"weekly_profile": None},
    agents={
        "shift_start_hour": 0,
        "shift_hours": 24,
        "work_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    },
)
# Shifts 00-12, 06-18 and 12-24; one slot per agent and tickets that take 1000 h, so an agent
# stays full after its first ticket. At the first ticket only agent 0 is on shift.
FULL = OPEN.replace(
    num_agents=3,
    max_workload=1,
    agents={"shift_hours": 12, "shift_stagger_hours": 6},
    service={"distribution": "deterministic", "base_effort_hours": [1000.0] * 5},
)


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def _caption(at: AppTest, start: str) -> str:
    return next(str(c.value) for c in at.caption if str(c.value).startswith(start))


def _charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart")) + len(at.get("arrow_vega_lite_chart"))


def _simulator(page: Callable[[str], AppTest], config: EnvironmentConfig) -> AppTest:
    at = page("simulator")
    at.session_state["config"] = config
    return at.run()


# ----------------------------------------------------------------------------- Simulator
def test_simulator_shows_ticket_agents_and_mask(page: Callable[[str], AppTest]) -> None:
    at = _simulator(page, OPEN)
    assert not at.exception
    assert _metric(at, "Decisions") == "0 / 200"
    ticket = at.session_state["simulator"].ticket()
    assert f"**{ticket['priority']}** priority" in at.markdown[0].value
    assert len(at.selectbox(key="sim_agent").options) == 4
    assert _caption(at, "Mask: ") == "Mask: 4 of 4 agents can take this ticket. can take it: 0, 1, 2, 3"
    assert _caption(at, "Agent 0: ").startswith(f"Agent 0: 0/{OPEN.max_workload} open tickets")
    agents = at.dataframe[0].value
    assert list(agents["agent"]) == [0, 1, 2, 3]
    assert {"workload", "online", "technical", "integration"} <= set(agents.columns)
    assert list(at.selectbox(key="sim_policy").options) == list(POLICY_NAMES)


def test_a_manual_step_changes_the_state(page: Callable[[str], AppTest]) -> None:
    at = _simulator(page, OPEN)
    sim = at.session_state["simulator"]
    env_before = sim.env
    at.selectbox(key="sim_agent").set_value(2).run()
    at.button(key="sim_step").click().run()
    sim = at.session_state["simulator"]
    assert sim.env is env_before  # the environment is kept across reruns, not rebuilt
    assert len(sim.history) == 1
    record = sim.history[0]
    assert (record.agent, record.valid, record.chooser) == (2, True, "manual")
    assert _metric(at, "Decisions") == "1 / 200"
    assert _metric(at, "Last reward") == f"{record.reward:+.2f}"
    assert at.success[0].value.startswith("Agent 2 took the ticket")
    assert at.dataframe[0].value.loc[2, "workload"] >= 0


def test_invalid_choices_are_explained(page: Callable[[str], AppTest]) -> None:
    at = _simulator(page, FULL)
    at.selectbox(key="sim_agent").set_value(1).run()
    assert _caption(at, "Mask: ") == "Mask: 1 of 3 agents can take this ticket. can take it: 0; off shift: 1, 2"
    assert _caption(at, "Agent 1: ").endswith("off shift.")
    warning = at.warning[0].value
    assert "This choice is invalid: agent 1 is off shift right now" in warning
    assert f"invalid_action penalty ({FULL.reward.invalid_action:g})" in warning

    at.selectbox(key="sim_agent").set_value(0).run()
    assert not at.warning
    at.button(key="sim_step").click().run()
    assert at.session_state["simulator"].history[0].valid
    # Agent 0 now holds its one ticket for 1000 hours: choosing it again is invalid.
    assert "This choice is invalid: agent 0 is full (1/1 open tickets" in at.warning[0].value
    assert _caption(at, "Agent 0: ").startswith("Agent 0: 1/1 open tickets")
    assert _caption(at, "Agent 0: ").endswith("full.")
    assert _caption(at, "Mask: ").endswith("full: 0; off shift: 2")
    at.button(key="sim_step").click().run()
    record = at.session_state["simulator"].history[-1]
    assert not record.valid
    assert record.components["invalid_action"] == -FULL.reward.invalid_action
    assert at.error[0].value.startswith("Invalid choice: agent 0 is full")
    assert _metric(at, "Last reward") == f"{record.reward:+.2f}"


def test_policy_run_fills_the_charts_and_kpis(page: Callable[[str], AppTest]) -> None:
    at = _simulator(page, OPEN)
    assert _charts(at) == 0
    at.selectbox(key="sim_policy").set_value("least_loaded").run()
    at.number_input(key="sim_n").set_value(60).run()
    at.button(key="sim_run").click().run()
    assert not at.exception
    sim = at.session_state["simulator"]
    assert len(sim.history) == 60
    assert {r.chooser for r in sim.history} == {"least_loaded"}
    assert _metric(at, "Decisions") == "60 / 200"
    assert _charts(at) == 4  # reward components, cumulative reward, queue size, workload
    assert _metric(at, "Mean resolution") != "–"
    assert "least_loaded took 60 decisions." in [s.value for s in at.success]

    at.button(key="sim_policy_step").click().run()
    assert len(at.session_state["simulator"].history) == 61

    at.number_input(key="sim_seed").set_value(7).run()
    at.button(key="sim_reset").click().run()
    assert _metric(at, "Decisions") == "0 / 200"
    assert at.session_state["simulator"].seed == 7


def test_episode_end_and_configuration_change(page: Callable[[str], AppTest]) -> None:
    at = _simulator(page, OPEN.replace(episode_length=5))
    at.selectbox(key="sim_policy").set_value("round_robin").run()
    at.button(key="sim_run").click().run()
    assert any(s.value.startswith("Episode finished") for s in at.success)
    assert at.button(key="sim_step").disabled
    assert at.session_state["simulator"].episode_kpis is not None

    at.session_state["config"] = OPEN.replace(num_agents=6)
    at.run()
    assert "configuration changed" in at.sidebar.warning[0].value
    at.button(key="sim_reset").click().run()
    assert len(at.selectbox(key="sim_agent").options) == 6
    assert not at.sidebar.warning


# ----------------------------------------------------------------------------- Analytics
SMALL = EnvironmentConfig(num_agents=4, episode_length=120)


def _analytics(page: Callable[[str], AppTest]) -> AppTest:
    at = page("analytics")
    at.session_state["config"] = SMALL
    return at.run()


def test_analytics_widgets(page: Callable[[str], AppTest]) -> None:
    at = _analytics(page)
    assert not at.exception
    assert at.multiselect(key="an_policies").value == list(POLICY_NAMES)
    assert at.selectbox(key="an_scenario").options[0] == "current configuration"
    assert set(EnvironmentConfig.preset_names()) <= set(at.selectbox(key="an_scenario").options)
    assert at.selectbox(key="an_model").value == ""
    assert _charts(at) == 0


def test_policy_run_fills_table_charts_and_download(page: Callable[[str], AppTest]) -> None:
    at = _analytics(page)
    at.multiselect(key="an_policies").set_value(["random", "least_loaded"])
    at.number_input(key="an_episodes").set_value(3).run()
    at.button(key="an_run").click().run()
    assert not at.exception
    results = at.session_state["an_results"]
    assert list(results["policy"]) == ["random"] * 3 + ["least_loaded"] * 3
    assert list(results["seed"][:3]) == [0, 1, 2]
    table = at.dataframe[0].value
    assert list(table.index) == ["random", "least_loaded"]
    cell = table.loc["least_loaded", "csat_pct"]
    assert "[" in cell
    assert "]" in cell
    assert _charts(at) == 7  # CI chart, 2 distributions, SLA by priority, 3 fairness
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == ["Download episodes (CSV)", "Download summary (CSV)"]


def test_empty_selection_and_missing_model_show_errors(
    page: Callable[[str], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKET_ROUTING_MODELS_DIR", str(tmp_path))
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    at = _analytics(page)
    assert at.selectbox(key="an_model").options == ["none", "broken.zip"]
    at.multiselect(key="an_policies").set_value([]).run()
    at.button(key="an_run").click().run()
    assert at.error[0].value == "Choose at least one policy (or give a trained model)."
    at.selectbox(key="an_model").set_value("broken.zip").run()
    at.button(key="an_run").click().run()
    message = at.error[0].value
    assert "'broken.zip': not a Stable-Baselines3 model file" in message
    assert str(tmp_path) not in message  # the server's folder is not shown
    assert "an_results" not in at.session_state


def test_missing_train_extra_gives_a_clear_message(
    page: Callable[[str], AppTest], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TICKET_ROUTING_MODELS_DIR", str(tmp_path))
    (tmp_path / "model.zip").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "rl_environments.ticket_routing.sb3", None)
    at = _analytics(page)
    at.selectbox(key="an_model").set_value("model.zip").run()
    at.button(key="an_run").click().run()
    assert "needs the train extra" in at.error[0].value
    assert 'pip install -e ".[train]"' in at.error[0].value


def test_trained_model_from_the_models_folder(
    page: Callable[[str], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import PPO

    from rl_environments.ticket_routing.sb3 import TicketRoutingSB3VecEnv

    monkeypatch.setenv("TICKET_ROUTING_MODELS_DIR", str(tmp_path))
    venv = TicketRoutingSB3VecEnv(num_envs=1, config=SMALL)
    model = PPO("MultiInputPolicy", venv, n_steps=16, batch_size=16, seed=0, device="cpu")
    model.save(tmp_path / "tiny.zip")
    at = _analytics(page)
    at.multiselect(key="an_policies").set_value(["least_loaded"])
    at.number_input(key="an_episodes").set_value(2)
    at.selectbox(key="an_model").set_value("tiny.zip").run()
    at.button(key="an_run").click().run()
    assert not at.exception
    assert not at.error
    assert list(dict.fromkeys(at.session_state["an_results"]["policy"])) == ["least_loaded", "trained:tiny.zip"]


def test_compare_two_configurations(page: Callable[[str], AppTest]) -> None:
    at = _analytics(page)
    at.selectbox(key="cmp_b").set_value("hard")
    at.selectbox(key="cmp_policy").set_value("least_loaded")
    at.number_input(key="cmp_episodes").set_value(2).run()
    at.button(key="cmp_run").click().run()
    assert not at.exception
    table = at.session_state["cmp_results"]
    assert list(table.columns) == ["A: current configuration", "B: hard", "difference (B - A)"]
    assert "csat_pct" in table.index
    assert table.loc["csat_pct", "difference (B - A)"].startswith(("+", "-"))
