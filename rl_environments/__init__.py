"""rl-environments: Gymnasium environments for operations problems.

Importing the package registers ``TicketRouting-v0`` with Gymnasium.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.3.0"

if "TicketRouting-v0" not in registry:
    register(
        id="TicketRouting-v0",
        entry_point="rl_environments.ticket_routing.core.environment:TicketRoutingEnv",
        vector_entry_point="rl_environments.ticket_routing.core.vector_env:TicketRoutingVectorEnv",
    )

__all__ = ["__version__"]
