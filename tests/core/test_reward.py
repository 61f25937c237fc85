"""Reward components and the CSAT model."""

from __future__ import annotations

import numpy as np
import pytest

from rl_environments.ticket_routing import REWARD_COMPONENTS, EnvironmentConfig
from rl_environments.ticket_routing.core.params import compile_params
from rl_environments.ticket_routing.core.reward import (
    C_ASSIGNMENT,
    C_EXPERTISE,
    C_HOLDING,
    C_IMBALANCE,
    C_INVALID,
    C_REJECTION,
    C_RESOLUTION,
    C_SLA_BREACH,
    csat_probability,
    reward_assignment,
    reward_invalid,
    reward_rejection,
    reward_resolution,
)

CFG = EnvironmentConfig(
    reward={
        "assignment": 10.0,
        "expertise": 5.0,
        "resolution": 0.1,
        "imbalance": 5.0,
        "imbalance_threshold": 2.0,
        "invalid_action": 7.0,
        "rejection": 3.0,
        "priority_multipliers": [4.0, 2.0, 1.0, 0.5],
    },
    sla={"resolution_hours": [8.0, 24.0, 72.0, 120.0]},
    csat={"intercept": 2.0, "expertise_coef": 2.0, "sla_ratio_coef": 1.5},
)
P = compile_params(CFG)


def test_component_order_matches_names() -> None:
    indices = [C_ASSIGNMENT, C_EXPERTISE, C_RESOLUTION, C_IMBALANCE, C_INVALID, C_REJECTION, C_HOLDING, C_SLA_BREACH]
    assert [REWARD_COMPONENTS[i] for i in indices] == list(REWARD_COMPONENTS)


def test_assignment_components_and_imbalance_threshold() -> None:
    comps = np.zeros(len(REWARD_COMPONENTS))
    reward_assignment(comps, 0.8, 2.0, P)
    assert comps[C_ASSIGNMENT] == 10.0
    assert comps[C_EXPERTISE] == pytest.approx(4.0)
    assert comps[C_IMBALANCE] == 0.0  # at the threshold: no penalty
    reward_assignment(comps, 0.0, 2.5, P)
    assert comps[C_IMBALANCE] == -5.0
    assert comps[C_ASSIGNMENT] == 20.0


def test_penalties() -> None:
    comps = np.zeros(len(REWARD_COMPONENTS))
    reward_resolution(comps, 10.0, 0, P)  # critical: multiplier 4
    reward_resolution(comps, 10.0, 3, P)  # low: multiplier 0.5
    assert comps[C_RESOLUTION] == pytest.approx(-0.1 * (40.0 + 5.0))
    reward_invalid(comps, P)
    reward_rejection(comps, P)
    reward_rejection(comps, P)
    assert comps[C_INVALID] == -7.0
    assert comps[C_REJECTION] == -6.0


def test_csat_probability_formula_and_monotonicity() -> None:
    z = 2.0 + 2.0 * (0.9 - 0.5) - 1.5 * 12.0 / 24.0
    assert csat_probability(12.0, 1, 0.9, P) == pytest.approx(1.0 / (1.0 + np.exp(-z)))
    assert csat_probability(1.0, 2, 0.5, P) > csat_probability(100.0, 2, 0.5, P)
    assert csat_probability(10.0, 2, 0.9, P) > csat_probability(10.0, 2, 0.1, P)
    assert 0.0 <= csat_probability(1e4, 0, 0.0, P) < 0.01
