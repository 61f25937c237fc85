"""Train Ray RLlib PPO (new API stack) on TicketRouting-v0, locally or on a Ray cluster.

The env is registered in Ray's registry by ``rl_environments.ticket_routing.rllib.register()``;
``--env-config`` (JSON) maps to ``EnvironmentConfig`` (a ``config`` preset/YAML plus field overrides).
With ``--action-masking`` the policy uses RLlib's action-masking RLModule and never proposes an
agent who is offline or full.

    python examples/train_rllib.py --iterations 20
    python examples/train_rllib.py --tiny                      # one small iteration (CI)
    python examples/train_rllib.py --env-config '{"config": "hard", "num_agents": 8}'
    python examples/train_rllib.py --task TicketRouting-Balanced-v0 --action-masking --iterations 20

With ``--task`` the env is the scored task's (scenario, objective, episode length), and after
training the RLModule is evaluated in this process (greedy, through ``RLModulePolicy``; no
checkpoint is loaded) on the task's evaluation seeds and its normalized score is printed
(``tasks.score``: 0 = random valid routing, 100 = the best rule).

Scaling out: start Ray on the head node (``ray start --head``), join each worker machine
(``ray start --address=<head-ip>:6379``), install this package on every node, then run from
the head with ``--address auto --num-env-runners <N>`` (one CPU per env runner by default).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import ray
from ray.rllib.algorithms.ppo import PPOConfig

from rl_environments.ticket_routing.rllib import ENV_NAME, RLModulePolicy, register


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
    parser.add_argument(
        "--task", default=None, help="train on a scored task (e.g. TicketRouting-Balanced-v0) and score it"
    )
    parser.add_argument("--eval-episodes", type=int, default=None, help="with --task: evaluation seeds (default: all)")
    parser.add_argument("--action-masking", action="store_true", help="mask offline/full agents out of the policy")
    parser.add_argument("--seed", type=int, default=0, help="seed of the algorithm and its envs")
    parser.add_argument("--checkpoint-dir", type=Path, default=None, help="save a checkpoint here at the end")
    parser.add_argument("--tiny", action="store_true", help="one small iteration on short episodes (CI smoke run)")
    return parser


def build_config(args: argparse.Namespace) -> PPOConfig:
    env_config: dict[str, Any] = dict(args.env_config)
    if args.task is not None:
        env_config["task"] = args.task
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
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.task is not None:
        from rl_environments.ticket_routing.tasks import UnknownTaskError, get_task

        try:
            get_task(args.task)
        except UnknownTaskError as exc:
            parser.error(str(exc))
        if args.env_config:
            parser.error(
                "--env-config: a task fixes the scenario, objective and episode length; drop --task for a variant"
            )
    if args.tiny:
        args.iterations, args.train_batch_size, args.minibatch_size, args.num_epochs = 1, 200, 100, 1
        args.num_envs_per_env_runner = 2
        if args.task is None:
            args.env_config = {"episode_length": 50, **args.env_config}
    command = shlex.join(["python", "examples/train_rllib.py", *(sys.argv[1:] if argv is None else argv)])
    print(f"command: {command}")
    print(f"ray {ray.__version__}, torch {_torch_version()}")
    wall = time.perf_counter()
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
        print(f"training: {args.iterations} iterations, {time.perf_counter() - wall:.0f} s wall")
        if args.checkpoint_dir is not None:
            path = algo.save_to_path(str(args.checkpoint_dir.resolve()))
            print(f"checkpoint: {path}")
        if args.task is not None:
            score_task(algo, args, command)
    finally:
        algo.stop()
        ray.shutdown()
    return result


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def score_task(algo: Any, args: argparse.Namespace, command: str) -> None:
    """Evaluate the trained RLModule greedily on the task's evaluation seeds and print its score."""
    from rl_environments.ticket_routing.tasks import format_interval, get_task, score

    task = get_task(args.task)
    policy = RLModulePolicy(algo.get_module(), task.config(), action_masking=args.action_masking, name="rllib_ppo")
    start = time.perf_counter()
    report = score(policy, task.id, episodes=args.eval_episodes)
    result = report.task(task.id)
    print(
        f"score on {task.id} ({result.n} evaluation episodes, seeds {task.first_seed}.."
        f"{task.first_seed + result.n - 1}): {format_interval(result.mean, result.ci95_low, result.ci95_high)} "
        f"(mean return {result.mean_return:.1f}; {time.perf_counter() - start:.0f} s)"
    )
    kpis = report.episodes  # per-episode returns and scores
    print(f"episode scores: min {kpis['score'].min():.1f}, max {kpis['score'].max():.1f}")
    print(f"reproduce: {command}")


if __name__ == "__main__":
    main()
