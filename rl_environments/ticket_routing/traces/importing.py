"""Import steps: a table of cells and a mapping become one row per ticket, with a report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.config import PRIORITIES, TICKET_TYPES
from rl_environments.ticket_routing.core.safe_yaml import preview
from rl_environments.ticket_routing.traces.errors import (
    DateParseError,
    LogFileError,
    MissingColumnError,
    MissingValueError,
    TicketLogError,
    TimeOrderError,
    UnknownCategoryError,
    UnknownPriorityError,
)
from rl_environments.ticket_routing.traces.events import reduce_events
from rl_environments.ticket_routing.traces.mapping import ColumnMapping, normalize_label, type_key
from rl_environments.ticket_routing.traces.times import map_unique, parse_times

TICKET_COLUMNS = ("opened_at", "ticket_type", "priority", "resolved_at", "category", "assignee", "work_hours", "row")


@dataclass(frozen=True)
class ImportReport:
    """What an import did with the rows of a file."""

    rows_read: int
    rows_used: int
    """Rows that became tickets (one per ticket)."""
    dropped: dict[str, int]
    """Rows not used, by reason (e.g. earlier updates of the same ticket)."""
    defaulted: dict[str, int]
    """Tickets whose type came from ``default_type``, by reason."""
    resolved: int
    """Tickets with a resolution time."""
    missing: dict[str, dict[str, int]] = field(default_factory=dict)
    """Cells read as missing, per mapped column: ``{"empty": n, "'?'": m}`` (empty or listed in ``na_values``)."""
    extra_cells: int = 0
    """Cells beyond the header's column count (not read)."""
    first_extra: int | None = None
    short_rows: int = 0
    """Records with fewer cells than the header (the absent cells read as empty)."""
    unit: str = "row"
    """What the ``row`` numbers count: ``line`` (file lines, header = 1) or ``row`` (data rows)."""
    warnings: tuple[str, ...] = ()
    """Findings that do not stop the import (fields that vary within a ticket of an event log)."""

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def summary(self) -> str:
        lines = [
            f"read {self.rows_read:,} rows: {self.rows_used:,} used (one per ticket), {self.rows_dropped:,} dropped"
        ]
        lines += [f"  dropped: {n:,} ({reason})" for reason, n in self.dropped.items()]
        lines += [f"  default type for {n:,} tickets ({reason})" for reason, n in self.defaulted.items()]
        if self.extra_cells:
            lines.append(
                f"  dropped: {self.extra_cells:,} cells beyond the header's columns (first on {self.unit} "
                f"{self.first_extra})"
            )
        if self.short_rows:
            lines.append(f"  {self.short_rows:,} records have fewer cells than the header (the rest read as empty)")
        for column, counts in self.missing.items():
            detail = ", ".join(f"{label} {n:,}" for label, n in counts.items())
            lines.append(f"  read as missing in {column!r}: {sum(counts.values()):,} cells ({detail})")
        lines.append(f"  {self.resolved:,} of {self.rows_used:,} tickets have a resolution time")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def _mark_missing(
    frame: pd.DataFrame, columns: list[str], na_values: tuple[str, ...]
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """``frame`` with empty cells and cells listed in ``na_values`` set to NaN, and their counts."""
    frame = frame.copy()
    counts: dict[str, dict[str, int]] = {}
    for col in columns:
        series = frame[col]
        isna = series.isna().to_numpy(dtype=bool)
        listed = np.zeros(len(series), dtype=bool)
        empty = isna
        found: dict[str, int] = {}
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            text = series.where(~isna, "").astype(str).str.strip()
            empty = isna | (text == "").to_numpy(dtype=bool)
            if na_values:
                listed = ~empty & text.isin(na_values).to_numpy(dtype=bool)
                found = {repr(v): int(n) for v, n in text[listed].value_counts().items()}
        if empty.any():
            counts[col] = {"empty": int(empty.sum()), **found}
        elif found:
            counts[col] = found
        if empty.any() or listed.any():
            frame[col] = series.mask(empty | listed)
    return frame, counts


def _text(series: pd.Series) -> pd.Series:
    out: pd.Series = series.astype(object).where(series.notna(), None)
    return out


def import_frame(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    source: str,
    *,
    rows: np.ndarray | None = None,
    unit: str = "row",
    counts: dict[str, Any] | None = None,
    strict: bool = False,
) -> tuple[pd.DataFrame, ImportReport, pd.DataFrame | None]:
    """One row per ticket (columns :data:`TICKET_COLUMNS`, sorted by opening time), the report, and
    the assignees' activity (``time``, ``assignee``: every event with an assignee when the opening-time
    column holds event times, else each ticket's resolution time; ``None`` without an assignee column).

    ``rows`` numbers the records (file lines with ``unit="line"``; default: data rows 1, 2...);
    ``counts`` adds reading counts to the report (``extra_cells``, ``first_extra``, ``short_rows``);
    ``strict`` refuses event logs whose per-ticket fields vary within a ticket.
    """
    cols = mapping.columns
    header = [str(c) for c in frame.columns]
    for role, col in cols.items():
        if col not in header:
            raise MissingColumnError(
                f"column {col!r} ({role}) not found; the table has: {', '.join(header)}", source=source, column=col
            )
    if len(frame) == 0:
        raise LogFileError("no data rows after the header", source=source)
    frame = frame.reset_index(drop=True)
    for name, when in (("resolved_when", mapping.resolved_when), ("working_when", mapping.working_when)):
        if when is not None and when["column"] not in header:
            column = when["column"]
            raise MissingColumnError(f"column {column!r} ({name}) not found", source=source, column=column)
    frame, missing = _mark_missing(frame, mapping.read_columns, mapping.na_values)
    rows_read = len(frame)
    numbers = np.arange(1, rows_read + 1) if rows is None else np.asarray(rows, dtype=np.int64)
    dropped: dict[str, int] = {}
    keep = pd.Series(True, index=frame.index)
    later = mapping.ticket_id is not None and mapping.rule("priority") == "last_non_empty"
    for role in ("opened_at", "priority"):
        if role not in cols or (role == "priority" and later):
            continue  # a default priority, or checked per ticket
        col = cols[role]
        empty = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
        if empty.any():
            if not mapping.drop_incomplete:
                raise MissingValueError(
                    f"empty {role} ({int(empty.sum())} empty cells; set drop_incomplete: true to drop such rows)",
                    source=source,
                    row=int(numbers[int(np.flatnonzero(empty.to_numpy(dtype=bool))[0])]),
                    column=col,
                    unit=unit,
                )
            dropped[f"empty {role}"] = int((empty & keep).sum())
            keep &= ~empty
    row_numbers = pd.Series(numbers, index=frame.index)
    frame, row_numbers = frame[keep], row_numbers[keep]
    if len(frame) == 0:
        raise LogFileError("no usable rows", source=source)

    bad_rows = row_numbers.to_numpy()
    opened = parse_times(
        frame[cols["opened_at"]], mapping.timestamp_format, cols["opened_at"], source, bad_rows, unit, mapping.timezone
    )
    opened.index = frame.index

    def fail(cls: type[TicketLogError], mask: pd.Series, detail: str, column: str) -> None:
        pos = int(np.flatnonzero(mask.to_numpy(dtype=bool))[0])
        raise cls(detail, source=source, row=int(bad_rows[pos]), column=column, unit=unit)

    table = mapping.priorities or {normalize_label(p): p for p in PRIORITIES}
    if mapping.priority is None:
        prio_raw = pd.Series(mapping.default_priority, index=frame.index, dtype=object)
    else:
        prio_raw = frame[mapping.priority]
    priority = map_unique(prio_raw, lambda v: table.get(normalize_label(v)))
    unknown = priority.isna() & prio_raw.notna()
    if unknown.any():
        label = prio_raw[unknown].iloc[0]
        fail(
            UnknownPriorityError,
            unknown,
            f"unknown priority label {preview(label)}; known: {', '.join(table)}",
            str(mapping.priority),
        )

    defaulted: dict[str, int] = {}
    if mapping.category is not None:
        category = _text(frame[mapping.category])
        types = mapping.types or {type_key(t): t for t in TICKET_TYPES}
        ticket_type = map_unique(category, lambda v: types.get(type_key(v)))
        missing_cat = category.isna()
        unmapped = ticket_type.isna() & ~missing_cat
        if mapping.default_type is None:
            if missing_cat.any():
                fail(
                    UnknownCategoryError,
                    missing_cat,
                    "empty category and no default_type in the mapping",
                    mapping.category,
                )
            if unmapped.any():
                fail(
                    UnknownCategoryError,
                    unmapped,
                    f"category {preview(category[unmapped].iloc[0])} is not in the types table and no default_type "
                    "is set",
                    mapping.category,
                )
        ticket_type = ticket_type.fillna(mapping.default_type)
    else:
        category = pd.Series(None, index=frame.index, dtype=object)
        ticket_type = pd.Series(mapping.default_type or "technical", index=frame.index, dtype=object)
        missing_cat = pd.Series(True, index=frame.index)
        unmapped = pd.Series(False, index=frame.index)

    if mapping.resolved_at is not None:
        resolved = parse_times(
            frame[mapping.resolved_at],
            mapping.timestamp_format,
            mapping.resolved_at,
            source,
            bad_rows,
            unit,
            mapping.timezone,
        )
        resolved.index = frame.index
        early = resolved.notna() & (resolved < opened)
        if early.any():
            fail(
                TimeOrderError,
                early,
                f"resolved at {resolved[early].iloc[0]} before it was opened at {opened[early].iloc[0]}",
                mapping.resolved_at,
            )
    else:
        resolved = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")

    tickets = pd.DataFrame(
        {
            "opened_at": opened,
            "ticket_type": ticket_type.astype(object),
            "priority": priority.astype(object),
            "resolved_at": resolved,
            "category": category,
            "assignee": _text(frame[mapping.assignee]) if mapping.assignee is not None else None,
            "row": row_numbers,
            "_missing_cat": missing_cat,
            "_unmapped": unmapped,
        },
        index=frame.index,
    )

    warnings: list[str] = []
    activity: pd.DataFrame | None = None
    if mapping.ticket_id is not None:
        ids = _text(frame[mapping.ticket_id])
        if ids.isna().any():
            fail(MissingValueError, ids.isna(), "empty ticket id", mapping.ticket_id)
        tickets["_id"] = ids
        if mapping.working_when is not None:
            working = set(mapping.working_when["values"])
            tickets["_working"] = map_unique(
                frame[mapping.working_when["column"]], lambda v: normalize_label(v) in working
            )
            tickets["_working"] = tickets["_working"].fillna(False).astype(bool)
        if mapping.resolved_when is not None:
            matches = set(mapping.resolved_when["values"])
            tickets["_resolves"] = map_unique(
                frame[mapping.resolved_when["column"]], lambda v: normalize_label(v) in matches
            )
            tickets["_resolves"] = tickets["_resolves"].fillna(False).astype(bool)
        if mapping.order_by is not None:
            order = _order_values(frame[mapping.order_by], mapping, source, bad_rows, unit)
            tickets = tickets.assign(_order=order.to_numpy()).sort_values("_order", kind="stable")
        if mapping.assignee is not None and mapping.rule("opened_at") in ("min", "max"):  # event times
            activity = _activity(tickets["opened_at"], tickets["assignee"])
        tickets, merged, warnings = reduce_events(tickets, mapping, source, unit, strict)
        if merged:
            dropped[f"{'earlier' if mapping.keep == 'last' else 'later'} updates of the same ticket"] = merged
    if tickets["_missing_cat"].any() and mapping.category is not None:
        defaulted["empty category"] = int(tickets["_missing_cat"].sum())
    if tickets["_unmapped"].any():
        defaulted["category not in the types table"] = int(tickets["_unmapped"].sum())
    if mapping.category is None:
        defaulted["no category column"] = len(tickets)
    if "work_hours" not in tickets:
        tickets["work_hours"] = np.nan
    tickets = tickets.sort_values("opened_at", kind="stable").reset_index(drop=True)
    if activity is None and mapping.assignee is not None:  # who resolved (else opened) each ticket, when
        activity = _activity(tickets["resolved_at"].fillna(tickets["opened_at"]), tickets["assignee"])
    tickets = tickets[list(TICKET_COLUMNS)]
    report = ImportReport(
        rows_read=rows_read,
        rows_used=len(tickets),
        dropped=dropped,
        defaulted=defaulted,
        resolved=int(tickets["resolved_at"].notna().sum()),
        missing=missing,
        unit=unit,
        warnings=tuple(warnings),
        **(counts or {}),
    )
    return tickets, report, activity


def _activity(times: pd.Series, who: pd.Series) -> pd.DataFrame:
    """``time`` and ``assignee`` of every row with an assignee, sorted by time."""
    keep = who.notna() & times.notna()
    frame = pd.DataFrame({"time": times[keep].to_numpy(), "assignee": who[keep].astype(str).to_numpy()})
    out: pd.DataFrame = frame.sort_values("time", kind="stable").reset_index(drop=True)
    return out


def _order_values(
    series: pd.Series, mapping: ColumnMapping, source: str, rows: np.ndarray, unit: str = "row"
) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().all():
        return numbers
    times = pd.to_datetime(series, format=mapping.timestamp_format or "ISO8601", errors="coerce")
    if times.notna().all():
        return times
    bad = numbers.isna() & times.isna()
    pos = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
    raise DateParseError(
        f"order_by value {preview(series.iloc[pos])} is neither a number nor a date/time",
        source=source,
        row=int(rows[pos]),
        column=mapping.order_by,
        unit=unit,
    )
