"""The unit of work every backend runs: one configuration, one policy, one block of seeds.

A :class:`Task` holds only plain data (the configuration as ``EnvironmentConfig.to_dict()``, a
policy name, the number of episodes and the first seed), so it pickles small and the same way for
local worker processes and for Ray. :func:`run_task` is a module-level function (spawn-safe: a fresh
process imports it by name) that calls :func:`evaluation.evaluate`, so a task's rows are exactly
what ``ticket-routing compare`` computes for that configuration, policy and seeds.

This module also turns dotted field names (``arrivals.rate_per_day``) into validated configurations.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rl_environments.ticket_routing.core.config import EnvironmentConfig


@dataclass(frozen=True)
class Task:
    """``episodes`` episodes of ``policy`` on ``config`` with seeds ``seed .. seed + episodes - 1``."""

    config: Mapping[str, Any]
    """The scenario as plain data (``EnvironmentConfig.to_dict()``)."""
    policy: str
    """A baseline policy name (see ``policies.POLICY_NAMES``)."""
    episodes: int
    seed: int
    scenario: str | None = None
    """Label of the ``scenario`` column (default: ``evaluation.scenario_name`` of the config)."""


def run_task(task: Task) -> list[dict[str, Any]]:
    """Run ``task`` and return one row of KPIs per episode (see :func:`evaluation.evaluate`)."""
    from rl_environments.ticket_routing.evaluation import evaluate

    config = EnvironmentConfig.from_dict(task.config)
    frame = evaluate(task.policy, config, task.episodes, task.seed, scenario=task.scenario)
    return [{str(key): value for key, value in row.items()} for row in frame.to_dict("records")]


def check_field(base: Mapping[str, Any], name: str) -> None:
    """Raise a ``ValueError`` naming ``name`` unless it is a field of ``base`` (a config's ``to_dict()``).

    Dotted names reach into sections (``arrivals.rate_per_day``) and into per-type or per-priority
    mappings (``sla.resolution_hours.critical``).
    """
    if not isinstance(name, str) or not name or any(not part for part in name.split(".")):
        raise ValueError(f"field: invalid name {name!r}; expected a dotted name such as arrivals.rate_per_day")
    node: Any = base
    path: list[str] = []
    for part in name.split("."):
        where = ".".join(path) or "the top level"
        if not isinstance(node, Mapping):
            raise ValueError(f"{name}: unknown field; {where} is a value, not a section")
        if part not in node:
            raise ValueError(f"{name}: unknown field; allowed keys at {where}: {', '.join(map(str, node))}")
        node = node[part]
        path.append(part)


def apply_fields(base: EnvironmentConfig, values: Mapping[str, Any]) -> EnvironmentConfig:
    """``base`` with each dotted field of ``values`` set, validated by ``EnvironmentConfig.from_dict``.

    >>> apply_fields(EnvironmentConfig(), {"num_agents": 8, "arrivals.rate_per_day": 30.0}).num_agents
    8
    """
    data = copy.deepcopy(base.to_dict())
    for name, value in values.items():
        check_field(data, name)
        parts = name.split(".")
        node = data
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return EnvironmentConfig.from_dict(data)
