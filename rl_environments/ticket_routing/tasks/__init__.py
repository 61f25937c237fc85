"""Scored tasks: fixed scenarios with a fixed objective and held-out evaluation seeds, and a normalized score.

A task fixes everything that decides a number on a leaderboard: the scenario (a shipped preset),
the objective (the reward), the episode length and the evaluation seeds. Each is registered with
Gymnasium, so ``gymnasium.make(task_id)`` gives the task's environment.

| id                             | scenario       | objective        | decisions | evaluation seeds |
|--------------------------------|----------------|------------------|-----------|------------------|
| `TicketRouting-Balanced-v0`    | `balanced`     | `resolution_sla` | 1500      | 100000..100019   |
| `TicketRouting-Hard-v0`        | `hard`         | `resolution_sla` | 1500      | 100000..100019   |
| `TicketRouting-ServiceDesk-v0` | `service_desk` | `resolution_sla` | 1855      | 100000..100019   |

The score of a policy on a task is its episode return ``R`` (under the task's objective) on the
task's evaluation seeds, normalized so that uniformly random valid routing scores 0 and the best
baseline rule on that task scores 100::

    score = 100 * (R - R_random) / (R_best_rule - R_random)

``R_random`` and ``R_best_rule`` are the mean returns over the same seeds, stored in
``config/task_references.yaml`` with the command that regenerates them
(:data:`RECOMPUTE_COMMAND`). Scores above 100 beat every rule. The aggregate over tasks is the
interquartile mean (IQM) of all per-episode scores with a stratified-bootstrap 95% interval
(episodes resampled within each task), as recommended by Agarwal et al., "Deep Reinforcement
Learning at the Edge of the Statistical Precipice" (NeurIPS 2021).

The modules, by what they hold: :mod:`~rl_environments.ticket_routing.tasks.registry` (the tasks and
their environments), :mod:`~rl_environments.ticket_routing.tasks.references` (the reference returns and
the normalization) and :mod:`~rl_environments.ticket_routing.tasks.scoring` (scoring a policy); every
public name is importable from this package. The IQM and its interval are in
:mod:`~rl_environments.ticket_routing.statistics`.

>>> get_task("TicketRouting-Hard-v0").config_name
'hard+resolution_sla'
>>> float(normalize(5.0, random_return=0.0, best_return=10.0))
50.0
"""

from __future__ import annotations

from rl_environments.ticket_routing.statistics import (
    iqm,
    iqm_interval,
)
from rl_environments.ticket_routing.tasks.references import (
    RANDOM_POLICY,
    RECOMPUTE_COMMAND,
    REFERENCES_PATH,
    SOURCES,
    Reference,
    StaleReferencesError,
    compute_references,
    config_digest,
    load_references,
    normalize,
    write_references,
)
from rl_environments.ticket_routing.tasks.registry import (
    TASK_IDS,
    TASKS,
    Task,
    UnknownTaskError,
    get_task,
    make_env,
    make_vec_env,
)
from rl_environments.ticket_routing.tasks.scoring import (
    DEFAULT_RESAMPLES,
    PolicyInput,
    PolicySpec,
    ScoreReport,
    TaskScore,
    format_interval,
    format_score,
    resolve_policy,
    score,
)

__all__ = [
    "DEFAULT_RESAMPLES",
    "RANDOM_POLICY",
    "RECOMPUTE_COMMAND",
    "REFERENCES_PATH",
    "SOURCES",
    "TASKS",
    "TASK_IDS",
    "PolicyInput",
    "PolicySpec",
    "Reference",
    "ScoreReport",
    "StaleReferencesError",
    "Task",
    "TaskScore",
    "UnknownTaskError",
    "compute_references",
    "config_digest",
    "format_interval",
    "format_score",
    "get_task",
    "iqm",
    "iqm_interval",
    "load_references",
    "make_env",
    "make_vec_env",
    "normalize",
    "resolve_policy",
    "score",
    "write_references",
]
