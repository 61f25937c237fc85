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
from rl_environments.ticket_routing.evaluation import evaluate
from rl_environments.ticket_routing.rllib import (
    ENV_NAME,
    FlatTicketRoutingEnv,
    RLModulePolicy,
    env_creator,
    flatten_batch,
    register,
)
from rl_environments.ticket_routing.tasks import get_task

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


def test_task_env_config_is_the_tasks_environment() -> None:
    task = get_task("TicketRouting-Balanced-v0")
    env = env_creator({"task": task.id, "action_masking": True})
    assert env.unwrapped.config == task.config()  # type: ignore[attr-defined]
    assert env.unwrapped.config.episode_length == 1500  # type: ignore[attr-defined]
    # the objective also resolves as a "preset+objective" config string
    assert env_creator({"config": task.config_name}).unwrapped.config == task.config().replace(  # type: ignore[attr-defined]
        episode_length=EnvironmentConfig.named(task.config_name).episode_length
    )
    with pytest.raises(ValueError, match="num_agents"):
        env_creator({"task": task.id, "num_agents": 3})
    with pytest.raises(ValueError, match="TicketRouting-Nope-v0"):
        env_creator({"task": "TicketRouting-Nope-v0"})


def test_flatten_batch_matches_the_wrapper() -> None:
    config = EnvironmentConfig(num_agents=4, episode_length=30)
    env = env_creator({"num_agents": 4, "episode_length": 30})
    rows = []
    flats = []
    for seed in (3, 4, 5):
        base = env.unwrapped
        obs, _ = base.reset(seed=seed)
        for _ in range(seed):
            obs, *_ = base.step(seed % 4)
        rows.append(obs)
        flats.append(env.observation(obs))
    batch = {key: np.stack([np.asarray(row[key]) for row in rows]) for key in rows[0]}
    space = env.unwrapped.observation_space
    np.testing.assert_array_equal(flatten_batch(space, batch), np.stack(flats))  # type: ignore[arg-type]
    assert RLModulePolicy(_module(config, masked=False), config).space == space
    with pytest.raises(ValueError, match="agent_workload"):
        flatten_batch(space, {k: v for k, v in batch.items() if k != "agent_workload"})  # type: ignore[arg-type]


def _module(config: EnvironmentConfig, *, masked: bool) -> object:
    """A freshly initialised PPO RLModule for ``config`` (no Ray instance needed to build one)."""
    pytest.importorskip("ray")
    pytest.importorskip("torch")
    import torch
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    torch.manual_seed(0)
    env = env_creator({"config": config, "action_masking": masked})
    if masked:
        from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

        spec = RLModuleSpec(module_class=ActionMaskingTorchRLModule)
    else:
        from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule

        spec = RLModuleSpec(module_class=DefaultPPOTorchRLModule)
    spec.observation_space, spec.action_space, spec.model_config = env.observation_space, env.action_space, {}
    return spec.build()


def test_module_policy_is_greedy_and_respects_the_mask() -> None:
    config = EnvironmentConfig(num_agents=5, max_workload=2, episode_length=60)
    masked = RLModulePolicy(_module(config, masked=True), config, action_masking=True, name="m")
    df = evaluate(masked, config, 2, 7)
    assert (df["invalid_actions"] == 0).all() and (df["policy"] == "m").all()
    # greedy: the action is the argmax of the module's logits, the same for act and act_batch
    plain = RLModulePolicy(_module(config, masked=False), config)
    env = env_creator({"config": config})
    obs, info = env.unwrapped.reset(seed=1)
    mask = np.asarray(info["action_mask"], dtype=np.bool_)
    batch = {key: np.asarray(value)[None, ...] for key, value in obs.items()}
    logits = plain.logits(batch, mask[None, :])
    assert logits.shape == (1, 5)
    assert plain.act(obs, mask) == int(np.argmax(logits[0]))
    mask_one = np.zeros(5, dtype=np.bool_)
    mask_one[int(np.argmin(logits[0]))] = True  # only the module's least favourite agent can take it
    assert plain.act(obs, mask_one) == int(np.argmax(logits[0]))  # unmasked: the mask is not the module's
    assert masked.act(obs, mask_one) == int(np.flatnonzero(mask_one)[0])  # masked: the only valid agent
    with pytest.raises(ValueError, match="masks"):
        plain.act_batch(batch, np.ones((1, 3), dtype=np.bool_))
    with pytest.raises(ValueError, match="module"):
        RLModulePolicy(object(), config)


def test_register_puts_the_env_in_rays_registry() -> None:
    pytest.importorskip("ray")
    from ray.tune.registry import ENV_CREATOR, _global_registry

    assert register() == ENV_NAME
    creator = _global_registry.get(ENV_CREATOR, ENV_NAME)
    env = creator({"num_agents": 4})
    assert env.action_space == spaces.Discrete(4)


@pytest.mark.slow
def test_one_training_iteration_on_a_task_then_its_score(tmp_path: Path) -> None:
    """PPO on the new API stack, masked, on a scored task, with a checkpoint; then the trained
    RLModule is scored in the same process on one evaluation episode: the RLlib path end to end."""
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
            "--task",
            "TicketRouting-Balanced-v0",
            "--eval-episodes",
            "1",
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
    assert "env_steps=200" in out.stdout
    assert (tmp_path / "ckpt").is_dir() and any((tmp_path / "ckpt").iterdir())
    line = next(x for x in out.stdout.splitlines() if x.startswith("score on TicketRouting-Balanced-v0"))
    assert "(1 evaluation episodes, seeds 100000..100000)" in line
    value = float(line.split(": ", 1)[1].split(" ", 1)[0])
    assert -1000.0 < value < 200.0  # a finite score on the task's scale (random = 0, best rule = 100)
    assert "reproduce: python examples/train_rllib.py --tiny --action-masking" in out.stdout
