"""``ticket-routing compare``: evaluate routing policies on the same seeded episodes."""

from __future__ import annotations

import argparse
from typing import Any

from rl_environments.ticket_routing.cli.common import (
    DEFAULT_EPISODES,
    DEFAULT_SEED,
    CliError,
    add_config_options,
    add_limit_options,
    add_out_option,
    add_progress_option,
    console,
    load_config,
    load_trace,
    model_policies,
    prepare_output_dir,
    progress_wanted,
    scenario_label,
    warn_rejected,
)
from rl_environments.ticket_routing.core.kpi_catalog import MAIN_KPIS, kpi
from rl_environments.ticket_routing.policies import POLICY_NAMES, Policy, make_policy

# Columns of the comparison table: KPI, header (label, unit, direction), number format; from the KPI catalog.
TABLE_COLUMNS: tuple[tuple[str, str, str], ...] = tuple((k, kpi(k).header, kpi(k).fmt) for k in MAIN_KPIS)
DIRECTIONS = "↑ higher is better, ↓ lower is better"


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
        help="also evaluate a trained SB3 PPO/MaskablePPO model (.zip; repeatable; needs the train extra). "
        "Model files can carry code: this command never unpickles them. It rebuilds the policy from the "
        "file's plain JSON description and reads only the weights (torch weights_only); a file that needs "
        "anything more is refused (exit code 2). Load models only from paths you name yourself",
    )
    p.add_argument(
        "--baseline",
        metavar="NAME",
        help="also report each policy's paired difference from this one (same seeds) with bootstrap 95%% CIs",
    )
    add_out_option(p, "DIR", "write episodes.csv, summary.csv, comparison.png (and paired.csv with --baseline) here")
    p.add_argument("--trace", metavar="FILE", help="replay the arrivals of a ticket log (CSV, zipped CSV or Parquet)")
    p.add_argument("--mapping", metavar="FILE", help="column mapping of the --trace log (YAML, or a shipped name)")
    p.add_argument(
        "--trace-start",
        metavar="TIME",
        help="replay tickets opened from TIME (default: the window fit-trace fits, the log's active days)",
    )
    p.add_argument("--trace-end", metavar="TIME", help="replay tickets opened before TIME")
    p.add_argument("--trace-all", action="store_true", help="replay the whole --trace log, sparse tails included")
    add_limit_options(p, "a --trace log")
    add_progress_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.evaluation import (
        evaluate_many,
        paired_differences,
        summarize,
        write_outputs,
    )

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
    names = [p if isinstance(p, str) else p.name for p in policies]
    if args.baseline is not None and args.baseline not in names:
        raise CliError(
            f"--baseline: invalid value {args.baseline!r}; it must be one of the compared: {', '.join(names)}"
        )
    if args.out:
        prepare_output_dir(args.out, "--out")
    config, trace = load_trace(args, config)
    progress = progress_wanted(args)
    per_episode = evaluate_many(
        policies, config, args.episodes, args.seed, trace=trace, progress=progress, scenario=scenario_label(args)
    )
    warn_rejected(per_episode, trace, config)
    summary = summarize(per_episode)
    out = console()
    out.print(comparison_table(summary, args.episodes, args.seed))
    paired = None
    if args.baseline is not None:
        paired = paired_differences(per_episode, args.baseline, seed=args.seed)
        out.print(paired_table(paired))
    if args.out:
        paths = write_outputs(per_episode, summary, args.out, paired)
        for path in paths.values():
            out.print(f"wrote {path}")
    return 0


def comparison_table(summary: Any, episodes: int, seed: int) -> Any:
    """A rich table: one row per policy, mean ± 95% CI half-width of the main KPIs."""
    from rich.table import Table

    table = Table(
        title=f"Routing policies over {episodes} episodes (seeds {seed}..{seed + episodes - 1}), mean ± 95% CI",
        title_justify="left",
        caption=f"{DIRECTIONS}; (a–b): a 95% CI cut at a bound (a count is never below 0, a % never above 100)",
        caption_justify="left",
    )
    table.add_column("policy", style="bold")
    kpis = set(summary["kpi"])
    shown = [c for c in TABLE_COLUMNS if c[0] in kpis]
    for _, header, _ in shown:
        table.add_column(header, justify="right")
    for policy in dict.fromkeys(summary["policy"]):
        part = summary[summary["policy"] == policy].set_index("kpi")
        cells = [str(policy)]
        for name, _, fmt in shown:
            row = part.loc[name]
            mean, low, high = float(row["mean"]), float(row["ci95_low"]), float(row["ci95_high"])
            cells.append(_mean_ci(mean, low, high, fmt))
        table.add_row(*cells)
    return table


def _mean_ci(mean: float, low: float, high: float, fmt: str) -> str:
    if mean != mean:
        return "-"
    if not (high == high and high > low):
        return fmt.format(mean)
    if abs((mean - low) - (high - mean)) <= 1e-9 * max(1.0, abs(mean)):
        return f"{fmt.format(mean)} ± {fmt.format((high - low) / 2)}"
    return f"{fmt.format(mean)} ({fmt.format(low)}–{fmt.format(high)})"


def paired_table(paired: Any) -> Any:
    """A rich table: per policy and headline KPI, the mean paired difference from the baseline, its
    bootstrap 95% CI and whether that is better or worse."""
    from rich.markup import escape
    from rich.table import Table

    baseline = str(paired["baseline"].iloc[0]) if len(paired) else "-"
    table = Table(
        title=f"Paired differences from {baseline} (same seeds), bootstrap 95% CI",
        title_justify="left",
        caption="better / worse: the interval excludes 0 (in the KPI's better / worse direction)",
        caption_justify="left",
    )
    for header in ("policy", "KPI", "difference", "95% CI", "verdict"):
        table.add_column(header, justify="right" if header in ("difference", "95% CI") else "left")
    order = {name: k for k, name in enumerate(MAIN_KPIS)}
    rows = paired.assign(_order=paired["kpi"].map(lambda name: order.get(name, len(order))))
    for policy in dict.fromkeys(paired["policy"]):
        part = rows[rows["policy"] == policy].sort_values("_order", kind="stable")
        for k, row in enumerate(part.itertuples(index=False)):
            entry = kpi(str(row.kpi))
            fmt = entry.fmt.replace("{:", "{:+")
            mean, low, high = float(row.mean_diff), float(row.ci95_low), float(row.ci95_high)
            difference = "-" if mean != mean else fmt.format(mean)
            interval = "" if low != low else f"{fmt.format(low)} to {fmt.format(high)}"
            table.add_row(str(policy) if k == 0 else "", entry.header, difference, interval, escape(str(row.verdict)))
        table.add_section()
    return table
