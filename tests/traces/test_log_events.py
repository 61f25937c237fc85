"""Event logs, time zones and file formats of ticket-log import (small synthetic fixtures only)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.traces import (
    ColumnMapping,
    DateParseError,
    LogFileError,
    MappingError,
    MissingValueError,
    TicketLog,
    TimeOrderError,
    estimate_scenario,
)
from rl_environments.ticket_routing.traces.errors import InconsistentTicketError

MONDAY = pd.Timestamp("2024-03-04")


def event_log(weeks: int = 3, per_day: int = 8) -> pd.DataFrame:
    """A help desk working Monday to Friday: each ticket is opened between 09:00 and 16:00, assigned an
    hour later, resolved three hours after opening, and closed by a nightly batch at 01:00."""
    rows = []
    n = 0
    for day in range(7 * weeks):
        date = MONDAY + pd.Timedelta(days=day)
        if date.day_of_week >= 5:
            continue
        for k in range(per_day):
            n += 1
            opened = date + pd.Timedelta(hours=9 + k % 8, minutes=5 * k)
            case, prio = f"T{n:04d}", ("P1", "P2", "P3", "P4")[n % 4]
            closing = date + pd.Timedelta(days=1, hours=1)
            for activity, at, who in (
                ("Open", opened, ""),
                ("Assign", opened + pd.Timedelta(hours=1), f"agent{n % 5}"),
                ("Resolve ticket", opened + pd.Timedelta(hours=3), f"agent{n % 5}"),
                ("Closed", closing, "batch"),
            ):
                rows.append({"case": case, "activity": activity, "time": at.isoformat(), "prio": prio, "who": who})
    return pd.DataFrame(rows)


EVENTS = {
    "columns": {"ticket_id": "case", "opened_at": "time", "priority": "prio", "assignee": "who"},
    "priorities": {"P1": "critical", "P2": "high", "P3": "medium", "P4": "low"},
    "resolved_when": {"column": "activity", "values": ["Resolve ticket"], "take": "last"},
}


# --------------------------------------------------------------------------- event-log semantics
def test_opened_at_is_the_first_event_and_resolution_the_matching_event() -> None:
    frame = event_log()
    log = TicketLog.from_frame(frame, ColumnMapping.from_dict(EVENTS))
    assert len(log) == 120
    first = log.tickets.iloc[0]
    assert first["opened_at"] == MONDAY + pd.Timedelta(hours=9)
    assert first["resolved_at"] == MONDAY + pd.Timedelta(hours=12)
    assert first["assignee"] == "batch"  # keep: last (the closing event)
    assert log.report.dropped == {"earlier updates of the same ticket": 360}
    assert log.report.warnings == ()  # priority is constant within each ticket
    weekdays = log.tickets["opened_at"].dt.day_of_week
    assert (weekdays < 5).all()
    closing = ColumnMapping.from_dict({**EVENTS, "fields": {"opened_at": "last"}})  # opened at the closure
    with pytest.raises(TimeOrderError, match="ticket 'T0001' is resolved at 2024-03-04 12:00:00 before"):
        TicketLog.from_frame(frame, closing)


def test_the_nightly_closure_batch_is_no_longer_a_peak() -> None:
    frame = event_log()
    fit = estimate_scenario(TicketLog.from_frame(frame, ColumnMapping.from_dict(EVENTS)), sla_quantile=0.5)
    profile = np.asarray(fit.config.arrivals.weekly_profile)
    assert profile[5:].sum() == 0.0  # nothing opens at the weekend
    assert profile[:, 1].sum() == 0.0  # nor at 01:00
    assert fit.config.sla.resolution_hours[1] == pytest.approx(3.0)
    old = {k: v for k, v in EVENTS.items() if k != "resolved_when"}
    last = ColumnMapping.from_dict({**old, "fields": {"opened_at": "last"}})  # the old behaviour
    wrong = estimate_scenario(TicketLog.from_frame(frame, last))
    bad = np.asarray(wrong.config.arrivals.weekly_profile)
    _, hour = np.unravel_index(int(np.argmax(bad)), bad.shape)
    assert hour == 1
    assert bad[5, 1] > 0  # Saturday 01:00 closes Friday's tickets


def test_rules_per_field_and_last_non_empty() -> None:
    frame = pd.DataFrame(
        {
            "id": ["A", "A", "A", "B", "B"],
            "at": ["2024-01-01 09:00", "2024-01-01 08:00", "2024-01-01 10:00", "2024-01-02 09:00", "2024-01-02 11:00"],
            "prio": ["", "high", "", "low", ""],
            "cat": ["billing", "integration", "technical", "bug_report", "billing"],
            "who": ["ann", "bob", "", "cy", ""],
        }
    )
    mapping = ColumnMapping.from_dict(
        {
            "columns": {"ticket_id": "id", "opened_at": "at", "priority": "prio", "category": "cat", "assignee": "who"},
            "fields": {"priority": "last_non_empty", "category": "first", "assignee": "last_non_empty"},
        }
    )
    log = TicketLog.from_frame(frame, mapping)
    a, b = log.tickets.iloc[0], log.tickets.iloc[1]
    assert a["opened_at"] == pd.Timestamp("2024-01-01 08:00")  # min: the earliest event, not the first row
    assert (a["priority"], a["ticket_type"], a["assignee"]) == ("high", "billing", "bob")
    assert (b["priority"], b["ticket_type"], b["assignee"]) == ("low", "bug_report", "cy")
    assert any("'cat' (category) varies within 2 tickets" in w for w in log.report.warnings)
    latest = ColumnMapping.from_dict(
        {
            "columns": {"ticket_id": "id", "opened_at": "at", "priority": "prio"},
            "fields": {"opened_at": "max", "priority": "last_non_empty"},
        }
    )
    assert TicketLog.from_frame(frame, latest).tickets["opened_at"].iloc[0] == pd.Timestamp("2024-01-01 10:00")
    nothing = frame.assign(prio=["", "", "", "low", ""])
    with pytest.raises(MissingValueError, match="ticket 'A' has no priority in any of its rows"):
        TicketLog.from_frame(nothing, mapping)


def test_a_varying_field_is_a_warning_or_with_strict_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = event_log(weeks=2)
    frame.loc[frame["activity"] == "Closed", "prio"] = "P4"  # the closing batch resets the priority
    log = TicketLog.from_frame(frame, ColumnMapping.from_dict(EVENTS))
    varying = int((frame.groupby("case")["prio"].nunique() > 1).sum())
    assert varying == 60
    assert log.report.warnings == (
        f"column 'prio' (priority) varies within {varying} tickets; the mapping takes it from the last row of each "
        "(set fields.priority to choose another rule)",
    )
    assert "warning: column 'prio'" in log.report.summary()
    with pytest.raises(InconsistentTicketError, match="varies within 60 tickets"):
        TicketLog.from_frame(frame, ColumnMapping.from_dict(EVENTS), strict=True)
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {ticket_id: case, opened_at: time, priority: prio}\n"
        "priorities: {P1: critical, P2: high, P3: medium, P4: low}\n",
        encoding="utf-8",
    )
    assert main(["fit-trace", str(path), "--mapping", str(mapping), "--strict", "--num-agents", "3"]) == 2
    assert "varies within 60 tickets" in capsys.readouterr().err
    assert main(["fit-trace", str(path), "--mapping", str(mapping), "--num-agents", "3"]) == 0
    assert "warning: column 'prio' (priority) varies within 60 tickets" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"fields": {"priority": "first"}}, "need columns.ticket_id"),
        ({"columns": {"ticket_id": "id"}, "fields": {"priority": "median"}}, "fields.priority: invalid rule 'median'"),
        ({"columns": {"ticket_id": "id"}, "fields": {"ticket_id": "first"}}, "fields.ticket_id: unknown role"),
        ({"columns": {"ticket_id": "id"}, "resolved_when": {"values": ["x"]}}, "resolved_when: invalid value"),
        ({"columns": {"ticket_id": "id"}, "resolved_when": {"column": "a", "values": "x"}}, "resolved_when.values"),
        ({"columns": {"ticket_id": "id"}, "resolved_when": {"column": "a", "values": ["x"], "take": "mid"}}, "take"),
        (
            {"columns": {"ticket_id": "id", "resolved_at": "r"}, "resolved_when": {"column": "a", "values": ["x"]}},
            "either columns.resolved_at or resolved_when",
        ),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
        ({"columns": {"priority": None}}, "columns.priority: invalid value None"),
        ({"columns": {"priority": None}, "default_priority": "urgent"}, "default_priority: unknown priority"),
    ],
)
def test_bad_event_settings_are_mapping_errors(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(MappingError, match=None) as err:
        ColumnMapping.from_dict(data)
    assert fragment in str(err.value)


def test_default_priority_without_a_priority_column() -> None:
    frame = pd.DataFrame({"opened_at": ["2024-01-01 09:00"]})
    log = TicketLog.from_frame(frame, ColumnMapping(priority=None, default_priority="high"))
    assert log.tickets["priority"].tolist() == ["high"]


# --------------------------------------------------------------------------- time zones
DST = [  # Europe/Berlin switches from +01:00 to +02:00 at 2024-03-31 02:00
    "2024-03-30T23:30:00+01:00",
    "2024-03-31T01:30:00+01:00",
    "2024-03-31T03:30:00+02:00",
    "2024-03-31T12:00:00Z",
    "2024-03-31 14:00",
]


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("keep", ["2024-03-30 23:30", "2024-03-31 01:30", "2024-03-31 03:30", "2024-03-31 12:00", "2024-03-31 14:00"]),
        ("UTC", ["2024-03-30 22:30", "2024-03-31 00:30", "2024-03-31 01:30", "2024-03-31 12:00", "2024-03-31 14:00"]),
        (
            "Europe/Berlin",
            ["2024-03-30 23:30", "2024-03-31 01:30", "2024-03-31 03:30", "2024-03-31 14:00", "2024-03-31 14:00"],
        ),
    ],
)
def test_offsets_across_a_daylight_saving_change(tmp_path: Path, zone: str, expected: list[str]) -> None:
    path = tmp_path / "dst.csv"
    path.write_text("opened_at,priority\n" + "".join(f"{t},low\n" for t in DST), encoding="utf-8")
    log = TicketLog.read(path, ColumnMapping(timezone=zone))
    assert sorted(log.tickets["opened_at"]) == sorted(pd.to_datetime(expected))


def test_time_parse_failures_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "dst.csv"
    path.write_text("opened_at,priority\n" + "".join(f"{t},low\n" for t in DST) + "2024-03-31T25:00+02:00,low\n")
    for zone in ("keep", "UTC"):
        with pytest.raises(DateParseError) as err:
            TicketLog.read(path, ColumnMapping(timezone=zone))
        assert err.value.row == 7
        assert "dst.csv, line 7, column 'opened_at': cannot parse '2024-03-31T25:00+02:00'" in str(err.value)
    fmt = tmp_path / "fmt.csv"
    fmt.write_text("t,priority\n30/03/2024 23:30 +0100,low\n31/03/2024 03:30 +0200,low\n31/03/2024 3h,low\n")
    with pytest.raises(DateParseError, match="line 4, column 't'"):
        TicketLog.read(fmt, ColumnMapping(opened_at="t", timestamp_format="%d/%m/%Y %H:%M %z"))
    fmt.write_text("t,priority\n30/03/2024 23:30 +0100,low\n31/03/2024 03:30 +0200,low\n")
    kept = TicketLog.read(fmt, ColumnMapping(opened_at="t", timestamp_format="%d/%m/%Y %H:%M %z"))
    assert kept.tickets["opened_at"].dt.hour.tolist() == [23, 3]
    utc = TicketLog.read(fmt, ColumnMapping(opened_at="t", timestamp_format="%d/%m/%Y %H:%M %z", timezone="UTC"))
    assert utc.tickets["opened_at"].dt.hour.tolist() == [22, 1]


# --------------------------------------------------------------------------- formats
XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <trace>
    <string key="concept:name" value="case-1"/>
    <string key="priority" value="high"/>
    <event>
      <string key="concept:name" value="Open"/>
      <date key="time:timestamp" value="2024-03-04T09:00:00.000+01:00"/>
      <string key="org:resource" value="ann"/>
      <string key="lifecycle:transition" value="start"/>
    </event>
    <event>
      <string key="concept:name" value="Resolve"/>
      <date key="time:timestamp" value="2024-03-04T11:30:00.000+01:00"/>
      <string key="org:resource" value="bob"/>
      <string key="lifecycle:transition" value="complete"/>
      <list key="tags"><string key="x" value="nested"/></list>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="case-2"/>
    <string key="priority" value="low"/>
    <event>
      <string key="concept:name" value="Open"/>
      <date key="time:timestamp" value="2024-03-05T10:00:00.000+01:00"/>
      <string key="org:resource" value="cy"/>
      <string key="lifecycle:transition" value="start"/>
    </event>
  </trace>
</log>
"""


@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz"])
def test_xes_with_the_standard_keys_mapped_by_default(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data = XES.encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    log = TicketLog.read(path)
    t = log.tickets
    assert t["opened_at"].tolist() == [pd.Timestamp("2024-03-04 09:00"), pd.Timestamp("2024-03-05 10:00")]
    assert t["resolved_at"].iloc[0] == pd.Timestamp("2024-03-04 11:30")
    assert pd.isna(t["resolved_at"].iloc[1])  # no complete event yet
    assert t["priority"].tolist() == ["high", "low"]  # the trace attribute case:priority
    assert t["assignee"].tolist() == ["bob", "cy"]
    assert t["row"].tolist() == [14, 25]  # the line of the <event> tag of each ticket's last event (keep: last)
    assert log.report.rows_read == 3


def test_xes_refuses_dtds_and_reports_bad_xml(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xes"
    bomb.write_text('<?xml version="1.0"?>\n<!DOCTYPE log [<!ENTITY a "aaaaaaaaaa">]>\n<log>&a;</log>\n')
    with pytest.raises(LogFileError, match="document type"):
        TicketLog.read(bomb)
    broken = tmp_path / "broken.xes"
    broken.write_text(XES.replace("</trace>\n  <trace>", "</trace>\n  <trace", 1))
    with pytest.raises(LogFileError, match="not valid XML") as err:
        TicketLog.read(broken)
    assert err.value.row is not None
    cut = tmp_path / "cut.xes"
    cut.write_text(XES[:400])
    with pytest.raises(LogFileError):
        TicketLog.read(cut)


def test_csv_gz_separator_and_encoding(tmp_path: Path) -> None:
    text = "opened_at;priority;category\n2024-01-01 09:00;low;Réseau\n2024-01-01 10:00;high;Facturé\n"
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(text.encode("latin-1")))
    mapping = ColumnMapping(
        category="category", separator=";", encoding="latin-1", types={"Réseau": "integration", "Facturé": "billing"}
    )
    log = TicketLog.read(path, mapping)
    assert log.tickets["ticket_type"].tolist() == ["integration", "billing"]
    with pytest.raises(LogFileError, match="not valid utf-8 text"):
        TicketLog.read(path, ColumnMapping(category="category", separator=";", default_type="billing"))
