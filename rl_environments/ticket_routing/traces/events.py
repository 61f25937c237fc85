"""Event logs: the rows (events) of each ticket become one ticket, field by field.

Each field comes from one row of its ticket, chosen by the field's rule (``first``, ``last``,
``last_non_empty``, ``min``, ``max``; see :data:`~.mapping.RULES`); the resolution time can be the
time of the first or last event that matches ``resolved_when``. A per-ticket field that takes
different values within a ticket while the mapping reads it from one row is reported (and refused
with ``strict``), since the choice of row then decides the value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.traces.errors import InconsistentTicketError, MissingValueError, TimeOrderError
from rl_environments.ticket_routing.traces.mapping import ColumnMapping

# Per-ticket fields checked for values that vary within a ticket, and the columns that travel together.
_CHECKED = ("opened_at", "priority", "category", "resolved_at")
_TOGETHER = {"category": ("category", "ticket_type", "_missing_cat", "_unmapped")}


def _pick(rows: pd.DataFrame, column: str, rule: str, first: pd.Series, last: pd.Series) -> pd.Series:
    """Per ticket id, the position (``_pos``) of the row that ``rule`` picks for ``column``."""
    if rule == "first":
        return first
    if rule == "last":
        return last
    valid = rows[rows[column].notna()]
    if rule == "last_non_empty":
        chosen = valid.groupby("_id", sort=False)["_pos"].last()
        picked: pd.Series = chosen.reindex(last.index).fillna(last).astype(np.int64)
        return picked
    ordered = valid.sort_values([column, "_pos"], kind="stable")
    grouped = ordered.groupby("_id", sort=False)["_pos"]
    chosen = grouped.first() if rule == "min" else grouped.last()
    fallback = first if rule == "min" else last
    out: pd.Series = chosen.reindex(first.index).fillna(fallback).astype(np.int64)
    return out


def _work_hours(rows: pd.DataFrame, ids: pd.Series) -> pd.Series:
    """Per ticket (in order of first appearance), the hours from each working event to the ticket's
    next event in time, summed; NaN for tickets without a working event."""
    order = rows.sort_values(["_id", "opened_at", "_pos"], kind="stable")
    following = order.groupby("_id", sort=False)["opened_at"].shift(-1)
    spans = ((following - order["opened_at"]) / pd.Timedelta(hours=1)).where(order["_working"])
    total = spans.groupby(order["_id"], sort=False).sum(min_count=1)
    out: pd.Series = total.reindex(pd.unique(ids))
    return out


def reduce_events(
    rows: pd.DataFrame, mapping: ColumnMapping, source: str, unit: str, strict: bool = False
) -> tuple[pd.DataFrame, int, list[str]]:
    """One row per ticket id (``rows["_id"]``), in the order of first appearance.

    ``rows`` holds the parsed per-row fields in event order (``order_by`` or file order) and
    ``_resolves`` (whether the row matches ``resolved_when``). Returns the tickets, how many rows
    were merged into others, and the warnings about fields that vary within a ticket.
    """
    rows = rows.reset_index(drop=True)
    rows["_pos"] = np.arange(len(rows))
    grouped = rows.groupby("_id", sort=False)["_pos"]
    first, last = grouped.first(), grouped.last()
    base = first if mapping.keep == "first" else last
    out = rows.iloc[base.to_numpy()].reset_index(drop=True)
    for role in ("opened_at", "priority", "category", "resolved_at", "assignee"):
        if role == "resolved_at" and mapping.resolved_when is not None:
            continue
        pos = _pick(rows, role, mapping.rule(role), first, last).to_numpy()
        for column in _TOGETHER.get(role, (role,)):
            out[column] = rows[column].to_numpy()[pos]
    warnings: list[str] = []
    ids = rows["_id"]
    for role in _CHECKED:
        name: str | None = getattr(mapping, role, None)
        if name is None or mapping.rule(role) in ("min", "max") or role not in rows:
            continue
        if role == "resolved_at" and mapping.resolved_when is not None:
            continue
        varying = int((rows.groupby(ids, sort=False)[role].nunique() > 1).sum())
        if varying:
            message = (
                f"column {name!r} ({role}) varies within {varying:,} tickets; the mapping takes it from the "
                f"{mapping.rule(role).replace('_', ' ')} row of each (set fields.{role} to choose another rule)"
            )
            if strict:
                raise InconsistentTicketError(message, source=source, column=name)
            warnings.append(message)
    if mapping.working_when is not None:
        out["work_hours"] = _work_hours(rows, ids).to_numpy()
    if mapping.resolved_when is not None:
        take = mapping.resolved_when["take"]
        times = rows["opened_at"].where(rows["_resolves"])
        resolved = times.groupby(ids, sort=False).min() if take == "first" else times.groupby(ids, sort=False).max()
        out["resolved_at"] = resolved.to_numpy()
        early = out["resolved_at"].notna() & (out["resolved_at"] < out["opened_at"])
        if early.any():
            k = int(np.flatnonzero(early.to_numpy())[0])
            raise TimeOrderError(
                f"ticket {out['_id'].iloc[k]!r} is resolved at {out['resolved_at'].iloc[k]} before it was "
                f"opened at {out['opened_at'].iloc[k]}",
                source=source,
                row=int(out["row"].iloc[k]),
                column=mapping.resolved_when["column"],
                unit=unit,
            )
    empty = out["priority"].isna()
    if empty.any() and mapping.priority is not None:
        k = int(np.flatnonzero(empty.to_numpy())[0])
        raise MissingValueError(
            f"ticket {out['_id'].iloc[k]!r} has no priority in any of its rows",
            source=source,
            row=int(out["row"].iloc[k]),
            column=mapping.priority,
            unit=unit,
        )
    return out, len(rows) - len(out), warnings
