"""The Simulation's records as the kernels see them: views that must stay valid, and the
remaining-work observation against a direct computation from the state."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.core.simulation import Simulation
from rl_environments.ticket_routing.core.state import (
    A_NEXT_TARGET,
    A_UPDATED,
    A_VWORK,
    A_WEIGHT,
    F_CLOCK,
    I_RESOLVED,
    S_PRIORITY,
    S_TARGET,
)


def _run(sim: Simulation, steps: int) -> None:
    sim.seed(slice(None), [np.random.default_rng(seed) for seed in range(sim.num_envs)])
    sim.reset(np.ones(sim.num_envs, dtype=bool))
    for _ in range(steps):
        sim.step(np.argmax(sim.obs.action_mask, axis=1).astype(np.int64))


def test_thread_blocks_stay_valid_after_garbage_collection() -> None:
    """The kernels read the records through views Numba does not reference-count: the Simulation
    must keep every array they view alive, including each thread block's records."""
    cfg = EnvironmentConfig(num_agents=4, episode_length=40)
    one, two = Simulation(cfg, 6), Simulation(cfg, 6, threads=2)
    gc.collect()
    churn = [np.full(4096, 7.0) for _ in range(200)]  # reuse any memory freed by the collection
    _run(one, 60)
    _run(two, 60)
    del churn
    for name, a, b in zip(one.state._fields, one.state, two.state, strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)
    np.testing.assert_array_equal(one.obs.agent_remaining_work, two.obs.agent_remaining_work)
    two.close()


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (3.0, 2.0, 1.0, 0.5)])
def test_remaining_work_matches_the_state(weights: tuple[float, ...]) -> None:
    """Each agent's remaining work is the weighted sum of its open tickets' work left, summed in
    slot order, whichever branch the kernel takes (equal weights skip the priorities)."""
    cfg = EnvironmentConfig.from_dict({"num_agents": 5, "service": {"priority_weights": list(weights)}})
    sim = Simulation(cfg, 3)
    _run(sim, 150)
    st, p = sim.state, sim.params
    checked = 0
    for i in range(sim.num_envs):
        clock = st.floats[i, F_CLOCK]
        for a in range(cfg.num_agents):
            n = int(st.workload[i, a])
            left = 0.0
            if n > 0:
                stats = st.agent_stats[i, :, a]
                v = float(stats[A_VWORK])
                if st.online[i, a]:
                    v += (clock - stats[A_UPDATED]) * p.service_rate_table[n] / stats[A_WEIGHT]
                for j in range(n):
                    weight = p.service_priority_weights[int(st.slots[i, S_PRIORITY, a, j])]
                    left += max(float(st.slots[i, S_TARGET, a, j]) - v, 0.0) * weight
                checked += 1
            assert sim.obs.agent_remaining_work[i, a] == np.float32(min(left, p.work_cap))
    assert checked > 0


@pytest.mark.parametrize("weights", [(1.0, 1.0, 1.0, 1.0), (3.0, 2.0, 1.0, 0.5)])
def test_agent_weight_sums_and_next_targets_match_the_open_tickets(weights: tuple[float, ...]) -> None:
    """After assignments and resolutions, each agent's weight sum is exactly the sum of its open
    tickets' priority weights in slot order (equal weights: the count, without reading the
    priorities), and its next target is the smallest open target (inf when idle)."""
    cfg = EnvironmentConfig.from_dict({"num_agents": 5, "service": {"priority_weights": list(weights)}})
    sim = Simulation(cfg, 4)
    _run(sim, 300)
    st, p = sim.state, sim.params
    assert st.counts[:, I_RESOLVED].sum() > 0  # some tickets were resolved
    busy = 0
    for i in range(sim.num_envs):
        for a in range(cfg.num_agents):
            n = int(st.workload[i, a])
            weight = 0.0
            for j in range(n):
                weight += float(p.service_priority_weights[int(st.slots[i, S_PRIORITY, a, j])])
            assert st.agent_stats[i, A_WEIGHT, a] == weight
            targets = st.slots[i, S_TARGET, a, :n]
            assert st.agent_stats[i, A_NEXT_TARGET, a] == (targets.min() if n else np.inf)
            busy += n > 0
    assert busy > 0
