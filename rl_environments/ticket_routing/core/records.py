"""Records of the simulation as people see them: a ticket and an agent (built on demand from the state).

>>> Agent(agent_id=0, expertise={"billing": 0.9}, workload=2, capacity=10, online=True).has_room
True
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ticket:
    """A ticket as people see it (built on demand from the state arrays)."""

    ticket_type: str
    priority: str
    arrival_hours: float
    age_hours: float


@dataclass(frozen=True)
class Agent:
    """An agent as people see it (built on demand from the state arrays)."""

    agent_id: int
    expertise: dict[str, float]
    workload: int
    capacity: int
    online: bool

    @property
    def has_room(self) -> bool:
        return self.online and self.workload < self.capacity
