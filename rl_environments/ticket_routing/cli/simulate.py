"""``ticket-routing simulate``: watch one policy route tickets, step by step."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rl_environments.ticket_routing.cli.common import (
    DEFAULT_SEED,
    CliError,
    DeprecatedFlag,
    add_config_options,
    add_out_option,
    check_output_file,
    console,
    load_config,
)
from rl_environments.ticket_routing.policies import POLICY_NAMES, make_policy


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="watch one policy route tickets, step by step",
        description="Run one episode of a policy and show each routing decision, then the KPIs.",
    )
    add_config_options(p)
    p.add_argument("--policy", required=True, metavar="NAME", help=f"one of: {', '.join(POLICY_NAMES)}")
    p.add_argument(
        "--episode-length",
        type=int,
        default=20,
        metavar="N",
        help="routing decisions in the episode, each shown (default: %(default)s)",
    )
    p.add_argument(
        "--steps",
        type=int,
        dest="episode_length",
        action=DeprecatedFlag,
        new="--episode-length",
        help=argparse.SUPPRESS,
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="environment seed (default: %(default)s)")
    p.add_argument(
        "--render",
        choices=["ansi", "table"],
        default="table",
        help="ansi: the environment's text view after every step; table: one line per decision (default)",
    )
    add_out_option(p, "FILE", "also write the step log (.csv or .parquet)", old="--log")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.core.environment import TicketRoutingEnv
    from rl_environments.ticket_routing.core.viewer import TEXT_LEGEND

    if args.episode_length < 1:
        raise CliError(f"--episode-length: invalid value {args.episode_length}; must be >= 1")
    if args.seed < 0:
        raise CliError(f"--seed: invalid value {args.seed}; must be >= 0")
    config = load_config(args).replace(episode_length=args.episode_length)
    steps = args.episode_length
    policy = make_policy(args.policy, config, seed=args.seed)
    if args.out and Path(args.out).suffix not in (".csv", ".parquet"):
        raise CliError(f"--out: invalid file name {args.out!r}; use a .csv or .parquet file")
    if args.out:
        check_output_file(args.out, "--out")
    out = console()
    if args.render == "ansi":
        env = TicketRoutingEnv(config, render_mode="ansi")
        obs, info = env.reset(seed=args.seed)
        out.print(TEXT_LEGEND + "\n", markup=False)
        out.print(env.render(), markup=False)
        for _ in range(steps):
            action = policy.act(obs, info["action_mask"])
            obs, reward, terminated, truncated, info = env.step(action)
            out.print(f"\n-> agent {action}, reward {float(reward):+.2f}\n", markup=False)
            out.print(env.render(), markup=False)
            if terminated or truncated:
                break
        kpis = env.kpis()
        env.close()
        log = None
    else:
        from rl_environments.ticket_routing.evaluation import episode_log

        log = episode_log(policy, config, args.seed, max_steps=steps)
        out.print(_steps_table(log, args.policy))
        kpis = log.attrs["kpis"]
    out.print(_kpi_table(kpis))
    if args.out:
        from rl_environments.ticket_routing.evaluation import episode_log

        if log is None:
            log = episode_log(make_policy(args.policy, config, seed=args.seed), config, args.seed, max_steps=steps)
        path = Path(args.out)
        if path.suffix == ".parquet":
            log.to_parquet(path, index=False)
        else:
            log.to_csv(path, index=False)
        out.print(f"wrote {path}")
    return 0


def _steps_table(log: Any, policy: str) -> Any:
    from rich.table import Table

    table = Table(title=f"{policy}: routing decisions", title_justify="left")
    for header in ("step", "time h", "ticket", "priority", "waited h", "agent", "expertise", "queue", "reward"):
        table.add_column(header, justify="right" if header not in ("ticket", "priority") else "left")
    for row in log.itertuples(index=False):
        table.add_row(
            str(row.step),
            f"{row.time_hours:.2f}",
            str(row.ticket_type),
            str(row.priority),
            f"{row.ticket_age_hours:.2f}",
            str(row.agent) + ("" if row.valid else " (invalid)"),
            f"{row.expertise:.2f}",
            str(row.queue_size),
            f"{row.reward:+.2f}",
        )
    return table


def _kpi_table(kpis: dict[str, Any]) -> Any:
    from rich.table import Table

    from rl_environments.ticket_routing.core.kpi_catalog import MAIN_KPIS, kpi

    table = Table(
        title="KPIs so far",
        title_justify="left",
        caption="↑ higher is better, ↓ lower is better",
        caption_justify="left",
    )
    table.add_column("KPI")
    table.add_column("value", justify="right")
    # Counters, then the headline KPIs up to utilization (the rest need a whole episode).
    for key in ("tickets_arrived", "tickets_resolved", *MAIN_KPIS[: MAIN_KPIS.index("mean_utilization_pct") + 1]):
        value = kpis.get(key)
        entry = kpi(key)
        if isinstance(value, float):
            table.add_row(entry.header, entry.format(value))
        elif value is not None:
            table.add_row(entry.header, str(value))
    return table
