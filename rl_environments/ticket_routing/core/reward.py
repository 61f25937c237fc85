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
from rl_environments.ticket_routing.core.params import Params
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
def reward_assignment(comps: FloatArray, expertise: float, load_std: float, p: Params) -> None:
    """Components of a valid assignment; ``load_std`` is the std of open tickets across agents after it."""
    comps[C_ASSIGNMENT] += p.reward_assignment
    comps[C_EXPERTISE] += p.reward_expertise * expertise
    if load_std > p.reward_imbalance_threshold:
        comps[C_IMBALANCE] -= p.reward_imbalance


@njit(cache=True, inline="always")
def reward_invalid(comps: FloatArray, p: Params) -> None:
    comps[C_INVALID] -= p.reward_invalid_action


@njit(cache=True, inline="always")
def reward_rejection(comps: FloatArray, p: Params) -> None:
    comps[C_REJECTION] -= p.reward_rejection


@njit(cache=True, inline="always")
def reward_resolution(comps: FloatArray, hours: float, priority: int, p: Params) -> None:
    comps[C_RESOLUTION] -= p.reward_resolution * p.reward_priority_multipliers[priority] * hours


@njit(cache=True, inline="always")
def reward_holding(comps: FloatArray, weighted_open: float, hours: float, p: Params) -> None:
    """``weighted_open`` = sum of the priority multipliers of the open tickets, for ``hours``."""
    comps[C_HOLDING] -= p.reward_holding * weighted_open * hours


@njit(cache=True, inline="always")
def reward_sla_breach(comps: FloatArray, breaches: int, p: Params) -> None:
    comps[C_SLA_BREACH] -= p.reward_sla_breach * breaches


@njit(cache=True, inline="always")
def csat_probability(hours: float, priority: int, expertise: float, p: Params) -> float:
    """P(satisfied) = logistic(intercept + b_e * (e - 0.5) - b_sla * hours / sla_target)."""
    z = (
        p.csat_intercept
        + p.csat_expertise_coef * (expertise - 0.5)
        - p.csat_sla_ratio_coef * hours / p.sla_resolution_hours[priority]
    )
    return 1.0 / (1.0 + np.exp(-z))
