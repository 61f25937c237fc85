"""Rendering, kept apart from the simulation: a text view and a matplotlib frame (imported lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rl_environments.ticket_routing.core.config import TICKET_TYPES
from rl_environments.ticket_routing.core.dynamics import I_QLEN
from rl_environments.ticket_routing.core.typing import AnyArray

if TYPE_CHECKING:
    from rl_environments.ticket_routing.core.environment import TicketRoutingEnv

_SHORT = {"technical": "tech", "billing": "bill", "feature_request": "feat", "bug_report": "bug", "integration": "intg"}


def _fmt(value: float) -> str:
    return "-" if value != value else f"{value:.1f}"  # NaN check without numpy


def render_text(env: TicketRoutingEnv) -> str:
    """Current ticket, queue, agents table and headline KPIs as plain text."""
    ticket = env.current_ticket()
    kpis = env.kpis()
    day, hour = divmod(env.clock_hours, 24.0)
    lines = [f"t = {env.clock_hours:8.2f} h (day {int(day)}, {hour:05.2f} h)  decision {kpis['decisions']}"]
    if ticket is None:
        lines.append("ticket : none waiting")
    else:
        lines.append(f"ticket : {ticket.ticket_type} / {ticket.priority}, waiting {ticket.age_hours:.2f} h")
    lines.append(f"queue  : {kpis['tickets_waiting']} waiting, {kpis['tickets_rejected']} rejected")
    header = "agent  on  load  " + " ".join(f"{_SHORT[t]:>5}" for t in TICKET_TYPES)
    lines.append(header)
    mask = env.action_masks()
    for agent in env.agents():
        exp = " ".join(f"{agent.expertise[t]:5.2f}" for t in TICKET_TYPES)
        flag = "*" if mask[agent.agent_id] else " "
        online = "y" if agent.online else "n"
        lines.append(f"{agent.agent_id:>4}{flag}  {online:>2}  {agent.workload:>2}/{agent.capacity:<2} {exp}")
    lines.append(
        "kpis   : "
        f"resolved {kpis['tickets_resolved']}, mean {_fmt(kpis['mean_resolution_hours'])} h, "
        f"SLA {_fmt(kpis['sla_compliance_pct'])} %, CSAT {_fmt(kpis['csat_pct'])} %, "
        f"expert match {_fmt(kpis['expertise_match_pct'])} %"
    )
    return "\n".join(lines)


class FrameRenderer:
    """Draws agents' workload and expertise with matplotlib (Agg) into an RGB array."""

    def __init__(self) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        self.figure: Any = Figure(figsize=(8, 4), dpi=80)
        self.ax_load, self.ax_exp = self.figure.subplots(1, 2)

    def frame(self, env: TicketRoutingEnv) -> AnyArray:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        sim = env.sim
        n = env.config.num_agents
        self.ax_load.clear()
        colors = ["tab:blue" if on else "tab:gray" for on in sim.online[0]]
        self.ax_load.barh(np.arange(n), sim.workload[0], color=colors)
        self.ax_load.set_xlim(0, env.config.max_workload)
        self.ax_load.set_xlabel("open tickets")
        self.ax_load.set_ylabel("agent")
        ticket = env.current_ticket()
        title = "no ticket waiting" if ticket is None else f"{ticket.ticket_type} / {ticket.priority}"
        self.ax_load.set_title(f"t={env.clock_hours:.1f} h  queue={int(sim.ist[0, I_QLEN])}  next: {title}", fontsize=8)
        self.ax_exp.clear()
        self.ax_exp.imshow(sim.expertise[0], vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto")
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
    "         feature request, bug report, integration tickets; kpis: SLA and CSAT in %, hours from arrival"
)
"""What the columns and marks of :func:`render_text` mean (``ticket-routing simulate --render ansi`` prints it)."""
