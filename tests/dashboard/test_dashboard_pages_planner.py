"""AppTest tests of the Planner page: targets in; the staffing answer, the sweep chart and a CSV out."""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
from streamlit.testing.v1 import AppTest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.dashboard.planner import answer_table, band_frame, parse_rates, team_sizes
from rl_environments.ticket_routing.planning.staffing import Targets, plan_staffing

# About a week of tickets per episode: short enough for many team sizes in a test.
SHORT = EnvironmentConfig(episode_length=300)


def _planner(page: Callable[[str], AppTest]) -> AppTest:
    at = page("planner")
    at.session_state["config"] = SHORT
    return at.run()


def _charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart")) + len(at.get("arrow_vega_lite_chart"))


def test_planner_widgets(page: Callable[[str], AppTest]) -> None:
    at = _planner(page)
    assert not at.exception
    assert at.selectbox(key="pl_policy").value == "skill_load"
    assert at.number_input(key="pl_sla").value == 90.0
    assert at.number_input(key="pl_p90").disabled
    assert at.text_input(key="pl_rates").value == "33.6, 42, 50.4"
    assert _charts(at) == 0
    assert not at.get("download_button")


def test_targets_give_the_staffing_answer(page: Callable[[str], AppTest]) -> None:
    at = _planner(page)
    at.number_input(key="pl_episodes").set_value(4)
    at.number_input(key="pl_sla").set_value(85.0)
    at.number_input(key="pl_csat").set_value(85.0).run()
    at.button(key="pl_run").click().run()
    assert not at.exception
    result = at.session_state["pl_result"]
    expected = plan_staffing(SHORT, "skill_load", Targets(sla_pct=85.0, csat_pct=85.0), episodes=4, seed=0)
    assert expected.answer is not None and result.answer.num_agents == expected.answer.num_agents
    assert at.success[0].value.startswith(f"{expected.answer.num_agents} agents: the smallest team")
    metrics = {m.label: str(m.value) for m in at.metric}
    assert metrics["Team needed (simulation)"] == str(expected.answer.num_agents)
    assert metrics["Erlang C"] == str(expected.erlang.team_erlang_c)
    table = at.dataframe[0].value
    assert table.loc["sla_compliance_pct", "met"] == "yes"
    assert table.loc["csat_pct", "target"] == "≥ 85"
    assert any(str(c.value).startswith("Erlang C assumes") for c in at.caption)


def test_unreachable_targets_show_the_closest_team(page: Callable[[str], AppTest]) -> None:
    at = _planner(page)
    at.number_input(key="pl_episodes").set_value(2)
    at.checkbox(key="pl_use_p90").check().run()
    at.number_input(key="pl_p90").set_value(0.1).run()
    at.button(key="pl_run").click().run()
    assert not at.exception
    assert "not met by any team" in at.error[0].value and "best found" in at.error[0].value
    assert any(m.label == "Closest team" for m in at.metric)


def test_sweep_draws_the_chart_and_offers_the_csv(page: Callable[[str], AppTest]) -> None:
    at = _planner(page)
    at.number_input(key="pl_from").set_value(8)
    at.number_input(key="pl_to").set_value(12)
    at.number_input(key="pl_step").set_value(2)
    at.text_input(key="pl_rates").set_value("30, 45")
    at.number_input(key="pl_seeds").set_value(3).run()
    at.button(key="pl_sweep").click().run()
    assert not at.exception
    assert _charts(at) == 2  # KPI with CI bands, heatmap
    download = at.get("download_button")[0]
    assert download.proto.label == "Download sweep results (CSV)"
    cells = at.session_state["pl_sweep_result"].cells
    assert len(cells) == 3 * 2 * 3
    assert list(dict.fromkeys(cells["num_agents"])) == [8, 10, 12]
    csv = pd.read_csv(io.StringIO(cells.to_csv(index=False)))
    assert list(csv.columns[:3]) == ["num_agents", "arrivals.rate_per_day", "policy"]
    band = band_frame(at.session_state["pl_sweep_result"], "sla_compliance_pct")
    assert len(band) == 6 and band["ci95_low"].min() >= 0.0 and band["ci95_high"].max() <= 100.0


def test_bad_sweep_input_is_named(page: Callable[[str], AppTest]) -> None:
    at = _planner(page)
    at.text_input(key="pl_rates").set_value("").run()
    at.button(key="pl_sweep").click().run()
    assert "arrivals.rate_per_day: no values (empty grid)" in at.error[0].value
    at.text_input(key="pl_rates").set_value("42")
    at.number_input(key="pl_from").set_value(9)
    at.number_input(key="pl_to").set_value(5).run()
    at.button(key="pl_sweep").click().run()
    assert "invalid range 9..5" in at.error[0].value


def test_helpers() -> None:
    assert team_sizes(4, 10, 3) == (4, 7, 10)
    assert parse_rates("30:50:10") == (30, 40, 50)
    result = plan_staffing(SHORT, "skill_load", Targets(csat_pct=50.0, p90_hours=1000.0), episodes=2, max_agents=6)
    table = answer_table(result)
    assert table.loc["p90_resolution_hours", "target"] == "< 1000"
    assert table.loc["mean_utilization_pct", "met"] == ""
