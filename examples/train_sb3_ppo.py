"""Train Stable-Baselines3 PPO (``MultiInputPolicy``) on TicketRouting-v0 and compare it with the baselines.

Training runs on the native vector env through ``TicketRoutingSB3VecEnv`` (no per-env Python loop),
with observation/reward normalisation (``VecNormalize``), periodic evaluation, TensorBoard logs,
and the model saved as ``<out-dir>/model.zip`` (plus ``obs_normalization.npz``). At the end, the
model and every baseline are evaluated on the same held-out seeds (mean and 95% CI).

    python examples/train_sb3_ppo.py --total-timesteps 300000 --out-dir runs/ppo
    python examples/train_sb3_ppo.py --tiny          # a smoke run of a few seconds
    tensorboard --logdir runs/ppo/tb

Evaluation seeds start at ``--eval-seed`` (default 100000); training uses seeds
``--seed .. --seed + num_envs - 1``, so the two never overlap.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from rl_environments.ticket_routing.core.config import resolve_config
from rl_environments.ticket_routing.evaluation import MAIN_KPIS, compare, summary_table
from rl_environments.ticket_routing.policies import POLICY_NAMES
from rl_environments.ticket_routing.sb3 import (
    AgentScorePolicy,
    MaskableAgentScorePolicy,
    SB3Policy,
    TicketRoutingSB3VecEnv,
    normalized_keys,
    save_normalization,
)

ALGOS = ("ppo", "maskable_ppo")


def build_parser(algo: str = "ppo", description: str | None = __doc__) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=ALGOS, default=algo, help="PPO, or sb3-contrib MaskablePPO")
    parser.add_argument("--config", default=None, help="preset name or YAML path (default: the default scenario)")
    parser.add_argument("--total-timesteps", type=int, default=300_000, help="routing decisions to train on")
    parser.add_argument("--num-envs", type=int, default=16, help="sub-environments in the native vector env")
    parser.add_argument("--seed", type=int, default=0, help="training seed (sub-env i gets seed + i)")
    parser.add_argument("--n-steps", type=int, default=256, help="rollout length per sub-env per update")
    parser.add_argument("--batch-size", type=int, default=512, help="minibatch size")
    parser.add_argument("--n-epochs", type=int, default=5, help="optimisation epochs per update")
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="Adam learning rate")
    parser.add_argument("--gamma", type=float, default=0.99, help="discount factor per routing decision")
    parser.add_argument("--gae-lambda", type=float, default=0.95, help="GAE lambda")
    parser.add_argument("--ent-coef", type=float, default=0.01, help="entropy bonus")
    parser.add_argument("--net-arch", type=int, nargs="+", default=[64, 64], help="hidden layers of actor and critic")
    parser.add_argument(
        "--extractor",
        choices=("mlp", "agents"),
        default="agents" if algo == "maskable_ppo" else "mlp",
        help="mlp: SB3's MultiInputPolicy; agents: every agent scored by one shared network "
        "(sb3.AgentScorePolicy; the default for MaskablePPO)",
    )
    parser.add_argument("--no-normalize", action="store_true", help="train on raw observations and rewards")
    parser.add_argument(
        "--delay-feature",
        action="store_true",
        help="add each agent's expected delay by the shift_sed rule to the engineered observation",
    )
    parser.add_argument(
        "--plain-observation",
        action="store_true",
        help="the env's raw observation (default: engineered, see sb3.engineer_observation)",
    )
    parser.add_argument("--eval-freq", type=int, default=50_000, help="evaluate every N decisions (0: never)")
    parser.add_argument("--eval-episodes", type=int, default=4, help="episodes per periodic evaluation")
    parser.add_argument("--compare-episodes", type=int, default=20, help="held-out episodes of the final comparison")
    parser.add_argument("--eval-seed", type=int, default=100_000, help="first seed of the held-out evaluation")
    parser.add_argument("--out-dir", type=Path, default=None, help="where model, logs and tables go (runs/<algo>)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--tiny", action="store_true", help="a few seconds' smoke run (CI): tiny budget and episodes")
    return parser


def tiny_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Budget for CI: short episodes, one small update, two comparison episodes."""
    args.total_timesteps, args.num_envs, args.n_steps, args.batch_size = 256, 4, 32, 64
    args.n_epochs, args.eval_freq, args.eval_episodes, args.compare_episodes = 1, 128, 2, 2
    return {"episode_length": 50}


def policy_and_kwargs(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """SB3's ``MultiInputPolicy``, or the policy that scores every agent with one shared network."""
    if args.extractor == "agents":
        if args.plain_observation:
            raise SystemExit("--extractor agents needs the engineered observation (drop --plain-observation)")
        policy = MaskableAgentScorePolicy if args.algo == "maskable_ppo" else AgentScorePolicy
        return policy, {"net_arch": {"pi": [], "vf": list(args.net_arch)}}
    return "MultiInputPolicy", {"net_arch": list(args.net_arch)}


def make_model(args: argparse.Namespace, env: Any, tb_dir: Path) -> BaseAlgorithm:
    policy, policy_kwargs = policy_and_kwargs(args)
    kwargs: dict[str, Any] = {
        "policy_kwargs": policy_kwargs,
        "n_steps": args.n_steps,
        "batch_size": args.batch_size,
        "n_epochs": args.n_epochs,
        "learning_rate": args.learning_rate,
        "gamma": args.gamma,
        "gae_lambda": args.gae_lambda,
        "ent_coef": args.ent_coef,
        "seed": args.seed,
        "device": "cpu",
        "verbose": 1,
        "tensorboard_log": str(tb_dir),
    }
    if args.algo == "maskable_ppo":
        from sb3_contrib import MaskablePPO

        return MaskablePPO(policy, env, **kwargs)
    from stable_baselines3 import PPO

    return PPO(policy, env, **kwargs)


def make_eval_callback(args: argparse.Namespace, config: Any, train_env: Any, out_dir: Path) -> EvalCallback | None:
    if args.eval_freq <= 0:
        return None
    eval_env: Any = VecMonitor(
        TicketRoutingSB3VecEnv(
            args.eval_episodes, config, engineered=not args.plain_observation, expected_delay=args.delay_feature
        )
    )
    eval_env.seed(args.eval_seed + 10_000)  # its own seeds: neither training nor the final comparison
    if isinstance(train_env, VecNormalize):
        eval_env = VecNormalize(eval_env, training=False, norm_reward=False, norm_obs_keys=train_env.norm_obs_keys)
    kwargs: dict[str, Any] = {
        "n_eval_episodes": args.eval_episodes,
        "eval_freq": max(1, args.eval_freq // args.num_envs),
        "best_model_save_path": None,
        "log_path": str(out_dir / "eval"),
        "deterministic": True,
        "verbose": 1,
    }
    if args.algo == "maskable_ppo":
        from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback

        return MaskableEvalCallback(eval_env, **kwargs)
    return EvalCallback(eval_env, **kwargs)


def run(args: argparse.Namespace) -> Path:
    """Train, save and compare; returns the model path."""
    torch.set_num_threads(args.threads)
    overrides = tiny_overrides(args) if args.tiny else {}
    config = resolve_config(args.config, **overrides)
    out_dir: Path = args.out_dir or Path("runs") / args.algo
    out_dir.mkdir(parents=True, exist_ok=True)

    env: Any = VecMonitor(
        TicketRoutingSB3VecEnv(
            args.num_envs,
            config,
            engineered=not args.plain_observation,
            expected_delay=args.delay_feature,
            stagger=True,
        )
    )
    if not args.no_normalize:
        env = VecNormalize(env, norm_obs_keys=normalized_keys(env.observation_space), gamma=args.gamma)
    model = make_model(args, env, out_dir / "tb")
    callback = make_eval_callback(args, config, env, out_dir)
    start = time.perf_counter()
    model.learn(total_timesteps=args.total_timesteps, callback=callback, tb_log_name=args.algo)
    seconds = time.perf_counter() - start
    print(f"trained {model.num_timesteps} decisions in {seconds:.0f} s ({model.num_timesteps / seconds:.0f}/s)")

    model_path = out_dir / "model.zip"
    model.save(model_path)
    if isinstance(env, VecNormalize):
        save_normalization(env, out_dir)
    env.close()

    learned = SB3Policy(model_path, config, name=args.algo)
    summary = compare([*POLICY_NAMES, learned], config, args.compare_episodes, args.eval_seed, out_dir=out_dir)
    table = summary_table(summary, MAIN_KPIS)
    with np.printoptions(precision=2):
        print(table.round(2).to_string())
    print(f"model: {model_path}\ncomparison: {out_dir / 'summary.csv'}")
    return model_path


def main(argv: list[str] | None = None) -> None:
    run(build_parser().parse_args(argv))


if __name__ == "__main__":
    main()
