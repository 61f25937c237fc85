"""Staffing and what-if planning: the smallest team that meets service targets, and grids of scenarios.

* :func:`plan_staffing` (``ticket-routing plan``): the smallest ``num_agents`` whose 95% confidence
  intervals meet SLA / CSAT / p90 targets, with the Erlang C and square-root staffing estimate beside it.
* :func:`run_sweep` (``ticket-routing sweep``): a grid over any configuration fields, policies and
  seeds, written to a results file as cells finish, and resumed from it.
* Backends: in this process, local worker processes, or Ray tasks (Ray is imported only when used).

See docs/planning.md.
"""

from __future__ import annotations

from rl_environments.ticket_routing.planning.backends import (
    Backend,
    BackendError,
    ProcessBackend,
    RayBackend,
    SerialBackend,
    make_backend,
)
from rl_environments.ticket_routing.planning.erlang import ErlangEstimate, erlang_estimate, hourly_needs
from rl_environments.ticket_routing.planning.staffing import (
    PlanResult,
    Targets,
    TargetUnreachableError,
    TeamRun,
    plan_staffing,
)
from rl_environments.ticket_routing.planning.tasks import Task, apply_fields, run_task

__all__ = [
    "Backend",
    "BackendError",
    "ErlangEstimate",
    "PlanResult",
    "ProcessBackend",
    "RayBackend",
    "SerialBackend",
    "TargetUnreachableError",
    "Targets",
    "Task",
    "TeamRun",
    "apply_fields",
    "erlang_estimate",
    "hourly_needs",
    "make_backend",
    "plan_staffing",
    "run_task",
]
