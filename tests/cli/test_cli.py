"""The ``ticket-routing`` command line: every command, and named errors with exit code 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import rl_environments
from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.policies import POLICY_NAMES

SMALL = ["--episode-length", "60"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_named_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    assert err.startswith("ticket-routing") or "usage:" in err
    assert "Traceback" not in err
    for word in words:
        assert word in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["compare", "--help"],
        ["simulate", "--help"],
        ["config", "--help"],
        ["config", "show", "--help"],
        ["config", "validate", "--help"],
        ["config", "export", "--help"],
    ],
)
def test_help_everywhere(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert "usage: ticket-routing" in out


def test_compare_prints_a_table_and_writes_outputs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "results"
    code, out, err = run(
        capsys, "compare", *SMALL, "--episodes", "3", "--seed", "5", "--out", str(out_dir), "--no-progress"
    )
    assert code == 0, err
    for name in POLICY_NAMES:
        assert name in out
    assert "CSAT % ↑" in out
    assert "↑ higher is better, ↓ lower is better" in out
    assert "±" in out
    assert "seeds 5..7" in out
    episodes = pd.read_csv(out_dir / "episodes.csv")
    assert len(episodes) == 3 * len(POLICY_NAMES)
    assert list(episodes.columns[:4]) == ["policy", "episode", "seed", "scenario"]
    assert set(episodes["scenario"]) == {"default"}
    assert set(episodes["seed"]) == {5, 6, 7}
    assert (out_dir / "summary.csv").stat().st_size > 0
    assert (out_dir / "comparison.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_with_a_preset_a_config_file_and_chosen_policies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "compare", "--preset", "easy", *SMALL, "--episodes", "2", "--policies", "random")
    assert code == 0
    assert "random" in out
    assert "least_loaded" not in out
    config = tmp_path / "team.yaml"
    config.write_text("num_agents: 4\nepisode_length: 40\n")
    code, out, _ = run(capsys, "compare", "--config", str(config), "--episodes", "2", "--policies", "skill_load")
    assert code == 0
    assert "skill_load" in out


def test_simulate_table_ansi_and_logs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "simulate", "--policy", "least_loaded", "--episode-length", "5")
    assert code == 0 and err == ""
    assert "routing decisions" in out
    assert "mean resolution h ↓" in out
    code, out, _ = run(capsys, "simulate", "--policy", "priority_sed", "--episode-length", "3", "--render", "ansi")
    assert code == 0
    assert out.count("-> agent") == 3
    assert "ticket :" in out
    assert "legend : " in out and "* = may take the ticket now" in out
    log_csv = tmp_path / "log.csv"
    code, _, _ = run(capsys, "simulate", "--policy", "random", "--episode-length", "4", "-o", str(log_csv))
    assert code == 0
    assert len(pd.read_csv(log_csv)) == 4
    log_parquet = tmp_path / "log.parquet"
    code, _, _ = run(
        capsys, "simulate", "--policy", "random", "--episode-length", "4", "--render", "ansi", "--out", str(log_parquet)
    )
    assert code == 0
    assert len(pd.read_parquet(log_parquet)) == 4


def test_old_flags_still_work_with_a_deprecation_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log_csv = tmp_path / "old.csv"
    code, _, err = run(capsys, "simulate", "--policy", "random", "--steps", "4", "--log", str(log_csv))
    assert code == 0
    assert "--steps is deprecated" in err and "use --episode-length" in err
    assert "--log is deprecated" in err and "use -o/--out" in err
    assert len(pd.read_csv(log_csv)) == 4


def test_config_accepts_a_preset_name_version_and_paired_differences(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "config", "show", "--config", "hard", "--format", "json")
    assert code == 0
    assert EnvironmentConfig.from_dict(json.loads(out)) == EnvironmentConfig.preset("hard")
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"ticket-routing {rl_environments.__version__}"
    code, out, err = run(
        capsys, "compare", "--config", "easy", *SMALL, "--episodes", "3", "--policies", "random", "skill_load",
        "--baseline", "random", "-o", str(tmp_path), "--no-progress",
    )  # fmt: skip
    assert code == 0, err
    assert "Paired differences from random" in out
    paired = pd.read_csv(tmp_path / "paired.csv")
    assert set(paired["policy"]) == {"skill_load"} and (paired["n"] == 3).all()
    assert set(pd.read_csv(tmp_path / "episodes.csv")["scenario"]) == {"easy"}
    assert_named_error(*run(capsys, "compare", "--policies", "random", "--baseline", "least_loaded")[::2], "--baseline")


def test_config_show_validate_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "config", "show")
    assert code == 0
    assert EnvironmentConfig.from_dict(yaml.safe_load(out)) == EnvironmentConfig()
    code, out, _ = run(capsys, "config", "show", "--preset", "hard", "--format", "json")
    assert code == 0
    assert EnvironmentConfig.from_dict(json.loads(out)) == EnvironmentConfig.preset("hard")
    target = tmp_path / "easy.yaml"
    code, out, _ = run(capsys, "config", "export", "--preset", "easy", "-o", str(target))
    assert code == 0
    assert "wrote" in out
    assert EnvironmentConfig.from_yaml(target) == EnvironmentConfig.preset("easy")
    code, out, _ = run(capsys, "config", "validate", str(target))
    assert code == 0
    assert "valid" in out
    assert "arrivals.rate_per_day" in out
    code, out, _ = run(capsys, "config", "export")
    assert code == 0
    assert EnvironmentConfig.from_yaml_text(out) == EnvironmentConfig()
    code, out, _ = run(capsys, "config", "show", "--config", str(target))
    assert code == 0
    assert "rate_per_day: 34.0" in out


def test_shipped_default_config_equals_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    from rl_environments.ticket_routing.core.config import DEFAULT_CONFIG_PATH

    assert EnvironmentConfig.from_yaml(DEFAULT_CONFIG_PATH) == EnvironmentConfig()
    assert EnvironmentConfig.preset("balanced") == EnvironmentConfig()
    code, out, _ = run(capsys, "config", "validate", str(DEFAULT_CONFIG_PATH))
    assert code == 0
    assert "all defaults" in out


def test_bad_input_gives_named_errors_and_exit_code_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.yaml")
    assert_named_error(*run(capsys, "config", "validate", missing)[::2], "file not found")
    assert_named_error(*run(capsys, "compare", "--config", missing)[::2], "--config", "no such file")
    broken = tmp_path / "broken.yaml"
    broken.write_text("num_agents: [1, 2\n")
    assert_named_error(*run(capsys, "config", "validate", str(broken))[::2], "not valid YAML")
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("num_agents: -3\n")
    assert_named_error(*run(capsys, "config", "validate", str(wrong))[::2], "num_agents")
    typo = tmp_path / "typo.yaml"
    typo.write_text("arrivals:\n  rate_per_dya: 5\n")
    assert_named_error(*run(capsys, "config", "validate", str(typo))[::2], "arrivals.rate_per_dya", "unknown key")
    assert_named_error(*run(capsys, "compare", "--preset", "impossible")[::2], "impossible", "known presets")
    assert_named_error(*run(capsys, "config", "export", "--preset", "impossible")[::2], "known presets")
    assert_named_error(*run(capsys, "compare", "--policies", "random", "nope")[::2], "unknown policy 'nope'")
    assert_named_error(*run(capsys, "simulate", "--policy", "nope")[::2], "unknown policy 'nope'")
    assert_named_error(*run(capsys, "compare", "--episodes", "0")[::2], "--episodes")
    assert_named_error(*run(capsys, "compare", "--seed", "-1")[::2], "--seed")
    assert_named_error(*run(capsys, "simulate", "--policy", "random", "--episode-length", "0")[::2], "--episode-length")
    assert_named_error(*run(capsys, "simulate", "--policy", "random", "--seed", "-2")[::2], "--seed")
    assert_named_error(*run(capsys, "simulate", "--policy", "random", "-o", "x.txt")[::2], "--out")
    assert_named_error(*run(capsys, "config", "export", "--out", str(tmp_path / "no" / "dir.yaml"))[::2], "--out")
    assert_named_error(*run(capsys, "compare", "--episodes", "many")[::2], "--episodes")
    assert_named_error(*run(capsys, "frobnicate")[::2], "invalid choice")
    assert_named_error(*run(capsys)[::2], "COMMAND")
    assert_named_error(*run(capsys, "compare", "--preset", "easy", "--config", "x.yaml")[::2], "not allowed")


def test_python_dash_m_runs_the_same_cli_without_tracebacks(tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "rl_environments.ticket_routing", "config", "show", "--preset", "easy"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "rate_per_day: 34.0" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(": : :\n")
    failed = subprocess.run(
        [sys.executable, "-m", "rl_environments.ticket_routing", "config", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 2
    assert "ticket-routing: error:" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_module_entry_point_and_edge_cases(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import runpy

    monkeypatch.setattr(sys, "argv", ["ticket-routing", "config", "show", "--format", "json"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("rl_environments.ticket_routing", run_name="__main__")
    assert exit_info.value.code == 0
    assert json.loads(capsys.readouterr().out)["num_agents"] == EnvironmentConfig().num_agents
    # One decision: nothing resolved yet, so resolution KPIs print as "-".
    code, out, _ = run(capsys, "compare", "--episode-length", "1", "--episodes", "2", "--policies", "random")
    assert code == 0
    assert " - " in out
    team = tmp_path / "team.yaml"
    team.write_text("num_agents: 4\n")
    code, out, _ = run(capsys, "config", "validate", str(team))
    assert code == 0
    assert "num_agents" in out

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("rl_environments.ticket_routing.cli.config._cmd_config_show", interrupted)
    code, _, err = run(capsys, "config", "show")
    assert code == 130
    assert "interrupted" in err
