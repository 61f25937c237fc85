"""The ecosystem recipes in examples/ run to completion with a tiny budget, as a user runs them.

Each needs its client library (the ``ecosystem`` extra); nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(script: str, *args: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_torchrl_recipe() -> None:
    pytest.importorskip("torchrl")
    out = run("torchrl_masked_rollout.py", "--tiny")
    assert "check_env_specs passed" in out
    assert "masked random rollout valid: True" in out
    assert "masked policy rollout of 40 steps valid: True" in out
    assert "vector rollout (4, 25), episodes ended 8" in out


def test_tianshou_recipe() -> None:
    pytest.importorskip("tianshou")
    out = run("tianshou_masked_dqn.py", "--tiny")
    assert "tianshou masked DQN" in out
    assert "invalid actions 0" in out


def test_skrl_recipe() -> None:
    pytest.importorskip("skrl")
    out = run("skrl_ppo.py", "--tiny")
    assert "skrl PPO: 64 vector steps x 4 envs" in out


def test_minari_recipe(tmp_path: Path) -> None:
    pytest.importorskip("minari")
    out = run("minari_dataset.py", "--tiny", "--root", str(tmp_path))
    assert "3 episodes, 90 steps" in out
    assert "every recorded action valid under its recorded mask: True" in out
    assert any(tmp_path.rglob("*"))


def test_rliable_recipe_from_compare_output(tmp_path: Path) -> None:
    pytest.importorskip("rliable")
    from rl_environments.ticket_routing.cli import main

    for preset in ("easy", "hard"):
        code = main(
            ["compare", "--config", preset, "--episode-length", "80", "--episodes", "4",
             "--policies", "random", "skill_load", "-o", str(tmp_path / preset), "--no-progress"]
        )  # fmt: skip
        assert code == 0
    out = run(
        "rliable_analysis.py",
        str(tmp_path / "easy" / "episodes.csv"),
        str(tmp_path / "hard" / "episodes.csv"),
        "--reps",
        "200",
        "-o",
        str(tmp_path / "rliable"),
    )
    assert "IQM of SLA met (%), higher is better over 2 scenarios" in out
    lines = {line.split(":")[0].strip(): line for line in out.splitlines() if ":" in line}
    assert "random" in lines and "skill_load" in lines
    for chart in ("performance_profiles.png", "iqm.png"):
        assert (tmp_path / "rliable" / chart).read_bytes()[:4] == b"\x89PNG"
