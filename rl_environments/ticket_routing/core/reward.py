"""Reward components and customer satisfaction, shared by every simulation kernel.

reward = assignment + expertise_bonus - resolution_penalty - imbalance_penalty
         - invalid_action_penalty - rejection_penalty - holding - sla_breach

* ``assignment``: ``reward.assignment`` for each valid assignment.
* ``expertise``: ``reward.expertise * e``, with ``e`` the chosen agent's expertise for the type.
* ``resolution``: ``reward.resolution * priority_multiplier * resolution_hours`` for every ticket
  that resolves while the clock advances after the action (charged when it resolves, so the
  penalty is the true cost, not an estimate).
* ``imbalance``: ``reward.imbalance`` when, after the assignment, the standard deviation of open
  tickets across agents exceeds ``reward.imbalance_threshold``.
* ``invalid_action``: ``reward.invalid_action`` when the chosen agent is full or offline.
* ``rejection``: ``reward.rejection`` per arrival turned away because the queue was full.
* ``holding``: ``reward.holding * priority_multiplier`` per hour each ticket spends in the system
  (waiting or in service), charged as time passes, so a step pays for the time since the last.
* ``sla_breach``: ``reward.sla_breach`` per ticket, in the step during which it passes its target.
"""

from __future__ import annotations

import numpy as np

from rl_environments.ticket_routing.core.config import REWARD_COMPONENTS
from rl_environments.ticket_routing.core.params import (
    P_CSAT_EXPERTISE,
    P_CSAT_INTERCEPT,
    P_CSAT_SLA_RATIO,
    P_IMBALANCE_THRESHOLD,
    P_PRIO_MULT,
    P_SLA,
    P_W_ASSIGN,
    P_W_EXPERTISE,
    P_W_HOLDING,
    P_W_IMBALANCE,
    P_W_INVALID,
    P_W_REJECTION,
    P_W_RESOLUTION,
    P_W_SLA_BREACH,
)
from rl_environments.ticket_routing.core.typing import FloatArray, njit

C_ASSIGNMENT = REWARD_COMPONENTS.index("assignment")
C_EXPERTISE = REWARD_COMPONENTS.index("expertise")
C_RESOLUTION = REWARD_COMPONENTS.index("resolution")
C_IMBALANCE = REWARD_COMPONENTS.index("imbalance")
C_INVALID = REWARD_COMPONENTS.index("invalid_action")
C_REJECTION = REWARD_COMPONENTS.index("rejection")
C_HOLDING = REWARD_COMPONENTS.index("holding")
C_SLA_BREACH = REWARD_COMPONENTS.index("sla_breach")
NUM_COMPONENTS = len(REWARD_COMPONENTS)


@njit(cache=True, inline="always")
def reward_assignment(comps: FloatArray, expertise: float, load_std: float, p: FloatArray) -> None:
    """Components of a valid assignment; ``load_std`` is the std of open tickets across agents after it."""
    comps[C_ASSIGNMENT] += p[P_W_ASSIGN]
    comps[C_EXPERTISE] += p[P_W_EXPERTISE] * expertise
    if load_std > p[P_IMBALANCE_THRESHOLD]:
        comps[C_IMBALANCE] -= p[P_W_IMBALANCE]


@njit(cache=True, inline="always")
def reward_invalid(comps: FloatArray, p: FloatArray) -> None:
    comps[C_INVALID] -= p[P_W_INVALID]


@njit(cache=True, inline="always")
def reward_rejection(comps: FloatArray, p: FloatArray) -> None:
    comps[C_REJECTION] -= p[P_W_REJECTION]


@njit(cache=True, inline="always")
def reward_resolution(comps: FloatArray, hours: float, priority: int, p: FloatArray) -> None:
    comps[C_RESOLUTION] -= p[P_W_RESOLUTION] * p[P_PRIO_MULT + priority] * hours


@njit(cache=True, inline="always")
def reward_holding(comps: FloatArray, weighted_open: float, hours: float, p: FloatArray) -> None:
    """``weighted_open`` = sum of the priority multipliers of the open tickets, for ``hours``."""
    comps[C_HOLDING] -= p[P_W_HOLDING] * weighted_open * hours


@njit(cache=True, inline="always")
def reward_sla_breach(comps: FloatArray, breaches: int, p: FloatArray) -> None:
    comps[C_SLA_BREACH] -= p[P_W_SLA_BREACH] * breaches


@njit(cache=True, inline="always")
def csat_probability(hours: float, priority: int, expertise: float, p: FloatArray) -> float:
    """P(satisfied) = logistic(intercept + b_e * (e - 0.5) - b_sla * hours / sla_target)."""
    z = (
        p[P_CSAT_INTERCEPT]
        + p[P_CSAT_EXPERTISE] * (expertise - 0.5)
        - p[P_CSAT_SLA_RATIO] * hours / p[P_SLA + priority]
    )
    return 1.0 / (1.0 + np.exp(-z))
