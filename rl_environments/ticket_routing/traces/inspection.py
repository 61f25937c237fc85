"""A first look at a log file: its columns, what they hold, and a mapping skeleton to edit.

``inspect_log(path)`` reads every column as text (within the import limits) and reports each
column's type (time with its format, number or text), distinct and empty counts and examples; the
columns constant within a ticket (when a ticket-id column is known or guessed); the date range and
daily volume of the opening-time column; and a mapping skeleton with the role columns guessed from
their names and the label tables (``priorities``, ``types``) pre-filled with guesses to check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from rl_environments.ticket_routing.core.config import WEEKDAYS
from rl_environments.ticket_routing.traces.mapping import ColumnMapping
from rl_environments.ticket_routing.traces.reading import ReadLimits, read_table

TIME_FORMATS = (
    None,  # ISO 8601
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
)
NA_CANDIDATES = ("?", "-", "--", "NA", "N/A", "n/a", "null", "NULL", "None", "none", "nan", "NaN", "#N/A")
ROLE_HINTS = {
    "ticket_id": ("case:concept:name", "ticket_id", "ticket", "number", "case", "incident", "id", "key"),
    "opened_at": ("opened_at", "opened", "created", "open", "time:timestamp", "timestamp", "time", "date"),
    "priority": ("priority", "case:priority", "urgency", "severity", "prio"),
    "category": ("category", "case:category", "type", "product", "queue", "topic"),
    "resolved_at": ("resolved_at", "resolved", "closed_at", "closed", "solved"),
    "assignee": ("assignee", "assigned_to", "org:resource", "resource", "agent", "owner", "who", "handler", "user"),
}
STATUS_HINTS = ("lifecycle:transition", "concept:name", "activity", "status", "state", "event", "action")
RESOLVED_WORDS = ("resolve", "solved", "complete", "closed", "close", "done", "fixed")
PRIORITY_HINTS = (
    ("critical", ("crit", "urgent", "1", "p1", "blocker", "highest")),
    ("high", ("high", "2", "p2", "major")),
    ("low", ("low", "4", "5", "p4", "minor", "trivial", "lowest")),
    ("medium", ("med", "mod", "normal", "3", "p3")),
)
TYPE_HINTS = (
    ("billing", ("bill", "invoice", "pay", "refund", "charge", "account")),
    ("bug_report", ("bug", "error", "defect", "crash", "fail", "incident")),
    ("feature_request", ("feature", "request", "enhancement", "idea", "wish")),
    ("integration", ("integr", "api", "sync", "webhook", "connect", "network")),
)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: str
    """``time``, ``number`` or ``text``."""
    distinct: int
    empty: int
    examples: tuple[str, ...]
    time_format: str | None = None
    constant_in_ticket: bool | None = None


@dataclass(frozen=True)
class LogInspection:
    """What :func:`inspect_log` found."""

    source: str
    records: int
    columns: tuple[ColumnInfo, ...]
    roles: dict[str, str]
    """Guessed role -> column."""
    daily: pd.Series | None = None
    """Records per day of the opening-time column (zeros included)."""
    skeleton: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.source}: {self.records:,} records, {len(self.columns)} columns"]
        width = max(len(c.name) for c in self.columns)
        lines.append(f"  {'column':<{width}}  type    distinct    empty  in-ticket  examples")
        for c in self.columns:
            kind = c.kind + (f" ({c.time_format})" if c.time_format else "")
            constant = "-" if c.constant_in_ticket is None else ("constant" if c.constant_in_ticket else "varies")
            examples = ", ".join(repr(e) for e in c.examples)
            lines.append(
                f"  {c.name:<{width}}  {c.kind:<6} {c.distinct:>9,} {c.empty:>8,}  {constant:<9}  {examples}"
                + (f"   [{kind}]" if c.time_format else "")
            )
        if "ticket_id" in self.roles:
            lines.append(f"  ticket id (guessed): {self.roles['ticket_id']!r}; 'in-ticket' tells which columns vary")
        if self.daily is not None and len(self.daily):
            d = self.daily
            lines.append(
                f"  opened ({self.roles['opened_at']!r}): {d.index[0]:%Y-%m-%d} to {d.index[-1]:%Y-%m-%d}, "
                f"{len(d):,} days; per day mean {d.mean():.1f}, median {d.median():.0f}, min {d.min():,}, "
                f"max {d.max():,}"
            )
            by_day = d.groupby(pd.DatetimeIndex(d.index).day_of_week).mean()
            per_day = ", ".join(f"{WEEKDAYS[int(str(k))][:3]} {v:.1f}" for k, v in by_day.items())
            lines.append("  mean per weekday: " + per_day)
        return "\n".join(lines)

    def mapping_yaml(self) -> str:
        head = (
            f"# Mapping skeleton for {Path(self.source).name}, written by `ticket-routing inspect`.\n"
            "# Roles were guessed from column names and label tables from the values: check every line\n"
            "# (see docs/bring_your_own_tickets.md), then pass this file to --mapping.\n"
        )
        return head + yaml.safe_dump(self.skeleton, sort_keys=False, allow_unicode=True, width=120)


def _time_format(values: pd.Series) -> tuple[bool, str | None]:
    """Whether one of :data:`TIME_FORMATS` reads 95% of ``values``, and which (``None`` is ISO 8601)."""
    for fmt in TIME_FORMATS:
        parsed = pd.to_datetime(values, format=fmt if fmt else "ISO8601", errors="coerce", utc=True)
        if parsed.notna().mean() >= 0.95:
            return True, fmt
    return False, None


def _guess(label: str, hints: tuple[tuple[str, tuple[str, ...]], ...], default: str) -> str:
    text = label.strip().casefold()
    for name, words in hints:
        if any(text == w or (len(w) > 1 and w in text) for w in words):
            return name
    return default


def _role(names: list[str], hints: tuple[str, ...], taken: set[str]) -> str | None:
    lowered = {n.casefold(): n for n in names if n not in taken}
    for hint in hints:
        if hint in lowered:
            return lowered[hint]
    for hint in hints:
        for low, name in lowered.items():
            if len(hint) > 3 and hint in low:
                return name
    return None


def inspect_log(
    path: str | Path,
    mapping: ColumnMapping | str | Path | None = None,
    *,
    limits: ReadLimits | None = None,
    separator: str | None = None,
    encoding: str | None = None,
) -> LogInspection:
    """Inspect a log file (every column as text); ``mapping`` (optional) fixes the roles it names;
    ``separator`` / ``encoding`` read a CSV before there is a mapping (they go into the skeleton)."""
    p = Path(path)
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        mapping = ColumnMapping.from_yaml(mapping)
    if mapping is None and (separator is not None or encoding is not None):
        mapping = ColumnMapping(separator=separator, encoding=encoding or "utf-8", source="<options>")
    options: dict[str, Any] = {"limits": limits or ReadLimits()}
    if mapping is not None:
        options.update(separator=mapping.separator, encoding=mapping.encoding)
    header = list(read_table(p, None, **options).header)
    frame = read_table(p, header, **options).frame
    frame = frame.apply(lambda s: s.where(s.notna() & (s.astype(str).str.strip() != ""), None))
    taken: set[str] = set()
    roles: dict[str, str] = {}
    for role, hints in ROLE_HINTS.items():
        given = getattr(mapping, role, None) if mapping is not None else None
        name = given if given in header else _role(header, hints, taken)
        if name is not None:
            roles[role] = name
            taken.add(name)
    ids = frame[roles["ticket_id"]] if "ticket_id" in roles else None
    infos = []
    formats: dict[str, str | None] = {}
    for name in header:
        col = frame[name]
        values = col.dropna().astype(str)
        sample = values.drop_duplicates().head(500)
        kind, fmt = "text", None
        if len(sample) and pd.to_numeric(sample, errors="coerce").notna().mean() >= 0.95:
            kind = "number"
        elif len(sample):
            found, fmt = _time_format(sample)
            if found:
                kind = "time"
                formats[name] = fmt
        constant = None
        if ids is not None and name != roles["ticket_id"]:
            constant = bool((col.groupby(ids, sort=False).nunique() <= 1).all())
        infos.append(
            ColumnInfo(name, kind, int(values.nunique()), int(col.isna().sum()), tuple(sample.head(3)), fmt, constant)
        )
    if "opened_at" in roles and roles["opened_at"] not in formats:
        times = [n for n in header if n in formats]
        roles.pop("opened_at")
        if times:
            roles["opened_at"] = times[0]
    daily = None
    if "opened_at" in roles:
        col = roles["opened_at"]
        opened = pd.to_datetime(frame[col], format=formats[col] or "ISO8601", errors="coerce", utc=True)
        opened = opened.dt.tz_localize(None)
        if ids is not None:
            opened = opened.groupby(ids, sort=False).min()
        days = opened.dropna().dt.floor("D")
        if len(days):
            index = pd.date_range(days.min(), days.max(), freq="D")
            daily = days.value_counts().reindex(index, fill_value=0).rename("tickets")
    skeleton = _skeleton(frame, roles, formats)
    if mapping is not None and mapping.separator is not None:
        skeleton["separator"] = mapping.separator
    if mapping is not None and mapping.encoding != "utf-8":
        skeleton["encoding"] = mapping.encoding
    if "ticket_id" in roles and "resolved_at" not in roles:  # an event log: resolution from an event?
        status = _role([c.name for c in infos if c.constant_in_ticket is False], STATUS_HINTS, set(roles.values()))
        if status is not None:
            labels = frame[status].dropna().astype(str).unique()
            done = [v for v in labels if any(w in v.casefold() for w in RESOLVED_WORDS)][:5]
            if done:
                skeleton["resolved_when"] = {"column": status, "values": done, "take": "first"}
    return LogInspection(str(p), len(frame), tuple(infos), roles, daily, skeleton)


def _skeleton(frame: pd.DataFrame, roles: dict[str, str], formats: dict[str, str | None]) -> dict[str, Any]:
    columns = {role: roles.get(role) for role in ("ticket_id", "opened_at", "priority", "category")}
    columns |= {role: roles.get(role) for role in ("resolved_at", "assignee")}
    out: dict[str, Any] = {"columns": {k: v for k, v in columns.items() if v is not None}}
    opened = roles.get("opened_at")
    if opened is not None and formats.get(opened):
        out["timestamp_format"] = formats[opened]
    present: set[object] = set()
    for name in frame.columns:
        present.update(frame[name].dropna().unique())
    sentinels = [v for v in NA_CANDIDATES if v in present]
    out["na_values"] = sentinels  # cells that mean "missing" in this file (found; check them)
    if "priority" in roles:
        labels = frame[roles["priority"]].dropna().astype(str).value_counts().head(20)
        out["priorities"] = {label: _guess(label, PRIORITY_HINTS, "medium") for label in labels.index}
    else:
        out["columns"]["priority"] = None
        out["default_priority"] = "medium"
    if "category" in roles:
        labels = frame[roles["category"]].dropna().astype(str).value_counts().head(40)
        out["types"] = {label: _guess(label, TYPE_HINTS, "technical") for label in labels.index}
        out["default_type"] = "technical"
    return out
