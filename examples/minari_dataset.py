"""Record an offline-RL dataset with Minari from a baseline routing rule, then load it back.

``episode_kpis_in_info=False`` keeps the same info keys on every step (the reset's included), which
Minari's ``record_infos=True`` requires; the episode's KPIs are read from ``env.unwrapped.kpis()``
when it ends and stored as episode metadata instead. Datasets go to ``--root`` (Minari's
``MINARI_DATASETS_PATH``), nothing is downloaded.

    python examples/minari_dataset.py --policy skill_load --episodes 50 --root data/minari
    python examples/minari_dataset.py --tiny
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="balanced", help="scenario preset (default: %(default)s)")
    parser.add_argument("--policy", default="skill_load", help="baseline routing rule that acts (default: %(default)s)")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--episode-length", type=int, default=200, help="decisions per episode")
    parser.add_argument("--root", help="directory for Minari datasets (default: a temporary directory)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="a tiny budget (seconds) to check the recipe runs")
    args = parser.parse_args(argv)
    if args.tiny:
        args.episodes, args.episode_length = 3, 30
    root = Path(args.root) if args.root else Path(tempfile.mkdtemp(prefix="minari-"))
    os.environ["MINARI_DATASETS_PATH"] = str(root)  # before importing minari

    import gymnasium as gym
    import minari
    import numpy as np
    from minari import DataCollector
    from minari.data_collector.callbacks import EpisodeMetadataCallback

    import rl_environments  # noqa: F401  (registers TicketRouting-v0)
    from rl_environments.ticket_routing.policies import make_policy

    class KpiMetadata(EpisodeMetadataCallback):
        """Minari's episode statistics plus the environment's headline KPIs."""

        env: Any = None

        def __call__(self, episode: dict[str, Any]) -> dict[str, Any]:
            meta = dict(super().__call__(episode))
            kpis = self.env.unwrapped.kpis()
            for key in ("csat_pct", "sla_compliance_pct", "mean_resolution_hours", "tickets_rejected"):
                meta[key] = float(kpis[key])
            return meta

    env = gym.make(
        "TicketRouting-v0", config=args.preset, episode_length=args.episode_length, episode_kpis_in_info=False
    )
    KpiMetadata.env = env
    collector = DataCollector(env, record_infos=True, episode_metadata_callback=KpiMetadata)
    policy = make_policy(args.policy, env.unwrapped.config, seed=args.seed)  # type: ignore[attr-defined]
    for k in range(args.episodes):
        obs, info = collector.reset(seed=args.seed + k)
        done = False
        while not done:
            action = policy.act(obs, info["action_mask"])
            obs, _, terminated, truncated, info = collector.step(action)
            done = terminated or truncated
    dataset_id = f"ticket-routing/{args.preset}/{args.policy}-v0"
    collector.create_dataset(dataset_id=dataset_id, algorithm_name=f"baseline:{args.policy}", author="rl-environments")
    collector.close()

    dataset = minari.load_dataset(dataset_id)
    episodes = list(dataset.iterate_episodes())
    returns = [float(np.sum(e.rewards)) for e in episodes]
    steps = sum(len(e.actions) for e in episodes)
    masked_ok = all(bool(e.infos["action_mask"][np.arange(len(e.actions)), e.actions].all()) for e in episodes)
    print(
        f"minari: {dataset_id} in {root}: {dataset.total_episodes} episodes, {steps} steps, "
        f"mean return {np.mean(returns):.1f}; every recorded action valid under its recorded mask: {masked_ok}"
    )
    return {"episodes": float(dataset.total_episodes), "steps": float(steps), "mean_return": float(np.mean(returns))}


if __name__ == "__main__":
    main()
