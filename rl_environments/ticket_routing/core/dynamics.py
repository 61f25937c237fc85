"""Events that move the simulation: resolutions, availability changes and arrivals.

A decision epoch is an event: ``step`` routes the head of the queue (most urgent priority, then
oldest), then :func:`advance` moves the continuous clock (hours) through arrivals, resolutions and
shift changes until another ticket can be routed. Simultaneous events are processed in a fixed
order: resolutions, then availability changes, then arrivals; a ticket is routed only once every
event up to and including the current time has been processed.

Every function here works on environment ``i`` of the batched records in :mod:`core.state` and is
inlined into the kernels of :mod:`core.kernels`.
"""

from __future__ import annotations

import numpy as np

from rl_environments.ticket_routing.core.arrivals import (
    advance_trace,
    draw_type_priority,
    next_poisson_arrival,
    trace_arrival_time,
)
from rl_environments.ticket_routing.core.params import Params
from rl_environments.ticket_routing.core.reward import (
    csat_probability,
    reward_holding,
    reward_rejection,
    reward_resolution,
)
from rl_environments.ticket_routing.core.rng import uniform
from rl_environments.ticket_routing.core.service import open_ticket_weight, total_rate
from rl_environments.ticket_routing.core.state import (
    A_BUSY_HOURS,
    A_DONE_AT,
    A_NEXT_TARGET,
    A_ONLINE_HOURS,
    A_UPDATED,
    A_VWORK,
    A_WEIGHT,
    F_CLOCK,
    F_NEXT_ARRIVAL,
    F_NEXT_SHIFT,
    F_START,
    F_STD_INTEGRAL,
    F_TRACE_SHIFT,
    HOURS_PER_WEEK,
    I_ARRIVED,
    I_IN_SERVICE,
    I_IN_SERVICE_P,
    I_LOAD_SQ,
    I_OVER_BUDGET,
    I_QCOUNT,
    I_QFRONT,
    I_QLEN,
    I_REJECTED,
    I_REJECTED_P,
    I_RESOLVED,
    I_RESOLVED_P,
    I_ROOM,
    I_SATISFIED,
    I_SLA_MET,
    I_SLA_MET_P,
    I_TRACE_INDEX,
    NP,
    Q_ARRIVAL,
    Q_TYPE,
    R_AGENT,
    R_HOURS,
    R_PRIORITY,
    R_SATISFIED,
    S_ARRIVAL,
    S_PRIORITY,
    S_TARGET,
    S_TYPE,
    SCENARIO_STREAM,
    SERVICE_STREAM,
    T_PRIORITY,
    T_TYPE,
    Observation,
    State,
)
from rl_environments.ticket_routing.core.typing import FloatArray, njit


@njit(cache=True, inline="always")
def can_take(i: int, a: int, st: State) -> bool:
    """Agent ``a`` can take a ticket now: online with room. The one validity rule (action mask,
    valid actions, the ``room`` counter)."""
    return st.online[i, a] and st.workload[i, a] < st.slots.shape[3]


@njit(cache=True, inline="always")
def touch(i: int, a: int, t: float, st: State, p: Params) -> None:
    """Bring agent ``a``'s counters from A_UPDATED up to time ``t`` (nothing changed in between)."""
    stats = st.agent_stats
    dt = t - stats[i, A_UPDATED, a]
    if dt > 0.0 and st.online[i, a]:
        stats[i, A_ONLINE_HOURS, a] += dt
        n = st.workload[i, a]
        if n > 0:
            stats[i, A_BUSY_HOURS, a] += dt
            stats[i, A_VWORK, a] += dt * total_rate(n, p) / stats[i, A_WEIGHT, a]
    stats[i, A_UPDATED, a] = t


@njit(cache=True, inline="always")
def schedule_done(i: int, a: int, st: State, p: Params) -> None:
    """Recompute when agent ``a`` next resolves a ticket (after ``touch``)."""
    stats = st.agent_stats
    n = st.workload[i, a]
    if st.online[i, a] and n > 0:
        left = max(stats[i, A_NEXT_TARGET, a] - stats[i, A_VWORK, a], 0.0)
        stats[i, A_DONE_AT, a] = stats[i, A_UPDATED, a] + left * stats[i, A_WEIGHT, a] / total_rate(n, p)
    else:
        stats[i, A_DONE_AT, a] = np.inf


@njit(cache=True, inline="always")
def refresh_agent(i: int, a: int, st: State, obs: Observation) -> None:
    """Agent ``a``'s load or availability changed: update its observation, mask entry and ``room``."""
    has_room = can_take(i, a, st)
    if has_room != obs.action_mask[i, a]:
        st.counts[i, I_ROOM] += 1 if has_room else -1
        obs.action_mask[i, a] = has_room
    obs.agent_workload[i, a] = st.workload[i, a]
    obs.agent_availability[i, a] = st.online[i, a]
    obs.agent_change_goes_offline[i, a] = st.online[i, a]  # online now: the next change takes it offline


@njit(cache=True, inline="always")
def decision_ready(i: int, st: State) -> bool:
    """A ticket waits and some agent can take it."""
    return st.counts[i, I_QLEN] > 0 and st.counts[i, I_ROOM] > 0


@njit(cache=True, inline="always")
def head_priority(i: int, st: State) -> int:
    """Priority of the most urgent non-empty FIFO (-1 when nothing waits)."""
    for k in range(NP):
        if st.counts[i, I_QCOUNT + k] > 0:
            return k
    return -1


@njit(cache=True, inline="always")
def load_std(i: int, st: State) -> float:
    """Standard deviation of the open tickets across agents."""
    num_agents = st.workload.shape[1]
    mean = st.counts[i, I_IN_SERVICE] / num_agents
    return float(np.sqrt(max(st.counts[i, I_LOAD_SQ] / num_agents - mean * mean, 0.0)))


@njit(cache=True, inline="always")
def weighted_open(i: int, st: State, p: Params) -> float:
    """Sum of the priority multipliers of every open ticket (waiting or in service)."""
    total = 0.0
    for k in range(NP):
        total += p.reward_priority_multipliers[k] * (st.counts[i, I_QCOUNT + k] + st.counts[i, I_IN_SERVICE_P + k])
    return total


@njit(cache=True, inline="always")
def breaches(i: int, st: State, p: Params) -> int:
    """Tickets that have passed their SLA target by now: resolved late, or open past the target."""
    ist, queue, slots = st.counts, st.queue, st.slots
    clock = st.floats[i, F_CLOCK]
    size = queue.shape[2]
    count = 0
    for k in range(NP):
        count += ist[i, I_RESOLVED_P + k] - ist[i, I_SLA_MET_P + k]
        front = ist[i, I_QFRONT + k]
        for j in range(ist[i, I_QCOUNT + k]):  # oldest first: stop at the first within its target
            if clock - queue[i, k, (front + j) % size, Q_ARRIVAL] <= p.sla_resolution_hours[k]:
                break
            count += 1
    for a in range(st.workload.shape[1]):
        for j in range(st.workload[i, a]):
            if clock - slots[i, S_ARRIVAL, a, j] > p.sla_resolution_hours[int(slots[i, S_PRIORITY, a, j])]:
                count += 1
    return count


@njit(cache=True, inline="always")
def complete(i: int, a: int, st: State, p: Params, obs: Observation, comps: FloatArray) -> None:
    """Resolve agent ``a``'s next-finishing ticket now: record it, sample CSAT, charge the penalty."""
    ist, slots, stats, records = st.counts, st.slots, st.agent_stats, st.records
    clock = st.floats[i, F_CLOCK]
    touch(i, a, clock, st, p)
    n = st.workload[i, a]
    target = stats[i, A_NEXT_TARGET, a]
    k = 0
    for j in range(n):
        if slots[i, S_TARGET, a, j] == target:
            k = j
            break
    hours = clock - slots[i, S_ARRIVAL, a, k]
    ticket_type = int(slots[i, S_TYPE, a, k])
    priority = int(slots[i, S_PRIORITY, a, k])
    p_satisfied = csat_probability(hours, priority, st.expertise[i, a, ticket_type], p)
    satisfied = uniform(st.rng[i, SERVICE_STREAM]) < p_satisfied
    r = ist[i, I_RESOLVED]
    if r < records.shape[1]:
        records[i, r, R_HOURS] = hours
        records[i, r, R_PRIORITY] = priority
        records[i, r, R_SATISFIED] = 1.0 if satisfied else 0.0
        records[i, r, R_AGENT] = a
    ist[i, I_RESOLVED] = r + 1
    ist[i, I_RESOLVED_P + priority] += 1
    if hours <= p.sla_resolution_hours[priority]:
        ist[i, I_SLA_MET] += 1
        ist[i, I_SLA_MET_P + priority] += 1
    if satisfied:
        ist[i, I_SATISFIED] += 1
    reward_resolution(comps, hours, priority, p)
    last = n - 1
    for f in range(slots.shape[1]):
        slots[i, f, a, k] = slots[i, f, a, last]
    st.workload[i, a] = last
    ist[i, I_IN_SERVICE] -= 1
    ist[i, I_IN_SERVICE_P + priority] -= 1
    ist[i, I_LOAD_SQ] += last * last - n * n
    # Recompute (not subtract) the weight sum: exact even when the weights differ by orders of magnitude.
    nxt = np.inf
    weight = 0.0
    for j in range(last):
        nxt = min(nxt, slots[i, S_TARGET, a, j])
        weight += open_ticket_weight(i, j, a, st, p)
    stats[i, A_WEIGHT, a] = weight
    stats[i, A_NEXT_TARGET, a] = nxt
    schedule_done(i, a, st, p)
    refresh_agent(i, a, st, obs)


@njit(cache=True, inline="always")
def arrive(i: int, st: State, p: Params, comps: FloatArray) -> None:
    """The next ticket arrives now: queue it (or reject it if the queue is full), schedule the next."""
    fs, ist, queue = st.floats, st.counts, st.queue
    clock = fs[i, F_CLOCK]
    if p.trace_mode > 0:
        idx = ist[i, I_TRACE_INDEX]
        ticket_type, priority = int(p.trace[idx, T_TYPE]), int(p.trace[idx, T_PRIORITY])
        idx, shift = advance_trace(idx, fs[i, F_TRACE_SHIFT], p)
        ist[i, I_TRACE_INDEX] = idx
        fs[i, F_TRACE_SHIFT] = shift
        fs[i, F_NEXT_ARRIVAL] = trace_arrival_time(p.trace, idx, shift, fs[i, F_START])
    else:
        ticket_type, priority = draw_type_priority(st.rng[i, SCENARIO_STREAM], p)
        fs[i, F_NEXT_ARRIVAL] = next_poisson_arrival(st.rng[i, SCENARIO_STREAM], clock, p)
    ist[i, I_ARRIVED] += 1
    size = queue.shape[2]
    if ist[i, I_QLEN] >= size:
        ist[i, I_REJECTED] += 1
        ist[i, I_REJECTED_P + priority] += 1
        reward_rejection(comps, p)
        return
    count = ist[i, I_QCOUNT + priority]
    pos = (ist[i, I_QFRONT + priority] + count) % size
    queue[i, priority, pos, Q_ARRIVAL] = clock
    queue[i, priority, pos, Q_TYPE] = ticket_type
    ist[i, I_QCOUNT + priority] = count + 1
    ist[i, I_QLEN] += 1


@njit(cache=True, inline="always")
def online_until(p: Params, a: int, t: float) -> float:
    """Agent ``a``'s scheduled online hours from clock 0 to ``t``."""
    hour = np.floor(t)
    weeks = np.floor(hour / HOURS_PER_WEEK)
    h = int(hour - weeks * HOURS_PER_WEEK)
    return weeks * p.online_cum[a, HOURS_PER_WEEK] + p.online_cum[a, h] + (t - hour) * p.schedule[a, h]


@njit(cache=True, inline="always")
def set_availability(i: int, h: int, st: State, p: Params, obs: Observation) -> None:
    """Set every agent's availability to the schedule's hour of week ``h`` (counters already current)."""
    for a in range(st.workload.shape[1]):
        st.online[i, a] = p.schedule[a, h]
        schedule_done(i, a, st, p)
        refresh_agent(i, a, st, obs)


@njit(cache=True, inline="always")
def _jump_to_arrival(i: int, clock: float, t_arrival: float, st: State, p: Params, obs: Observation) -> None:
    """Nothing is open: move every agent's counters to the next arrival, online hours from the schedule."""
    stats = st.agent_stats
    for a in range(st.workload.shape[1]):
        touch(i, a, clock, st, p)
        stats[i, A_ONLINE_HOURS, a] += online_until(p, a, t_arrival) - online_until(p, a, clock)
        stats[i, A_UPDATED, a] = t_arrival
    h = int(np.floor(t_arrival)) % HOURS_PER_WEEK
    set_availability(i, h, st, p, obs)
    st.floats[i, F_NEXT_SHIFT] = np.floor(t_arrival) + p.hours_to_change[h]


@njit(cache=True, inline="always")
def advance(i: int, force_one: bool, st: State, p: Params, obs: Observation, comps: FloatArray) -> bool:
    """Process events until a ticket can be routed. Returns True when none ever will (terminated).

    With ``force_one`` at least one event is processed first (after repeated invalid actions).
    Every event at the current time is processed before a ticket is routed. When nothing is open,
    the clock jumps to the next arrival and availability is taken from the schedule. Past the
    event budget the episode ends with ``I_OVER_BUDGET`` set (the Python side raises).
    """
    fs, ist, stats = st.floats, st.counts, st.agent_stats
    num_agents = st.workload.shape[1]
    events = 0
    while True:
        if ist[i, I_QLEN] == 0 and fs[i, F_NEXT_ARRIVAL] == np.inf and ist[i, I_IN_SERVICE] == 0:
            return True  # a finished trace and every open ticket resolved
        clock = fs[i, F_CLOCK]
        t_done, done_agent = np.inf, -1
        for a in range(num_agents):
            if stats[i, A_DONE_AT, a] < t_done:
                t_done, done_agent = stats[i, A_DONE_AT, a], a
        t_shift = fs[i, F_NEXT_SHIFT]
        t_arrival = fs[i, F_NEXT_ARRIVAL]
        t = min(t_done, t_shift, t_arrival)
        if not force_one and t > clock and decision_ready(i, st):
            return False
        if t == np.inf:
            return True
        force_one = False
        events += 1
        if events > p.event_budget:
            ist[i, I_OVER_BUDGET] = 1
            return True
        fs[i, F_STD_INTEGRAL] += load_std(i, st) * (t - clock)
        if p.reward_holding > 0.0:
            reward_holding(comps, weighted_open(i, st, p), t - clock, p)
        if t_done <= t_shift and t_done <= t_arrival:
            fs[i, F_CLOCK] = t
            complete(i, done_agent, st, p, obs, comps)
            continue
        if ist[i, I_QLEN] == 0 and ist[i, I_IN_SERVICE] == 0 and t_shift < t_arrival:
            _jump_to_arrival(i, clock, t_arrival, st, p, obs)
            t = t_arrival
            t_shift = np.inf
        fs[i, F_CLOCK] = t
        if t_shift <= t_arrival:
            for a in range(num_agents):
                touch(i, a, t, st, p)
            h = int(np.floor(t + 0.5)) % HOURS_PER_WEEK  # t is a whole hour
            set_availability(i, h, st, p, obs)
            fs[i, F_NEXT_SHIFT] = t + p.hours_to_change[h]
        else:
            arrive(i, st, p, comps)
