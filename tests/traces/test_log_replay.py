"""``compare --trace``: the fitted window by default, and a loud warning when real tickets are rejected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.traces import TicketLog, active_window, load_replay
from tests.traces.test_traces import simple_frame


def sparse_tailed(tmp_path: Path) -> Path:
    """Two weeks of twelve tickets a day, plus one ticket months before and one months after."""
    tail = pd.DataFrame(
        {"opened_at": ["2023-06-01 10:00", "2024-05-01 10:00"], "priority": ["low"] * 2, "type": ["billing"] * 2}
    )
    path = tmp_path / "log.csv"
    pd.concat([simple_frame(14, 12), tail], ignore_index=True).to_csv(path, index=False)
    return path


def test_replay_defaults_to_the_fitted_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sparse_tailed(tmp_path)
    log = TicketLog.read(path)
    lo, hi = active_window(log)
    window = load_replay(path)
    assert (window.start, window.end, len(window)) == (lo, hi, 168)
    assert len(load_replay(path, window="all")) == 170
    with pytest.raises(ValueError, match="window: invalid value"):
        load_replay(path, window="some")
    argv = ["compare", "--trace", str(path), "--episodes", "1", "--policies", "least_loaded"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "replaying 168 tickets opened from 2024-01-01 00:00" in err
    assert "(the window fit-trace fits; --trace-all replays the whole log)" in err
    assert main([*argv, "--trace-all"]) == 0
    assert "replaying 170 tickets opened from 2023-06-01" in capsys.readouterr().err
    assert main([*argv, "--trace-all", "--trace-start", "2024-01-02"]) == 2
    assert main(["compare", "--trace-all", "--episodes", "1"]) == 2


def test_rejected_real_tickets_are_a_loud_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "burst.csv"
    burst = pd.DataFrame({"opened_at": ["2024-01-06 03:00"] * 40, "priority": ["low"] * 40})  # Saturday night
    burst.to_csv(path, index=False)
    config = tmp_path / "small.yaml"
    config.write_text("num_agents: 2\nmax_queue_size: 5\n", encoding="utf-8")
    argv = ["compare", "--config", str(config), "--trace", str(path), "--episodes", "2", "--policies", "round_robin"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "WARNING: the replay rejected real tickets:" in err
    assert "of 40 in one" in err
    assert "max_queue_size 5" in err and "raise max_queue_size" in err
    config.write_text("num_agents: 2\nmax_queue_size: 100\n", encoding="utf-8")
    assert main(argv) == 0
    assert "WARNING" not in capsys.readouterr().err
