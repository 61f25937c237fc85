"""``ticket-routing plan``: the smallest team that meets service targets, with Erlang C beside it."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

from rl_environments.ticket_routing.cli.backend import add_backend_options, backend_from_args
from rl_environments.ticket_routing.cli.common import (
    DEFAULT_EPISODES,
    DEFAULT_SEED,
    CliError,
    add_config_options,
    add_out_option,
    console,
    scenario_label,
)
from rl_environments.ticket_routing.cli.common import load_config as _load_config
from rl_environments.ticket_routing.policies import POLICY_NAMES

WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="find the smallest team that meets SLA / CSAT / p90 targets (with the Erlang C estimate beside it)",
        description="Simulate team sizes with common random numbers and report the smallest one whose 95%% "
        "confidence intervals meet every target: the lower end for SLA %% and CSAT %%, the upper end for the p90 "
        "resolution hours. The scenario is the default, a preset, or any configuration YAML (for example one "
        "written by 'ticket-routing fit-trace'). See docs/planning.md.",
    )
    add_config_options(p)
    p.add_argument(
        "--policy", default="skill_load", help=f"routing rule (default: %(default)s): {', '.join(POLICY_NAMES)}"
    )
    p.add_argument("--sla", type=float, metavar="PCT", help="target SLA %% (sla_compliance_pct), 0-100")
    p.add_argument("--csat", type=float, metavar="PCT", help="target CSAT %% (csat_pct), 0-100")
    p.add_argument("--p90-hours", type=float, metavar="H", help="target p90 resolution hours (upper CI end below it)")
    p.add_argument(
        "--episodes", type=int, default=DEFAULT_EPISODES, help="episodes per team size (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of episode 0 (default: %(default)s)")
    p.add_argument("--episode-length", type=int, metavar="N", help="override the config's episode_length")
    p.add_argument("--min-agents", type=int, default=1, metavar="N", help="smallest team to consider (default: 1)")
    p.add_argument(
        "--max-agents", type=int, metavar="N", help="largest team to consider (default: 2 x the Erlang C team + 10)"
    )
    p.add_argument(
        "--probes",
        type=int,
        default=1,
        metavar="K",
        help="team sizes tried per search round, side by side (default: 1)",
    )
    p.add_argument(
        "--per-hour", action="store_true", help="also print agents needed on shift for each hour of the week"
    )
    add_out_option(p, "DIR", "write plan_runs.csv (and hourly_needs.csv with --per-hour) here")
    add_backend_options(p)
    p.set_defaults(func=run)


def _scenario_name(args: argparse.Namespace) -> str:
    if args.config:
        return str(args.config)
    return f"preset {args.preset}" if args.preset else "the default scenario"


def run(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.planning.staffing import Targets, TargetUnreachableError, plan_staffing

    config = _load_config(args)
    if args.episode_length is not None:
        config = config.replace(episode_length=args.episode_length)
    for flag, value in (("--sla", args.sla), ("--csat", args.csat)):
        if value is not None and not 0.0 <= value <= 100.0:
            raise CliError(f"{flag}: invalid value {value:g}; a percentage must lie in [0, 100]")
    if args.p90_hours is not None and not args.p90_hours > 0.0:
        raise CliError(f"--p90-hours: invalid value {args.p90_hours:g}; must be > 0")
    if args.sla is None and args.csat is None and args.p90_hours is None:
        raise CliError("no target given: set at least one of --sla, --csat, --p90-hours")
    targets = Targets(sla_pct=args.sla, csat_pct=args.csat, p90_hours=args.p90_hours)
    out = console()
    out.print(
        f"Staffing plan for {_scenario_name(args)} with {args.policy}: {targets.describe()} "
        f"(each 95% interval must meet its target), {args.episodes} episodes per team size, seeds "
        f"{args.seed}..{args.seed + args.episodes - 1}"
    )
    backend = backend_from_args(args)
    start = time.perf_counter()
    progress = sys.stderr.isatty()
    try:
        result = plan_staffing(
            config,
            args.policy,
            targets,
            episodes=args.episodes,
            seed=args.seed,
            min_agents=args.min_agents,
            max_agents=args.max_agents,
            probes=args.probes,
            backend=backend,
            scenario=scenario_label(args),
            on_run=(
                lambda r: console(stderr=True).print(
                    f"  tried {r.num_agents} agents: {'meets' if r.meets else 'misses'}"
                )
            )
            if progress
            else None,
        )
    except TargetUnreachableError as exc:
        _report(out, exc.result, time.perf_counter() - start, backend.name, args)
        raise
    finally:
        backend.close()
    _report(out, result, time.perf_counter() - start, backend.name, args)
    return 0


def _cell(kpis: dict[str, tuple[float, float, float]], kpi: str, fmt: str = "{:.1f}") -> str:
    mean, low, high = kpis.get(kpi, (math.nan, math.nan, math.nan))
    if math.isnan(mean):
        return "-"
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def _report(out: Any, result: Any, seconds: float, backend: str, args: argparse.Namespace) -> None:
    from rich.table import Table

    from rl_environments.ticket_routing.planning.staffing import CSAT_KPI, P90_KPI, PLAN_KPIS, SLA_KPI

    for note in result.notes:
        out.print(f"note: {note}")
    best = result.best
    if result.answer is not None:
        out.print(
            f"\n[bold]Answer: {best.num_agents} agents[/bold] (the smallest team in "
            f"{result.min_agents}-{result.max_agents} whose 95% intervals meet every target)"
        )
    else:
        out.print(
            f"\n[bold]No team of {result.min_agents}-{result.max_agents} agents meets the targets; "
            f"closest: {best.num_agents} agents[/bold]"
        )
    targets = {t[0]: t for t in result.targets.checks()}
    table = Table(title=f"KPIs of {best.num_agents} agents, mean [95% CI]", title_justify="left")
    for column in ("KPI", "mean [95% CI]", "target", "met"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for kpi in PLAN_KPIS:
        check = targets.get(kpi)
        target = "" if check is None else (f">= {check[2]:g}" if check[1] == "low" else f"< {check[2]:g}")
        _, low, high = best.kpis[kpi]
        met = "" if check is None else ("yes" if (low >= check[2] if check[1] == "low" else high < check[2]) else "no")
        table.add_row(kpi, _cell(best.kpis, kpi), target, met)
    out.print(table)

    runs = Table(
        title=f"Runs: {len(result.runs)} team sizes x {result.episodes} episodes = {result.episodes_run} episodes "
        f"in {seconds:.1f} s ({backend})",
        title_justify="left",
    )
    for column in ("agents", "round", "SLA %", "CSAT %", "p90 resolution h", "meets"):
        runs.add_column(column, justify="right")
    for run in sorted(result.runs, key=lambda r: r.num_agents):
        runs.add_row(
            str(run.num_agents), str(run.round), _cell(run.kpis, SLA_KPI), _cell(run.kpis, CSAT_KPI),
            _cell(run.kpis, P90_KPI), "yes" if run.meets else "no",
        )  # fmt: skip
    out.print(runs)

    e = result.erlang
    out.print(
        f"\n[bold]Erlang C / square-root staffing for the same load[/bold] ({e.sla_target_pct:g}% SLA): "
        f"{e.arrivals_per_hour:.2f} tickets per on-shift hour x {e.mean_work_hours:.2f} h a ticket = "
        f"{e.offered_load:.1f} Erlangs"
    )
    out.print(
        f"  Erlang C: {e.team_erlang_c} agents ({e.on_shift_erlang_c} on shift)   square-root staffing "
        f"(beta {e.beta:.2f}): {e.team_sqrt} agents   simulation: {best.num_agents} agents"
    )
    out.print("  " + result.explanation())
    paths: list[Path] = []
    if args.out:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        paths.append(folder / "plan_runs.csv")
        result.runs_table().to_csv(paths[-1], index=False)
    if args.per_hour:
        frame = _hourly(out, result)
        if args.out:
            paths.append(Path(args.out) / "hourly_needs.csv")
            frame.to_csv(paths[-1], index=False)
    for path in paths:
        out.print(f"wrote {path}")


def _hourly(out: Any, result: Any) -> Any:
    import pandas as pd
    from rich import box
    from rich.table import Table

    from rl_environments.ticket_routing.planning.erlang import arrivals_per_hour, hourly_needs, on_shift

    target = result.targets.sla_pct if result.targets.sla_pct is not None else 80.0
    needs = hourly_needs(result.config, target)
    staffed = on_shift(result.config, result.best.num_agents)
    arrivals = arrivals_per_hour(result.config)
    for title, grid in (
        (f"Agents needed on shift (Erlang C for each hour's own arrivals at {target:g}% SLA)", needs),
        (f"Agents on shift with {result.best.num_agents} agents on these shifts", staffed),
    ):
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
        table.add_column("day")
        for h in range(24):
            table.add_column(f"{h:02d}", justify="right")
        for d, label in enumerate(WEEKDAY_LABELS):
            cells = []
            for h in range(24):
                k = d * 24 + h
                short = staffed[k] < needs[k]
                cells.append(f"[red]{grid[k]}[/red]" if short else str(grid[k]))
            table.add_row(label, *cells)
        out.print(table)
    out.print("  red: fewer on shift than Erlang C asks for that hour (those tickets wait for a later hour)")
    return pd.DataFrame(
        {
            "hour_of_week": range(168),
            "day": [WEEKDAY_LABELS[k // 24] for k in range(168)],
            "hour": [k % 24 for k in range(168)],
            "arrivals_per_hour": arrivals,
            "erlang_c_needed": needs,
            "on_shift": staffed,
        }
    )
