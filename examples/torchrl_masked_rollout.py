"""TicketRouting-v0 in TorchRL: ``GymEnv``, ``check_env_specs`` and a masked rollout.

* ``GymEnv("TicketRouting-v0")`` works as for any Gymnasium id (the Dict observation becomes a
  ``Composite`` spec) and passes ``check_env_specs``;
* with ``MaskInObservation(CompactObservation(env))`` the mask sits at ``"action_mask"``, where
  TorchRL's ``ActionMask`` transform and ``MaskedCategorical`` look for it: random rollouts and a
  policy network then only ever pick agents who are online with room;
* the native vector env with ``autoreset_mode="disabled"`` (TorchRL resets finished
  sub-environments itself, with a ``reset_mask``) wraps as a batched ``GymWrapper``.

    python examples/torchrl_masked_rollout.py --steps 500
    python examples/torchrl_masked_rollout.py --tiny
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.envs import GymEnv, GymWrapper, TransformedEnv
from torchrl.envs.transforms import ActionMask
from torchrl.envs.utils import check_env_specs
from torchrl.modules import MaskedCategorical, ProbabilisticActor

import rl_environments  # noqa: F401  (registers TicketRouting-v0)
from rl_environments.ticket_routing import TicketRoutingVectorEnv
from rl_environments.ticket_routing.wrappers import CompactObservation, MaskInObservation


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="balanced", help="scenario preset (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=200, help="rollout length")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="a tiny budget (seconds) to check the recipe runs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.steps = 40
    torch.manual_seed(args.seed)

    # 1. The registered id, as is.
    plain = GymEnv("TicketRouting-v0", config=args.preset, episode_length=args.steps)
    check_env_specs(plain, seed=args.seed)

    # 2. Compact observation + mask in the observation: TorchRL's masking tools find it.
    base = MaskInObservation(CompactObservation(gym.make("TicketRouting-v0", config=args.preset)))
    env = TransformedEnv(GymWrapper(base, categorical_action_encoding=True), ActionMask())
    check_env_specs(env, seed=args.seed)
    random_rollout = env.rollout(args.steps)  # actions sampled from the masked action spec
    valid_random = random_rollout["action_mask"].gather(-1, random_rollout["action"].unsqueeze(-1)).all()

    num_features = base.observation_space["observations"].shape[0]  # type: ignore[index]
    num_agents = int(base.action_space.n)  # type: ignore[attr-defined]
    logits = TensorDictModule(
        nn.Sequential(nn.Linear(num_features, 64), nn.Tanh(), nn.Linear(64, num_agents)),
        in_keys=["observations"],
        out_keys=["logits"],
    )
    actor = ProbabilisticActor(
        logits,
        in_keys={"logits": "logits", "mask": "action_mask"},
        out_keys=["action"],
        distribution_class=MaskedCategorical,
        return_log_prob=True,
    )
    rollout = env.rollout(args.steps, policy=actor)
    valid_policy = rollout["action_mask"].gather(-1, rollout["action"].unsqueeze(-1)).all()
    reward = float(rollout["next", "reward"].sum())

    # 3. The native vector env, reset by TorchRL (Gymnasium's DISABLED autoreset mode).
    vec = GymWrapper(TicketRoutingVectorEnv(4, args.preset, autoreset_mode="disabled", episode_length=10))
    check_env_specs(vec, seed=args.seed)
    batched = vec.rollout(25, break_when_any_done=False)

    print(
        f"torchrl: check_env_specs passed (GymEnv, masked wrapper, vector env); masked random rollout valid: "
        f"{bool(valid_random)}; masked policy rollout of {rollout.shape[0]} steps valid: {bool(valid_policy)}, "
        f"return {reward:.1f}; vector rollout {tuple(batched.shape)}, episodes ended "
        f"{int(batched['next', 'done'].sum())}"
    )
    return {"valid": float(bool(valid_random) and bool(valid_policy)), "return": reward}


if __name__ == "__main__":
    main()
