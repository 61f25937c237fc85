"""The options that choose where ``plan`` and ``sweep`` run: here, local worker processes, or Ray."""

from __future__ import annotations

import argparse

from rl_environments.ticket_routing.cli.common import CliError
from rl_environments.ticket_routing.planning.backends import Backend, make_backend


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run on N local worker processes (default: 1, in this process)",
    )
    group.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="run as Ray tasks on an existing cluster: auto, HOST:PORT or ray://HOST:PORT "
        "(or local: start Ray here); needs Ray installed (docs/planning.md)",
    )


def backend_from_args(args: argparse.Namespace) -> Backend:
    if args.workers < 1:
        raise CliError(f"--workers: invalid value {args.workers}; must be >= 1")
    return make_backend(args.workers, args.ray_address)
