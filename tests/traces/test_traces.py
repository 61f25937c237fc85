"""Ticket-log import, replay and scenario fitting (``rl_environments.ticket_routing.traces``).

Tests marked by the ``uci_log`` fixture read the real UCI incident log from ``../shared/data`` beside
the repository and are skipped when it is absent; every other test builds its own small inputs.
"""

from __future__ import annotations

import argparse
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from rl_environments.ticket_routing import PRIORITIES, TICKET_TYPES, EnvironmentConfig, TicketRoutingEnv
from rl_environments.ticket_routing.cli.fit_trace import run as fit_trace_command
from rl_environments.ticket_routing.traces import (
    ColumnMapping,
    DateParseError,
    LogFileError,
    MappingError,
    MissingColumnError,
    MissingValueError,
    ReplayWindow,
    TicketLog,
    TicketLogError,
    TimeOrderError,
    UnknownCategoryError,
    UnknownPriorityError,
    WindowError,
    active_window,
    estimate_scenario,
    fit_scenario,
    load_replay,
    offline_backlog,
)
from rl_environments.ticket_routing.traces.fitting import _rounded_mix
from tests.traces.helpers import log_weekday_weekend_ratio, simulate_arrivals

REPO = Path(__file__).resolve().parents[2]
# CI has ``shared/`` beside the clone; TICKET_ROUTING_SHARED_DATA points elsewhere (a worktree, say).
SHARED_DATA = Path(os.environ.get("TICKET_ROUTING_SHARED_DATA", REPO.parent / "shared" / "data"))
UCI_ZIP = SHARED_DATA / "uci-incident-log" / "incident_event_log.csv.zip"
UCI_WEEK = ("2016-03-07", "2016-03-14")  # Monday to Monday, inside the dense part of the log


# --------------------------------------------------------------------------- helpers
def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def simple_frame(n_days: int = 14, per_day: int = 6) -> pd.DataFrame:
    """A deterministic log: ``per_day`` tickets a day at 09:00, 10:00..., types and priorities cycling."""
    rows = []
    for d in range(n_days):
        for k in range(per_day):
            opened = pd.Timestamp("2024-01-01") + pd.Timedelta(days=d, hours=9 + k, minutes=7 * k)
            rows.append(
                {
                    "opened_at": opened.isoformat(),
                    "priority": PRIORITIES[k % 4],
                    "type": TICKET_TYPES[(d + k) % 5],
                    "resolved_at": (opened + pd.Timedelta(hours=2 + k)).isoformat(),
                }
            )
    return pd.DataFrame(rows)


def run_replay(window: ReplayWindow, config: EnvironmentConfig) -> tuple[list[float], dict[str, Any]]:
    """Route every ticket of a replay to the first agent with room; arrival hours of routed tickets."""
    env = TicketRoutingEnv(window.configure(config), trace=window.trace)
    env.reset(seed=0)
    arrivals: list[float] = []
    while True:
        ticket = env.current_ticket()
        assert ticket is not None
        arrivals.append(ticket.arrival_hours)
        _, _, terminated, truncated, info = env.step(int(np.argmax(env.action_masks())))
        assert not truncated
        if terminated:
            return arrivals, info["episode_kpis"]


# --------------------------------------------------------------------------- import
def test_from_frame_reads_default_columns_and_sorts_by_opening_time() -> None:
    frame = pd.DataFrame(
        {
            "opened_at": ["2024-01-02 10:00", "2024-01-01 09:30", "2024-01-01 12:00"],
            "priority": [" High", "critical", "LOW"],
            "type": ["Bug Report", "billing", "feature-request"],
        }
    )
    log = TicketLog.from_frame(frame)
    assert list(log.tickets["priority"]) == ["critical", "low", "high"]
    assert list(log.tickets["ticket_type"]) == ["billing", "feature_request", "bug_report"]
    assert list(log.tickets["row"]) == [2, 3, 1]
    assert log.report.rows_read == 3
    assert log.report.rows_used == 3
    assert log.report.rows_dropped == 0
    assert log.report.resolved == 0


def test_event_log_reduces_to_one_row_per_ticket(tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path / "events.csv",
        "id,opened,prio,cat,seq,done\n"
        "A,05/03/2024 08:10,P2,net,2,?\n"
        "A,05/03/2024 08:10,P1,net,3,05/03/2024 12:10\n"
        "B,05/03/2024 09:00,P3,?,1,?\n"
        "A,05/03/2024 08:10,P3,mail,1,?\n",
    )
    mapping = {
        "columns": {"ticket_id": "id", "opened_at": "opened", "priority": "prio", "category": "cat"}
        | {"order_by": "seq", "resolved_at": "done"},
        "timestamp_format": "%d/%m/%Y %H:%M",
        "na_values": ["?"],
        "priorities": {"P1": "critical", "P2": "high", "P3": "medium"},
        "types": {"net": "integration", "mail": "technical"},
        "default_type": "billing",
    }
    map_file = tmp_path / "map.yaml"
    map_file.write_text(yaml.safe_dump(mapping), encoding="utf-8")
    log = TicketLog.read(csv, map_file)
    t = log.tickets
    assert len(log) == 2
    a = t[t["row"] == 3].iloc[0]  # the highest seq of ticket A (line 3 of the file)
    assert (a["priority"], a["ticket_type"]) == ("critical", "integration")
    assert a["resolved_at"] == pd.Timestamp("2024-03-05 12:10")
    assert log.report.dropped == {"earlier updates of the same ticket": 2}
    assert log.report.defaulted == {"empty category": 1}
    assert log.report.rows_used + log.report.rows_dropped == log.report.rows_read == 4
    assert "4 rows: 2 used (one per ticket), 2 dropped" in log.report.summary()
    first = TicketLog.read(csv, ColumnMapping.from_dict({**mapping, "keep": "first"}))
    a_first = first.tickets[first.tickets["opened_at"] == pd.Timestamp("2024-03-05 08:10")].iloc[0]
    assert (a_first["priority"], a_first["ticket_type"]) == ("medium", "technical")
    assert first.report.dropped == {"later updates of the same ticket": 2}


def test_drop_incomplete_counts_rows_and_keeps_row_numbers(tmp_path: Path) -> None:
    csv = write_csv(tmp_path / "t.csv", "opened_at,priority\n,high\n2024-01-01 10:00,\n2024-01-01 11:00,low\n")
    log = TicketLog.read(csv, ColumnMapping(drop_incomplete=True))
    assert len(log) == 1
    assert list(log.tickets["row"]) == [4]  # file line numbers: the header is line 1
    assert log.report.dropped == {"empty opened_at": 1, "empty priority": 1}
    assert log.report.defaulted == {"no category column": 1}
    bad = write_csv(tmp_path / "bad.csv", "opened_at,priority\n,high\n2024-01-01 10:00,low\nnot a date,low\n")
    with pytest.raises(DateParseError) as err:
        TicketLog.read(bad, ColumnMapping(drop_incomplete=True))
    assert err.value.row == 4


def test_unmapped_categories_time_ordering_and_nothing_usable(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": ["A", "A", "B"],
            "opened_at": ["2024-01-01 09:00", "2024-01-01 09:00", "2024-01-01 10:00"],
            "updated": ["2024-01-02 12:00", "2024-01-01 12:00", "2024-01-01 11:00"],
            "priority": ["low", "high", "low"],
            "category": ["printer", "billing", "billing"],
        }
    )
    mapping = ColumnMapping(ticket_id="id", order_by="updated", category="category", default_type="integration")
    log = TicketLog.from_frame(frame, mapping)
    a = log.tickets.iloc[0]
    assert (a["priority"], a["ticket_type"], a["row"]) == ("low", "integration", 1)  # the latest update
    assert log.report.defaulted == {"category not in the types table": 1}
    empty = write_csv(tmp_path / "empty.csv", "opened_at,priority\n,low\n2024-01-01,\n")
    with pytest.raises(LogFileError, match="no usable rows"):
        TicketLog.read(empty, ColumnMapping(drop_incomplete=True))


def test_zip_with_macos_resource_file_and_parquet(tmp_path: Path) -> None:
    frame = simple_frame(2, 3)
    archive = tmp_path / "log.csv.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("log.csv", frame.to_csv(index=False))
        zf.writestr("__MACOSX/._log.csv", "junk")
    assert len(TicketLog.read(archive)) == 6
    tsv = tmp_path / "log.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    assert TicketLog.read(tsv).tickets.equals(TicketLog.read(archive).tickets)
    pytest.importorskip("pyarrow")
    parquet = tmp_path / "log.parquet"
    frame.assign(opened_at=pd.to_datetime(frame["opened_at"])).to_parquet(parquet)
    stored_times = ColumnMapping(category="type", resolved_at="resolved_at", timestamp_format="%Y-%m-%dT%H:%M:%S")
    log = TicketLog.read(parquet, stored_times)
    assert len(log) == 6
    assert log.report.resolved == 6
    assert log.tickets["opened_at"].iloc[0] == pd.Timestamp("2024-01-01 09:00")


def test_timezone_aware_times_keep_wall_clock() -> None:
    log = TicketLog.from_frame(pd.DataFrame({"opened_at": ["2024-01-01T09:30:00+05:00"], "priority": ["low"]}))
    assert log.tickets["opened_at"].iloc[0] == pd.Timestamp("2024-01-01 09:30")


def _zip_two(tmp: Path) -> Path:
    path = tmp / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "opened_at,priority\n")
        zf.writestr("b.csv", "opened_at,priority\n")
    return path


GOOD_HEADER = "opened_at,priority,category,resolved_at,ticket\n"
STRICT = ColumnMapping(category="category", resolved_at="resolved_at", ticket_id="ticket")

# (name, file name, file text or builder, mapping, error class, message fragment, data row, column)
MALFORMED: list[
    tuple[str, str, str | Callable[[Path], Path] | None, ColumnMapping | None, type, str, int | None, str | None]
] = [
    ("missing file", "absent.csv", None, None, LogFileError, "file not found", None, None),
    ("empty file", "empty.csv", "", None, LogFileError, "the file is empty", None, None),
    ("header only", "header.csv", GOOD_HEADER, STRICT, LogFileError, "no data rows", None, None),
    ("unsupported type", "log.xlsx", "x", None, LogFileError, "unsupported file type '.xlsx'", None, None),
    ("two files in zip", "two.zip", _zip_two, None, LogFileError, "exactly one file in the zip, found 2", None, None),
    ("broken zip", "bad.zip", "not a zip", None, LogFileError, "not a valid zip file", None, None),
    (
        "ragged csv",
        "ragged.csv",
        'opened_at,priority\n2024-01-01,low\n"2024-01-02,high\n',
        None,
        LogFileError,
        "cannot read as a table",
        2,
        None,
    ),
    (
        "missing column",
        "nocol.csv",
        "opened_at,urgency\n2024-01-01,low\n",
        None,
        MissingColumnError,
        "column 'priority' (priority) not found",
        None,
        "priority",
    ),
    (
        "missing mapped column",
        "nocat.csv",
        "opened_at,priority\n2024-01-01,low\n",
        STRICT,
        MissingColumnError,
        "column 'category' (category) not found",
        None,
        "category",
    ),
    (
        "bad date",
        "date.csv",
        GOOD_HEADER + "2024-01-01 09:00,low,billing,,1\n2024-13-45 09:00,low,billing,,2\n",
        STRICT,
        DateParseError,
        "cannot parse '2024-13-45 09:00' as a date/time",
        2,
        "opened_at",
    ),
    (
        "bad resolved date",
        "res.csv",
        GOOD_HEADER + "2024-01-01 09:00,low,billing,yesterday,1\n",
        STRICT,
        DateParseError,
        "cannot parse 'yesterday'",
        1,
        "resolved_at",
    ),
    (
        "unknown priority",
        "prio.csv",
        GOOD_HEADER + "2024-01-01 09:00,low,billing,,1\n2024-01-01 10:00,urgent,billing,,2\n",
        STRICT,
        UnknownPriorityError,
        "unknown priority label 'urgent'",
        2,
        "priority",
    ),
    (
        "unknown category",
        "cat.csv",
        GOOD_HEADER + "2024-01-01 09:00,low,printer,,1\n",
        STRICT,
        UnknownCategoryError,
        "category 'printer' is not in the types table",
        1,
        "category",
    ),
    (
        "empty category",
        "cat2.csv",
        GOOD_HEADER + "2024-01-01 09:00,low,billing,,1\n2024-01-01 09:00,low,,,2\n",
        STRICT,
        UnknownCategoryError,
        "empty category and no default_type",
        2,
        "category",
    ),
    (
        "empty opened_at",
        "open.csv",
        GOOD_HEADER + "2024-01-01 09:00,low,billing,,1\n,low,billing,,2\n",
        STRICT,
        MissingValueError,
        "empty opened_at",
        2,
        "opened_at",
    ),
    (
        "empty ticket id",
        "id.csv",
        GOOD_HEADER + "2024-01-01 09:00,low,billing,,\n",
        STRICT,
        MissingValueError,
        "empty ticket id",
        1,
        "ticket",
    ),
    (
        "resolved before opened",
        "order.csv",
        GOOD_HEADER + "2024-01-02 09:00,low,billing,2024-01-01 09:00,1\n",
        STRICT,
        TimeOrderError,
        "resolved at 2024-01-01 09:00:00 before it was opened",
        1,
        "resolved_at",
    ),
    (
        "bad order_by",
        "seq.csv",
        "id,opened_at,priority,seq\n1,2024-01-01,low,1\n1,2024-01-01,low,second\n",
        ColumnMapping(ticket_id="id", order_by="seq"),
        DateParseError,
        "order_by value 'second'",
        2,
        "seq",
    ),
]


@pytest.mark.parametrize(
    ("name", "filename", "content", "mapping", "error", "fragment", "row", "column"),
    MALFORMED,
    ids=[m[0] for m in MALFORMED],
)
def test_malformed_inputs_raise_named_errors(
    tmp_path: Path,
    name: str,
    filename: str,
    content: str | Callable[[Path], Path] | None,
    mapping: ColumnMapping | None,
    error: type,
    fragment: str,
    row: int | None,
    column: str | None,
) -> None:
    path = tmp_path / filename
    if callable(content):
        path = content(tmp_path)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(error, match=None) as err:
        TicketLog.read(path, mapping)
    assert isinstance(err.value, TicketLogError)
    assert isinstance(err.value, ValueError)
    message = str(err.value)
    assert fragment in message, message
    line = None if row is None else row + 1  # the header is line 1
    assert err.value.row == line
    assert err.value.column == column
    assert path.name in message
    if line is not None:
        assert f"line {line}" in message
    if column is not None:
        assert f"column {column!r}" in message


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"colums": {}}, "colums: unknown key"),
        ({"columns": {"opened": "x"}}, "columns.opened: unknown role"),
        ({"columns": ["opened_at"]}, "columns: invalid value"),
        ({"columns": {"priority": ""}}, "columns.priority: invalid value ''"),
        ({"priorities": {"P1": "urgent"}}, "priorities.P1: unknown name 'urgent'"),
        ({"priorities": ["critical"]}, "priorities: invalid value"),
        ({"types": {"net": "network"}}, "types.net: unknown name 'network'"),
        ({"default_type": "network"}, "default_type: unknown ticket type 'network'"),
        ({"keep": "middle"}, "keep: invalid value 'middle'"),
        ({"na_values": "?"}, "na_values: invalid value"),
        ({"drop_incomplete": "yes"}, "drop_incomplete: invalid value"),
        ({"timestamp_format": 5}, "timestamp_format: invalid value 5"),
        (["opened_at"], "expected a mapping of settings"),
    ],
)
def test_bad_mappings_raise_mapping_error(data: Any, fragment: str) -> None:
    with pytest.raises(MappingError, match=None) as err:
        ColumnMapping.from_dict(data, source="map.yaml")
    assert fragment in str(err.value)
    assert str(err.value).startswith("map.yaml: ")


def test_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="file not found"):
        ColumnMapping.from_yaml(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [unclosed", encoding="utf-8")
    with pytest.raises(MappingError, match="cannot read the mapping"):
        ColumnMapping.from_yaml(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert ColumnMapping.from_yaml(empty).columns == {"opened_at": "opened_at", "priority": "priority"}
    shipped = ColumnMapping.from_yaml("uci_incident_log")
    assert shipped.ticket_id == "number"
    assert shipped.priorities["3 - moderate"] == "medium"
    assert set(shipped.types.values()) == set(TICKET_TYPES)
    assert shipped.default_type == "technical"


# --------------------------------------------------------------------------- replay
def test_replay_window_trace_and_config() -> None:
    log = TicketLog.from_frame(simple_frame(14, 6))
    window = log.replay("2024-01-03 08:30", "2024-01-10")
    assert window.start == pd.Timestamp("2024-01-03 08:00")  # rounded down to the hour
    assert window.start_hour_of_week == 2 * 24 + 8  # Wednesday 08:00
    assert len(window) == 7 * 6
    assert window.trace.period_hours == pytest.approx(7 * 24 - 8)
    assert window.trace.times_hours[0] == pytest.approx(1.0)  # 09:00
    assert "42 tickets" in window.describe()
    cfg = window.configure(EnvironmentConfig(episode_length=10))
    assert cfg.start_hour_of_week == 56
    assert cfg.episode_length >= len(window)
    looping = log.replay(loop=True)
    assert looping.trace.loop
    assert looping.configure(cfg).episode_length == cfg.episode_length
    with pytest.raises(WindowError, match="no tickets opened"):
        log.replay("2030-01-01", "2030-02-01")
    with pytest.raises(WindowError, match="must be after its start"):
        log.replay("2024-01-05", "2024-01-04")
    with pytest.raises(WindowError, match="start: cannot read 'soon'"):
        log.replay("soon")
    with pytest.raises(WindowError, match="end: cannot read"):
        log.replay(None, "")


def test_replay_in_env_reproduces_counts_per_hour_and_day() -> None:
    log = TicketLog.from_frame(simple_frame(10, 6))
    window = log.replay("2024-01-02", "2024-01-09")
    arrivals, kpis = run_replay(window, EnvironmentConfig(num_agents=3, max_queue_size=500))
    stamps = window.timestamps(arrivals)
    for freq in ("D", "h"):
        replayed = (
            stamps.floor(freq).value_counts().reindex(log.counts(freq, window.start, window.end).index, fill_value=0)
        )
        assert replayed.to_numpy().tolist() == log.counts(freq, window.start, window.end).to_numpy().tolist()
    assert kpis["tickets_arrived"] == len(window) == 42
    assert kpis["tickets_rejected"] == 0


def test_looping_replay_repeats_the_window() -> None:
    log = TicketLog.from_frame(simple_frame(7, 2))
    window = log.replay("2024-01-01", "2024-01-08", loop=True)
    cfg = window.configure(EnvironmentConfig(num_agents=2, episode_length=40))
    env = TicketRoutingEnv(cfg, trace=window.trace)
    env.reset(seed=1)
    seen = []
    for _ in range(40):
        ticket = env.current_ticket()
        assert ticket is not None
        seen.append(ticket.arrival_hours)
        _, _, terminated, truncated, _ = env.step(int(np.argmax(env.action_masks())))
        assert not terminated
    assert truncated
    seen.sort()
    assert seen[14] == pytest.approx(seen[0] + 168.0)  # the second lap starts a week later


def test_load_replay_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    simple_frame(3, 2).to_csv(path, index=False)
    window = load_replay(path, None, "2024-01-02")
    assert len(window) == 4
    assert window.start_hour_of_week == 24


# --------------------------------------------------------------------------- fitting
def test_fit_scenario_estimates_and_prints_sample_sizes() -> None:
    log = TicketLog.from_frame(simple_frame(14, 6))
    buf = io.StringIO()
    cfg = fit_scenario(log, out=buf, start="2024-01-01", end="2024-01-15", sla_quantile=0.5, num_agents=7)
    arr = cfg.arrivals
    assert arr.rate_per_day == pytest.approx(6.0)
    assert arr.priority_mix == pytest.approx((0.3333, 0.3333, 0.1667, 0.1667), abs=1e-4)
    assert sum(arr.type_mix) == pytest.approx(1.0, abs=1e-9)
    assert arr.type_mix == pytest.approx((0.2, 0.2, 0.2, 0.2, 0.2), abs=0.02)
    profile = np.asarray(arr.weekly_profile)
    assert profile.mean() == pytest.approx(1.0, abs=1e-3)
    assert profile[:, 9].tolist() == pytest.approx([4.0] * 7)  # one ticket an hour in 42 of the 168 hours
    assert profile[:, 0].sum() == 0.0
    # resolution hours: critical 2 h and 6 h; medium 4 h only -> medians
    assert cfg.sla.resolution_hours == pytest.approx((4.0, 5.0, 4.0, 5.0))
    assert cfg.num_agents == 7
    text = buf.getvalue()
    assert "read 84 rows: 84 used" in text
    assert "6.00 tickets/day (n = 84 tickets / 14.0 days)" in text
    assert "critical 0.3333 (n = 28)" in text
    assert "50th percentile" in text


def test_fit_short_window_and_missing_priorities_keep_defaults() -> None:
    frame = pd.DataFrame({"opened_at": ["2024-01-01 09:00", "2024-01-02 09:00"], "priority": ["low", "low"]})
    fit = estimate_scenario(TicketLog.from_frame(frame))
    assert fit.config.arrivals.weekly_profile is None
    assert fit.config.arrivals.priority_mix == (0.0, 0.0, 0.0, 1.0)
    assert fit.config.sla.resolution_hours == EnvironmentConfig().sla.resolution_hours
    text = fit.summary()
    assert "no weekly profile" in text
    assert "no data: kept" in text
    with pytest.raises(ValueError, match="sla_quantile"):
        estimate_scenario(TicketLog.from_frame(frame), sla_quantile=0.0)
    with pytest.raises(ValueError, match="target_utilization"):
        estimate_scenario(TicketLog.from_frame(frame), target_utilization=2.0)


def test_fit_sizes_team_and_queue_from_the_base_config() -> None:
    log = TicketLog.from_frame(simple_frame(14, 6))
    always = EnvironmentConfig().replace(
        agents={
            "shift_hours": 24,
            "work_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
        }
    )
    fit = estimate_scenario(log, base=always, target_utilization=0.5)
    assert fit.offered_load > 0
    assert fit.config.num_agents == int(np.ceil(fit.offered_load / 0.5))
    assert offline_backlog(fit.config) == 0.0
    office = always.replace(
        agents={"shift_start_hour": 10, "shift_hours": 2, "work_days": ["monday"]}, max_queue_size=1
    )
    fitted = estimate_scenario(log, base=office).config
    assert fitted.max_queue_size >= 2 * offline_backlog(fitted) > 0
    fixed = office.replace(num_agents=2, agents={"expertise": [[0.5] * 5, [0.9] * 5]})
    fit_fixed = estimate_scenario(log, base=fixed)
    assert fit_fixed.config.agents.expertise is None
    assert "expertise matrix was dropped" in fit_fixed.summary()


def test_active_window_trims_sparse_tails() -> None:
    frame = simple_frame(14, 6)
    tail = pd.DataFrame(
        {"opened_at": ["2023-06-01 10:00", "2024-05-01 10:00"], "priority": ["low"] * 2, "type": ["billing"] * 2}
    )
    log = TicketLog.from_frame(pd.concat([frame, tail], ignore_index=True))
    assert active_window(log, min_share=0.2) == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-15"))
    assert active_window(log, min_share=0.1)[0] == pd.Timestamp("2023-06-01")  # 1 ticket >= 0.1 * 6
    assert log_weekday_weekend_ratio(log, "2024-01-01", "2024-01-15") == pytest.approx(1.0)
    with pytest.raises(WindowError, match="needs both weekdays and weekend days"):
        log_weekday_weekend_ratio(log, "2024-01-01", "2024-01-06")
    fit = estimate_scenario(log, start="2024-01-01", end="2024-01-15")
    assert fit.left_out == 2
    assert fit.tickets == 84


def test_rounded_mix_and_config_changes_round_trip(tmp_path: Path) -> None:
    mix = _rounded_mix(np.array([1.0, 1.0, 1.0]))
    assert sum(mix) == pytest.approx(1.0, abs=1e-12)
    assert max(mix) == pytest.approx(0.3334)
    cfg = EnvironmentConfig().replace(num_agents=3, arrivals={"rate_per_day": 12.5})
    assert cfg.changes() == {"num_agents": 3, "arrivals": {"rate_per_day": 12.5}}
    assert cfg.diff() == ["num_agents", "arrivals.rate_per_day"]
    assert cfg.diff(cfg) == []
    assert EnvironmentConfig().diff(cfg) == ["num_agents", "arrivals.rate_per_day"]
    fit = estimate_scenario(TicketLog.from_frame(simple_frame(14, 6)))
    path = tmp_path / "s.yaml"
    text = fit.to_yaml(path, header="# hi\n")
    assert text.startswith("# hi\n")
    assert EnvironmentConfig.from_yaml(path) == fit.config


def test_fit_trace_command_writes_a_loadable_scenario(tmp_path: Path) -> None:
    log_path = tmp_path / "log.csv"
    simple_frame(14, 6).to_csv(log_path, index=False)
    out = tmp_path / "scenario.yaml"
    args = argparse.Namespace(file=str(log_path), mapping=None, out=str(out), start=None, end=None)
    buf = io.StringIO()
    assert fit_trace_command(args, buf) == 0
    assert EnvironmentConfig.from_yaml(out).arrivals.rate_per_day == pytest.approx(6.0)
    assert "wrote" in buf.getvalue()
    assert "n = 84" in buf.getvalue()
    buf = io.StringIO()
    fit_trace_command(argparse.Namespace(file=str(log_path)), buf)
    assert "rate_per_day: 6.0" in buf.getvalue()


def test_cli_fit_trace_and_compare_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rl_environments.ticket_routing.cli import main

    log_path = tmp_path / "log.csv"
    simple_frame(14, 6).to_csv(log_path, index=False)
    out = tmp_path / "scenario.yaml"
    assert main(["fit-trace", str(log_path), "-o", str(out), "--num-agents", "3", "--sla-quantile", "0.5"]) == 0
    fitted = EnvironmentConfig.from_yaml(out)
    assert fitted.num_agents == 3
    assert fitted.sla.resolution_hours == pytest.approx((4.0, 5.0, 4.0, 5.0))
    assert "n = 84" in capsys.readouterr().out
    assert main(["fit-trace", str(tmp_path / "none.csv")]) == 2
    assert "file not found" in capsys.readouterr().err
    bad = write_csv(tmp_path / "bad.csv", "opened_at,priority\n2024-01-01,urgent\n")
    assert main(["fit-trace", str(bad)]) == 2
    assert "bad.csv, line 2, column 'priority': unknown priority label 'urgent'" in capsys.readouterr().err
    assert main(["compare", "--mapping", "uci_incident_log", "--episodes", "1"]) == 2
    assert "--mapping needs --trace FILE" in capsys.readouterr().err
    argv = ["compare", "--config", str(out), "--trace", str(log_path), "--trace-start", "2024-01-08"]
    assert main([*argv, "--episodes", "2", "--policies", "round_robin", "least_loaded"]) == 0
    captured = capsys.readouterr()
    assert "replaying 42 tickets opened from 2024-01-08 00:00" in captured.err
    assert "round_robin" in captured.out
    assert "least_loaded" in captured.out


def test_simulate_arrivals_counts_a_flat_week() -> None:
    cfg = EnvironmentConfig(num_agents=4, arrivals={"rate_per_day": 24.0, "weekly_profile": None})
    sim = simulate_arrivals(cfg, weeks=2, seed=3)
    assert 250 < sim.hours.size < 420
    assert sim.rejected == 0
    assert sim.hours.max() < 2 * 168
    assert sim.hour_shares().sum() == pytest.approx(1.0)
    assert 0.5 < sim.weekday_weekend_ratio() < 2.0
    assert sim.priority_shares() == pytest.approx(cfg.arrivals.priority_mix, abs=0.08)


def test_service_desk_preset_lists_only_changes_and_runs() -> None:
    path = REPO / "rl_environments/ticket_routing/config/presets/service_desk.yaml"
    changes = yaml.safe_load(path.read_text(encoding="utf-8"))
    preset = EnvironmentConfig.preset("service_desk")
    assert changes == preset.changes()
    assert set(changes["arrivals"]) == {"rate_per_day", "type_mix", "priority_mix", "weekly_profile"}
    env = TicketRoutingEnv(preset)
    env.reset(seed=0)
    for _ in range(300):
        *_, terminated, truncated, info = env.step(int(np.argmax(env.action_masks())))
        assert not terminated
        assert not truncated
    assert info["kpis"]["tickets_rejected"] == 0


# --------------------------------------------------------------------------- the real UCI log
@pytest.fixture(scope="module")
def uci_log() -> TicketLog:
    if not UCI_ZIP.is_file():
        pytest.skip(f"UCI incident log not found at {UCI_ZIP} (put the shared data beside the repository)")
    return TicketLog.read(UCI_ZIP, "uci_incident_log")


@pytest.fixture(scope="module")
def uci_fit(uci_log: TicketLog) -> Any:
    return estimate_scenario(uci_log)


@pytest.fixture(scope="module")
def service_desk_weeks() -> Any:
    """The shipped preset simulated over 20 seeded weeks."""
    return simulate_arrivals(EnvironmentConfig.preset("service_desk"), weeks=20, seed=0)


def test_uci_import_counts(uci_log: TicketLog) -> None:
    rep = uci_log.report
    assert (rep.rows_read, rep.rows_used, rep.rows_dropped) == (141_712, 24_918, 116_794)
    assert rep.defaulted == {"empty category": 7}
    assert rep.resolved == 23_362
    assert uci_log.tickets["opened_at"].is_monotonic_increasing


def test_uci_replay_reproduces_counts_per_day_and_hour(uci_log: TicketLog) -> None:
    window = uci_log.replay(*UCI_WEEK)
    base = EnvironmentConfig.preset("service_desk").replace(max_queue_size=5000)
    arrivals, kpis = run_replay(window, base)
    assert kpis["tickets_rejected"] == 0
    assert len(arrivals) == len(window) == kpis["tickets_arrived"]
    stamps = window.timestamps(arrivals)
    for freq in ("D", "h"):
        expected = uci_log.counts(freq, *UCI_WEEK)
        replayed = stamps.floor(freq).value_counts().reindex(expected.index, fill_value=0)
        assert replayed.to_numpy().tolist() == expected.to_numpy().tolist()


def test_uci_fitted_profile_matches_hourly_shares(uci_log: TicketLog, uci_fit: Any) -> None:
    window = uci_log.between(uci_fit.start, uci_fit.end).tickets
    log_shares = np.bincount(window["opened_at"].dt.hour, minlength=24) / len(window)
    profile = np.asarray(uci_fit.config.arrivals.weekly_profile)
    hours = pd.date_range(uci_fit.start, uci_fit.end - pd.Timedelta(hours=1), freq="h")
    expected = np.zeros(24)
    np.add.at(expected, hours.hour, profile[hours.day_of_week, hours.hour])  # expected tickets per hour of day
    assert np.abs(expected / expected.sum() - log_shares).max() < 0.01


def test_uci_service_desk_preset_reproduces_the_log(uci_log: TicketLog, uci_fit: Any, service_desk_weeks: Any) -> None:
    window = uci_log.between(uci_fit.start, uci_fit.end).tickets
    sim = service_desk_weeks
    assert sim.rejected == 0
    log_hours = np.bincount(window["opened_at"].dt.hour, minlength=24) / len(window)
    assert np.abs(sim.hour_shares() - log_hours).max() < 0.01
    log_prios = window["priority"].value_counts(normalize=True).reindex(PRIORITIES).to_numpy()
    assert np.abs(sim.priority_shares() - log_prios).max() < 0.01
    log_ratio = log_weekday_weekend_ratio(uci_log, uci_fit.start, uci_fit.end)
    assert abs(sim.weekday_weekend_ratio() / log_ratio - 1.0) < 0.10


def test_uci_service_desk_preset_holds_the_fitted_figures(uci_fit: Any) -> None:
    preset = EnvironmentConfig.preset("service_desk")
    assert preset.arrivals == uci_fit.config.arrivals
    assert preset.sla == uci_fit.config.sla
    text = (REPO / "rl_environments/ticket_routing/config/presets/service_desk.yaml").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text
    assert "10.24432/C57S4H" in text


def test_uci_base_team_fit_regenerates_the_service_desk_preset(uci_log: TicketLog) -> None:
    assert estimate_scenario(uci_log, from_log=False).config == EnvironmentConfig.preset("service_desk")


def test_fit_trace_old_output_flag_still_works_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rl_environments.ticket_routing.cli import main

    log_path = tmp_path / "log.csv"
    simple_frame(14, 6).to_csv(log_path, index=False)
    out = tmp_path / "scenario.yaml"
    assert main(["fit-trace", str(log_path), "--output", str(out), "--num-agents", "3", "--no-report"]) == 0
    assert out.is_file()
    assert "-o/--out" in capsys.readouterr().err
