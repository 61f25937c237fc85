"""``ticket-routing``: compare routing policies, watch one route tickets, manage configurations.

    ticket-routing compare --config balanced --episodes 20 --seed 0 --baseline skill_load -o results/
    ticket-routing simulate --policy priority_sed --episode-length 20 --render ansi
    ticket-routing config show --preset hard
    ticket-routing config validate my_team.yaml
    ticket-routing config export --preset easy -o easy.yaml
    ticket-routing fit-trace tickets.csv --mapping my_columns.yaml -o scenario.yaml
    ticket-routing compare --config scenario.yaml --trace tickets.csv --mapping my_columns.yaml
    ticket-routing plan --config scenario.yaml --policy skill_load --sla 90 --csat 85
    ticket-routing sweep --param num_agents=8:16:2 --param arrivals.rate_per_day=30,42,54 --workers 2
    ticket-routing score --model ppo.zip --task TicketRouting-Balanced-v0
    ticket-routing score --policy all

Also ``python -m rl_environments.ticket_routing``. Bad input (a missing or invalid file, an
unknown preset or policy) prints a named error on stderr and exits with code 2.

Each subcommand is a module of this package with ``add_parser(subparsers)`` (its options, which
set ``func`` to the function that runs it); register a new one in ``SUBCOMMANDS`` below.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rl_environments import __version__
from rl_environments.ticket_routing.cli import compare, config, fit_trace, inspect, plan, score, simulate, sweep
from rl_environments.ticket_routing.cli.common import PROG, CliError, Parser
from rl_environments.ticket_routing.cli.compare import TABLE_COLUMNS, comparison_table
from rl_environments.ticket_routing.core.simulation import SimulationBudgetError

__all__ = ["PROG", "SUBCOMMANDS", "TABLE_COLUMNS", "CliError", "build_parser", "comparison_table", "main"]

# One module per subcommand, each with ``add_parser(subparsers)``; add a new one here.
SUBCOMMANDS: tuple[Callable[[Any], None], ...] = (
    compare.add_parser,
    simulate.add_parser,
    config.add_parser,
    inspect.add_parser,
    fit_trace.add_parser,
    plan.add_parser,
    sweep.add_parser,
    score.add_parser,
)


def build_parser() -> argparse.ArgumentParser:
    """The ``ticket-routing`` argument parser (one sub-parser per subcommand)."""
    parser = Parser(
        prog=PROG,
        description="Route B2B SaaS support tickets: compare routing policies, watch one, manage configurations.",
        epilog="Run 'ticket-routing COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for add in SUBCOMMANDS:
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
    except (CliError, ValueError, SimulationBudgetError) as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2
    except OSError as exc:  # a file problem the checks before the work could not foresee (disk full, ...)
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"{PROG}: error: {where}{exc.strerror or exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
