"""``ticket-routing``: compare routing policies, watch one route tickets, manage configurations.

    ticket-routing compare --preset balanced --episodes 20 --seed 0 --out results/
    ticket-routing simulate --policy priority_sed --steps 20 --render ansi
    ticket-routing config show --preset hard
    ticket-routing config validate my_team.yaml
    ticket-routing config export --preset easy --out easy.yaml
    ticket-routing fit-trace tickets.csv --mapping my_columns.yaml -o scenario.yaml
    ticket-routing compare --config scenario.yaml --trace tickets.csv --mapping my_columns.yaml

Also ``python -m rl_environments.ticket_routing``. Bad input (a missing or invalid file, an
unknown preset or policy) prints a named error on stderr and exits with code 2.

Each subcommand is one ``_add_<name>`` function (its options) and one ``_cmd_<name>`` function
(what it does); register a new one in ``_SUBCOMMANDS``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rl_environments.ticket_routing.core.data_models import EnvironmentConfig
from rl_environments.ticket_routing.core.trace import ArrivalTrace
from rl_environments.ticket_routing.policies import POLICY_NAMES, Policy, make_policy

PROG = "ticket-routing"
DEFAULT_EPISODES = 20
DEFAULT_SEED = 0

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


class CliError(Exception):
    """A user error: printed as ``ticket-routing: error: <message>``, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors: same format and code
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


# --------------------------------------------------------------------------- shared options
def _add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--config", metavar="FILE", help="YAML configuration file (default: the default scenario)")
    group.add_argument(
        "--preset", metavar="NAME", help=f"shipped preset: {', '.join(EnvironmentConfig.preset_names())}"
    )


def _load_config(args: argparse.Namespace) -> EnvironmentConfig:
    """The configuration chosen by ``--config`` / ``--preset`` (default: ``EnvironmentConfig()``)."""
    if getattr(args, "config", None):
        path = Path(args.config)
        if not path.is_file():
            raise CliError(f"--config: file not found: {path}")
        return EnvironmentConfig.from_yaml(path)
    if getattr(args, "preset", None):
        return EnvironmentConfig.preset(args.preset)
    return EnvironmentConfig()


def _load_trace(args: argparse.Namespace, config: EnvironmentConfig) -> tuple[EnvironmentConfig, ArrivalTrace | None]:
    """The arrival trace to replay in ``compare`` (``--trace FILE``), or ``None`` for generated arrivals,
    with ``config`` set to start at the window's hour of the week and to run until the log is exhausted."""
    if not getattr(args, "trace", None):
        for option in ("mapping", "trace_start", "trace_end"):
            if getattr(args, option, None):
                raise CliError(f"--{option.replace('_', '-')} needs --trace FILE")
        return config, None
    from rl_environments.ticket_routing.traces import load_replay

    window = load_replay(args.trace, args.mapping, args.trace_start, args.trace_end)
    sys.stderr.write(window.describe() + "\n")
    return window.configure(config), window.trace


def _model_policies(args: argparse.Namespace, config: EnvironmentConfig) -> list[Policy]:
    """Trained Stable-Baselines3 models named with ``--model PATH`` (loaded only from those paths).

    Needs the ``train`` extra; the import is lazy so the CLI works without torch.
    """
    paths: list[str] = getattr(args, "model", None) or []
    if not paths:
        return []
    try:
        from rl_environments.ticket_routing.sb3 import SB3Policy
    except ImportError as exc:
        raise CliError(f"--model: needs the train extra (pip install 'rl-environments[train]'): {exc}") from None
    policies: list[Policy] = []
    names: set[str] = set()
    for k, path in enumerate(paths, start=1):
        policy = SB3Policy(path, config)
        if policy.name in names:  # the same algorithm twice: number them in --model order
            policy.name = f"{policy.name}_{k}"
        names.add(policy.name)
        policies.append(policy)
    return policies


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=None if stderr else 160)


# --------------------------------------------------------------------------- compare
def _add_compare(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="evaluate routing policies on the same seeded episodes and compare their KPIs",
        description="Evaluate routing policies with common random numbers (episode k of every policy uses "
        "seed + k) and print the mean of each KPI with its 95% confidence interval.",
    )
    _add_config_options(p)
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
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.evaluation import evaluate_many, summarize, write_outputs

    config = _load_config(args)
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
    policies.extend(_model_policies(args, config))
    config, trace = _load_trace(args, config)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    per_episode = evaluate_many(policies, config, args.episodes, args.seed, trace=trace, progress=progress)
    summary = summarize(per_episode)
    console = _console()
    console.print(comparison_table(summary, args.episodes, args.seed))
    if args.out:
        paths = write_outputs(per_episode, summary, args.out)
        for path in paths.values():
            console.print(f"wrote {path}")
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


# --------------------------------------------------------------------------- simulate
def _add_simulate(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="watch one policy route tickets, step by step",
        description="Run one episode of a policy and show each routing decision, then the KPIs.",
    )
    _add_config_options(p)
    p.add_argument("--policy", required=True, metavar="NAME", help=f"one of: {', '.join(POLICY_NAMES)}")
    p.add_argument("--steps", type=int, default=20, help="routing decisions to show (default: %(default)s)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="environment seed (default: %(default)s)")
    p.add_argument(
        "--render",
        choices=["ansi", "table"],
        default="table",
        help="ansi: the environment's text view after every step; table: one line per decision (default)",
    )
    p.add_argument("--log", metavar="FILE", help="also write the step log (.csv or .parquet)")
    p.set_defaults(func=_cmd_simulate)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.core.environment import TicketRoutingEnv

    config = _load_config(args)
    if args.steps < 1:
        raise CliError(f"--steps: invalid value {args.steps}; must be >= 1")
    if args.seed < 0:
        raise CliError(f"--seed: invalid value {args.seed}; must be >= 0")
    policy = make_policy(args.policy, config, seed=args.seed)
    if args.log and Path(args.log).suffix not in (".csv", ".parquet"):
        raise CliError(f"--log: invalid file name {args.log!r}; use a .csv or .parquet file")
    console = _console()
    if args.render == "ansi":
        env = TicketRoutingEnv(config, render_mode="ansi")
        obs, info = env.reset(seed=args.seed)
        console.print(env.render(), markup=False)
        for _ in range(args.steps):
            action = policy.act(obs, info["action_mask"])
            obs, reward, terminated, truncated, info = env.step(action)
            console.print(f"\n-> agent {action}, reward {float(reward):+.2f}\n", markup=False)
            console.print(env.render(), markup=False)
            if terminated or truncated:
                break
        kpis = env.kpis()
        env.close()
        log = None
    else:
        from rl_environments.ticket_routing.evaluation import episode_log

        log = episode_log(policy, config, args.seed, max_steps=args.steps)
        console.print(_steps_table(log, args.policy))
        kpis = log.attrs["kpis"]
    console.print(_kpi_table(kpis))
    if args.log:
        from rl_environments.ticket_routing.evaluation import episode_log

        if log is None:
            log = episode_log(make_policy(args.policy, config, seed=args.seed), config, args.seed, max_steps=args.steps)
        path = Path(args.log)
        if path.suffix == ".parquet":
            log.to_parquet(path, index=False)
        else:
            log.to_csv(path, index=False)
        console.print(f"wrote {path}")
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

    from rl_environments.ticket_routing.evaluation import MAIN_KPIS

    table = Table(title="KPIs so far", title_justify="left")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    # Counters, then the headline KPIs up to utilization (the rest need a whole episode).
    for key in ("tickets_arrived", "tickets_resolved", *MAIN_KPIS[: MAIN_KPIS.index("mean_utilization_pct") + 1]):
        value = kpis.get(key)
        if isinstance(value, float):
            table.add_row(key, "-" if value != value else f"{value:.2f}")
        elif value is not None:
            table.add_row(key, str(value))
    return table


# --------------------------------------------------------------------------- config
def _add_config(sub: Any) -> None:
    p = sub.add_parser(
        "config",
        help="show, validate or export configurations",
        description="Show, validate or export environment configurations (YAML).",
    )
    actions = p.add_subparsers(dest="config_action", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    show = actions.add_parser("show", help="print a configuration with every default filled in")
    _add_config_options(show)
    show.add_argument("--format", choices=["yaml", "json"], default="yaml", help="output format (default: yaml)")
    show.set_defaults(func=_cmd_config_show)
    validate = actions.add_parser("validate", help="check a YAML configuration file; exit code 2 if invalid")
    validate.add_argument("file", metavar="FILE", help="YAML configuration file")
    validate.set_defaults(func=_cmd_config_validate)
    export = actions.add_parser("export", help="write a preset (or the default) as a complete YAML file")
    export.add_argument("--preset", metavar="NAME", help="preset to export (default: the default scenario)")
    export.add_argument("--out", metavar="FILE", help="file to write (default: standard output)")
    export.set_defaults(func=_cmd_config_export)


def _cmd_config_show(args: argparse.Namespace) -> int:
    config = _load_config(args)
    if args.format == "json":
        sys.stdout.write(json.dumps(config.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(config.to_yaml())
    return 0


def _cmd_config_validate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{path}: file not found")
    config = EnvironmentConfig.from_yaml(path)
    changed = _changed_fields(config)
    detail = f"{len(changed)} setting(s) differ from the defaults: {', '.join(changed)}" if changed else "all defaults"
    sys.stdout.write(f"{path}: valid ({detail})\n")
    return 0


def _changed_fields(config: EnvironmentConfig) -> list[str]:
    default = EnvironmentConfig().to_dict()
    out: list[str] = []
    for key, value in config.to_dict().items():
        if isinstance(value, dict) and isinstance(default[key], dict):
            out.extend(f"{key}.{k}" for k, v in value.items() if v != default[key][k])
        elif value != default[key]:
            out.append(key)
    return out


def _cmd_config_export(args: argparse.Namespace) -> int:
    config = EnvironmentConfig.preset(args.preset) if args.preset else EnvironmentConfig()
    label = f"preset {args.preset!r}" if args.preset else "the default scenario"
    text = f"# TicketRouting-v0 configuration: {label}, every setting written out.\n" + config.to_yaml()
    if args.out:
        path = Path(args.out)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"--out: cannot write {path}: {exc.strerror or exc}") from None
        sys.stdout.write(f"wrote {path}\n")
    else:
        sys.stdout.write(text)
    return 0


# --------------------------------------------------------------------------- fit-trace
def _add_fit_trace(sub: Any) -> None:
    p = sub.add_parser(
        "fit-trace",
        help="fit a scenario (arrival rate, weekly profile, mixes, SLA targets) to a ticket log",
        description="Read a ticket log (CSV, zipped CSV or Parquet) through a column mapping, print the "
        "estimates with their sample sizes, and write them as a configuration (see docs/bring_your_own_tickets.md).",
    )
    p.add_argument("file", metavar="FILE", help="the ticket log")
    p.add_argument("--mapping", metavar="FILE", help="column mapping (YAML, or a shipped name: uci_incident_log)")
    p.add_argument("-o", "--output", metavar="FILE", help="scenario YAML to write (default: standard output)")
    p.add_argument("--start", metavar="TIME", help="fit tickets opened from TIME (default: trim sparse tails)")
    p.add_argument("--end", metavar="TIME", help="fit tickets opened before TIME")
    p.add_argument(
        "--sla-quantile", type=float, default=0.8, metavar="Q", help="quantile for SLA targets (default: %(default)s)"
    )
    p.add_argument("--num-agents", type=int, metavar="N", help="team size (default: sized to 70%% utilisation)")
    p.set_defaults(func=_cmd_fit_trace)


def _cmd_fit_trace(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.traces import fit_trace_command

    if not Path(args.file).is_file():
        raise CliError(f"{args.file}: file not found")
    return fit_trace_command(args)


# --------------------------------------------------------------------------- entry point
_SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (_add_compare, _add_simulate, _add_config, _add_fit_trace)


def build_parser() -> argparse.ArgumentParser:
    """The ``ticket-routing`` argument parser (one sub-parser per subcommand)."""
    parser = _Parser(
        prog=PROG,
        description="Route B2B SaaS support tickets: compare routing policies, watch one, manage configurations.",
        epilog="Run 'ticket-routing COMMAND --help' for the options of a command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except SystemExit as exc:  # --help and argparse usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except (CliError, ValueError) as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
