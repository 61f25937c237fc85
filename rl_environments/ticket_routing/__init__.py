"""Support-ticket routing: route B2B SaaS tickets to human agents.

>>> from rl_environments.ticket_routing import TicketRoutingEnv
"""

from __future__ import annotations

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import (
    PRIORITIES,
    REWARD_COMPONENTS,
    TICKET_TYPES,
    EnvironmentConfig,
)
from rl_environments.ticket_routing.core.environment import TicketRoutingEnv, UnknownKeywordError
from rl_environments.ticket_routing.core.vector_env import TicketRoutingVectorEnv

__all__ = [
    "PRIORITIES",
    "REWARD_COMPONENTS",
    "TICKET_TYPES",
    "ArrivalTrace",
    "EnvironmentConfig",
    "TicketRoutingEnv",
    "TicketRoutingVectorEnv",
    "UnknownKeywordError",
]
