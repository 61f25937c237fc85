"""``ticket-routing inspect``: a first look at a ticket log and a mapping skeleton to edit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rl_environments.ticket_routing.cli.common import (
    CliError,
    add_limit_options,
    check_input_file,
    check_output_file,
    limit_options,
)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "inspect",
        help="show a ticket log's columns, date range and daily volume, and write a mapping skeleton",
        description="Read a ticket log (CSV, .csv.gz, zip, Parquet, XES) and show each column's type, distinct "
        "and empty counts, which columns are constant within a ticket, the date range and daily volume; then "
        "print (or write with -o) a mapping skeleton with guessed roles and pre-filled label tables to edit.",
    )
    p.add_argument("file", metavar="FILE", help="the ticket log")
    p.add_argument("--mapping", metavar="FILE", help="a mapping whose roles and CSV options to use (optional)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the mapping skeleton here (default: print it)")
    p.add_argument("--separator", metavar="CHAR", help="CSV field separator, e.g. ';' (default: ',' or a tab for .tsv)")
    p.add_argument("--encoding", metavar="NAME", help="CSV text encoding, e.g. latin-1 (default: utf-8)")
    add_limit_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rl_environments.ticket_routing.traces.inspection import inspect_log
    from rl_environments.ticket_routing.traces.reading import ReadLimits

    check_input_file(args.file)
    if args.output:
        check_output_file(args.output, "--output")
    options = limit_options(args)
    if options.pop("strict", False):
        raise CliError("--strict: only for importing a log (fit-trace, compare --trace)")
    if args.mapping and (args.separator or args.encoding):
        raise CliError("--separator/--encoding: set them in the --mapping file instead")
    separator = "\t" if args.separator in ("\\t", "tab") else args.separator
    report = inspect_log(
        args.file, args.mapping, limits=ReadLimits(**options), separator=separator, encoding=args.encoding
    )
    sys.stdout.write(report.summary() + "\n\n")
    text = report.mapping_yaml()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        sys.stdout.write(f"wrote {args.output}\n")
    else:
        sys.stdout.write(text)
    return 0
