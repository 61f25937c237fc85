"""``ticket-routing fit-trace``: fit a scenario to a ticket log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from rl_environments.ticket_routing.cli.common import (
    CliError,
    add_limit_options,
    add_out_option,
    check_input_file,
    check_output_file,
    limit_options,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "fit-trace",
        help="fit a scenario (arrivals, weekly profile, mixes, SLA targets, team, shifts, effort) to a ticket log",
        description="Read a ticket log (CSV, .csv.gz, zipped CSV, Parquet or XES) through a column mapping, print the "
        "estimates with their sample sizes, and write them as a configuration (see docs/bring_your_own_tickets.md).",
    )
    p.add_argument("file", metavar="FILE", help="the ticket log")
    p.add_argument("--mapping", metavar="FILE", help="column mapping (YAML, or a shipped name: uci_incident_log)")
    add_out_option(p, "FILE", "scenario YAML to write (default: standard output)", old="--output")
    p.add_argument("--start", metavar="TIME", help="fit tickets opened from TIME (default: trim sparse tails)")
    p.add_argument("--end", metavar="TIME", help="fit tickets opened before TIME")
    p.add_argument(
        "--sla-quantile", type=float, default=0.8, metavar="Q", help="quantile for SLA targets (default: %(default)s)"
    )
    p.add_argument(
        "--num-agents",
        type=int,
        metavar="N",
        help="team size (default: from the assignees if mapped, else sized to --target-utilization)",
    )
    p.add_argument(
        "--target-utilization",
        type=float,
        default=0.7,
        metavar="U",
        help="utilisation the fitted team is sized for, in (0, 1] (default: %(default)s)",
    )
    p.add_argument(
        "--base-team",
        action="store_true",
        help="keep the base config's team, shifts and service effort (fit arrivals and SLA targets only; "
        "the team is then sized to --target-utilization)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="simulate the fitted scenario (least_loaded, 3 episodes of about 4 weeks) and replay the window's "
        "first week, and print both beside the log",
    )
    p.add_argument(
        "--no-report",
        action="store_true",
        help="with -o, do not write the fit report PNG next to the YAML (scenario.png for scenario.yaml)",
    )
    add_limit_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Read the log, print the import report and the estimates, write (or print) the scenario YAML."""
    from rl_environments.ticket_routing.traces import TicketLog, estimate_scenario

    check_input_file(args.file)
    output = getattr(args, "out", None)
    if output:
        check_output_file(output, "-o/--out")
    quantile = getattr(args, "sla_quantile", 0.8)
    if not 0.0 < quantile <= 1.0:
        raise CliError(
            f"--sla-quantile: invalid value {quantile}; must lie in (0, 1], e.g. 0.8 for the 80th percentile"
        )
    utilization = getattr(args, "target_utilization", 0.7)
    if not 0.0 < utilization <= 1.0:
        raise CliError(f"--target-utilization: invalid value {utilization}; must lie in (0, 1]")
    num_agents = getattr(args, "num_agents", None)
    if num_agents is not None and num_agents < 1:
        raise CliError(f"--num-agents: invalid value {num_agents}; must be >= 1")
    stream = out or sys.stdout
    log = TicketLog.read(args.file, getattr(args, "mapping", None), **limit_options(args))
    fit = estimate_scenario(
        log,
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        sla_quantile=quantile,
        num_agents=num_agents,
        target_utilization=utilization,
        from_log=not getattr(args, "base_team", False),
    )
    print(log.report.summary(), file=stream)
    print(fit.summary(), file=stream)
    header = (
        f"# Fitted by `ticket-routing fit-trace` from {Path(args.file).name}\n"
        f"# window {fit.start:%Y-%m-%d %H:%M} to {fit.end:%Y-%m-%d %H:%M}, {fit.tickets} tickets.\n"
    )
    if getattr(args, "check", False):
        from rl_environments.ticket_routing.traces.check import check_fit, check_text

        print(check_text(check_fit(log, fit)), file=stream)
    if output:
        fit.to_yaml(output, header)
        print(f"wrote {output}", file=stream)
        if not getattr(args, "no_report", False):
            from rl_environments.ticket_routing.traces.report import plot_fit

            print(f"wrote {plot_fit(log, fit, Path(output).with_suffix('.png'))}", file=stream)
    else:
        print(fit.to_yaml(header=header), file=stream)
    return 0
