"""``ticket-routing config``: show, validate or export configurations."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rl_environments.ticket_routing.cli.common import (
    CliError,
    Parser,
    add_config_options,
    add_out_option,
    check_input_file,
    check_output_file,
    load_config,
)
from rl_environments.ticket_routing.core.config import EnvironmentConfig


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "config",
        help="show, validate or export configurations",
        description="Show, validate or export environment configurations (YAML).",
    )
    actions = p.add_subparsers(dest="config_action", metavar="ACTION", parser_class=Parser)
    actions.required = True
    show = actions.add_parser("show", help="print a configuration with every default filled in")
    add_config_options(show)
    show.add_argument("--format", choices=["yaml", "json"], default="yaml", help="output format (default: yaml)")
    show.set_defaults(func=_cmd_config_show)
    validate = actions.add_parser("validate", help="check a YAML configuration file; exit code 2 if invalid")
    validate.add_argument("file", metavar="FILE", help="YAML configuration file")
    validate.set_defaults(func=_cmd_config_validate)
    export = actions.add_parser("export", help="write a preset (or the default) as a complete YAML file")
    export.add_argument("--preset", metavar="NAME", help="preset to export (default: the default scenario)")
    add_out_option(export, "FILE", "file to write (default: standard output)")
    export.set_defaults(func=_cmd_config_export)


def _cmd_config_show(args: argparse.Namespace) -> int:
    config = load_config(args)
    if args.format == "json":
        sys.stdout.write(json.dumps(config.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(config.to_yaml())
    return 0


def _cmd_config_validate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    check_input_file(args.file)
    config = EnvironmentConfig.from_yaml(path)
    changed = config.diff()
    detail = f"{len(changed)} setting(s) differ from the defaults: {', '.join(changed)}" if changed else "all defaults"
    sys.stdout.write(f"{path}: valid ({detail})\n")
    return 0


def _cmd_config_export(args: argparse.Namespace) -> int:
    if args.out:
        check_output_file(args.out, "--out")
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
