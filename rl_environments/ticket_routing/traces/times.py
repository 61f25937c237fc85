"""Reading timestamps: formats, UTC offsets and time zones, with a named error for every failure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.safe_yaml import preview
from rl_environments.ticket_routing.traces.errors import DateParseError

# A wall time followed by a UTC offset: "...09:30+05:00", "...09:30:00.123Z", "... 09:30 -0500".
_WITH_OFFSET = re.compile(r"^(.*\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})$")


def map_unique(series: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``func`` of each non-missing cell (``None`` for missing ones), computed once per distinct value."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.array([func(u) for u in uniques] + [None], dtype=object)
    out: pd.Series = pd.Series(table[codes], index=series.index, dtype=object)
    return out


def _wall_time(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=None)
    except ValueError:
        return None


def _to_datetime(text: pd.Series, fmt: str | None, utc: bool = False) -> pd.Series:
    """``pd.to_datetime`` with unparseable cells as NaT; cells that make pandas raise also become NaT."""
    form = fmt if fmt is not None else "ISO8601"
    try:
        out: pd.Series = pd.to_datetime(text, format=form, errors="coerce", utc=utc)
        return out
    except (ValueError, TypeError, OverflowError):  # e.g. mixed offsets under a %z format: cell by cell
        values = [
            pd.NaT if v is None else pd.to_datetime(pd.Series([v]), format=form, errors="coerce", utc=True).iloc[0]
            for v in text
        ]
        each: pd.Series = pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True), index=text.index)
        return each


def parse_times(
    series: pd.Series,
    fmt: str | None,
    column: str,
    source: str,
    rows: np.ndarray,
    unit: str = "row",
    timezone: str = "keep",
) -> pd.Series:
    """Naive wall-clock times (datetime64[ns]) of ``series``; see ``ColumnMapping.timezone``."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = pd.Series(series)
    else:
        text = map_unique(series, lambda v: str(v).strip() or None)
        parts = text.str.extract(_WITH_OFFSET) if fmt is None or "%z" not in fmt else None
        if parts is not None and parts[0].notna().any():
            aware = parts[0].notna()
            if timezone == "keep":  # the wall time as written; the offset is dropped
                parsed = _to_datetime(text.where(~aware, parts[0]), fmt)
            else:
                naive = _to_datetime(text.where(~aware, None), fmt)
                converted = _to_datetime(text.where(aware, None), fmt, utc=True)
                local = converted.dt.tz_convert(timezone).dt.tz_localize(None)
                parsed = naive.where(~aware, local)
        elif fmt is not None and "%z" in fmt and timezone == "keep":  # the wall time as written
            parsed = pd.to_datetime(map_unique(text, lambda v: _wall_time(v, fmt)), errors="coerce")
        else:
            parsed = _to_datetime(text, fmt, utc=fmt is not None and "%z" in fmt)
        bad = parsed.isna() & text.notna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy(dtype=bool))[0])
            expected = f"format {fmt!r}" if fmt is not None else "ISO 8601 (set timestamp_format in the mapping)"
            raise DateParseError(
                f"cannot parse {preview(text.iloc[first])} as a date/time with {expected} ({int(bad.sum())} bad cells)",
                source=source,
                row=int(rows[first]),
                column=column,
                unit=unit,
            )
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = (
            parsed.dt.tz_localize(None) if timezone == "keep" else parsed.dt.tz_convert(timezone).dt.tz_localize(None)
        )
    out: pd.Series = parsed.astype("datetime64[ns]")
    return out
