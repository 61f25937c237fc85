"""Route tickets with a random valid agent and print the KPI summary.

python examples/random_agent.py --steps 200 --seed 42
"""

from __future__ import annotations

import argparse

import numpy as np

from rl_environments.ticket_routing import TicketRoutingEnv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000, help="routing decisions to take")
    parser.add_argument("--seed", type=int, default=42, help="environment seed")
    parser.add_argument("--render-every", type=int, default=100, help="print the text view every N steps (0: never)")
    args = parser.parse_args(argv)

    env = TicketRoutingEnv(render_mode="ansi")
    _, info = env.reset(seed=args.seed)
    rng = np.random.default_rng(args.seed)
    total = 0.0
    for step in range(args.steps):
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        _, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if args.render_every and step % args.render_every == 0:
            print(env.render(), end="\n\n")
        if terminated or truncated:
            _, info = env.reset()
    kpis = env.kpis()
    print(f"return over {args.steps} steps: {total:.1f}")
    for key in ("tickets_arrived", "tickets_resolved", "mean_resolution_hours", "sla_compliance_pct", "csat_pct"):
        print(f"{key:>24}: {kpis[key]:.1f}" if isinstance(kpis[key], float) else f"{key:>24}: {kpis[key]}")
    env.close()


if __name__ == "__main__":
    main()
