"""Pieces every subcommand shares: the error type, the parser class, config and trace options."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.policies import Policy

PROG = "ticket-routing"
DEFAULT_EPISODES = 20
DEFAULT_SEED = 0


# The import limits of ticket logs (``traces.reading.DEFAULT_MAX_ROWS`` / ``DEFAULT_MAX_MB``, which a
# test holds equal), repeated here so building the parser does not import pandas.
DEFAULT_MAX_ROWS = 5_000_000
DEFAULT_MAX_MB = 2_000


class CliError(Exception):
    """A user error: printed as ``ticket-routing: error: <message>``, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors: same format and code
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def warn_deprecated(old: str, new: str) -> None:
    """Tell on stderr that flag ``old`` is deprecated in favour of ``new`` (it still works for one release)."""
    sys.stderr.write(f"{PROG}: warning: {old} is deprecated and will be removed in the next release; use {new}\n")


class DeprecatedFlag(argparse.Action):
    """An old spelling of an option: stores into the new option's ``dest`` and warns on stderr."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser: Any, namespace: argparse.Namespace, values: Any, option: str | None = None) -> None:
        warn_deprecated(str(option), self.new)
        setattr(namespace, self.dest, values)


def add_out_option(parser: argparse.ArgumentParser, metavar: str, help: str, old: str | None = None) -> None:
    """``-o/--out`` (the one output flag of every subcommand); ``old`` is a deprecated spelling kept working."""
    parser.add_argument("-o", "--out", metavar=metavar, help=help)
    if old is not None:
        parser.add_argument(
            old, dest="out", metavar=metavar, action=DeprecatedFlag, new="-o/--out", help=argparse.SUPPRESS
        )


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    """``--progress/--no-progress`` (default: a progress bar when stderr is a terminal)."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )


def progress_wanted(args: argparse.Namespace) -> bool:
    """Whether to show a progress bar: ``--progress`` / ``--no-progress``, else when stderr is a terminal."""
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def add_config_options(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(EnvironmentConfig.preset_names())
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--config",
        metavar="NAME|FILE",
        help=f"a shipped preset ({names}) or a YAML configuration file (default: the default scenario)",
    )
    group.add_argument("--preset", metavar="NAME", help=f"shipped preset (same as --config NAME): {names}")


def load_config(args: argparse.Namespace) -> EnvironmentConfig:
    """The configuration chosen by ``--config NAME|FILE`` / ``--preset`` (default: ``EnvironmentConfig()``).

    As ``config=`` in Python: an existing file is read; otherwise a preset's name picks the preset.
    """
    if getattr(args, "config", None):
        path = Path(args.config)
        if path.is_dir():
            raise CliError(f"--config: {args.config} is a directory, not a configuration file")
        if path.is_file():
            return EnvironmentConfig.from_yaml(path)
        if args.config in EnvironmentConfig.preset_names():
            return EnvironmentConfig.preset(args.config)
        names = ", ".join(EnvironmentConfig.preset_names())
        raise CliError(f"--config: no such file and no such preset: {args.config} (presets: {names})")
    if getattr(args, "preset", None):
        return EnvironmentConfig.preset(args.preset)
    return EnvironmentConfig()


def scenario_label(args: argparse.Namespace) -> str:
    """The scenario's name for result files: the preset, the config file's stem, or ``default``."""
    if getattr(args, "trace", None):
        return Path(args.trace).name.split(".")[0]
    if getattr(args, "config", None):
        name = str(args.config)
        return name if name in EnvironmentConfig.preset_names() and not Path(name).is_file() else Path(name).stem
    return str(getattr(args, "preset", None) or "default")


def add_limit_options(parser: argparse.ArgumentParser, what: str = "the log") -> None:
    """``--max-rows`` and ``--max-mb``: the import limits of a ticket-log file."""
    parser.add_argument(
        "--max-rows", type=int, metavar="N", help=f"refuse {what} beyond N records (default: {DEFAULT_MAX_ROWS:,})"
    )
    parser.add_argument(
        "--max-mb",
        type=float,
        metavar="MB",
        help=f"refuse {what} beyond MB decompressed megabytes (default: {DEFAULT_MAX_MB:,})",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"refuse {what} if a per-ticket field (priority, category...) varies within a ticket of an event log",
    )


def limit_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``max_rows`` / ``max_mb`` / ``strict`` keyword arguments of ``TicketLog.read`` given on the command line."""
    out: dict[str, Any] = {"strict": True} if getattr(args, "strict", False) else {}
    for name, flag in (("max_rows", "--max-rows"), ("max_mb", "--max-mb")):
        value = getattr(args, name, None)
        if value is not None:
            if not value > 0:
                raise CliError(f"{flag}: invalid value {value}; must be > 0")
            out[name] = value
    return out


def check_input_file(path: str) -> None:
    """A named error unless ``path`` is an existing file."""
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{path}: is a directory (a folder, not a file)")
    if not p.is_file():
        raise CliError(f"{path}: file not found")


def check_output_file(path: str, flag: str) -> None:
    """A named error, before any work, unless ``path`` can be written: not a folder, in an existing folder."""
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{flag}: {path} is a folder; give a file name")
    if not p.parent.is_dir():
        raise CliError(f"{flag}: the folder {p.parent} does not exist")


def prepare_output_dir(path: str, flag: str) -> None:
    """Create the output folder ``path`` (and its parents) before any work, or fail with a named error."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise CliError(f"{flag}: {path} is a file, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"{flag}: cannot create the folder {path}: {exc.strerror or exc}") from None


def load_trace(args: argparse.Namespace, config: EnvironmentConfig) -> tuple[EnvironmentConfig, ArrivalTrace | None]:
    """The arrival trace to replay in ``compare`` (``--trace FILE``), or ``None`` for generated arrivals,
    with ``config`` set to start at the window's hour of the week and to run until the log is exhausted."""
    if not getattr(args, "trace", None):
        for option in ("mapping", "trace_start", "trace_end", "trace_all", "max_rows", "max_mb", "strict"):
            if getattr(args, option, None):
                raise CliError(f"--{option.replace('_', '-')} needs --trace FILE")
        return config, None
    from rl_environments.ticket_routing.traces import load_replay

    check_input_file(args.trace)
    whole = bool(getattr(args, "trace_all", False))
    if whole and (args.trace_start or args.trace_end):
        raise CliError("--trace-all: give either --trace-all or --trace-start/--trace-end")
    window = load_replay(
        args.trace,
        args.mapping,
        args.trace_start,
        args.trace_end,
        window="all" if whole else "fitted",
        **limit_options(args),
    )
    default = not (whole or args.trace_start or args.trace_end)
    note = " (the window fit-trace fits; --trace-all replays the whole log)" if default else ""
    sys.stderr.write(window.describe() + note + "\n")
    return window.configure(config), window.trace


def warn_rejected(per_episode: Any, trace: ArrivalTrace | None, config: EnvironmentConfig) -> str | None:
    """A loud warning on stderr when a replay rejected real tickets (the queue was full); the text, or ``None``."""
    if trace is None or "tickets_rejected" not in per_episode:
        return None
    rejected = per_episode["tickets_rejected"].astype(float)
    if not (rejected > 0).any():
        return None
    worst = int(rejected.max())
    queue = config.max_queue_size
    text = (
        f"WARNING: the replay rejected real tickets: {int(rejected.sum()):,} in {int((rejected > 0).sum())} of "
        f"{len(rejected)} episodes (up to {worst:,} of {len(trace):,} in one, {100 * worst / max(len(trace), 1):.1f}%) "
        f"because the queue was full (max_queue_size {queue}). Rejected tickets count in no KPI but 'rejected'; "
        f"raise max_queue_size in the config (for example to {max(2 * queue, queue + worst)}) or add agents."
    )
    sys.stderr.write(text + "\n")
    return text


def model_policies(args: argparse.Namespace, config: EnvironmentConfig) -> list[Policy]:
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


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=None if stderr else 160)
