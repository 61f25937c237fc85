"""Ray RLlib: the env wrapper, env_config mapping, registration, and one real training iteration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.rllib import ENV_NAME, FlatTicketRoutingEnv, env_creator, register

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_env_config_maps_to_environment_config() -> None:
    env = env_creator({"config": "easy", "num_agents": 6, "arrivals": {"rate_per_day": 30.0}})
    expected = EnvironmentConfig.preset("easy").replace(num_agents=6, arrivals={"rate_per_day": 30.0})
    assert env.unwrapped.config == expected  # type: ignore[attr-defined]
    assert env.action_space == spaces.Discrete(6)
    default = env_creator(None)
    assert default.unwrapped.config == EnvironmentConfig()  # type: ignore[attr-defined]


def test_flat_observation_is_a_float_box() -> None:
    env = env_creator({"num_agents": 3, "episode_length": 20})
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert isinstance(env.observation_space, spaces.Box)
    assert obs.dtype == np.float32 and env.observation_space.contains(obs)
    # one-hot type (5) + priority (4) + age + 3x5 expertise + workload + availability + queue + time_step
    # + hour of week (2) + next change, goes offline, remaining work (3 each)
    assert obs.shape == (5 + 4 + 1 + 15 + 3 + 3 + 201 + 21 + 2 + 3 + 3 + 3,)


def test_action_masking_layout() -> None:
    env = env_creator({"num_agents": 3, "max_workload": 1, "action_masking": True})
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=1)
    assert set(obs) == {"action_mask", "observations"}
    for _ in range(30):
        mask = obs["action_mask"]
        np.testing.assert_array_equal(mask, env.unwrapped.action_masks())  # type: ignore[attr-defined]
        obs, *_ = env.step(int(np.flatnonzero(mask)[0]) if mask.any() else 0)


def test_bad_env_config_names_the_field() -> None:
    with pytest.raises(ValueError, match="action_masking"):
        env_creator({"action_masking": "yes"})
    with pytest.raises(ValueError, match="num_agentz"):
        env_creator({"num_agentz": 3})
    assert isinstance(env_creator({}), FlatTicketRoutingEnv)


def test_register_puts_the_env_in_rays_registry() -> None:
    pytest.importorskip("ray")
    from ray.tune.registry import ENV_CREATOR, _global_registry

    assert register() == ENV_NAME
    creator = _global_registry.get(ENV_CREATOR, ENV_NAME)
    env = creator({"num_agents": 4})
    assert env.action_space == spaces.Discrete(4)


@pytest.mark.slow
def test_one_training_iteration_on_a_local_ray_instance(tmp_path: Path) -> None:
    """PPO on the new API stack, masked, with a checkpoint: the whole RLlib path end to end."""
    pytest.importorskip("ray")
    pytest.importorskip("torch")
    out = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "train_rllib.py"),
            "--tiny",
            "--action-masking",
            "--num-cpus",
            "2",
            "--env-config",
            '{"num_agents": 5}',
            "--checkpoint-dir",
            str(tmp_path / "ckpt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    assert "iteration 1: episode_return_mean=" in out.stdout
    assert "env_steps=" in out.stdout
    assert (tmp_path / "ckpt").is_dir() and any((tmp_path / "ckpt").iterdir())
