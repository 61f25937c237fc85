"""Rendering, kept apart from the simulation: a text view and a matplotlib frame (imported lazily).

Both draw from the environment's public records only: ``env.agents()`` (:class:`~.records.Agent`),
``env.current_ticket()`` (:class:`~.records.Ticket`), ``env.clock_hours``, ``env.kpis()`` and
``env.action_masks()``; KPI labels, units and formats come from the KPI catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from rl_environments.ticket_routing.core.config import TICKET_TYPES
from rl_environments.ticket_routing.core.kpi_catalog import kpi
from rl_environments.ticket_routing.core.records import Agent, Ticket
from rl_environments.ticket_routing.core.typing import AnyArray, BoolArray

_SHORT = {"technical": "tech", "billing": "bill", "feature_request": "feat", "bug_report": "bug", "integration": "intg"}

VIEW_KPIS = ("tickets_resolved", "mean_resolution_hours", "sla_compliance_pct", "csat_pct", "expertise_match_pct")
"""The KPIs of the text view's last line, in order."""


class Viewable(Protocol):
    """What the viewer reads from an environment: its public records, never its state arrays."""

    @property
    def clock_hours(self) -> float: ...

    def agents(self) -> list[Agent]: ...

    def current_ticket(self) -> Ticket | None: ...

    def kpis(self) -> dict[str, Any]: ...

    def action_masks(self) -> BoolArray: ...


def kpi_text(name: str, value: Any) -> str:
    """``"<label> <value> <unit>"`` from the KPI catalog (counts as integers, NaN as ``-``)."""
    entry = kpi(name)
    shown = str(value) if isinstance(value, (int, np.integer)) else entry.format(float(value))
    return " ".join(part for part in (entry.label, shown, entry.unit) if part)


def render_text(env: Viewable) -> str:
    """Current ticket, queue, agents table and headline KPIs as plain text."""
    ticket = env.current_ticket()
    kpis = env.kpis()
    day, hour = divmod(env.clock_hours, 24.0)
    lines = [f"t = {env.clock_hours:8.2f} h (day {int(day)}, {hour:05.2f} h)  decision {kpis['decisions']}"]
    if ticket is None:
        lines.append("ticket : none waiting")
    else:
        lines.append(f"ticket : {ticket.ticket_type} / {ticket.priority}, waiting {ticket.age_hours:.2f} h")
    lines.append(f"queue  : {_counts(kpis, 'tickets_waiting', 'tickets_rejected')}")
    header = "agent  on  load  " + " ".join(f"{_SHORT[t]:>5}" for t in TICKET_TYPES)
    lines.append(header)
    mask = env.action_masks()
    for agent in env.agents():
        exp = " ".join(f"{agent.expertise[t]:5.2f}" for t in TICKET_TYPES)
        flag = "*" if mask[agent.agent_id] else " "
        online = "y" if agent.online else "n"
        lines.append(f"{agent.agent_id:>4}{flag}  {online:>2}  {agent.workload:>2}/{agent.capacity:<2} {exp}")
    lines.append("kpis   : " + ", ".join(kpi_text(name, kpis[name]) for name in VIEW_KPIS))
    return "\n".join(lines)


def _counts(kpis: Mapping[str, Any], *names: str) -> str:
    """``"3 waiting, 0 rejected"``: counts followed by their catalog labels."""
    return ", ".join(f"{kpis[name]} {kpi(name).label}" for name in names)


class FrameRenderer:
    """Draws agents' workload and expertise with matplotlib (Agg) into an RGB array."""

    def __init__(self) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        self.figure: Any = Figure(figsize=(8, 4), dpi=80)
        self.ax_load, self.ax_exp = self.figure.subplots(1, 2)

    def frame(self, env: Viewable) -> AnyArray:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        agents = env.agents()
        self.ax_load.clear()
        colors = ["tab:blue" if agent.online else "tab:gray" for agent in agents]
        self.ax_load.barh(np.arange(len(agents)), [agent.workload for agent in agents], color=colors)
        self.ax_load.set_xlim(0, max((agent.capacity for agent in agents), default=1))
        self.ax_load.set_xlabel("open tickets")
        self.ax_load.set_ylabel("agent")
        ticket = env.current_ticket()
        title = "no ticket waiting" if ticket is None else f"{ticket.ticket_type} / {ticket.priority}"
        waiting = f"{kpi('tickets_waiting').label}={env.kpis()['tickets_waiting']}"
        self.ax_load.set_title(f"t={env.clock_hours:.1f} h  {waiting}  next: {title}", fontsize=8)
        self.ax_exp.clear()
        expertise = np.array([[agent.expertise[t] for t in TICKET_TYPES] for agent in agents], dtype=np.float64)
        self.ax_exp.imshow(expertise, vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
        self.ax_exp.set_xticks(range(len(TICKET_TYPES)), [_SHORT[t] for t in TICKET_TYPES], fontsize=7)
        self.ax_exp.set_title("expertise", fontsize=8)
        canvas = FigureCanvasAgg(self.figure)
        canvas.draw()  # type: ignore[no-untyped-call]
        rgba: AnyArray = np.asarray(canvas.buffer_rgba())  # type: ignore[no-untyped-call]
        frame: AnyArray = rgba[:, :, :3].copy()
        return frame

    def close(self) -> None:
        self.figure.clear()


TEXT_LEGEND = (
    "legend : t = simulated hours since Monday 00:00 (day 0 = Monday); decision = routing decisions so far\n"
    "         agent rows: * = may take the ticket now (online with room); on = on shift (y/n);\n"
    "         load = open tickets / capacity; tech bill feat bug intg = expertise (0-1) for technical, billing,\n"
    "         feature request, bug report, integration tickets; kpis: resolution in hours from arrival, shares in %"
)
"""What the columns and marks of :func:`render_text` mean (``ticket-routing simulate --render ansi`` prints it)."""
