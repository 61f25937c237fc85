"""Train Ray RLlib PPO (new API stack) on TicketRouting-v0, locally or on a Ray cluster.

The env is registered in Ray's registry by ``rl_environments.ticket_routing.rllib.register()``;
``--env-config`` (JSON) maps to ``EnvironmentConfig`` (a ``config`` preset/YAML plus field overrides).
With ``--action-masking`` the policy uses RLlib's action-masking RLModule and never proposes an
agent who is offline or full.

    python examples/train_rllib.py --iterations 20
    python examples/train_rllib.py --tiny                      # one small iteration (CI)
    python examples/train_rllib.py --env-config '{"config": "hard", "num_agents": 8}'

Scaling out: start Ray on the head node (``ray start --head``), join each worker machine
(``ray start --address=<head-ip>:6379``), install this package on every node, then run from
the head with ``--address auto --num-env-runners <N>`` (one CPU per env runner by default).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import ray
from ray.rllib.algorithms.ppo import PPOConfig

from rl_environments.ticket_routing.rllib import ENV_NAME, register


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default=None, help="Ray cluster address ('auto' or host:port); default: local")
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs of a local Ray instance")
    parser.add_argument("--iterations", type=int, default=10, help="training iterations")
    parser.add_argument("--num-env-runners", type=int, default=0, help="remote env runners (0: sample in the driver)")
    parser.add_argument("--num-envs-per-env-runner", type=int, default=4, help="envs each runner steps")
    parser.add_argument("--train-batch-size", type=int, default=4000, help="decisions per iteration")
    parser.add_argument("--minibatch-size", type=int, default=500, help="SGD minibatch size")
    parser.add_argument("--num-epochs", type=int, default=5, help="SGD epochs per iteration")
    parser.add_argument("--lr", type=float, default=3e-4, help="learning rate")
    parser.add_argument("--env-config", type=json.loads, default={}, help="JSON env_config (see the module doc)")
    parser.add_argument("--action-masking", action="store_true", help="mask offline/full agents out of the policy")
    parser.add_argument("--seed", type=int, default=0, help="seed of the algorithm and its envs")
    parser.add_argument("--checkpoint-dir", type=Path, default=None, help="save a checkpoint here at the end")
    parser.add_argument("--tiny", action="store_true", help="one small iteration on short episodes (CI smoke run)")
    return parser


def build_config(args: argparse.Namespace) -> PPOConfig:
    env_config: dict[str, Any] = dict(args.env_config)
    if args.action_masking:
        env_config["action_masking"] = True
    config = (
        PPOConfig()
        .api_stack(enable_rl_module_and_learner=True, enable_env_runner_and_connector_v2=True)
        .environment(ENV_NAME, env_config=env_config)
        .env_runners(
            num_env_runners=args.num_env_runners,
            num_envs_per_env_runner=args.num_envs_per_env_runner,
            rollout_fragment_length="auto",
        )
        .learners(num_learners=0)
        .training(
            lr=args.lr,
            train_batch_size_per_learner=args.train_batch_size,
            minibatch_size=args.minibatch_size,
            num_epochs=args.num_epochs,
        )
        .debugging(seed=args.seed)
    )
    if args.action_masking:
        from ray.rllib.core.rl_module.rl_module import RLModuleSpec
        from ray.rllib.examples.rl_modules.classes.action_masking_rlm import ActionMaskingTorchRLModule

        config = config.rl_module(rl_module_spec=RLModuleSpec(module_class=ActionMaskingTorchRLModule))
    return config


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.tiny:
        args.iterations, args.train_batch_size, args.minibatch_size, args.num_epochs = 1, 200, 100, 1
        args.num_envs_per_env_runner = 2
        args.env_config = {"episode_length": 50, **args.env_config}
    if args.address:
        ray.init(address=args.address)
    else:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    register()
    algo = build_config(args).build_algo()
    result: dict[str, Any] = {}
    try:
        for i in range(1, args.iterations + 1):
            start = time.perf_counter()
            result = algo.train()
            runners = result.get("env_runners", {})
            steps = runners.get("num_env_steps_sampled_lifetime", result.get("num_env_steps_sampled_lifetime"))
            print(
                f"iteration {i}: episode_return_mean={runners.get('episode_return_mean', float('nan')):.1f} "
                f"env_steps={steps} ({time.perf_counter() - start:.1f} s)"
            )
        if args.checkpoint_dir is not None:
            path = algo.save_to_path(str(args.checkpoint_dir.resolve()))
            print(f"checkpoint: {path}")
    finally:
        algo.stop()
        ray.shutdown()
    return result


if __name__ == "__main__":
    main()
