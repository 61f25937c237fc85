"""Replayed arrivals: a fixed ticket stream instead of the Poisson generator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rl_environments.ticket_routing.core.config import PRIORITIES, TICKET_TYPES
from rl_environments.ticket_routing.core.typing import FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class ArrivalTrace:
    """Arrival times (hours since the episode start, non-decreasing) with type and priority indices.

    With ``loop=False`` the episode terminates once the trace is exhausted and every queued
    ticket has been routed; with ``loop=True`` it starts again after ``period_hours``
    (default: the last arrival time rounded up to whole weeks).
    """

    times_hours: FloatArray
    types: IntArray
    priorities: IntArray
    loop: bool = False
    period_hours: float = field(default=0.0)

    def __post_init__(self) -> None:
        times = np.asarray(self.times_hours, dtype=np.float64)
        types = np.asarray(self.types, dtype=np.int64)
        prios = np.asarray(self.priorities, dtype=np.int64)
        if times.ndim != 1 or times.size == 0:
            raise ValueError(f"trace.times_hours: expected a non-empty 1-D array, got shape {times.shape}")
        if types.shape != times.shape or prios.shape != times.shape:
            raise ValueError(
                f"trace: times_hours, types and priorities must have the same length "
                f"({times.size}, {types.size}, {prios.size})"
            )
        if not np.all(np.isfinite(times)) or times[0] < 0 or np.any(np.diff(times) < 0):
            raise ValueError("trace.times_hours: must be finite, >= 0 and non-decreasing")
        if types.min() < 0 or types.max() >= len(TICKET_TYPES):
            raise ValueError(f"trace.types: indices must lie in [0, {len(TICKET_TYPES) - 1}]")
        if prios.min() < 0 or prios.max() >= len(PRIORITIES):
            raise ValueError(f"trace.priorities: indices must lie in [0, {len(PRIORITIES) - 1}]")
        period = float(self.period_hours)
        if period <= 0.0:
            period = float(np.ceil((times[-1] + 1e-9) / 168.0) * 168.0)
        if period <= times[-1]:
            raise ValueError(f"trace.period_hours: {period} must exceed the last arrival time {times[-1]}")
        object.__setattr__(self, "times_hours", times)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "priorities", prios)
        object.__setattr__(self, "period_hours", period)

    @classmethod
    def from_records(
        cls,
        times_hours: Sequence[float],
        types: Sequence[str],
        priorities: Sequence[str],
        *,
        loop: bool = False,
    ) -> ArrivalTrace:
        """Build from names (``"billing"``, ``"high"``...) instead of indices."""
        try:
            type_idx = [TICKET_TYPES.index(t) for t in types]
        except ValueError:
            bad = next(t for t in types if t not in TICKET_TYPES)
            raise ValueError(f"trace.types: unknown ticket type {bad!r}; allowed: {', '.join(TICKET_TYPES)}") from None
        try:
            prio_idx = [PRIORITIES.index(p) for p in priorities]
        except ValueError:
            bad = next(p for p in priorities if p not in PRIORITIES)
            raise ValueError(f"trace.priorities: unknown priority {bad!r}; allowed: {', '.join(PRIORITIES)}") from None
        return cls(
            np.asarray(times_hours, dtype=np.float64),
            np.asarray(type_idx, dtype=np.int64),
            np.asarray(prio_idx, dtype=np.int64),
            loop=loop,
        )

    def __len__(self) -> int:
        return int(self.times_hours.size)

    def as_array(self) -> FloatArray:
        """(T, 3) float array: time, type index, priority index (``state.TRACE_FIELDS``)."""
        return np.stack([self.times_hours, self.types.astype(np.float64), self.priorities.astype(np.float64)], axis=1)
