"""Shared fixtures: small, seeded configurations whose numbers can be checked by hand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rl_environments  # noqa: F401  (registers TicketRouting-v0)
from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv

REPO_ROOT = Path(__file__).resolve().parent.parent

INTERPRETED_KERNELS = os.environ.get("NUMBA_DISABLE_JIT") == "1"
if INTERPRETED_KERNELS:
    # Interpreted kernels (the coverage pass): the generator's uint64 arithmetic wraps on purpose.
    np.seterr(over="ignore")


def pytest_configure(config: pytest.Config) -> None:
    if INTERPRETED_KERNELS:  # np.seterr is per thread; worker threads of threaded stepping warn
        config.addinivalue_line("filterwarnings", "ignore:overflow encountered in scalar:RuntimeWarning")


@pytest.fixture
def small_config() -> EnvironmentConfig:
    """Four always-online agents, a short episode and a small queue."""
    return EnvironmentConfig(
        num_agents=4,
        episode_length=60,
        max_queue_size=20,
        max_workload=3,
        arrivals={"rate_per_day": 40.0},
        agents={
            "shift_hours": 24,
            "work_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
        },
    )


@pytest.fixture
def env(small_config: EnvironmentConfig) -> TicketRoutingEnv:
    return TicketRoutingEnv(small_config)


def first_valid(mask: Any) -> int:
    """The lowest-numbered agent that may take the ticket."""
    return int(np.flatnonzero(mask)[0])
