"""The team, the shifts and the service fitted from a log, and the warnings of a fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.traces import ColumnMapping, MappingError, TicketLog, estimate_scenario
from rl_environments.ticket_routing.traces.check import check_fit, check_text
from rl_environments.ticket_routing.traces.team import MIN_SAMPLE, fit_team
from tests.traces.test_log_events import EVENTS, MONDAY, event_log

HUMANS = ColumnMapping.from_dict({**EVENTS, "na_values": ["batch"]})  # the nightly closer is not a person


def test_team_size_and_shifts_come_from_the_assignees() -> None:
    log = TicketLog.from_frame(event_log(weeks=3), HUMANS)
    assert log.activity is not None and set(log.activity["assignee"]) == {f"agent{k}" for k in range(5)}
    fit = estimate_scenario(log)
    team = fit.team_fit
    assert team is not None
    assert (team.agents, team.people) == (5, 5)
    assert team.work_days == ("monday", "tuesday", "wednesday", "thursday", "friday")
    # assignments at 10:00-17:35, resolutions at 12:00-19:35: people are active from 10:00 to 19:59
    assert (team.shift_start_hour, team.shift_hours) == (10, 10)
    cfg = fit.config
    assert cfg.num_agents == 5
    assert (cfg.agents.shift_start_hour, cfg.agents.shift_hours) == (10, 10)
    assert "team (from the assignees): 5 agents" in fit.summary()
    given = estimate_scenario(log, num_agents=8)
    assert given.config.num_agents == 8 and given.config.agents.shift_hours == 10
    assert estimate_scenario(log, from_log=False).team_fit is None


def test_twenty_two_people_make_a_team_of_twenty_two() -> None:
    frame = event_log(weeks=3)
    frame["who"] = [f"person{k % 22}" for k in range(len(frame))]
    fit = estimate_scenario(TicketLog.from_frame(frame, ColumnMapping.from_dict(EVENTS)))
    assert fit.team_fit is not None and fit.config.num_agents == 22


def test_service_effort_from_resolution_times() -> None:
    log = TicketLog.from_frame(event_log(weeks=3), HUMANS)  # 120 tickets, all resolved after 3 hours
    fit = estimate_scenario(log)
    assert fit.effort_samples == {
        "technical": 120,
        "billing": 0,
        "feature_request": 0,
        "bug_report": 0,
        "integration": 0,
    }
    base = fit.config.service.base_effort_hours
    assert 0.5 < base[0] < 3.0  # 3 h elapsed x the mean speed of a random agent
    assert base[1:] == (0.5, 0.75, 1.5, 2.0)  # no sample: kept
    assert "(n = 0: kept)" in fit.summary()


def test_fit_warnings_thin_unresolved_uneven_sparse() -> None:
    frame = event_log(weeks=2)  # 80 tickets: 20 per priority
    frame = frame[~((frame["case"] <= "T0010") & (frame["activity"] == "Resolve ticket"))]  # 10 unresolved
    bulk = event_log(weeks=1, per_day=60).assign(case=lambda f: "B" + f["case"])
    bulk = bulk[pd.to_datetime(bulk["time"]).dt.normalize() == MONDAY]  # one Monday of 60 extra tickets
    log = TicketLog.from_frame(pd.concat([frame, bulk], ignore_index=True), HUMANS)
    fit = estimate_scenario(log, start="2024-03-04", end="2024-03-18")
    text = "\n".join(fit.warnings)
    thin = estimate_scenario(TicketLog.from_frame(frame, HUMANS)).warnings
    expected = f"SLA targets from fewer than {MIN_SAMPLE} resolved tickets: critical (n = 18), high (n = 17)"
    assert expected in "\n".join(thin)
    assert "% of the window's tickets have no resolution time" in text
    assert "uneven daily volume: 2024-03-04 had 68 tickets" in text
    assert "weekly-profile hours rest on 1-4 tickets" in text
    assert "warning: uneven daily volume" in fit.summary()


def test_no_activity_no_team_fit() -> None:
    assert fit_team(None, MONDAY, MONDAY + pd.Timedelta(days=7)) is None
    log = TicketLog.from_frame(event_log(weeks=1), HUMANS)
    assert fit_team(log.activity, MONDAY + pd.Timedelta(days=30), MONDAY + pd.Timedelta(days=31)) is None
    always = pd.DataFrame({"time": MONDAY + pd.to_timedelta(np.arange(24 * 7), unit="h"), "assignee": ["a"] * (24 * 7)})
    team = fit_team(always, MONDAY, MONDAY + pd.Timedelta(days=7))
    assert team is not None and (team.shift_start_hour, team.shift_hours, len(team.work_days)) == (0, 24, 7)


def test_uci_team_is_fitted_from_the_resolvers() -> None:
    from tests.traces.test_traces import UCI_ZIP

    if not UCI_ZIP.is_file():
        pytest.skip(f"UCI incident log not found at {UCI_ZIP}")
    fit = estimate_scenario(TicketLog.read(UCI_ZIP, "uci_incident_log"))
    assert fit.team_fit is not None
    assert 50 <= fit.config.num_agents <= 300
    assert fit.team_fit.work_days == ("monday", "tuesday", "wednesday", "thursday", "friday")


def test_fit_trace_writes_the_report_png_and_checks_the_fit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "events.csv"
    event_log(weeks=3).to_csv(path, index=False)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {ticket_id: case, opened_at: time, priority: prio, assignee: who}\n"
        "na_values: [batch]\n"
        "priorities: {P1: critical, P2: high, P3: medium, P4: low}\n"
        "resolved_when: {column: activity, values: [Resolve ticket]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "scenario.yaml"
    assert main(["fit-trace", str(path), "--mapping", str(mapping), "-o", str(out), "--check"]) == 0
    text = capsys.readouterr().out
    png = tmp_path / "scenario.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in text
    assert "Fitted scenario vs the log (least_loaded, 3 simulated episodes of about 4 weeks" in text
    assert "busiest hour: log" in text
    other = tmp_path / "other.yaml"
    assert main(["fit-trace", str(path), "--mapping", str(mapping), "-o", str(other), "--no-report"]) == 0
    assert not (tmp_path / "other.png").exists()


def test_check_sets_the_log_beside_the_simulation() -> None:
    log = TicketLog.from_frame(event_log(weeks=3), HUMANS)
    fit = estimate_scenario(log)
    table = check_fit(log, fit, episodes=2)
    row = table.set_index("metric")
    assert row.loc["tickets per day", "log"] == pytest.approx(120 / fit.days)
    assert row.loc["tickets per day", "simulated"] == pytest.approx(120 / fit.days, rel=0.35)
    assert row.loc["tickets on a saturday (mean)", "log"] == 0.0
    assert row.loc["tickets on a saturday (mean)", "simulated"] == 0.0
    assert row.loc["mean resolution hours", "log"] == pytest.approx(3.0)
    assert row.loc["SLA met % (resolved tickets)", "log"] == pytest.approx(100.0)
    assert table.attrs["hour_of_week_max_abs_diff"] < 0.5
    assert table.attrs["replay_max_abs_diff"] == 0
    first_week = int(row.loc["replay of the first week: tickets", "log"])
    assert first_week == row.loc["replay of the first week: tickets", "simulated"] == 40
    assert "tickets per day" in check_text(table)


def test_effort_from_in_progress_time_where_the_log_has_statuses() -> None:
    rows = []
    for n in range(40):
        t0 = MONDAY + pd.Timedelta(days=n % 5, hours=9 + n % 6)
        for status, offset in (("New", 0.0), ("In Progress", 1.0), ("Waiting", 1.5), ("In Progress", 20.0)):
            rows.append({"case": f"T{n}", "status": status, "time": (t0 + pd.Timedelta(hours=offset)).isoformat()})
        rows.append({"case": f"T{n}", "status": "Resolved", "time": (t0 + pd.Timedelta(hours=21)).isoformat()})
    mapping = ColumnMapping.from_dict(
        {
            "columns": {"ticket_id": "case", "opened_at": "time", "priority": None},
            "default_priority": "medium",
            "resolved_when": {"column": "status", "values": ["resolved"]},
            "working_when": {"column": "status", "values": ["in progress"]},
        }
    )
    log = TicketLog.from_frame(pd.DataFrame(rows), mapping)
    assert log.tickets["work_hours"].tolist() == [1.5] * 40  # 0.5 h + 1 h; the 18.5 h of waiting is not work
    assert (log.tickets["resolved_at"] - log.tickets["opened_at"]).max() == pd.Timedelta(hours=21)
    fit = estimate_scenario(log)
    assert fit.effort_method == "median in-progress hours x mean speed"
    assert fit.effort_samples["technical"] == 40
    assert 0.5 < fit.config.service.base_effort_hours[0] < 1.5
    assert "median in-progress hours" in fit.summary()
    with pytest.raises(MappingError, match="working_when: invalid value"):
        ColumnMapping.from_dict({"columns": {"ticket_id": "case"}, "working_when": {"column": "status"}})
    with pytest.raises(MappingError, match=r"working_when needs columns\.ticket_id"):
        ColumnMapping.from_dict({"working_when": {"column": "status", "values": ["x"]}})
