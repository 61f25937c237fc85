"""``ticket-routing compare``: evaluate routing policies on the same seeded episodes."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rl_environments.ticket_routing.cli.common import (
    DEFAULT_EPISODES,
    DEFAULT_SEED,
    CliError,
    add_config_options,
    add_limit_options,
    console,
    load_config,
    load_trace,
    model_policies,
)
from rl_environments.ticket_routing.policies import POLICY_NAMES, Policy, make_policy

# Columns of the comparison table: KPI, header, number format.
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("mean_resolution_hours", "mean resolution h", "{:.1f}"),
    ("p90_resolution_hours", "p90 resolution h", "{:.1f}"),
    ("csat_pct", "CSAT %", "{:.1f}"),
    ("sla_compliance_pct", "SLA met %", "{:.1f}"),
    ("expertise_match_pct", "expert match %", "{:.1f}"),
    ("mean_utilization_pct", "utilization %", "{:.1f}"),
    ("workload_gini", "workload Gini", "{:.3f}"),
    ("tickets_rejected", "rejected", "{:.1f}"),
    ("episode_return", "return", "{:.0f}"),
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="evaluate routing policies on the same seeded episodes and compare their KPIs",
        description="Evaluate routing policies with common random numbers (episode k of every policy uses "
        "seed + k) and print the mean of each KPI with its 95% confidence interval.",
    )
    add_config_options(p)
    p.add_argument(
        "--policies",
        nargs="+",
        metavar="NAME",
        default=list(POLICY_NAMES),
        help=f"policies to compare (default: all): {', '.join(POLICY_NAMES)}",
    )
    p.add_argument("--episodes", type=int, default=DEFAULT_EPISODES, help="episodes per policy (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of episode 0 (default: %(default)s)")
    p.add_argument(
        "--episode-length", type=int, metavar="N", help="override the config's episode_length (decisions per episode)"
    )
    p.add_argument(
        "--model",
        action="append",
        metavar="PATH",
        help="also evaluate a trained SB3 PPO/MaskablePPO model (.zip; repeatable; needs the train extra)",
    )
    p.add_argument("--out", metavar="DIR", help="write episodes.csv, summary.csv and comparison.png here")
    p.add_argument("--trace", metavar="FILE", help="replay the arrivals of a ticket log (CSV, zipped CSV or Parquet)")
    p.add_argument("--mapping", metavar="FILE", help="column mapping of the --trace log (YAML, or a shipped name)")
    p.add_argument("--trace-start", metavar="TIME", help="replay tickets opened from TIME (default: the first)")
    p.add_argument("--trace-end", metavar="TIME", help="replay tickets opened before TIME (default: all)")
    add_limit_options(p, "a --trace log")
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.evaluation import evaluate_many, summarize, write_outputs

    config = load_config(args)
    if args.episode_length is not None:
        config = config.replace(episode_length=args.episode_length)
    if args.episodes < 1:
        raise CliError(f"--episodes: invalid value {args.episodes}; must be >= 1")
    if args.seed < 0:
        raise CliError(f"--seed: invalid value {args.seed}; must be >= 0")
    policies: list[str | Policy] = []
    for name in args.policies:
        make_policy(name, config)  # fails early, naming the unknown policy
        policies.append(name)
    policies.extend(model_policies(args, config))
    config, trace = load_trace(args, config)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    per_episode = evaluate_many(policies, config, args.episodes, args.seed, trace=trace, progress=progress)
    summary = summarize(per_episode)
    out = console()
    out.print(comparison_table(summary, args.episodes, args.seed))
    if args.out:
        paths = write_outputs(per_episode, summary, args.out)
        for path in paths.values():
            out.print(f"wrote {path}")
    return 0


def comparison_table(summary: Any, episodes: int, seed: int) -> Any:
    """A rich table: one row per policy, mean ± 95% CI half-width of the main KPIs."""
    from rich.table import Table

    table = Table(
        title=f"Routing policies over {episodes} episodes (seeds {seed}..{seed + episodes - 1}), mean ± 95% CI",
        title_justify="left",
    )
    table.add_column("policy", style="bold")
    kpis = set(summary["kpi"])
    shown = [c for c in TABLE_COLUMNS if c[0] in kpis]
    for _, header, _ in shown:
        table.add_column(header, justify="right")
    for policy in dict.fromkeys(summary["policy"]):
        part = summary[summary["policy"] == policy].set_index("kpi")
        cells = [str(policy)]
        for kpi, _, fmt in shown:
            row = part.loc[kpi]
            mean, low, high = float(row["mean"]), float(row["ci95_low"]), float(row["ci95_high"])
            if mean != mean:
                cells.append("-")
            elif high == high and high > low:
                cells.append(f"{fmt.format(mean)} ± {fmt.format((high - low) / 2)}")
            else:
                cells.append(fmt.format(mean))
        table.add_row(*cells)
    return table
