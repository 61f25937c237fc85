"""rl-environments: Gymnasium environments for operations problems.

Importing the package registers ``TicketRouting-v0`` with Gymnasium, and the scored tasks
``TicketRouting-Balanced-v0``, ``TicketRouting-Hard-v0`` and ``TicketRouting-ServiceDesk-v0``
(each a fixed scenario, objective and episode length: see ``rl_environments.ticket_routing.tasks``).

``gymnasium.make("TicketRouting-v0")`` returns the environment itself, without Gymnasium's
order-enforcing and passive-checker wrappers (the environment raises on a ``step`` before
``reset`` itself and passes ``check_env``), so ``action_masks()`` and the other methods are
reachable directly; under further wrappers use ``env.get_wrapper_attr("action_masks")()``. The
registered spec leaves ``max_episode_steps`` unset because the episode length depends on the
config; each environment's ``env.spec.max_episode_steps`` states its own ``episode_length``.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.3.0"

if "TicketRouting-v0" not in registry:
    register(
        id="TicketRouting-v0",
        entry_point="rl_environments.ticket_routing.core.environment:TicketRoutingEnv",
        vector_entry_point="rl_environments.ticket_routing.core.vector_env:TicketRoutingVectorEnv",
        order_enforce=False,
        disable_env_checker=True,
    )

# The scored tasks (rl_environments/ticket_routing/tasks/registry.py defines them; a test keeps the two lists equal).
TASK_IDS = ("TicketRouting-Balanced-v0", "TicketRouting-Hard-v0", "TicketRouting-ServiceDesk-v0")
for _task_id in TASK_IDS:
    if _task_id not in registry:
        register(
            id=_task_id,
            entry_point="rl_environments.ticket_routing.tasks:make_env",
            vector_entry_point="rl_environments.ticket_routing.tasks:make_vec_env",
            kwargs={"task_id": _task_id},
            order_enforce=False,
            disable_env_checker=True,
        )

__all__ = ["TASK_IDS", "__version__"]
