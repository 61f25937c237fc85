"""``ticket-routing sweep``: a what-if grid over configuration fields, policies and seeds; resumable."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rl_environments.ticket_routing.cli.backend import add_backend_options, backend_from_args
from rl_environments.ticket_routing.cli.common import (
    DEFAULT_SEED,
    CliError,
    add_config_options,
    add_out_option,
    add_progress_option,
    console,
    load_config,
    progress_wanted,
    scenario_label,
)
from rl_environments.ticket_routing.policies import POLICY_NAMES

SHOWN_ROWS = 40
"""Rows of the summary printed (all of them are in summary.csv)."""
TABLE_KPIS: tuple[tuple[str, str], ...] = (
    ("sla_compliance_pct", "SLA %"),
    ("csat_pct", "CSAT %"),
    ("p90_resolution_hours", "p90 h"),
    ("mean_resolution_hours", "mean h"),
    ("mean_utilization_pct", "util %"),
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a what-if grid over configuration fields, policies and seeds (resumable; CSV/Parquet and charts)",
        description="Evaluate every combination of the --param values for every policy on the same seeds (common "
        "random numbers). Finished cells are appended to OUT/results.csv as they finish; running the same command "
        "again skips them, so an interrupted sweep resumes where it stopped. See docs/planning.md.",
    )
    add_config_options(p)
    p.add_argument(
        "--param",
        action="append",
        metavar="FIELD=VALUES",
        help="a dotted config field and its values: num_agents=8:20:2 (inclusive range), "
        "arrivals.rate_per_day=30,42,54, agents.shift_hours=8,9,10, or a YAML list; repeat for more fields",
    )
    p.add_argument(
        "--policies", nargs="+", metavar="NAME", default=["skill_load"], help=f"policies: {', '.join(POLICY_NAMES)}"
    )
    p.add_argument("--seeds", type=int, default=10, metavar="N", help="seeds (episodes) per cell group (default: 10)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="first seed (default: %(default)s)")
    p.add_argument("--episode-length", type=int, metavar="N", help="override the config's episode_length")
    add_out_option(p, "DIR", "results folder (default: sweep)")
    p.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="also write results.parquet with parquet"
    )
    p.add_argument("--kpi", default="sla_compliance_pct", help="KPI of the charts (default: %(default)s)")
    p.add_argument("--x", metavar="FIELD", help="field on the x axis of the line chart (default: the first --param)")
    p.add_argument("--overwrite", action="store_true", help="discard earlier results in OUT instead of resuming")
    add_progress_option(p)
    add_backend_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.planning.plots import plot_sweep
    from rl_environments.ticket_routing.planning.sweep import SweepSpec, parse_param, run_sweep

    if not args.param:
        raise CliError("--param: the grid is empty; give at least one, e.g. --param num_agents=8:16:2")
    config = load_config(args)
    if args.episode_length is not None:
        config = config.replace(episode_length=args.episode_length)
    args.out = args.out or "sweep"
    params = tuple(parse_param(text) for text in args.param)
    spec = SweepSpec(config, params, tuple(args.policies), args.seeds, args.seed, scenario_label(args))
    if args.x is not None and args.x not in spec.names:
        raise CliError(f"--x: {args.x!r} is not a --param field ({', '.join(spec.names)})")
    _check_kpi(args.kpi, config)
    backend = backend_from_args(args)
    out = console()
    points = len(spec.configs)
    out.print(
        f"Sweep: {points} grid points x {len(spec.policies)} policies x {spec.seeds} seeds = {spec.num_cells} cells "
        f"on {backend.name}, results in {args.out}"
    )
    progress = progress_wanted(args)
    start = time.perf_counter()
    try:
        result = run_sweep(spec, args.out, backend=backend, overwrite=args.overwrite, progress=progress)
    finally:
        backend.close()
    seconds = time.perf_counter() - start
    if result.skipped:
        out.print(f"resumed: {result.skipped} finished cells found in {result.paths['results']} and not run again")
    out.print(f"ran {result.ran} cells in {seconds:.1f} s")
    out.print(_table(result))
    paths = dict(result.paths)
    if args.format == "parquet":
        paths["parquet"] = result.paths["results"].with_suffix(".parquet")
        result.cells.to_parquet(paths["parquet"], index=False)
    paths.update(plot_sweep(result.summary, spec.names, args.kpi, args.out, x=args.x))
    for path in paths.values():
        out.print(f"wrote {path}")
    return 0


def _check_kpi(kpi: str, config: Any) -> None:
    """Name an unknown --kpi before the sweep runs (the KPI columns of a one-decision episode)."""
    from rl_environments.ticket_routing.evaluation import evaluate

    columns = evaluate("random", config.replace(episode_length=1), 1, 0).columns
    if kpi not in columns or kpi in ("policy", "episode", "seed"):
        raise CliError(f"--kpi: unknown KPI {kpi!r}; available: {', '.join(columns[3:])}")


def _table(result: Any) -> Any:
    from rich.table import Table

    summary = result.summary
    names = result.spec.names
    shown = [(k, h) for k, h in TABLE_KPIS if k in set(summary["kpi"])]
    wide = summary[summary["kpi"].isin([k for k, _ in shown])]
    groups = list(wide.groupby([*names, "policy"], sort=False, dropna=False))
    table = Table(
        title=f"Mean ± 95% CI over {result.spec.seeds} seeds"
        + (f" (first {SHOWN_ROWS} of {len(groups)} rows; all in summary.csv)" if len(groups) > SHOWN_ROWS else ""),
        title_justify="left",
    )
    for name in [*names, "policy"]:
        table.add_column(name)
    for _, header in shown:
        table.add_column(header, justify="right")
    for key, group in groups[:SHOWN_ROWS]:
        by_kpi = group.set_index("kpi")
        cells = [str(v) for v in key]
        for kpi, _ in shown:
            mean, low, high = (float(by_kpi.loc[kpi, c]) for c in ("mean", "ci95_low", "ci95_high"))
            if mean != mean:
                cells.append("-")
            elif high == high:
                cells.append(f"{mean:.1f} ± {(high - low) / 2:.1f}")
            else:
                cells.append(f"{mean:.1f}")
        table.add_row(*cells)
    return table
