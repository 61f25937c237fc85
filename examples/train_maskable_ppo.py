"""Train sb3-contrib MaskablePPO on TicketRouting-v0, using the environment's action masks.

The policy never proposes an agent who is offline or full: invalid logits are masked out both
in training and at evaluation (``env_method("action_masks")`` of ``TicketRoutingSB3VecEnv``).
By default it uses ``MaskableAgentScorePolicy`` (every agent scored by one shared network; with
SB3's ``MultiInputPolicy``, ``--extractor mlp``, MaskablePPO needs millions of decisions to beat
random routing, see docs/results.md).
Everything else (vector env, normalisation, periodic evaluation, TensorBoard, the final comparison
with the baselines on held-out seeds) is shared with ``train_sb3_ppo.py``.

    python examples/train_maskable_ppo.py --total-timesteps 1000000 --out-dir runs/maskable_ppo
    python examples/train_maskable_ppo.py --tiny
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_sb3_ppo import build_parser, run


def main(argv: list[str] | None = None) -> None:
    run(build_parser(algo="maskable_ppo", description=__doc__).parse_args(argv))


if __name__ == "__main__":
    main()
