"""The one list of KPIs: name, label, unit, number format, which direction is better, and bounds.

Evaluation (``MAIN_KPIS``, ``CHART_KPIS``, interval bounds), the CLI tables, the comparison chart
and the dashboard read labels and directions from here. Adding a KPI to ``metrics.batch_kpis``
takes one entry below (``headline=True`` also puts it in the tables, ``chart=True`` in the chart).
A KPI without an entry still works everywhere, labelled by its name.

>>> KPIS["csat_pct"].header
'CSAT % ↑'
>>> kpi("mean_resolution_hours").direction
'lower is better'
>>> kpi("tickets_rejected").clip(-3.5, 10.0)
(0.0, 10.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rl_environments.ticket_routing.core.config import PRIORITIES


@dataclass(frozen=True)
class KPI:
    """How to show and judge one KPI.

    ``higher_is_better`` is ``True``, ``False`` or ``None`` (neither: a count that describes the
    load, such as arrivals). ``low`` / ``high`` bound every value it can take (``None``:
    unbounded); confidence intervals are clipped to them, so an interval on a count never goes
    below zero.
    """

    name: str
    label: str
    unit: str = ""
    fmt: str = "{:.1f}"
    higher_is_better: bool | None = None
    low: float | None = 0.0
    high: float | None = None
    headline: bool = False
    chart: bool = False
    description: str = ""

    @property
    def arrow(self) -> str:
        """``↑`` (higher is better), ``↓`` (lower is better) or ``""``."""
        return {True: "↑", False: "↓", None: ""}[self.higher_is_better]

    @property
    def direction(self) -> str:
        """``"higher is better"``, ``"lower is better"`` or ``""``."""
        return {True: "higher is better", False: "lower is better", None: ""}[self.higher_is_better]

    @property
    def header(self) -> str:
        """A table header: label, unit and arrow (``"mean resolution h ↓"``)."""
        return " ".join(part for part in (self.label, self.unit, self.arrow) if part)

    @property
    def title(self) -> str:
        """A chart title: label, unit in parentheses and direction (``"CSAT (%), higher is better"``)."""
        text = f"{self.label} ({self.unit})" if self.unit else self.label
        return f"{text}, {self.direction}" if self.direction else text

    def format(self, value: float) -> str:
        """``value`` in this KPI's format (``-`` for NaN)."""
        return "-" if value != value else self.fmt.format(value)

    def clip(self, low: float, high: float) -> tuple[float, float]:
        """An interval ``(low, high)`` clipped to the values this KPI can take (NaN stays NaN)."""
        if self.low is not None and not math.isnan(low):
            low = max(low, self.low)
        if self.high is not None and not math.isnan(high):
            high = min(high, self.high)
        return low, high


def _pct(name: str, label: str, **kw: Any) -> KPI:
    return KPI(name, label, "%", high=100.0, **kw)


def _count(name: str, label: str, **kw: Any) -> KPI:
    return KPI(name, label, "", "{:.1f}", **kw)


_ENTRIES: list[KPI] = [
    # Headline KPIs, in table order.
    KPI("mean_resolution_hours", "mean resolution", "h", higher_is_better=False, headline=True, chart=True,
        description="hours from arrival to resolution, over resolved tickets"),
    KPI("p90_resolution_hours", "p90 resolution", "h", higher_is_better=False, headline=True, chart=True,
        description="90th percentile of hours from arrival to resolution, over resolved tickets"),
    KPI("median_resolution_hours", "median resolution", "h", higher_is_better=False,
        description="median hours from arrival to resolution, over resolved tickets"),
    _pct("csat_pct", "CSAT", higher_is_better=True, headline=True, chart=True,
         description="share of resolved tickets whose customer was satisfied"),
    _pct("sla_compliance_pct", "SLA met", higher_is_better=True, headline=True, chart=True,
         description="share of tickets with a known outcome that met their target (rejected and overdue open "
         "tickets are misses)"),
    _pct("expertise_match_pct", "expert match", higher_is_better=True, headline=True,
         description="share of assignments to an agent with expertise >= expert_threshold"),
    _pct("mean_utilization_pct", "utilization", headline=True, chart=True,
         description="busy share of online hours, averaged over agents who were online"),
    KPI("workload_gini", "workload Gini", "", "{:.3f}", higher_is_better=False, high=1.0, headline=True, chart=True,
        description="inequality of tickets assigned across agents who were online (0 = even)"),
    _count("tickets_rejected", "rejected", higher_is_better=False, headline=True,
           description="arrivals turned away by a full queue"),
    KPI("episode_return", "return", "", "{:.0f}", higher_is_better=True, low=None, headline=True,
        description="sum of rewards over the episode"),
    # Counters.
    _count("tickets_arrived", "arrived", description="tickets that arrived"),
    _count("tickets_assigned", "assigned", description="tickets routed to an agent"),
    _count("tickets_resolved", "resolved", higher_is_better=True, description="tickets resolved"),
    _count("tickets_waiting", "waiting", higher_is_better=False, description="tickets in the queue now"),
    _count("tickets_in_service", "in service", description="open tickets held by agents now"),
    _count("tickets_open_past_sla", "open past SLA", higher_is_better=False,
           description="open tickets (waiting or in service) already past their target"),
    _count("decisions", "decisions", description="routing decisions taken"),
    _count("invalid_actions", "invalid actions", higher_is_better=False,
           description="choices of an agent who was offline or full"),
    KPI("elapsed_hours", "elapsed", "h", description="simulated hours since the reset"),
    KPI("mean_wait_hours", "mean wait", "h", "{:.2f}", higher_is_better=False,
        description="hours from arrival to assignment; tickets still waiting count with their wait so far"),
    KPI("mean_wait_hours_assigned", "mean wait (assigned)", "h", "{:.2f}", higher_is_better=False,
        description="hours from arrival to assignment, over assigned tickets"),
    _pct("sla_compliance_resolved_pct", "SLA met (resolved)", higher_is_better=True,
         description="share of resolved tickets that met their target"),
    _count("agents_online", "agents online", description="agents who were online at some time"),
    KPI("workload_std", "workload std", "", "{:.2f}", higher_is_better=False,
        description="time-averaged standard deviation of open tickets across agents"),
]  # fmt: skip
for _p in PRIORITIES:
    _ENTRIES += [
        _count(f"resolved_{_p}", f"resolved {_p}", higher_is_better=True, description=f"{_p} tickets resolved"),
        KPI(f"mean_resolution_hours_{_p}", f"mean resolution {_p}", "h", higher_is_better=False,
            description=f"hours from arrival to resolution, over resolved {_p} tickets"),
        KPI(f"p90_resolution_hours_{_p}", f"p90 resolution {_p}", "h", higher_is_better=False,
            description=f"90th percentile resolution hours, over resolved {_p} tickets"),
        _pct(f"sla_compliance_pct_{_p}", f"SLA met {_p}", higher_is_better=True,
             description=f"share of {_p} tickets with a known outcome that met their target"),
    ]  # fmt: skip

KPIS: dict[str, KPI] = {k.name: k for k in _ENTRIES}
"""Every KPI with an entry, by name."""

MAIN_KPIS: tuple[str, ...] = tuple(k.name for k in _ENTRIES if k.headline)
"""KPIs shown by default in tables (CLI, dashboard)."""

CHART_KPIS: tuple[str, ...] = tuple(k.name for k in _ENTRIES if k.chart)
"""KPIs drawn in the comparison chart, one panel each."""


def kpi(name: str) -> KPI:
    """The catalog entry of ``name``, or a plain one labelled by the name (unbounded, no direction)."""
    found = KPIS.get(name)
    if found is not None:
        return found
    return KPI(name, name.replace("_", " "), fmt="{:.2f}", low=None)


__all__ = ["CHART_KPIS", "KPI", "KPIS", "MAIN_KPIS", "kpi"]
