"""The two compiled entry points, :func:`reset_batch` and :func:`step_batch`: one implementation of
the rules for the single environment (N = 1) and the vector environment (any N).

Both take a :class:`Kernel` bundle (state, parameters, observation buffers, step outputs); see
:mod:`core.simulation` for how it is built and passed cheaply.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rl_environments.ticket_routing.core.arrivals import next_poisson_arrival, trace_arrival_time
from rl_environments.ticket_routing.core.dynamics import (
    advance,
    breaches,
    can_take,
    load_std,
    refresh_agent,
    schedule_done,
    touch,
)
from rl_environments.ticket_routing.core.observation import write_observation
from rl_environments.ticket_routing.core.params import Params
from rl_environments.ticket_routing.core.prefetch import prefetch
from rl_environments.ticket_routing.core.reward import (
    C_HOLDING,
    reward_assignment,
    reward_invalid,
    reward_rejection,
    reward_sla_breach,
)
from rl_environments.ticket_routing.core.service import draw_expertise, priority_weight, sample_work
from rl_environments.ticket_routing.core.state import (
    A_ASSIGNED,
    A_DONE_AT,
    A_NEXT_TARGET,
    A_UPDATED,
    A_VWORK,
    A_WEIGHT,
    F_CLOCK,
    F_NEXT_ARRIVAL,
    F_NEXT_SHIFT,
    F_PENDING_HOLD,
    F_START,
    F_SUM_WAIT,
    HOURS_PER_WEEK,
    I_ASSIGNED,
    I_BREACHES_CHARGED,
    I_DONE,
    I_HEAD,
    I_IN_SERVICE,
    I_IN_SERVICE_P,
    I_INVALID,
    I_LOAD_SQ,
    I_MATCHES,
    I_OVER_BUDGET,
    I_PENDING_REJECTS,
    I_QCOUNT,
    I_QFRONT,
    I_QLEN,
    I_REJECTED,
    I_RETRIES,
    I_STEP,
    I_TERMINATED,
    NT,
    Q_ARRIVAL,
    Q_TYPE,
    S_ARRIVAL,
    S_PRIORITY,
    S_TARGET,
    S_TYPE,
    SCENARIO_STREAM,
    SERVICE_STREAM,
    Observation,
    State,
    StepOutputs,
)
from rl_environments.ticket_routing.core.typing import BoolArray, FloatArray, IntArray, njit
from rl_environments.ticket_routing.core.unmanaged import unmanaged


class Kernel(NamedTuple):
    """Everything a kernel call needs, by name."""

    state: State
    params: Params
    obs: Observation
    out: StepOutputs


@njit(cache=True, inline="always")
def _reset_one(i: int, st: State, p: Params, obs: Observation, comps: FloatArray) -> None:
    fs, ist, stats = st.floats, st.counts, st.agent_stats
    comps[:] = 0.0
    fs[i, :] = 0.0
    ist[i, :] = 0
    st.workload[i, :] = 0
    stats[i, :, :] = 0.0
    start = p.start_hour_of_week
    stats[i, A_NEXT_TARGET, :] = np.inf
    stats[i, A_DONE_AT, :] = np.inf
    stats[i, A_UPDATED, :] = start
    fs[i, F_CLOCK] = start
    fs[i, F_START] = start
    fs[i, F_NEXT_SHIFT] = start + p.hours_to_change[int(start) % HOURS_PER_WEEK]
    draw_expertise(st.rng[i, SCENARIO_STREAM], st.expertise[i], p)
    obs.action_mask[i, :] = False
    for a in range(st.workload.shape[1]):
        st.online[i, a] = p.schedule[a, int(start) % HOURS_PER_WEEK]
        refresh_agent(i, a, st, obs)
        for k in range(NT):
            obs.agent_expertise[i, a * NT + k] = st.expertise[i, a, k]
    if p.trace_mode > 0:
        fs[i, F_NEXT_ARRIVAL] = trace_arrival_time(p.trace, 0, 0.0, start)
    else:
        fs[i, F_NEXT_ARRIVAL] = next_poisson_arrival(st.rng[i, SCENARIO_STREAM], start, p)
    if advance(i, False, st, p, obs, comps):
        ist[i, I_TERMINATED] = 1
        ist[i, I_DONE] = 1
    ist[i, I_PENDING_REJECTS] = ist[i, I_REJECTED]  # charged in the first step's reward
    fs[i, F_PENDING_HOLD] = comps[C_HOLDING]  # likewise the holding cost accrued so far
    write_observation(i, st, p, obs)


@njit(cache=True)
def reset_batch(which: BoolArray, k: Kernel) -> int:
    """Reset every environment ``i`` with ``which[i]`` (RNG rows continue their streams).

    Returns how many ran out of their event budget."""
    st, p, obs, comps = unmanaged(k.state), unmanaged(k.params), unmanaged(k.obs), k.out.components
    over = 0
    for i in range(which.shape[0]):
        if which[i]:
            _reset_one(i, st, p, obs, comps[i])
            comps[i, :] = 0.0
            over += st.counts[i, I_OVER_BUDGET]
    return over


@njit(cache=True, inline="always")
def _assign(i: int, action: int, priority: int, st: State, p: Params, obs: Observation, comps: FloatArray) -> None:
    """Give the head of the queue (of ``priority``) to agent ``action``, which can take it."""
    fs, ist, queue, slots, stats = st.floats, st.counts, st.queue, st.slots, st.agent_stats
    clock = fs[i, F_CLOCK]
    front = ist[i, I_QFRONT + priority]
    arrival = queue[i, priority, front, Q_ARRIVAL]
    ticket_type = int(queue[i, priority, front, Q_TYPE])
    ist[i, I_QFRONT + priority] = (front + 1) % queue.shape[2]
    ist[i, I_QCOUNT + priority] -= 1
    ist[i, I_QLEN] -= 1
    touch(i, action, clock, st, p)
    e = st.expertise[i, action, ticket_type]
    n = st.workload[i, action]
    if n == 0:
        stats[i, A_VWORK, action] = 0.0  # keep the counter small
    weight = priority_weight(priority, p)
    work = sample_work(st.rng[i, SERVICE_STREAM], ticket_type, e, p)
    target = stats[i, A_VWORK, action] + work / weight
    stats[i, A_WEIGHT, action] += weight
    slots[i, S_TARGET, action, n] = target
    slots[i, S_ARRIVAL, action, n] = arrival
    slots[i, S_TYPE, action, n] = ticket_type
    slots[i, S_PRIORITY, action, n] = priority
    stats[i, A_NEXT_TARGET, action] = min(stats[i, A_NEXT_TARGET, action], target)
    st.workload[i, action] = n + 1
    schedule_done(i, action, st, p)
    refresh_agent(i, action, st, obs)
    ist[i, I_IN_SERVICE] += 1
    ist[i, I_IN_SERVICE_P + priority] += 1
    ist[i, I_LOAD_SQ] += 2 * n + 1
    stats[i, A_ASSIGNED, action] += 1.0
    ist[i, I_ASSIGNED] += 1
    fs[i, F_SUM_WAIT] += clock - arrival
    if e >= p.agents_expert_threshold:
        ist[i, I_MATCHES] += 1
    ist[i, I_RETRIES] = 0
    reward_assignment(comps, e, load_std(i, st), p)


@njit(cache=True, inline="always")
def _step_one(i: int, action: int, st: State, p: Params, obs: Observation, out: StepOutputs) -> None:
    """Route environment ``i``'s ticket to ``action``, then advance to its next decision."""
    fs, ist = st.floats, st.counts
    comps = out.components[i]
    for _ in range(ist[i, I_PENDING_REJECTS]):
        reward_rejection(comps, p)
    ist[i, I_PENDING_REJECTS] = 0
    comps[C_HOLDING] += fs[i, F_PENDING_HOLD]
    fs[i, F_PENDING_HOLD] = 0.0
    force = False
    priority = ist[i, I_HEAD]
    if priority >= 0 and can_take(i, action, st):
        _assign(i, action, priority, st, p, obs, comps)
    else:
        reward_invalid(comps, p)
        ist[i, I_INVALID] += 1
        ist[i, I_RETRIES] += 1
        if ist[i, I_RETRIES] >= p.max_invalid_retries:
            force = True
            ist[i, I_RETRIES] = 0
    ended = advance(i, force, st, p, obs, comps)
    ist[i, I_STEP] += 1
    out.terminated[i] = ended
    out.truncated[i] = ist[i, I_STEP] >= p.episode_length
    if ended:
        ist[i, I_TERMINATED] = 1
    if ended or out.truncated[i]:
        ist[i, I_DONE] = 1
    if p.reward_sla_breach > 0.0:
        count = breaches(i, st, p)
        reward_sla_breach(comps, count - ist[i, I_BREACHES_CHARGED], p)
        ist[i, I_BREACHES_CHARGED] = count
    total = 0.0
    for c in range(comps.shape[0]):
        total += comps[c]
    out.reward[i] = total
    write_observation(i, st, p, obs)


@njit(cache=True, inline="always")
def _prefetch_ahead(i: int, n: int, st: State) -> None:
    """While environment ``i`` steps, start loading the counters of ``i + 2`` and the head ticket
    of ``i + 1`` (found from its counters, loaded one environment ago); see :mod:`core.prefetch`.

    Prefetching every row of the environment after next was tried too: it gained a little more at
    N = 1024 but slowed the step when the state fits in the cache (N = 64); these two do not.
    """
    if i + 2 < n:
        prefetch(st.counts[i + 2])
    if i + 1 < n:
        head = st.counts[i + 1, I_HEAD]
        if head >= 0:
            prefetch(st.queue[i + 1, head, st.counts[i + 1, I_QFRONT + head]])


@njit(cache=True, nogil=True)
def step_batch(actions: IntArray, k: Kernel) -> int:
    """Apply ``actions[i]`` to environment ``i`` for every ``i``.

    A valid action assigns the head of the queue to the agent; an invalid one (agent full or
    offline) is penalised and, after ``max_invalid_retries`` in a row, lets one event pass. The
    clock then advances to the next decision. Environments whose episode ended on their previous
    step are reset instead and their action is ignored (Gymnasium's next-step auto-reset).
    Arrivals rejected during a reset are charged in the episode's first step. Returns how many
    environments ran out of their event budget.
    """
    st, p, obs, out = unmanaged(k.state), unmanaged(k.params), unmanaged(k.obs), unmanaged(k.out)
    ist = st.counts
    over = 0
    for i in range(actions.shape[0]):
        _prefetch_ahead(i, actions.shape[0], st)  # memory, not values: results are unchanged
        comps = out.components[i]
        comps[:] = 0.0
        if ist[i, I_DONE] == 1:
            _reset_one(i, st, p, obs, comps)
            comps[:] = 0.0
            out.reward[i] = 0.0
            out.terminated[i] = False
            out.truncated[i] = False
        else:
            _step_one(i, actions[i], st, p, obs, out)
        over += ist[i, I_OVER_BUDGET]
    return over
