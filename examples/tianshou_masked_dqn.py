"""Train a masked DQN with Tianshou (2.x) on TicketRouting-v0.

Tianshou reads an action mask from ``obs.mask`` and gives the network ``obs.obs``; the wrappers
of this package produce exactly that layout: ``MaskInObservation(CompactObservation(env),
obs_key="obs", mask_key="mask")``. Masked Q-values are never the argmax, so the agent only ever
routes to an agent who is online with room, in training (epsilon-greedy draws among valid agents
too) and in testing.

    python examples/tianshou_masked_dqn.py --epochs 10 --epoch-steps 20000
    python examples/tianshou_masked_dqn.py --tiny
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
import torch
from tianshou.algorithm.modelfree.dqn import DQN, DiscreteQLearningPolicy
from tianshou.algorithm.optim import AdamOptimizerFactory
from tianshou.data import Collector, CollectStats, VectorReplayBuffer
from tianshou.env import DummyVectorEnv
from tianshou.trainer import OffPolicyTrainerParams
from tianshou.utils.net.common import Net

import rl_environments  # noqa: F401  (registers TicketRouting-v0)
from rl_environments.ticket_routing.wrappers import CompactObservation, MaskInObservation


def make_env(preset: str, episode_length: int) -> gym.Env:  # type: ignore[type-arg]
    # Fixed info keys: Tianshou stores infos in its buffer (and the last step's KPIs may be NaN).
    env = gym.make("TicketRouting-v0", config=preset, episode_length=episode_length, episode_kpis_in_info=False)
    return MaskInObservation(CompactObservation(env), obs_key="obs", mask_key="mask")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="balanced", help="scenario preset (default: %(default)s)")
    parser.add_argument("--episode-length", type=int, default=200, help="decisions per episode")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--epoch-steps", type=int, default=10_000, help="environment steps per epoch")
    parser.add_argument("--train-envs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="a tiny budget (seconds) to check the recipe runs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.epochs, args.epoch_steps, args.episode_length, args.train_envs = 1, 200, 40, 2
    torch.manual_seed(args.seed)

    train_envs = DummyVectorEnv([lambda: make_env(args.preset, args.episode_length)] * args.train_envs)
    test_envs = DummyVectorEnv([lambda: make_env(args.preset, args.episode_length)] * 2)
    train_envs.seed(args.seed)
    test_envs.seed(args.seed + 1000)
    probe = make_env(args.preset, args.episode_length)
    num_features = int(probe.observation_space["obs"].shape[0])  # type: ignore[index]
    num_agents = int(probe.action_space.n)  # type: ignore[attr-defined]

    net = Net(state_shape=num_features, action_shape=num_agents, hidden_sizes=[64, 64])
    policy = DiscreteQLearningPolicy(model=net, action_space=probe.action_space, eps_training=0.1, eps_inference=0.0)
    algorithm = DQN(
        policy=policy, optim=AdamOptimizerFactory(lr=1e-3), gamma=0.9, n_step_return_horizon=1, target_update_freq=100
    )
    buffer = VectorReplayBuffer(20_000, len(train_envs))
    train_collector = Collector[CollectStats](algorithm, train_envs, buffer, exploration_noise=True)
    test_collector = Collector[CollectStats](algorithm, test_envs, exploration_noise=False)
    train_collector.reset()
    train_collector.collect(n_step=128, random=True)
    result = algorithm.run_training(
        OffPolicyTrainerParams(
            training_collector=train_collector,
            test_collector=test_collector,
            max_epochs=args.epochs,
            epoch_num_steps=args.epoch_steps,
            collection_step_num_env_steps=40,
            test_step_num_episodes=2,
            batch_size=64,
            update_step_num_gradient_steps_per_sample=0.25,
            show_progress=False,
            verbose=False,
        )
    )

    # Check the trained policy: greedy, masked, on a fresh episode.
    env = make_env(args.preset, args.episode_length)
    obs, _ = env.reset(seed=args.seed + 5000)
    invalid, total, done = 0, 0.0, False
    while not done:
        with torch.no_grad():
            q = net(obs["obs"][None])[0][0].numpy()
        action = int(np.argmax(np.where(obs["mask"], q, -np.inf)))
        invalid += int(not obs["mask"][action])
        obs, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        done = terminated or truncated
    best = float(result.best_reward) if result.best_reward is not None else float("nan")
    print(
        f"tianshou masked DQN: best test return {best:.1f}; "
        f"greedy episode return {total:.1f}, invalid actions {invalid}"
    )
    return {"best_reward": best, "return": total, "invalid": float(invalid)}


if __name__ == "__main__":
    main()
