"""Train PPO with skrl (2.x) on TicketRouting-v0, stepping the native vector env.

skrl wants a ``Box`` observation and records every vector step as a transition, so the recipe uses
``CompactVectorObservation`` (one bounded ``float32`` vector per sub-environment) over
``TicketRoutingVectorEnv(..., autoreset_mode="same_step")``: the step that ends an episode already
returns the next episode's first observation, and no reset step is recorded as a transition.
skrl's PPO has no action masking; invalid choices are penalised by the environment's reward.

    python examples/skrl_ppo.py --timesteps 20000
    python examples/skrl_ppo.py --tiny
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from skrl.agents.torch.ppo import PPO, PPO_CFG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import CategoricalMixin, DeterministicMixin, Model
from skrl.trainers.torch import SequentialTrainer
from torch import nn

from rl_environments.ticket_routing import TicketRoutingVectorEnv
from rl_environments.ticket_routing.wrappers import CompactVectorObservation


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device):  # type: ignore[no-untyped-def]
        Model.__init__(self, observation_space=observation_space, action_space=action_space, device=device)
        CategoricalMixin.__init__(self, unnormalized_log_prob=True)
        self.net = nn.Sequential(nn.Linear(self.num_observations, 64), nn.Tanh(), nn.Linear(64, self.num_actions))

    def compute(self, inputs, role=""):  # type: ignore[no-untyped-def]
        return self.net(inputs["observations"]), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device):  # type: ignore[no-untyped-def]
        Model.__init__(self, observation_space=observation_space, action_space=action_space, device=device)
        DeterministicMixin.__init__(self)
        self.net = nn.Sequential(nn.Linear(self.num_observations, 64), nn.Tanh(), nn.Linear(64, 1))

    def compute(self, inputs, role=""):  # type: ignore[no-untyped-def]
        return self.net(inputs["observations"]), {}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="balanced", help="scenario preset (default: %(default)s)")
    parser.add_argument("--episode-length", type=int, default=200, help="decisions per episode")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=5000, help="vector steps to train")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="a tiny budget (seconds) to check the recipe runs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.timesteps, args.episode_length, args.num_envs = 64, 20, 4
    torch.manual_seed(args.seed)

    native = TicketRoutingVectorEnv(
        args.num_envs, args.preset, episode_length=args.episode_length, autoreset_mode="same_step"
    )
    native.reset(seed=args.seed)
    env = wrap_env(CompactVectorObservation(native), wrapper="gymnasium")
    device = env.device
    models = {
        "policy": Policy(env.observation_space, env.action_space, device),
        "value": Value(env.observation_space, env.action_space, device),
    }
    cfg = PPO_CFG(rollouts=16, learning_epochs=4, mini_batches=2, learning_rate=3e-4, discount_factor=0.9)
    agent = PPO(
        models=models,
        memory=RandomMemory(memory_size=16, num_envs=env.num_envs, device=device),
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=device,
        cfg=cfg,
    )
    trainer = SequentialTrainer(
        env=env,
        agents=agent,
        cfg={
            "timesteps": args.timesteps,
            "headless": True,
            "disable_progressbar": True,
            "close_environment_at_exit": False,
        },
    )
    trainer.train()

    # Evaluate the trained policy greedily: one fresh, seeded episode per sub-environment.
    test = CompactVectorObservation(
        TicketRoutingVectorEnv(
            args.num_envs, args.preset, episode_length=args.episode_length, autoreset_mode="same_step"
        )
    )
    obs, _ = test.reset(seed=args.seed + 10_000)
    returns = np.zeros(args.num_envs)
    finished = np.zeros(args.num_envs, dtype=bool)
    while not finished.all():
        with torch.no_grad():
            logits, _ = models["policy"].compute({"observations": torch.as_tensor(obs, device=device)})
        obs, reward, terminated, truncated, _ = test.step(logits.argmax(dim=-1).cpu().numpy())
        returns += np.where(finished, 0.0, reward)
        finished |= terminated | truncated
    mean_return = float(returns.mean())
    print(
        f"skrl PPO: {args.timesteps} vector steps x {args.num_envs} envs; greedy mean episode return {mean_return:.1f}"
    )
    return {"return": mean_return}


if __name__ == "__main__":
    main()
