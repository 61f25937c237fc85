"""``ticket-routing inspect``: column types, in-ticket constancy, daily volume, and a skeleton that imports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.traces import ColumnMapping, TicketLog
from rl_environments.ticket_routing.traces.inspection import inspect_log
from tests.traces.test_log_events import XES, event_log
from tests.traces.test_traces import UCI_ZIP


def test_inspect_an_event_log_and_use_its_skeleton(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frame = event_log(weeks=2)
    frame["note"] = "?"
    path = tmp_path / "events.csv"
    frame.to_csv(path, index=False)
    report = inspect_log(path)
    assert report.records == len(frame) == 320
    assert report.roles["ticket_id"] == "case"
    assert report.roles["opened_at"] == "time"
    kinds = {c.name: (c.kind, c.constant_in_ticket) for c in report.columns}
    assert kinds["time"] == ("time", False)
    assert kinds["prio"] == ("text", True)
    assert kinds["activity"] == ("text", False)
    assert report.daily is not None and report.daily.sum() == 80 and len(report.daily) == 12
    assert report.skeleton["priorities"] == {"P1": "critical", "P2": "high", "P3": "medium", "P4": "low"}
    assert report.skeleton["na_values"] == ["?"]
    assert report.skeleton["columns"]["assignee"] == "who"
    assert report.skeleton["resolved_when"] == {
        "column": "activity",
        "values": ["Resolve ticket", "Closed"],
        "take": "first",
    }
    text = report.summary()
    assert "320 records, 6 columns" in text
    assert "mean per weekday: mon 8.0" in text
    out = tmp_path / "map.yaml"
    assert main(["inspect", str(path), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    log = TicketLog.read(path, ColumnMapping.from_yaml(out))
    assert len(log) == 80
    assert (log.tickets["resolved_at"] - log.tickets["opened_at"]).eq(pd.Timedelta(hours=3)).all()
    assert main(["inspect", str(path), "--strict"]) == 2
    assert main(["inspect", str(tmp_path)]) == 2


def test_inspect_xes(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    path.write_text(XES, encoding="utf-8")
    report = inspect_log(path)
    assert report.roles["ticket_id"] == "case:concept:name"
    assert report.roles["opened_at"] == "time:timestamp"
    assert report.roles["assignee"] == "org:resource"
    assert {c.name: c.kind for c in report.columns}["time:timestamp"] == "time"
    assert report.skeleton["columns"]["priority"] == "case:priority"


def test_inspect_the_uci_log() -> None:
    if not UCI_ZIP.is_file():
        pytest.skip(f"UCI incident log not found at {UCI_ZIP}")
    report = inspect_log(UCI_ZIP)
    assert report.records == 141_712
    assert report.roles == {
        "ticket_id": "number",
        "opened_at": "opened_at",
        "priority": "priority",
        "category": "category",
        "resolved_at": "resolved_at",
        "assignee": "assigned_to",
    }
    assert report.skeleton["timestamp_format"] == "%d/%m/%Y %H:%M"
    assert report.skeleton["priorities"]["1 - Critical"] == "critical"
    assert report.skeleton["priorities"]["3 - Moderate"] == "medium"
    constant = {c.name for c in report.columns if c.constant_in_ticket}
    assert {"opened_at", "resolved_at"} <= constant
    assert "priority" not in constant


def test_inspect_a_semicolon_latin1_file_before_there_is_a_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("créé le;priorité;catégorie\n01/03/2024 09:00;Haute;Réseau\n".encode("latin-1"))
    out = tmp_path / "map.yaml"
    argv = ["inspect", str(path), "--separator", ";", "--encoding", "latin-1", "-o", str(out)]
    assert main(argv) == 0
    assert "1 records, 3 columns" in capsys.readouterr().out
    mapping = ColumnMapping.from_yaml(out)
    assert (mapping.separator, mapping.encoding) == (";", "latin-1")
    assert main(["inspect", str(path)]) == 2  # not UTF-8: the error names the option to set
    assert "set encoding" in capsys.readouterr().err
    assert main(["inspect", str(path), "--mapping", str(out), "--separator", ";"]) == 2
