"""The README's Quick Start snippets, executed as written (the SB3 one with a smaller budget)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def snippet(name: str) -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- snippet:{name} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"README has no snippet {name!r}"
    return match.group(1)


def test_basic_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # render() without a render_mode warns
        exec(compile(snippet("basic"), "README:basic", "exec"), namespace)
    assert namespace["step"] == 99


def test_sb3_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("stable_baselines3")
    import torch

    torch.set_num_threads(1)
    code = snippet("sb3")
    assert "total_timesteps=100_000" in code and "range(1000)" in code
    code = code.replace("total_timesteps=100_000", "total_timesteps=256").replace("range(1000)", "range(1600)")
    small = 'PPO("MultiInputPolicy", env, verbose=1, n_steps=128)'
    code = code.replace('PPO("MultiInputPolicy", env, verbose=1)', small)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README:sb3", "exec"), {})
    assert (tmp_path / "ticket_routing_ppo.zip").exists()
    assert "Episode metrics" in capsys.readouterr().out


def test_custom_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    namespace: dict[str, object] = {}
    exec(compile(snippet("config"), "README:config", "exec"), namespace)
    env = namespace["env"]
    assert env.config.num_agents == 10  # type: ignore[attr-defined]
    assert env.config.episode_length == 2000  # type: ignore[attr-defined]
    from rl_environments.ticket_routing.core.config import EnvironmentConfig

    assert EnvironmentConfig.from_yaml(REPO_ROOT / "config/custom_config.yaml").num_agents == 8
