"""``ticket-routing fit-trace``: fit a scenario to a ticket log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from rl_environments.ticket_routing.cli.common import CliError


def add_parser(sub: Any) -> None:
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Read the log, print the import report and the estimates, write (or print) the scenario YAML."""
    from rl_environments.ticket_routing.traces import TicketLog, estimate_scenario

    if not Path(args.file).is_file():
        raise CliError(f"{args.file}: file not found")
    stream = out or sys.stdout
    log = TicketLog.read(args.file, getattr(args, "mapping", None))
    fit = estimate_scenario(
        log,
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        sla_quantile=getattr(args, "sla_quantile", None) or 0.8,
        num_agents=getattr(args, "num_agents", None),
    )
    print(log.report.summary(), file=stream)
    print(fit.summary(), file=stream)
    header = (
        f"# Fitted by `ticket-routing fit-trace` from {Path(args.file).name}\n"
        f"# window {fit.start:%Y-%m-%d %H:%M} to {fit.end:%Y-%m-%d %H:%M}, {fit.tickets} tickets.\n"
    )
    output = getattr(args, "output", None)
    if output:
        fit.to_yaml(output, header)
        print(f"wrote {output}", file=stream)
    else:
        print(fit.to_yaml(header=header), file=stream)
    return 0
