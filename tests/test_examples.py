"""Every example runs to completion with a tiny budget (as a user would run it: a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rl_environments.ticket_routing.policies import POLICY_NAMES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TRAINING = ("train_sb3_ppo.py", "train_maskable_ppo.py", "cleanrl_ppo.py")


def run(script: str, *args: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("script", ["random_agent.py", *TRAINING, "train_rllib.py"])
def test_help(script: str) -> None:
    if script != "random_agent.py":
        pytest.importorskip("torch")
    if script == "train_rllib.py":
        pytest.importorskip("ray")
    out = run(script, "--help", timeout=120)
    assert out.returncode == 0, out.stderr
    assert "usage" in out.stdout.lower()
    assert "tiny" in out.stdout or script == "random_agent.py"


def test_random_agent() -> None:
    out = run("random_agent.py", "--steps", "120", "--seed", "3", "--render-every", "50")
    assert out.returncode == 0, out.stderr
    assert "return over 120 steps" in out.stdout
    assert "sla_compliance_pct" in out.stdout


@pytest.mark.parametrize(
    ("script", "name", "model"),
    [
        ("train_sb3_ppo.py", "ppo", "model.zip"),
        ("train_maskable_ppo.py", "maskable_ppo", "model.zip"),
        ("cleanrl_ppo.py", "cleanrl_ppo", "agent.pt"),
    ],
)
def test_training_example_tiny_run(script: str, name: str, model: str, tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    pytest.importorskip("tyro")
    out = run(script, "--tiny", "--out-dir", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    assert (tmp_path / model).is_file()
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(dict.fromkeys(summary["policy"])) == [*POLICY_NAMES, name]
    row = summary[(summary["policy"] == name) & (summary["kpi"] == "episode_return")]
    assert list(row["n"]) == [2]
    assert (tmp_path / "tb").is_dir() and any((tmp_path / "tb").rglob("events.out.tfevents.*"))
    assert name in out.stdout


def test_training_example_rejects_bad_arguments(tmp_path: Path) -> None:
    pytest.importorskip("stable_baselines3")
    out = run("train_sb3_ppo.py", "--algo", "dqn", cwd=tmp_path, timeout=120)
    assert out.returncode == 2
    assert "--algo" in out.stderr
