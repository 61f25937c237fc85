"""The viewer draws from the environment's public records and the KPI catalog, never from state arrays."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv
from rl_environments.ticket_routing.core import viewer
from rl_environments.ticket_routing.core.config import TICKET_TYPES
from rl_environments.ticket_routing.core.kpi_catalog import kpi
from rl_environments.ticket_routing.core.records import Agent, Ticket


class RecordsOnly:
    """An environment reduced to its public records: any other attribute the viewer read would fail."""

    clock_hours = 27.5

    def __init__(self) -> None:
        self._agents = [
            Agent(0, dict.fromkeys(TICKET_TYPES, 0.25), workload=3, capacity=8, online=True),
            Agent(1, {t: float(i) / 4 for i, t in enumerate(TICKET_TYPES)}, workload=0, capacity=8, online=False),
        ]

    def agents(self) -> list[Agent]:
        return self._agents

    def current_ticket(self) -> Ticket | None:
        return Ticket("billing", "high", arrival_hours=26.0, age_hours=1.5)

    def kpis(self) -> dict[str, Any]:
        return {
            "decisions": 7,
            "tickets_waiting": 4,
            "tickets_rejected": 1,
            "tickets_resolved": 5,
            "mean_resolution_hours": 2.25,
            "sla_compliance_pct": 80.0,
            "csat_pct": math.nan,
            "expertise_match_pct": 60.0,
        }

    def action_masks(self) -> np.ndarray:
        return np.array([True, False])


def test_text_view_shows_the_records_with_catalog_labels() -> None:
    text = viewer.render_text(RecordsOnly())
    lines = text.splitlines()
    assert lines[0].startswith("t =    27.50 h (day 1, 03.50 h)  decision 7")
    assert lines[1] == "ticket : billing / high, waiting 1.50 h"
    assert lines[2] == f"queue  : 4 {kpi('tickets_waiting').label}, 1 {kpi('tickets_rejected').label}"
    assert lines[4].startswith("   0*   y   3/8 ") and lines[5].startswith("   1    n   0/8 ")
    assert lines[5].endswith(" ".join(f"{i / 4:5.2f}" for i in range(len(TICKET_TYPES))))
    expected = [
        f"{kpi('tickets_resolved').label} 5",
        f"{kpi('mean_resolution_hours').label} {kpi('mean_resolution_hours').format(2.25)} h",
        f"{kpi('sla_compliance_pct').label} 80.0 %",
        f"{kpi('csat_pct').label} - %",
        f"{kpi('expertise_match_pct').label} 60.0 %",
    ]
    assert lines[-1] == "kpis   : " + ", ".join(expected)


def test_frame_draws_workload_online_and_expertise_from_the_agent_records() -> None:
    pytest.importorskip("matplotlib")
    renderer = viewer.FrameRenderer()
    frame = renderer.frame(RecordsOnly())
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    bars = renderer.ax_load.patches
    assert [bar.get_width() for bar in bars] == [3, 0]
    assert renderer.ax_load.get_xlim() == (0.0, 8.0)
    assert "waiting=4" in renderer.ax_load.get_title() and "billing / high" in renderer.ax_load.get_title()
    image = renderer.ax_exp.get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(image)[1], [i / 4 for i in range(len(TICKET_TYPES))])
    np.testing.assert_allclose(np.asarray(image)[0], 0.25)
    renderer.close()


def test_the_environment_renders_the_same_records_it_exposes() -> None:
    env = TicketRoutingEnv(EnvironmentConfig(num_agents=3, episode_length=20), render_mode="ansi")
    env.reset(seed=2)
    env.step(int(np.flatnonzero(env.action_masks())[0]))
    lines = env.render().splitlines()
    kpis = env.kpis()
    assert lines[2] == f"queue  : {kpis['tickets_waiting']} waiting, {kpis['tickets_rejected']} rejected"
    for agent, line in zip(env.agents(), lines[4:7], strict=True):
        assert f"{agent.workload:>2}/{agent.capacity:<2}" in line
