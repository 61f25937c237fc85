"""The ticket log (one row per ticket) and the replay windows cut from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import PRIORITIES, TICKET_TYPES, EnvironmentConfig
from rl_environments.ticket_routing.traces.errors import MissingColumnError, WindowError
from rl_environments.ticket_routing.traces.importing import ImportReport, import_frame
from rl_environments.ticket_routing.traces.mapping import ColumnMapping
from rl_environments.ticket_routing.traces.reading import DEFAULT_MAX_MB, DEFAULT_MAX_ROWS, ReadLimits, read_table

HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True, eq=False)
class TicketLog:
    """One row per ticket, sorted by opening time.

    ``tickets`` columns: ``opened_at`` (datetime64), ``ticket_type`` and ``priority`` (names),
    ``resolved_at`` (datetime64, NaT if unresolved), ``category``, ``assignee`` (text or None),
    ``row`` (where the ticket's values came from: the line of the file where that record starts,
    header = line 1, or the 1-based data row of a Parquet file or an in-memory table).
    """

    tickets: pd.DataFrame
    source: str
    report: ImportReport
    activity: pd.DataFrame | None = None
    """When each assignee was at work (``time``, ``assignee``; see ``importing.import_frame``)."""

    def __len__(self) -> int:
        return len(self.tickets)

    # ----------------------------------------------------------------- construction
    @classmethod
    def read(
        cls,
        path: str | Path,
        mapping: ColumnMapping | str | Path | None = None,
        *,
        max_rows: int = DEFAULT_MAX_ROWS,
        max_mb: float = DEFAULT_MAX_MB,
        strict: bool = False,
    ) -> TicketLog:
        """Read a log file (CSV, ``.csv.gz``, a zip holding one CSV, or Parquet); ``mapping`` is a
        :class:`ColumnMapping`, a mapping file, a shipped mapping name, or ``None`` for
        :meth:`ColumnMapping.infer`. Files of more than ``max_rows`` records or ``max_mb``
        decompressed megabytes are refused (:class:`~.errors.LimitError`). ``strict`` makes a field
        that varies within a ticket of an event log an error instead of a warning in the report."""
        p = Path(path)
        limits = ReadLimits(max_rows, max_mb)
        if mapping is not None and not isinstance(mapping, ColumnMapping):
            mapping = ColumnMapping.from_yaml(mapping)
        options: dict[str, Any] = {"limits": limits}
        if mapping is not None:
            options.update(separator=mapping.separator, encoding=mapping.encoding)
        first = read_table(p, None, **options)  # the header (and, for XES, every event)
        header = list(first.header)
        if mapping is None:
            mapping = ColumnMapping.infer(header)
        missing = [(role, col) for role, col in mapping.columns.items() if col not in header]
        if missing:
            role, col = missing[0]
            shown = ", ".join(header[:40]) + (f"... ({len(header)} columns)" if len(header) > 40 else "")
            raise MissingColumnError(
                f"column {col!r} ({role}) not found; the file has: {shown}", source=str(p), column=col
            )
        raw = first if len(first.frame) else read_table(p, mapping.read_columns, **options)
        tickets, report, activity = import_frame(
            raw.frame,
            mapping,
            p.name,
            rows=raw.rows,
            unit=raw.unit,
            counts={"extra_cells": raw.extra_cells, "first_extra": raw.first_extra, "short_rows": raw.short_rows},
            strict=strict,
        )
        return cls(tickets, p.name, report, activity)

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, mapping: ColumnMapping | None = None, *, source: str = "<frame>", strict: bool = False
    ) -> TicketLog:
        """Import an in-memory table (cells as text or timestamps) with ``mapping``."""
        if mapping is None:
            mapping = ColumnMapping.infer([str(c) for c in frame.columns])
        tickets, report, activity = import_frame(frame, mapping, source, strict=strict)
        return cls(tickets, source, report, activity)

    # ----------------------------------------------------------------- windows and counts
    @property
    def opened(self) -> pd.Series:
        return self.tickets["opened_at"]

    def bounds(self, start: object = None, end: object = None) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The window ``[start, end)`` as timestamps: ``start`` rounded down to the hour (default: the
        first ticket's hour), ``end`` by default the hour after the last ticket."""
        first, last = self.opened.iloc[0], self.opened.iloc[-1]
        lo = _timestamp("start", start, self.source) if start is not None else first
        hi = _timestamp("end", end, self.source) if end is not None else last.floor("h") + HOUR
        lo = lo.floor("h")
        if hi <= lo:
            raise WindowError(f"window end {hi} must be after its start {lo}", source=self.source)
        return lo, hi

    def between(self, start: object = None, end: object = None) -> TicketLog:
        """Tickets opened in ``[start, end)`` (timestamps or text; start rounded down to the hour)."""
        lo, hi = self.bounds(start, end)
        keep = (self.opened >= lo) & (self.opened < hi)
        if not keep.any():
            raise WindowError(f"no tickets opened in [{lo}, {hi})", source=self.source)
        out = self.tickets[keep].reset_index(drop=True)
        return TicketLog(out, self.source, self.report, self.activity)

    def counts(self, freq: str = "D", start: object = None, end: object = None) -> pd.Series:
        """Tickets opened per period (``"D"`` days, ``"h"`` hours) in the window, zeros included."""
        lo, hi = self.bounds(start, end)
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
        lo, hi = self.bounds(start, end)
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


def load_replay(
    file: str | Path,
    mapping: ColumnMapping | str | Path | None = None,
    start: object = None,
    end: object = None,
    *,
    loop: bool = False,
    window: str = "fitted",
    **limits: Any,
) -> ReplayWindow:
    """The replay window of a ticket-log file (``limits``: ``max_rows``, ``max_mb``, ``strict`` of
    :meth:`TicketLog.read`). Without ``start`` and ``end``, ``window="fitted"`` replays the window
    that ``estimate_scenario`` (``fit-trace``) fits by default, the log's active days; ``"all"``
    replays the whole log."""
    if window not in ("fitted", "all"):
        raise ValueError(f"window: invalid value {window!r}; allowed: fitted, all")
    log = TicketLog.read(file, mapping, **limits)
    if start is None and end is None and window == "fitted":
        from rl_environments.ticket_routing.traces.fitting import active_window

        start, end = active_window(log)
    return log.replay(start, end, loop=loop)
