"""Real ticket logs: import a ticket history, replay it, and fit a scenario to it.

A :class:`TicketLog` reads a CSV (also inside a ``.zip``) or Parquet file through a
:class:`ColumnMapping` (which column holds the opening time, the priority, the category...,
and how labels translate into the environment's priorities and ticket types). Event logs with
one row per update reduce to one row per ticket. Every problem raises a named
:class:`TicketLogError` subclass that says the source, the row (1-based data row; the header is
line 1, so row ``n`` is line ``n + 1``) and the column.

``TicketLog.replay(start, end)`` turns a window of the log into an :class:`ArrivalTrace` aligned to
the hour of the week; ``fit_scenario(log)`` estimates an :class:`EnvironmentConfig` from it.

>>> import pandas as pd
>>> frame = pd.DataFrame({"opened_at": ["2024-01-01 09:30", "2024-01-01 10:15"], "priority": ["high", "low"]})
>>> log = TicketLog.from_frame(frame)
>>> len(log), log.replay().start_hour_of_week
(2, 9)
"""

from __future__ import annotations

import math
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import yaml

from rl_environments.ticket_routing.core.data_models import (
    PRIORITIES,
    TICKET_TYPES,
    WEEKDAYS,
    EnvironmentConfig,
)
from rl_environments.ticket_routing.core.params import HOURS_PER_WEEK, agent_schedule, weekly_intensity
from rl_environments.ticket_routing.core.trace import ArrivalTrace

MAPPINGS_DIR = Path(__file__).resolve().parent / "config" / "mappings"
HOUR = pd.Timedelta(hours=1)


# --------------------------------------------------------------------------- errors
class TicketLogError(ValueError):
    """A ticket log (or its mapping) cannot be used; says where: source, row and column."""

    def __init__(self, detail: str, *, source: str = "", row: int | None = None, column: str | None = None) -> None:
        self.detail = detail
        self.source = source
        self.row = row
        self.column = column
        where = [part for part in (source, f"row {row}" if row is not None else "") if part]
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {detail}" if where else detail)


class LogFileError(TicketLogError):
    """The file is missing, unreadable, empty or in an unsupported format."""


class MappingError(TicketLogError):
    """The column mapping is invalid (unknown key, unknown priority or ticket type name...)."""


class MissingColumnError(TicketLogError):
    """A column named by the mapping is not in the file."""


class MissingValueError(TicketLogError):
    """A required cell (opening time, priority, ticket id) is empty."""


class DateParseError(TicketLogError):
    """A timestamp cannot be parsed with the mapping's ``timestamp_format``."""


class UnknownPriorityError(TicketLogError):
    """A priority label is not in the mapping's ``priorities`` table."""


class UnknownCategoryError(TicketLogError):
    """A category is not in the mapping's ``types`` table and no ``default_type`` is set."""


class TimeOrderError(TicketLogError):
    """A ticket is resolved before it was opened."""


class WindowError(TicketLogError):
    """A replay or fitting window is invalid or holds no tickets."""


# --------------------------------------------------------------------------- the mapping
def _norm(label: object) -> str:
    return str(label).strip().casefold()


def _type_key(label: object) -> str:
    return _norm(label).replace(" ", "_").replace("-", "_")


_COLUMN_ROLES = ("opened_at", "priority", "category", "resolved_at", "assignee", "ticket_id", "order_by")
_MAPPING_KEYS = (
    "columns",
    "timestamp_format",
    "na_values",
    "keep",
    "priorities",
    "types",
    "default_type",
    "drop_incomplete",
)


@dataclass(frozen=True)
class ColumnMapping:
    """Where the fields of a ticket live in a log, and how its labels translate.

    ``opened_at`` and ``priority`` are required columns; the others are optional (``None``).
    With ``ticket_id`` set, rows are events and each ticket keeps one row (``keep``: its ``last``
    or ``first`` row, in file order or ordered by ``order_by``). ``priorities`` maps labels to
    :data:`PRIORITIES` names and ``types`` maps categories to :data:`TICKET_TYPES` names (both
    case-insensitive; empty tables accept the names themselves). Categories missing from ``types``
    (or empty) get ``default_type``, or raise :class:`UnknownCategoryError` when it is ``None``.
    Without a category column every ticket is ``default_type`` (``technical`` if unset).
    """

    opened_at: str = "opened_at"
    priority: str = "priority"
    category: str | None = None
    resolved_at: str | None = None
    assignee: str | None = None
    ticket_id: str | None = None
    order_by: str | None = None
    timestamp_format: str | None = None
    """``strptime`` format such as ``%d/%m/%Y %H:%M``; ``None`` reads ISO 8601."""
    na_values: tuple[str, ...] = ()
    """Extra cell values that mean "missing" (pandas' defaults such as empty cells always do)."""
    keep: str = "last"
    priorities: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, str] = field(default_factory=dict)
    default_type: str | None = None
    drop_incomplete: bool = False
    """Drop (and count) rows whose opening time or priority is empty instead of failing."""
    source: str = "<mapping>"

    def __post_init__(self) -> None:
        src = self.source
        for role in _COLUMN_ROLES:
            value = getattr(self, role)
            required = role in ("opened_at", "priority")
            if (value is None and required) or (value is not None and (not isinstance(value, str) or not value)):
                raise MappingError(f"columns.{role}: invalid value {value!r}; expected a column name", source=src)
        if self.keep not in ("last", "first"):
            raise MappingError(f"keep: invalid value {self.keep!r}; allowed: last, first", source=src)
        if self.timestamp_format is not None and not isinstance(self.timestamp_format, str):
            raise MappingError(f"timestamp_format: invalid value {self.timestamp_format!r}; expected text", source=src)
        if isinstance(self.na_values, str) or not isinstance(self.na_values, Sequence):
            raise MappingError(f"na_values: invalid value {self.na_values!r}; expected a list of strings", source=src)
        object.__setattr__(self, "na_values", tuple(str(v) for v in self.na_values))
        if not isinstance(self.drop_incomplete, bool):
            raise MappingError(
                f"drop_incomplete: invalid value {self.drop_incomplete!r}; expected true/false", source=src
            )
        object.__setattr__(self, "priorities", self._table("priorities", self.priorities, PRIORITIES, _norm))
        object.__setattr__(self, "types", self._table("types", self.types, TICKET_TYPES, _type_key))
        if self.default_type is not None and self.default_type not in TICKET_TYPES:
            raise MappingError(
                f"default_type: unknown ticket type {self.default_type!r}; allowed: {', '.join(TICKET_TYPES)}",
                source=src,
            )

    def _table(self, name: str, table: object, allowed: tuple[str, ...], key: Any) -> dict[str, str]:
        if not isinstance(table, Mapping):
            raise MappingError(f"{name}: invalid value {table!r}; expected a mapping label -> name", source=self.source)
        out: dict[str, str] = {}
        for label, target in table.items():
            if target not in allowed:
                raise MappingError(
                    f"{name}.{label}: unknown name {target!r}; allowed: {', '.join(allowed)}", source=self.source
                )
            out[key(label)] = str(target)
        return out

    @property
    def columns(self) -> dict[str, str]:
        """Role -> column name, for the roles that are set."""
        return {role: getattr(self, role) for role in _COLUMN_ROLES if getattr(self, role) is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<mapping>") -> ColumnMapping:
        """Build from plain data (the YAML layout: ``columns``, ``priorities``, ``types``...); unknown keys fail."""
        if not isinstance(data, Mapping):
            raise MappingError(f"expected a mapping of settings, got {type(data).__name__}", source=source)
        for key in data:
            if key not in _MAPPING_KEYS:
                raise MappingError(f"{key}: unknown key; allowed keys: {', '.join(_MAPPING_KEYS)}", source=source)
        columns = data.get("columns", {})
        if not isinstance(columns, Mapping):
            raise MappingError(f"columns: invalid value {columns!r}; expected a mapping role -> column", source=source)
        for role in columns:
            if role not in _COLUMN_ROLES:
                raise MappingError(f"columns.{role}: unknown role; allowed: {', '.join(_COLUMN_ROLES)}", source=source)
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k != "columns"}
        if kwargs.get("na_values") is None:
            kwargs.pop("na_values", None)
        for key in ("priorities", "types"):
            if kwargs.get(key) is None:
                kwargs.pop(key, None)
        return cls(**dict(columns), **kwargs, source=source)

    @classmethod
    def from_yaml(cls, path: str | Path) -> ColumnMapping:
        """Read a mapping file (safe YAML loader); a bare name reads a shipped mapping (``uci_incident_log``)."""
        p = Path(path)
        if not p.exists() and (MAPPINGS_DIR / f"{path}.yaml").exists():
            p = MAPPINGS_DIR / f"{path}.yaml"
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError("file not found", source=str(path)) from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise MappingError(f"cannot read the mapping: {exc}", source=str(path)) from None
        return cls.from_dict(data if data is not None else {}, source=str(p))

    @classmethod
    def infer(cls, columns: Sequence[str]) -> ColumnMapping:
        """The default mapping for a file with standard column names: ``opened_at``, ``priority``
        (required), ``type`` or ``category``, ``resolved_at``, ``assignee``, ``ticket_id`` (if present)."""
        present = set(columns)
        category = "type" if "type" in present else ("category" if "category" in present else None)

        def col(name: str) -> str | None:
            return name if name in present else None

        return cls(
            category=category,
            resolved_at=col("resolved_at"),
            assignee=col("assignee"),
            ticket_id=col("ticket_id"),
            source="<default mapping>",
        )


# --------------------------------------------------------------------------- reading files
def _zip_member(archive: zipfile.ZipFile, source: str) -> str:
    """The single file of a zip archive (macOS ``__MACOSX`` resource files are ignored)."""
    names = [n for n in archive.namelist() if not n.startswith("__MACOSX/") and not n.endswith("/")]
    if len(names) != 1:
        raise LogFileError(f"expected exactly one file in the zip, found {len(names)}: {names}", source=source)
    return names[0]


def _read_raw(path: Path, usecols: Sequence[str] | None, na_values: Sequence[str], nrows: int | None) -> pd.DataFrame:
    """Read the selected columns; CSV cells as text (no type guessing), Parquet columns as stored."""
    suffix = path.suffix.lower()
    src = str(path)
    if not path.is_file():
        raise LogFileError("file not found", source=src)
    columns = list(usecols) if usecols is not None else None
    options: dict[str, Any] = {"usecols": columns, "dtype": str, "na_values": list(na_values), "nrows": nrows}
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path, columns=columns)
            return frame.head(nrows) if nrows is not None else frame
        if suffix == ".zip":
            try:
                archive = zipfile.ZipFile(path)
            except zipfile.BadZipFile:
                raise LogFileError("not a valid zip file", source=src) from None
            with archive, archive.open(_zip_member(archive, src)) as handle:
                zipped: pd.DataFrame = pd.read_csv(handle, skipinitialspace=True, **options)
            return zipped
        if suffix not in (".csv", ".txt", ".tsv"):
            raise LogFileError(
                f"unsupported file type {suffix!r}; expected .csv, .zip (one CSV) or .parquet", source=src
            )
        text: pd.DataFrame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", skipinitialspace=True, **options)
        return text
    except TicketLogError:
        raise
    except pd.errors.EmptyDataError:
        raise LogFileError("the file is empty (no header row)", source=src) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise LogFileError(f"cannot read as a table: {exc}", source=src) from None


# --------------------------------------------------------------------------- the log
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

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def summary(self) -> str:
        lines = [
            f"read {self.rows_read:,} rows: {self.rows_used:,} used (one per ticket), {self.rows_dropped:,} dropped"
        ]
        lines += [f"  dropped: {n:,} ({reason})" for reason, n in self.dropped.items()]
        lines += [f"  default type for {n:,} tickets ({reason})" for reason, n in self.defaulted.items()]
        lines.append(f"  {self.resolved:,} of {self.rows_used:,} tickets have a resolution time")
        return "\n".join(lines)


@dataclass(frozen=True, eq=False)
class TicketLog:
    """One row per ticket, sorted by opening time.

    ``tickets`` columns: ``opened_at`` (datetime64), ``ticket_type`` and ``priority`` (names),
    ``resolved_at`` (datetime64, NaT if unresolved), ``category``, ``assignee`` (text or None),
    ``row`` (the source row the ticket's values came from).
    """

    tickets: pd.DataFrame
    source: str
    report: ImportReport

    def __len__(self) -> int:
        return len(self.tickets)

    # ----------------------------------------------------------------- construction
    @classmethod
    def read(cls, path: str | Path, mapping: ColumnMapping | str | Path | None = None) -> TicketLog:
        """Read a CSV, zipped CSV or Parquet file; ``mapping`` is a :class:`ColumnMapping`, a mapping
        file, a shipped mapping name, or ``None`` for :meth:`ColumnMapping.infer`."""
        p = Path(path)
        if mapping is not None and not isinstance(mapping, ColumnMapping):
            mapping = ColumnMapping.from_yaml(mapping)
        na = mapping.na_values if mapping is not None else ()
        header = list(_read_raw(p, None, na, 0).columns)
        if mapping is None:
            mapping = ColumnMapping.infer(header)
        missing = [(role, col) for role, col in mapping.columns.items() if col not in header]
        if missing:
            role, col = missing[0]
            raise MissingColumnError(
                f"column {col!r} ({role}) not found; the file has: {', '.join(header)}", source=str(p), column=col
            )
        frame = _read_raw(p, list(dict.fromkeys(mapping.columns.values())), mapping.na_values, None)
        return cls.from_frame(frame, mapping, source=p.name)

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, mapping: ColumnMapping | None = None, *, source: str = "<frame>"
    ) -> TicketLog:
        """Import an in-memory table (cells as text or timestamps) with ``mapping``."""
        if mapping is None:
            mapping = ColumnMapping.infer([str(c) for c in frame.columns])
        return _import(frame, mapping, source)

    # ----------------------------------------------------------------- windows and counts
    @property
    def opened(self) -> pd.Series:
        return self.tickets["opened_at"]

    def _bounds(self, start: object, end: object) -> tuple[pd.Timestamp, pd.Timestamp]:
        first, last = self.opened.iloc[0], self.opened.iloc[-1]
        lo = _timestamp("start", start, self.source) if start is not None else first
        hi = _timestamp("end", end, self.source) if end is not None else last.floor("h") + HOUR
        lo = lo.floor("h")
        if hi <= lo:
            raise WindowError(f"window end {hi} must be after its start {lo}", source=self.source)
        return lo, hi

    def between(self, start: object = None, end: object = None) -> TicketLog:
        """Tickets opened in ``[start, end)`` (timestamps or text; start rounded down to the hour)."""
        lo, hi = self._bounds(start, end)
        keep = (self.opened >= lo) & (self.opened < hi)
        if not keep.any():
            raise WindowError(f"no tickets opened in [{lo}, {hi})", source=self.source)
        out = self.tickets[keep].reset_index(drop=True)
        return TicketLog(out, self.source, self.report)

    def counts(self, freq: str = "D", start: object = None, end: object = None) -> pd.Series:
        """Tickets opened per period (``"D"`` days, ``"h"`` hours) in the window, zeros included."""
        lo, hi = self._bounds(start, end)
        opened = self.opened[(self.opened >= lo) & (self.opened < hi)]
        index = pd.date_range(lo.floor(freq), hi - pd.Timedelta(microseconds=1), freq=freq)
        counts: pd.Series = opened.dt.floor(freq).value_counts().reindex(index, fill_value=0).rename("tickets")
        return counts

    def replay(self, start: object = None, end: object = None, *, loop: bool = False) -> ReplayWindow:
        """The tickets opened in ``[start, end)`` as an arrival trace.

        ``start`` is rounded down to the hour (default: the hour of the first ticket), ``end`` defaults
        to the hour after the last ticket. Times are hours since ``start``; configure the env with
        :meth:`ReplayWindow.configure` so its clock starts at ``start``'s hour of the week. A looping
        trace restarts ``end - start`` hours after the start (use whole weeks to keep the weekly
        rhythm); a non-looping one ends the episode once every ticket is routed and resolved.
        """
        lo, hi = self._bounds(start, end)
        window = self.between(lo, hi).tickets
        hours = (window["opened_at"] - lo) / HOUR
        trace = ArrivalTrace(
            hours.to_numpy(dtype=np.float64),
            window["ticket_type"].map(TICKET_TYPES.index).to_numpy(dtype=np.int64),
            window["priority"].map(PRIORITIES.index).to_numpy(dtype=np.int64),
            loop=loop,
            period_hours=float((hi - lo) / HOUR),
        )
        return ReplayWindow(trace=trace, start=lo, end=hi, start_hour_of_week=hour_of_week(lo))


def hour_of_week(moment: pd.Timestamp) -> int:
    """Hours since the Monday 00:00 before ``moment``."""
    return int(moment.day_of_week) * 24 + int(moment.hour)


def _timestamp(name: str, value: object, source: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise WindowError(f"{name}: cannot read {value!r} as a date/time", source=source) from None
    if stamp is pd.NaT:
        raise WindowError(f"{name}: cannot read {value!r} as a date/time", source=source)
    out: pd.Timestamp = stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
    return out


@dataclass(frozen=True, eq=False)
class ReplayWindow:
    """An arrival trace cut from a log, with the calendar position it starts at."""

    trace: ArrivalTrace
    start: pd.Timestamp
    end: pd.Timestamp
    start_hour_of_week: int

    def __len__(self) -> int:
        return len(self.trace)

    def configure(self, config: EnvironmentConfig) -> EnvironmentConfig:
        """``config`` with the clock starting at the window's hour of the week and, for a finite
        replay, enough decisions for every ticket (so the episode ends when the log does)."""
        length = config.episode_length if self.trace.loop else max(config.episode_length, 2 * len(self.trace) + 10)
        return config.replace(start_hour_of_week=self.start_hour_of_week, episode_length=length)

    def describe(self) -> str:
        return (
            f"replaying {len(self):,} tickets opened from {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} "
            f"(clock starts at hour {self.start_hour_of_week} of the week)"
        )

    def timestamps(self, clock_hours: Sequence[float] | np.ndarray) -> pd.DatetimeIndex:
        """Calendar times of env clock readings (``env.clock_hours``, ``Ticket.arrival_hours``)."""
        hours = np.asarray(clock_hours, dtype=np.float64) - self.start_hour_of_week
        stamps: pd.DatetimeIndex = pd.DatetimeIndex(self.start + pd.to_timedelta(hours, unit="h"))
        return stamps


# --------------------------------------------------------------------------- import steps
def _rows(mask: pd.Series) -> list[int]:
    return [int(i) + 1 for i in np.flatnonzero(mask.to_numpy(dtype=bool))]


def _text(series: pd.Series) -> pd.Series:
    out: pd.Series = series.astype(object).where(series.notna(), None)
    return out


def _parse_times(series: pd.Series, fmt: str | None, column: str, source: str, rows: np.ndarray) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = pd.Series(series)
    else:
        text = series.astype(object).where(series.notna(), None).map(lambda v: None if v is None else str(v).strip())
        parsed = pd.to_datetime(text, format=fmt if fmt is not None else "ISO8601", errors="coerce")
        bad = parsed.isna() & text.notna() & (text != "")
        if bad.any():
            row = int(rows[int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])])
            value = text[bad].iloc[0]
            expected = f"format {fmt!r}" if fmt is not None else "ISO 8601 (set timestamp_format in the mapping)"
            raise DateParseError(
                f"cannot parse {value!r} as a date/time with {expected} ({int(bad.sum())} bad cells)",
                source=source,
                row=row,
                column=column,
            )
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    out: pd.Series = parsed.astype("datetime64[ns]")
    return out


def _import(frame: pd.DataFrame, mapping: ColumnMapping, source: str) -> TicketLog:
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
    if mapping.na_values:
        frame = frame.replace(list(mapping.na_values), np.nan)
    rows_read = len(frame)
    dropped: dict[str, int] = {}
    keep = pd.Series(True, index=frame.index)
    for role in ("opened_at", "priority"):
        col = cols[role]
        empty = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
        if empty.any():
            if not mapping.drop_incomplete:
                raise MissingValueError(
                    f"empty {role} ({int(empty.sum())} empty cells; set drop_incomplete: true to drop such rows)",
                    source=source,
                    row=_rows(empty)[0],
                    column=col,
                )
            dropped[f"empty {role}"] = int((empty & keep).sum())
            keep &= ~empty
    row_numbers = pd.Series(np.arange(1, rows_read + 1), index=frame.index)
    frame, row_numbers = frame[keep], row_numbers[keep]
    if len(frame) == 0:
        raise LogFileError("no usable rows", source=source)

    bad_rows = row_numbers.to_numpy()
    opened = _parse_times(frame[cols["opened_at"]], mapping.timestamp_format, cols["opened_at"], source, bad_rows)
    opened.index = frame.index

    def fail(cls: type[TicketLogError], mask: pd.Series, detail: str, column: str) -> None:
        pos = int(np.flatnonzero(mask.to_numpy(dtype=bool))[0])
        raise cls(detail, source=source, row=int(bad_rows[pos]), column=column)

    prio_raw = frame[cols["priority"]].astype(str)
    table = mapping.priorities or {_norm(p): p for p in PRIORITIES}
    priority = prio_raw.map(lambda v: table.get(_norm(v)))
    unknown = priority.isna()
    if unknown.any():
        label = prio_raw[unknown].iloc[0]
        fail(
            UnknownPriorityError,
            unknown,
            f"unknown priority label {label!r}; known: {', '.join(table)}",
            cols["priority"],
        )

    defaulted: dict[str, int] = {}
    if mapping.category is not None:
        category = _text(frame[mapping.category])
        types = mapping.types or {_type_key(t): t for t in TICKET_TYPES}
        ticket_type = category.map(lambda v: None if v is None else types.get(_type_key(v)))
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
                    f"category {category[unmapped].iloc[0]!r} is not in the types table and no default_type is set",
                    mapping.category,
                )
        ticket_type = ticket_type.fillna(mapping.default_type)
    else:
        category = pd.Series(None, index=frame.index, dtype=object)
        ticket_type = pd.Series(mapping.default_type or "technical", index=frame.index, dtype=object)
        missing_cat = pd.Series(True, index=frame.index)
        unmapped = pd.Series(False, index=frame.index)

    if mapping.resolved_at is not None:
        resolved = _parse_times(
            frame[mapping.resolved_at], mapping.timestamp_format, mapping.resolved_at, source, bad_rows
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

    if mapping.ticket_id is not None:
        ids = _text(frame[mapping.ticket_id])
        if ids.isna().any():
            fail(MissingValueError, ids.isna(), "empty ticket id", mapping.ticket_id)
        tickets["_id"] = ids
        if mapping.order_by is not None:
            order = _order_values(frame[mapping.order_by], mapping, source, bad_rows)
            tickets = tickets.assign(_order=order.to_numpy()).sort_values("_order", kind="stable")
        grouped = tickets.groupby("_id", sort=False)
        reduced = grouped.tail(1) if mapping.keep == "last" else grouped.head(1)
        merged = len(tickets) - len(reduced)
        if merged:
            dropped[f"{'earlier' if mapping.keep == 'last' else 'later'} updates of the same ticket"] = merged
        tickets = reduced
    if tickets["_missing_cat"].any() and mapping.category is not None:
        defaulted["empty category"] = int(tickets["_missing_cat"].sum())
    if tickets["_unmapped"].any():
        defaulted["category not in the types table"] = int(tickets["_unmapped"].sum())
    if mapping.category is None:
        defaulted["no category column"] = len(tickets)
    tickets = tickets.sort_values("opened_at", kind="stable").reset_index(drop=True)
    tickets = tickets[["opened_at", "ticket_type", "priority", "resolved_at", "category", "assignee", "row"]]
    report = ImportReport(
        rows_read=rows_read,
        rows_used=len(tickets),
        dropped=dropped,
        defaulted=defaulted,
        resolved=int(tickets["resolved_at"].notna().sum()),
    )
    return TicketLog(tickets, source, report)


def _order_values(series: pd.Series, mapping: ColumnMapping, source: str, rows: np.ndarray) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().all():
        return numbers
    times = pd.to_datetime(series, format=mapping.timestamp_format or "ISO8601", errors="coerce")
    if times.notna().all():
        return times
    bad = numbers.isna() & times.isna()
    pos = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
    raise DateParseError(
        f"order_by value {series.iloc[pos]!r} is neither a number nor a date/time",
        source=source,
        row=int(rows[pos]),
        column=mapping.order_by,
    )


# --------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class ScenarioFit:
    """Estimates from a log, the sample sizes behind them, and the resulting config."""

    config: EnvironmentConfig
    source: str
    start: pd.Timestamp
    end: pd.Timestamp
    tickets: int
    left_out: int
    """Tickets of the log opened outside the window."""
    rate_per_day: float
    weekday_counts: tuple[int, ...]
    hour_counts: tuple[int, ...]
    type_counts: dict[str, int]
    priority_counts: dict[str, int]
    sla_quantile: float
    sla_samples: dict[str, int]
    sla_fitted: dict[str, bool]
    offered_load: float
    """Agent-hours of work per hour at the mean rate, under random routing."""
    target_utilization: float
    team_given: bool = False
    notes: tuple[str, ...] = ()

    @property
    def days(self) -> float:
        return float((self.end - self.start) / pd.Timedelta(days=1))

    def summary(self) -> str:
        cfg = self.config
        arr = cfg.arrivals
        n = self.tickets
        lines = [
            f"Scenario fitted from {self.source}",
            f"  window: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} ({self.days:.1f} days), "
            f"{n:,} tickets ({self.left_out:,} of the log outside it)",
            f"  arrival rate: {arr.rate_per_day:.2f} tickets/day (n = {n:,} tickets / {self.days:.1f} days)",
        ]
        per_day = ", ".join(f"{d[:3]} {c:,}" for d, c in zip(WEEKDAYS, self.weekday_counts, strict=True))
        lines.append(f"  weekly profile (7 x 24, mean 1): tickets per weekday {per_day}")
        if arr.weekly_profile is not None:
            prof = np.asarray(arr.weekly_profile)
            d, h = np.unravel_index(int(np.argmax(prof)), prof.shape)
            lines.append(f"    peak {WEEKDAYS[d][:3]} {h:02d}:00 at {prof[d, h]:.2f} x the mean; hourly shares (%):")
            shares = 100.0 * np.asarray(self.hour_counts) / max(n, 1)
            lines.append("    " + " ".join(f"{h:02d}:{s:.1f}" for h, s in enumerate(shares)))
        lines.append("  type mix: " + _mix_text(TICKET_TYPES, arr.type_mix, self.type_counts))
        lines.append("  priority mix: " + _mix_text(PRIORITIES, arr.priority_mix, self.priority_counts))
        sla = ", ".join(
            f"{p} {h:.1f} h (n = {self.sla_samples[p]:,}{'' if self.sla_fitted[p] else ', no data: kept'})"
            for p, h in zip(PRIORITIES, cfg.sla.resolution_hours, strict=True)
        )
        lines.append(f"  SLA targets ({100 * self.sla_quantile:.0f}th percentile of resolution hours): {sla}")
        if self.team_given:
            lines.append(f"  team: {cfg.num_agents} agents (given)")
        else:
            lines.append(
                f"  team: {cfg.num_agents} agents (sizing rule, not from the log: random routing keeps "
                f"{self.offered_load:.1f} agents busy on these shifts / target utilisation "
                f"{self.target_utilization:.2f}); "
                f"episode_length {cfg.episode_length} decisions (at least a week of tickets)"
            )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def to_yaml(self, path: str | Path | None = None, header: str = "") -> str:
        """The config as YAML listing only what differs from the defaults, with ``header`` comments."""
        text = header + yaml.safe_dump(config_changes(self.config), sort_keys=False, default_flow_style=None, width=120)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _mix_text(names: tuple[str, ...], mix: Sequence[float] | Mapping[str, float], counts: Mapping[str, int]) -> str:
    values = [mix[k] for k in names] if isinstance(mix, Mapping) else list(mix)
    return ", ".join(f"{k} {v:.4f} (n = {counts[k]:,})" for k, v in zip(names, values, strict=True))


def config_changes(config: EnvironmentConfig, base: EnvironmentConfig | None = None) -> dict[str, Any]:
    """The entries of ``config.to_dict()`` that differ from ``base`` (default: the defaults)."""
    ref = (base or EnvironmentConfig()).to_dict()
    out: dict[str, Any] = {}
    for key, value in config.to_dict().items():
        if isinstance(value, dict):
            diff = {k: v for k, v in value.items() if v != ref[key].get(k)}
            if diff:
                out[key] = diff
        elif value != ref[key]:
            out[key] = value
    return out


def _rounded_mix(counts: np.ndarray, digits: int = 4) -> list[float]:
    """Shares rounded to ``digits`` that still sum to exactly 1 (the largest absorbs the rounding)."""
    shares = counts / counts.sum()
    rounded = np.round(shares, digits)
    big = int(np.argmax(rounded))
    rounded[big] = round(1.0 - float(rounded.sum() - rounded[big]), digits)
    return [float(v) for v in rounded]


def config_tuple(values: Sequence[float] | Mapping[str, float]) -> tuple[float, ...]:
    """A validated config vector as a tuple (configs store tuples; the type also admits mappings)."""
    return tuple(values.values()) if isinstance(values, Mapping) else tuple(values)


def active_window(log: TicketLog, min_share: float = 0.1) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Whole days from the first to the last day with at least ``min_share`` times the busiest week's
    mean daily count (and at least one ticket): trims the sparse tails that real exports often have."""
    daily = log.counts("D", log.opened.iloc[0].floor("D"), log.opened.iloc[-1].floor("D") + pd.Timedelta(days=1))
    busiest = float(daily.rolling(7, min_periods=1).mean().max())
    busy = daily[daily >= max(min_share * busiest, 1.0)]
    return busy.index[0], busy.index[-1] + pd.Timedelta(days=1)


def offline_backlog(config: EnvironmentConfig) -> float:
    """Expected arrivals in the longest stretch of the week when no agent is online."""
    online: np.ndarray = np.asarray(agent_schedule(config).any(axis=0))
    if online.all():
        return 0.0
    expected = config.arrivals.rate_per_day / 24.0 * weekly_intensity(config)
    first = int(np.argmax(online))  # walk the week starting at an online hour so runs do not wrap
    best = run = 0.0
    for k in range(1, HOURS_PER_WEEK + 1):
        h = (first + k) % HOURS_PER_WEEK
        run = 0.0 if online[h] else run + float(expected[h])
        best = max(best, run)
    return best


def estimate_scenario(
    log: TicketLog,
    *,
    start: object = None,
    end: object = None,
    base: EnvironmentConfig | None = None,
    sla_quantile: float = 0.8,
    num_agents: int | None = None,
    target_utilization: float = 0.7,
) -> ScenarioFit:
    """Estimate a scenario from ``log`` over ``[start, end)`` (default: :func:`active_window`).

    Arrival rate = tickets / days; weekly profile = tickets per (weekday, hour) divided by how often
    that hour occurs in the window, scaled to mean 1; type and priority mixes = shares; SLA target of
    each priority = the ``sla_quantile`` quantile of its resolution hours. Other settings come from
    ``base``; unless ``num_agents`` is given, the team is sized so that the offered work under random
    routing fills ``target_utilization`` of its online hours, and an episode lasts at least a week of
    decisions. The queue is enlarged to twice the tickets expected while no agent is online.
    """
    if not 0.0 < sla_quantile <= 1.0:
        raise ValueError(f"sla_quantile: invalid value {sla_quantile!r}; must lie in (0, 1]")
    if not 0.0 < target_utilization <= 1.0:
        raise ValueError(f"target_utilization: invalid value {target_utilization!r}; must lie in (0, 1]")
    base = base or EnvironmentConfig()
    if start is None and end is None:
        lo, hi = active_window(log)
    else:
        lo, hi = log._bounds(start, end)
    window = log.between(lo, hi).tickets
    n = len(window)
    days = float((hi - lo) / pd.Timedelta(days=1))
    notes: list[str] = []
    hours = pd.date_range(lo, hi - HOUR, freq="h")
    exposure = np.bincount(hours.day_of_week * 24 + hours.hour, minlength=168).astype(np.float64)
    opened = window["opened_at"]
    how = (opened.dt.day_of_week * 24 + opened.dt.hour).to_numpy()
    counts = np.bincount(how, minlength=168).astype(np.float64)
    profile: list[list[float]] | None = None
    if exposure.min() > 0:
        intensity = counts / exposure
        intensity = intensity / intensity.mean()
        profile = [[round(float(v), 4) for v in intensity[d * 24 : d * 24 + 24]] for d in range(7)]
    else:
        notes.append("window shorter than a week: no weekly profile fitted (flat arrivals)")
    type_counts = {t: int((window["ticket_type"] == t).sum()) for t in TICKET_TYPES}
    prio_counts = {p: int((window["priority"] == p).sum()) for p in PRIORITIES}
    type_mix = _rounded_mix(np.array([type_counts[t] for t in TICKET_TYPES], dtype=np.float64))
    prio_mix = _rounded_mix(np.array([prio_counts[p] for p in PRIORITIES], dtype=np.float64))
    res_hours = (window["resolved_at"] - window["opened_at"]) / HOUR
    sla: list[float] = []
    sla_n: dict[str, int] = {}
    sla_fit: dict[str, bool] = {}
    for p, default in zip(PRIORITIES, config_tuple(base.sla.resolution_hours), strict=True):
        sample = res_hours[(window["priority"] == p) & res_hours.notna()]
        sla_n[p] = len(sample)
        sla_fit[p] = len(sample) > 0
        sla.append(max(round(float(sample.quantile(sla_quantile)), 1), 0.1) if len(sample) else float(default))
    rate = n / days
    mix = np.asarray(type_mix)
    agents = base.agents
    if agents.expertise is not None:
        mean_expertise = float(np.mean(agents.expertise))
    else:
        k = agents.specialties_per_agent / len(TICKET_TYPES)
        mean_expertise = k * float(np.mean(agents.specialist_range)) + (1 - k) * float(np.mean(agents.expertise_range))
    speed = base.service.min_speed + (1.0 - base.service.min_speed) * mean_expertise
    work = float(mix @ np.asarray(base.service.base_effort_hours)) / speed
    online = agents.shift_hours * len(agents.work_days) / 168.0
    load = rate / 24.0 * work / min(online, 1.0)
    team = num_agents if num_agents is not None else max(1, math.ceil(load / target_utilization))
    changes: dict[str, Any] = {
        "arrivals": {
            "rate_per_day": round(rate, 2),
            "type_mix": type_mix,
            "priority_mix": prio_mix,
            "weekly_profile": profile,
        },
        "sla": {"resolution_hours": sla},
    }
    changes["num_agents"] = team
    if num_agents is None:
        changes["episode_length"] = max(base.episode_length, math.ceil(7 * rate))
    if base.agents.expertise is not None and team != base.num_agents:
        changes["agents"] = {"expertise": None}
        notes.append("the base config's fixed expertise matrix was dropped because the team size changed")
    config = base.replace(**changes)
    backlog = offline_backlog(config)
    if 2.0 * backlog > config.max_queue_size:
        config = config.replace(max_queue_size=math.ceil(2.0 * backlog))
        notes.append(
            f"max_queue_size {config.max_queue_size}: twice the {backlog:.0f} tickets expected while no agent is online"
        )
    return ScenarioFit(
        config=config,
        source=log.source,
        start=lo,
        end=hi,
        tickets=n,
        left_out=len(log) - n,
        rate_per_day=rate,
        weekday_counts=tuple(int(c) for c in counts.reshape(7, 24).sum(axis=1)),
        hour_counts=tuple(int(c) for c in counts.reshape(7, 24).sum(axis=0)),
        type_counts=type_counts,
        priority_counts=prio_counts,
        sla_quantile=sla_quantile,
        sla_samples=sla_n,
        sla_fitted=sla_fit,
        offered_load=load,
        target_utilization=target_utilization,
        team_given=num_agents is not None,
        notes=tuple(notes),
    )


def fit_scenario(log: TicketLog, *, out: TextIO | None = None, **options: Any) -> EnvironmentConfig:
    """Estimate an :class:`EnvironmentConfig` from ``log`` and print the estimates with their sample
    sizes to ``out`` (default stdout). ``options`` go to :func:`estimate_scenario`."""
    fit = estimate_scenario(log, **options)
    print(log.report.summary(), file=out or sys.stdout)
    print(fit.summary(), file=out or sys.stdout)
    return fit.config


# --------------------------------------------------------------------------- checking a scenario
@dataclass(frozen=True)
class SimulatedArrivals:
    """Arrivals generated by the environment: calendar-free hours since Monday 00:00 of week 0."""

    hours: np.ndarray
    types: np.ndarray
    priorities: np.ndarray
    weeks: int
    rejected: int

    def hour_shares(self) -> np.ndarray:
        return np.bincount(np.floor(self.hours).astype(np.int64) % 24, minlength=24) / self.hours.size

    def priority_shares(self) -> np.ndarray:
        return np.bincount(self.priorities, minlength=len(PRIORITIES)) / self.priorities.size

    def weekday_weekend_ratio(self) -> float:
        day = (np.floor(self.hours / 24.0).astype(np.int64)) % 7
        return float(np.mean(day < 5) / 5.0 / (np.mean(day >= 5) / 2.0))


def simulate_arrivals(config: EnvironmentConfig, weeks: int = 20, seed: int = 0) -> SimulatedArrivals:
    """The arrivals ``config`` generates over ``weeks`` one-week episodes (seeds ``seed``, ``seed + 1``...)
    from Monday 00:00: hour, type and priority of every ticket, read as it is routed.

    To see each ticket when it arrives, the team works around the clock with room for 100 tickets
    each during the measurement. Arrivals come from the scenario random stream, which the schedule,
    the workload cap and the actions never touch, so they are the arrivals of ``config`` itself.
    """
    from rl_environments.ticket_routing.core.environment import TicketRoutingEnv

    per_week = math.ceil(config.arrivals.rate_per_day * 8 * 1.5) + 100
    cfg = config.replace(
        start_hour_of_week=0,
        episode_length=per_week,
        max_queue_size=max(config.max_queue_size, 10_000),
        max_workload=max(config.max_workload, 100),
        agents={"shift_hours": 24, "work_days": list(WEEKDAYS)},
    )
    env = TicketRoutingEnv(cfg)
    hours: list[float] = []
    types: list[int] = []
    prios: list[int] = []
    rejected = 0
    for week in range(weeks):
        env.reset(seed=seed + week)
        while env.clock_hours < 192.0:
            ticket = env.current_ticket()
            if ticket is None:
                break
            if ticket.arrival_hours < 168.0:
                hours.append(week * 168.0 + ticket.arrival_hours)
                types.append(TICKET_TYPES.index(ticket.ticket_type))
                prios.append(PRIORITIES.index(ticket.priority))
            _, _, terminated, truncated, _ = env.step(int(np.argmax(env.action_masks())))
            if terminated or truncated:
                raise RuntimeError(f"episode ended before a week was simulated (episode_length {per_week})")
        rejected += int(env.kpis()["tickets_rejected"])
    return SimulatedArrivals(
        np.asarray(hours), np.asarray(types, dtype=np.int64), np.asarray(prios, dtype=np.int64), weeks, rejected
    )


def log_weekday_weekend_ratio(log: TicketLog, start: object = None, end: object = None) -> float:
    """Mean tickets per weekday (Mon-Fri) over mean tickets per weekend day in the window."""
    daily = log.counts("D", start, end)
    weekend = pd.DatetimeIndex(daily.index).day_of_week >= 5
    if weekend.all() or not weekend.any():
        raise WindowError("the window needs both weekdays and weekend days", source=log.source)
    return float(daily[~weekend].mean() / daily[weekend].mean())


# --------------------------------------------------------------------------- CLI bodies
def fit_trace_command(args: Any, out: TextIO | None = None) -> int:
    """``ticket-routing fit-trace FILE [--mapping FILE] [--start T] [--end T] -o scenario.yaml``."""
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


def load_replay(
    file: str | Path, mapping: str | Path | None = None, start: object = None, end: object = None, *, loop: bool = False
) -> ReplayWindow:
    """The replay window of a ticket-log file (for ``ticket-routing compare --trace FILE``)."""
    return TicketLog.read(file, mapping).replay(start, end, loop=loop)
