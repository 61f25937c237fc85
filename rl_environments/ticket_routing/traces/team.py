"""The team and the service fitted from a log, and the warnings a fit owes its reader.

**Team.** From the assignees' activity (every event with an assignee in an event log, else who
resolved each ticket and when): the team size is the median number of different people active in
a week (every whole week of the window; the window itself if shorter), and the shift pattern is
read from the mean number of people active in each hour of the week: working days are the days
with at least 25% of the busiest day's activity; the shift covers the hours of those days with at
least 20% of the busiest hour's activity, from the end of the longest quiet stretch. The
environment has one shift pattern for everyone, so staggered rotas come out as one long shift.

**Service.** Where the log has working statuses (``working_when`` in the mapping: the time from an
"in progress" event to the ticket's next event), the effort of a type is the median of its tickets'
summed in-progress hours times the mean agent speed. Otherwise it comes from resolution times: the 25th
percentile of the hours from opening to resolution (the quick quarter, whose elapsed time is
mostly work), times the mean speed of an agent of the base config (``base_effort_hours`` is the
work of a fully expert agent). Resolution times also hold queueing, waiting for the customer and
nights, so this is an upper bound in most logs; types with fewer than :data:`MIN_SAMPLE` resolved
tickets keep the base value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.config import TICKET_TYPES, WEEKDAYS

MIN_SAMPLE = 30
"""Fewest tickets behind an estimate (SLA target, effort) before the fit warns or keeps the base value."""
WEEK = pd.Timedelta(days=7)


@dataclass(frozen=True)
class TeamFit:
    """The team read from the assignees' activity."""

    agents: int
    """Median number of different people active per week."""
    people: int
    """Different people active in the whole window."""
    active: np.ndarray
    """Mean number of people active in each hour of the week (168 values, Monday 00:00 first)."""
    work_days: tuple[str, ...]
    shift_start_hour: int
    shift_hours: int

    def summary(self) -> str:
        per_day = self.active.reshape(7, 24).max(axis=1)
        days = ", ".join(f"{d[:3]} {v:.1f}" for d, v in zip(WEEKDAYS, per_day, strict=True))
        return (
            f"  team (from the assignees): {self.agents} agents (median people active per week; {self.people} "
            f"in the whole window); shifts {self.shift_start_hour:02d}:00 for {self.shift_hours} h on "
            f"{', '.join(d[:3] for d in self.work_days)}; most people active at once per day: {days}"
        )


def fit_team(activity: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> TeamFit | None:
    """The :class:`TeamFit` of the activity in ``[start, end)``, or ``None`` without any."""
    if activity is None:
        return None
    a = activity[(activity["time"] >= start) & (activity["time"] < end)]
    if a.empty:
        return None
    times = a["time"]
    hour_of_week = (times.dt.day_of_week * 24 + times.dt.hour).to_numpy()
    week = ((times - start) // WEEK).to_numpy()
    cells = pd.DataFrame({"week": week, "how": hour_of_week, "who": a["assignee"].to_numpy()})
    distinct = cells.drop_duplicates().groupby(["week", "how"]).size().groupby("how").sum()
    hours = pd.date_range(start, end - pd.Timedelta(hours=1), freq="h")
    exposure = np.bincount(hours.day_of_week * 24 + hours.hour, minlength=168).astype(np.float64)
    active = np.zeros(168)
    active[distinct.index.to_numpy()] = distinct.to_numpy()
    active = np.divide(active, exposure, out=np.zeros(168), where=exposure > 0)
    whole = int((end - start) // WEEK)
    per_week = cells[cells["week"] < whole].groupby("week")["who"].nunique() if whole else None
    people = int(cells["who"].nunique())
    agents = round(float(per_week.median())) if per_week is not None and len(per_week) else people
    daily = active.reshape(7, 24).sum(axis=1)
    days = tuple(d for d, v in zip(WEEKDAYS, daily, strict=True) if v >= 0.25 * daily.max())
    hourly = active.reshape(7, 24)[[WEEKDAYS.index(d) for d in days]].mean(axis=0)
    on = hourly >= 0.2 * hourly.max()
    start_hour, length = _shift(on)
    return TeamFit(max(agents, 1), people, active, days, start_hour, length)


def _shift(on: np.ndarray) -> tuple[int, int]:
    """Start and length of the shortest daily window (wrapping midnight) holding every ``on`` hour."""
    if on.all():
        return 0, 24
    best_len, best_end = -1, 0
    for h in range(24):  # the longest run of off hours, circularly
        if on[h]:
            continue
        run = 0
        while run < 24 and not on[(h + run) % 24]:
            run += 1
        if run > best_len:
            best_len, best_end = run, (h + run) % 24
    return best_end, 24 - best_len


def fit_effort(
    tickets: pd.DataFrame, base_effort: tuple[float, ...], mean_speed: float
) -> tuple[tuple[float, ...], dict[str, int], str]:
    """``base_effort_hours`` per ticket type (see the module docstring), the sample behind each, and
    the method: the median in-progress hours where the log has working statuses (``working_when``),
    else the 25th percentile of the resolution hours; either times ``mean_speed``."""
    work = tickets["work_hours"] if "work_hours" in tickets else pd.Series(np.nan, index=tickets.index)
    if work.notna().sum() >= MIN_SAMPLE:
        hours, quantile, method = work, 0.5, "median in-progress hours x mean speed"
    else:
        hours = (tickets["resolved_at"] - tickets["opened_at"]) / pd.Timedelta(hours=1)
        quantile, method = 0.25, "25th percentile of resolution hours x mean speed"
    out: list[float] = []
    samples: dict[str, int] = {}
    for t, default in zip(TICKET_TYPES, base_effort, strict=True):
        sample = hours[(tickets["ticket_type"] == t) & hours.notna()]
        samples[t] = len(sample)
        if len(sample) < MIN_SAMPLE:
            out.append(float(default))
            continue
        out.append(round(float(np.clip(sample.quantile(quantile) * mean_speed, 0.05, 1e4)), 2))
    return tuple(out), samples, method


def fit_warnings(
    window: pd.DataFrame, daily: pd.Series, counts: np.ndarray, exposure: np.ndarray, sla_samples: dict[str, int]
) -> list[str]:
    """Thin samples, unresolved shares, uneven daily volume and sparse weekly-profile cells."""
    out: list[str] = []
    thin = [f"{p} (n = {n})" for p, n in sla_samples.items() if 0 < n < MIN_SAMPLE]
    if thin:
        out.append(f"SLA targets from fewer than {MIN_SAMPLE} resolved tickets: {', '.join(thin)}")
    unresolved = float(window["resolved_at"].isna().mean()) if len(window) else 0.0
    if unresolved > 0:
        out.append(
            f"{100 * unresolved:.1f}% of the window's tickets have no resolution time; the SLA targets and the "
            "service effort use only resolved tickets (too short if the unresolved ones are the slow ones)"
        )
    busy = daily[daily > 0]
    if len(busy) >= 7:
        median = float(busy.median())
        peak_day, peak = pd.Timestamp(str(daily.idxmax())), float(daily.max())
        if peak > 3 * median:
            out.append(
                f"uneven daily volume: {peak_day:%Y-%m-%d} had {peak:,.0f} tickets, {peak / median:.1f} "
                f"times the median day ({median:,.0f}); check for bulk imports or batch closures"
            )
    seen = exposure > 0
    sparse = int(((counts < 5) & (counts > 0) & seen).sum())
    if sparse:
        out.append(
            f"{sparse} of the {int(seen.sum())} weekly-profile hours rest on 1-4 tickets; the profile is noisy "
            "there (a longer window helps)"
        )
    return out
