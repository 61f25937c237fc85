"""Batched simulation state and the kernels that move it: one implementation of the rules.

All state lives in NumPy arrays with a leading environment axis, so the single environment
(N = 1) and the vector environment (any N) run exactly the same compiled code. A decision
epoch is an event: ``step`` routes the head of the queue (most urgent priority, then oldest),
then advances the continuous clock (hours) through arrivals, completions and shift changes
until another ticket can be routed.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.arrivals import (
    advance_trace,
    draw_type_priority,
    next_poisson_arrival,
    trace_arrival_time,
)
from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.core.params import (
    NP,
    NT,
    P_EPISODE_LENGTH,
    P_EVENT_BUDGET,
    P_EXPERT_THRESHOLD,
    P_MAX_AGE,
    P_MAX_RETRIES,
    P_PRIO_MULT,
    P_SLA,
    P_START_HOUR,
    P_TRACE_MODE,
    P_W_HOLDING,
    P_W_SLA_BREACH,
    P_WORK_CAP,
    CompiledParams,
    compile_params,
)
from rl_environments.ticket_routing.core.reward import (
    C_HOLDING,
    NUM_COMPONENTS,
    csat_probability,
    reward_assignment,
    reward_holding,
    reward_invalid,
    reward_rejection,
    reward_resolution,
    reward_sla_breach,
)
from rl_environments.ticket_routing.core.rng import seed_states, uniform
from rl_environments.ticket_routing.core.service import draw_expertise, priority_weight, sample_work, total_rate
from rl_environments.ticket_routing.core.typing import (
    ArrayTuple,
    BoolArray,
    Float32Array,
    FloatArray,
    Int8Array,
    IntArray,
    UIntArray,
    njit,
)

# Float state columns.
F_CLOCK = 0  # hours since Monday 00:00 of week 0
F_NEXT_ARRIVAL = 1  # time of the next arrival (inf when a trace is exhausted)
F_TRACE_SHIFT = 2  # hours added to trace times after each loop
F_SUM_WAIT = 3  # total hours from arrival to assignment of assigned tickets
F_STD_INTEGRAL = 4  # integral over time of the workload standard deviation
F_START = 5  # clock at reset
F_NEXT_SHIFT = 6  # time of the next availability change not yet applied (inf if none)
F_PENDING_HOLD = 7  # holding cost accrued during reset, charged in the first step
NUM_F = 8

# Integer state columns.
# The six ticket counters come first, in the order of metrics.COUNT_KPIS, so one slice reads them.
I_ARRIVED = 0
I_ASSIGNED = 1
I_RESOLVED = 2
I_REJECTED = 3
I_QLEN = 4  # tickets waiting (all priorities)
I_IN_SERVICE = 5  # open tickets over all agents (sum of workloads)
I_STEP = 6  # decisions taken this episode
I_HEAD = 7  # priority of the ticket to route (-1 if none)
I_RETRIES = 8  # consecutive invalid actions
I_INVALID = 9
I_MATCHES = 10  # assignments with expertise >= expert_threshold
I_TRACE_INDEX = 11
I_DONE = 12  # episode over; the next vector step resets it
I_TERMINATED = 13
I_SLA_MET = 14
I_SATISFIED = 15
I_LOAD_SQ = 16  # sum of squared workloads (for the workload standard deviation)
I_ROOM = 17  # agents online with room (the number of true entries of the action mask)
I_QFRONT = 18  # NP columns: ring-buffer front of each priority's FIFO
I_QCOUNT = I_QFRONT + NP  # NP columns: tickets waiting per priority
I_PENDING_REJECTS = I_QCOUNT + NP  # rejections during reset, charged in the first step's reward
I_OVER_BUDGET = I_PENDING_REJECTS + 1  # 1 when a step or reset ran out of its event budget
I_RESOLVED_P = I_OVER_BUDGET + 1  # NP columns: tickets resolved per priority
I_SLA_MET_P = I_RESOLVED_P + NP  # NP columns: resolved within the priority's SLA target
I_REJECTED_P = I_SLA_MET_P + NP  # NP columns: tickets rejected per priority
I_IN_SERVICE_P = I_REJECTED_P + NP  # NP columns: open tickets held by agents, per priority
I_BREACHES_CHARGED = I_IN_SERVICE_P + NP  # SLA breaches charged so far (sla_breach component)
NUM_I = I_BREACHES_CHARGED + 1

# The queue is one FIFO ring buffer per priority: queue[i, priority, slot, field]. Arrivals come in
# time order, so each FIFO is sorted by arrival and the head of the queue is the front of the most
# urgent non-empty FIFO.
Q_ARRIVAL, Q_TYPE = 0, 1
# Open tickets: slots[i, agent, k, field]. Under weighted processor sharing an open ticket of weight
# w receives w * dV of work while the agent's counter V (A_VWORK, work per unit of weight) grows by
# dV, so a ticket needing `work` finishes when V reaches V0 + work / w (S_TARGET).
S_TARGET, S_ARRIVAL, S_TYPE, S_PRIORITY = 0, 1, 2, 3
# Per-agent statistics and service state: agent_stats[i, field, agent] (field-major, so a scan over
# agents reads contiguous memory). An agent's counters are
# brought up to date lazily (A_UPDATED) whenever its load or availability changes.
A_ASSIGNED = 0  # tickets assigned this episode
A_BUSY_HOURS = 1  # online hours with at least one open ticket, up to A_UPDATED
A_ONLINE_HOURS = 2  # online hours, up to A_UPDATED
A_VWORK = 3  # work-hours received per unit of priority weight
A_NEXT_TARGET = 4  # smallest S_TARGET among open tickets (inf if none)
A_UPDATED = 5  # clock time the counters above refer to
A_DONE_AT = 6  # clock time of the next resolution (inf if idle or offline)
A_WEIGHT = 7  # sum of the priority weights of the open tickets
NUM_A = 8
# Resolved-ticket records: records[i, r, field].
R_HOURS, R_PRIORITY, R_SATISFIED, R_AGENT = 0, 1, 2, 3

# Random streams per environment: the scenario (expertise, arrivals) never depends on the
# actions, so every policy sees the same tickets for the same seed (common random numbers);
# service times and CSAT draws come from the second stream.
SCENARIO_STREAM, SERVICE_STREAM = 0, 1

# Simultaneous events: resolutions first, then availability changes, then arrivals; a ticket is
# routed only once every event up to and including the current time has been processed.

# Observation integer columns.
O_TYPE, O_PRIORITY, O_QUEUE, O_STEP = 0, 1, 2, 3


# --------------------------------------------------------------------------- kernel pieces
@njit(cache=True, inline="always")
def _touch(i: int, a: int, t: float, online: BoolArray, workload: IntArray, stats: FloatArray, p: FloatArray) -> None:
    """Bring agent ``a``'s counters from A_UPDATED up to time ``t`` (nothing changed in between)."""
    dt = t - stats[i, A_UPDATED, a]
    if dt > 0.0 and online[i, a]:
        stats[i, A_ONLINE_HOURS, a] += dt
        n = workload[i, a]
        if n > 0:
            stats[i, A_BUSY_HOURS, a] += dt
            stats[i, A_VWORK, a] += dt * total_rate(n, p) / stats[i, A_WEIGHT, a]
    stats[i, A_UPDATED, a] = t


@njit(cache=True, inline="always")
def _schedule_done(i: int, a: int, online: BoolArray, workload: IntArray, stats: FloatArray, p: FloatArray) -> None:
    """Recompute when agent ``a`` next resolves a ticket (after ``_touch``)."""
    n = workload[i, a]
    if online[i, a] and n > 0:
        left = max(stats[i, A_NEXT_TARGET, a] - stats[i, A_VWORK, a], 0.0)
        stats[i, A_DONE_AT, a] = stats[i, A_UPDATED, a] + left * stats[i, A_WEIGHT, a] / total_rate(n, p)
    else:
        stats[i, A_DONE_AT, a] = np.inf


@njit(cache=True, inline="always")
def _refresh_agent(
    i: int, a: int, ist: IntArray, online: BoolArray, workload: IntArray, capacity: int, obs: ArrayTuple
) -> None:
    """Agent ``a``'s load or availability changed: update its observation, mask entry and I_ROOM."""
    obs_workload, obs_available, mask = obs[2], obs[3], obs[5]
    has_room = online[i, a] and workload[i, a] < capacity
    if has_room != mask[i, a]:
        ist[i, I_ROOM] += 1 if has_room else -1
        mask[i, a] = has_room
    obs_workload[i, a] = workload[i, a]
    obs_available[i, a] = online[i, a]


@njit(cache=True, inline="always")
def _decision_ready(i: int, ist: IntArray) -> bool:
    """A ticket waits and some online agent has room."""
    return ist[i, I_QLEN] > 0 and ist[i, I_ROOM] > 0


@njit(cache=True, inline="always")
def _head_priority(i: int, ist: IntArray) -> int:
    """Priority of the most urgent non-empty FIFO (-1 when nothing waits)."""
    for k in range(NP):
        if ist[i, I_QCOUNT + k] > 0:
            return k
    return -1


@njit(cache=True, inline="always")
def _load_std(i: int, ist: IntArray, num_agents: int) -> float:
    mean = ist[i, I_IN_SERVICE] / num_agents
    return float(np.sqrt(max(ist[i, I_LOAD_SQ] / num_agents - mean * mean, 0.0)))


@njit(cache=True, inline="always")
def _weighted_open(i: int, ist: IntArray, p: FloatArray) -> float:
    """Sum of the priority multipliers of every open ticket (waiting or in service)."""
    total = 0.0
    for k in range(NP):
        total += p[P_PRIO_MULT + k] * (ist[i, I_QCOUNT + k] + ist[i, I_IN_SERVICE_P + k])
    return total


@njit(cache=True, inline="always")
def _breaches(
    i: int, fs: FloatArray, ist: IntArray, queue: FloatArray, slots: FloatArray, workload: IntArray, p: FloatArray
) -> int:
    """Tickets that have passed their SLA target by now: resolved late, or open past the target."""
    clock = fs[i, F_CLOCK]
    size = queue.shape[2]
    count = 0
    for k in range(NP):
        count += ist[i, I_RESOLVED_P + k] - ist[i, I_SLA_MET_P + k]
        front = ist[i, I_QFRONT + k]
        for j in range(ist[i, I_QCOUNT + k]):  # oldest first: stop at the first within its target
            if clock - queue[i, k, (front + j) % size, Q_ARRIVAL] <= p[P_SLA + k]:
                break
            count += 1
    for a in range(workload.shape[1]):
        for j in range(workload[i, a]):
            if clock - slots[i, a, j, S_ARRIVAL] > p[P_SLA + int(slots[i, a, j, S_PRIORITY])]:
                count += 1
    return count


@njit(cache=True, inline="always")
def _complete(
    i: int,
    a: int,
    fs: FloatArray,
    ist: IntArray,
    rng: UIntArray,
    expertise: FloatArray,
    online: BoolArray,
    workload: IntArray,
    slots: FloatArray,
    stats: FloatArray,
    records: Float32Array,
    p: FloatArray,
    obs: ArrayTuple,
    comps: FloatArray,
) -> None:
    """Resolve agent ``a``'s next-finishing ticket now: record it, sample CSAT, charge the penalty."""
    clock = fs[i, F_CLOCK]
    _touch(i, a, clock, online, workload, stats, p)
    n = workload[i, a]
    target = stats[i, A_NEXT_TARGET, a]
    k = 0
    for j in range(n):
        if slots[i, a, j, S_TARGET] == target:
            k = j
            break
    hours = clock - slots[i, a, k, S_ARRIVAL]
    ticket_type = int(slots[i, a, k, S_TYPE])
    priority = int(slots[i, a, k, S_PRIORITY])
    satisfied = uniform(rng[i, SERVICE_STREAM]) < csat_probability(hours, priority, expertise[i, a, ticket_type], p)
    r = ist[i, I_RESOLVED]
    if r < records.shape[1]:
        records[i, r, R_HOURS] = hours
        records[i, r, R_PRIORITY] = priority
        records[i, r, R_SATISFIED] = 1.0 if satisfied else 0.0
        records[i, r, R_AGENT] = a
    ist[i, I_RESOLVED] = r + 1
    ist[i, I_RESOLVED_P + priority] += 1
    if hours <= p[P_SLA + priority]:
        ist[i, I_SLA_MET] += 1
        ist[i, I_SLA_MET_P + priority] += 1
    if satisfied:
        ist[i, I_SATISFIED] += 1
    reward_resolution(comps, hours, priority, p)
    last = n - 1
    for f in range(slots.shape[3]):
        slots[i, a, k, f] = slots[i, a, last, f]
    workload[i, a] = last
    ist[i, I_IN_SERVICE] -= 1
    ist[i, I_IN_SERVICE_P + priority] -= 1
    ist[i, I_LOAD_SQ] += last * last - n * n
    # Recompute (not subtract) the weight sum: exact even when the weights differ by orders of magnitude.
    nxt = np.inf
    weight = 0.0
    for j in range(last):
        nxt = min(nxt, slots[i, a, j, S_TARGET])
        weight += priority_weight(int(slots[i, a, j, S_PRIORITY]), p)
    stats[i, A_WEIGHT, a] = weight
    stats[i, A_NEXT_TARGET, a] = nxt
    _schedule_done(i, a, online, workload, stats, p)
    _refresh_agent(i, a, ist, online, workload, slots.shape[2], obs)


@njit(cache=True, inline="always")
def _arrive(
    i: int,
    fs: FloatArray,
    ist: IntArray,
    rng: UIntArray,
    queue: FloatArray,
    p: FloatArray,
    profile_accept: FloatArray,
    trace: FloatArray,
    comps: FloatArray,
) -> None:
    """The next ticket arrives now: queue it (or reject it if the queue is full), schedule the next."""
    clock = fs[i, F_CLOCK]
    if p[P_TRACE_MODE] > 0.0:
        idx = ist[i, I_TRACE_INDEX]
        ticket_type, priority = int(trace[idx, 1]), int(trace[idx, 2])
        idx, shift = advance_trace(trace, idx, fs[i, F_TRACE_SHIFT], p)
        ist[i, I_TRACE_INDEX] = idx
        fs[i, F_TRACE_SHIFT] = shift
        fs[i, F_NEXT_ARRIVAL] = trace_arrival_time(trace, idx, shift, fs[i, F_START])
    else:
        ticket_type, priority = draw_type_priority(rng[i, SCENARIO_STREAM], p)
        fs[i, F_NEXT_ARRIVAL] = next_poisson_arrival(rng[i, SCENARIO_STREAM], clock, p, profile_accept)
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
def _online_until(online_cum: FloatArray, schedule: BoolArray, a: int, t: float) -> float:
    """Agent ``a``'s scheduled online hours from clock 0 to ``t``."""
    hour = np.floor(t)
    weeks = np.floor(hour / 168.0)
    h = int(hour - weeks * 168.0)
    return weeks * online_cum[a, 168] + online_cum[a, h] + (t - hour) * schedule[a, h]


@njit(cache=True, inline="always")
def _set_availability(
    i: int,
    h: int,
    ist: IntArray,
    online: BoolArray,
    workload: IntArray,
    capacity: int,
    stats: FloatArray,
    pt: ArrayTuple,
    obs: ArrayTuple,
) -> None:
    """Set every agent's availability to the schedule's hour of week ``h`` (counters already current)."""
    p, schedule = pt[0], pt[2]
    for a in range(workload.shape[1]):
        online[i, a] = schedule[a, h]
        _schedule_done(i, a, online, workload, stats, p)
        _refresh_agent(i, a, ist, online, workload, capacity, obs)


@njit(cache=True, inline="always")
def _advance(
    i: int,
    force_one: bool,
    fs: FloatArray,
    ist: IntArray,
    rng: UIntArray,
    expertise: FloatArray,
    online: BoolArray,
    workload: IntArray,
    slots: FloatArray,
    queue: FloatArray,
    stats: FloatArray,
    records: Float32Array,
    pt: ArrayTuple,
    obs: ArrayTuple,
    comps: FloatArray,
) -> bool:
    """Process events until a ticket can be routed. Returns True when none ever will (terminated).

    With ``force_one`` at least one event is processed first (after repeated invalid actions).
    Every event at the current time is processed before a ticket is routed. When nothing is open,
    the clock jumps to the next arrival and availability is taken from the schedule. Past the
    event budget the episode ends with ``I_OVER_BUDGET`` set (the Python side raises).
    """
    p, profile_accept, schedule, hours_to_change, _, trace, online_cum, _ = pt
    num_agents = workload.shape[1]
    budget = p[P_EVENT_BUDGET]
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
        if not force_one and t > clock and _decision_ready(i, ist):
            return False
        if t == np.inf:
            return True
        force_one = False
        events += 1
        if events > budget:
            ist[i, I_OVER_BUDGET] = 1
            return True
        fs[i, F_STD_INTEGRAL] += _load_std(i, ist, num_agents) * (t - clock)
        if p[P_W_HOLDING] > 0.0:
            reward_holding(comps, _weighted_open(i, ist, p), t - clock, p)
        if t_done <= t_shift and t_done <= t_arrival:
            fs[i, F_CLOCK] = t
            _complete(i, done_agent, fs, ist, rng, expertise, online, workload, slots, stats, records, p, obs, comps)
            continue
        if ist[i, I_QLEN] == 0 and ist[i, I_IN_SERVICE] == 0 and t_shift < t_arrival:
            # Nothing open: jump to the next arrival; online hours come from the schedule.
            for a in range(num_agents):
                _touch(i, a, clock, online, workload, stats, p)
                stats[i, A_ONLINE_HOURS, a] += _online_until(online_cum, schedule, a, t_arrival) - _online_until(
                    online_cum, schedule, a, clock
                )
                stats[i, A_UPDATED, a] = t_arrival
            h = int(np.floor(t_arrival)) % 168
            _set_availability(i, h, ist, online, workload, slots.shape[2], stats, pt, obs)
            fs[i, F_NEXT_SHIFT] = np.floor(t_arrival) + hours_to_change[h]
            t = t_arrival
            t_shift = np.inf
        fs[i, F_CLOCK] = t
        if t_shift <= t_arrival:
            for a in range(num_agents):
                _touch(i, a, t, online, workload, stats, p)
            h = int(np.floor(t + 0.5)) % 168  # t is a whole hour
            _set_availability(i, h, ist, online, workload, slots.shape[2], stats, pt, obs)
            fs[i, F_NEXT_SHIFT] = t + hours_to_change[h]
        else:
            _arrive(i, fs, ist, rng, queue, p, profile_accept, trace, comps)


@njit(cache=True, inline="always")
def _write_obs(i: int, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple) -> None:
    """The ticket, clock and time-dependent agent parts of the observation (agents' load and
    availability are kept current by ``_refresh_agent``)."""
    fs, ist, _, _, online, workload, slots, queue, stats, _ = st
    p, agent_change = pt[0], pt[7]
    obs_int, obs_age = obs[0], obs[1]
    obs_clock, obs_change, obs_offline, obs_work = obs[6], obs[7], obs[8], obs[9]
    clock = fs[i, F_CLOCK]
    priority = _head_priority(i, ist)
    ist[i, I_HEAD] = priority
    if priority >= 0:
        front = ist[i, I_QFRONT + priority]
        obs_int[i, O_TYPE] = int(queue[i, priority, front, Q_TYPE])
        obs_int[i, O_PRIORITY] = priority
        obs_age[i, 0] = min(clock - queue[i, priority, front, Q_ARRIVAL], p[P_MAX_AGE])
    else:  # terminated: no ticket left; placeholders
        obs_int[i, O_TYPE] = 0
        obs_int[i, O_PRIORITY] = 0
        obs_age[i, 0] = 0.0
    obs_int[i, O_QUEUE] = ist[i, I_QLEN]
    obs_int[i, O_STEP] = ist[i, I_STEP]
    hour = np.floor(clock)
    angle = 2.0 * np.pi * (clock - 168.0 * np.floor(clock / 168.0)) / 168.0
    obs_clock[i, 0] = np.sin(angle)
    obs_clock[i, 1] = np.cos(angle)
    h = int(hour) % 168
    cap = p[P_WORK_CAP]
    for a in range(workload.shape[1]):
        obs_change[i, a] = agent_change[a, h] - (clock - hour)
        obs_offline[i, a] = online[i, a]
        n = workload[i, a]
        left = 0.0
        if n > 0:
            v = stats[i, A_VWORK, a]
            if online[i, a]:
                v += (clock - stats[i, A_UPDATED, a]) * total_rate(n, p) / stats[i, A_WEIGHT, a]
            for j in range(n):
                left += max(slots[i, a, j, S_TARGET] - v, 0.0) * priority_weight(int(slots[i, a, j, S_PRIORITY]), p)
        obs_work[i, a] = min(left, cap)


@njit(cache=True, inline="always")
def _reset_one(i: int, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple, comps: FloatArray) -> None:
    fs, ist, rng, expertise, online, workload, slots, queue, stats, records = st
    p, profile_accept, schedule, hours_to_change, fixed, trace, _, _ = pt
    obs_expertise, mask = obs[4], obs[5]
    comps[:] = 0.0
    fs[i, :] = 0.0
    ist[i, :] = 0
    workload[i, :] = 0
    stats[i, :, :] = 0.0
    start = p[P_START_HOUR]
    stats[i, A_NEXT_TARGET, :] = np.inf
    stats[i, A_DONE_AT, :] = np.inf
    stats[i, A_UPDATED, :] = start
    fs[i, F_CLOCK] = start
    fs[i, F_START] = start
    fs[i, F_NEXT_SHIFT] = start + hours_to_change[int(start) % 168]
    draw_expertise(rng[i, SCENARIO_STREAM], expertise[i], p, fixed)
    num_agents = workload.shape[1]
    mask[i, :] = False
    for a in range(num_agents):
        online[i, a] = schedule[a, int(start) % 168]
        _refresh_agent(i, a, ist, online, workload, slots.shape[2], obs)
        for k in range(NT):
            obs_expertise[i, a * NT + k] = expertise[i, a, k]
    if p[P_TRACE_MODE] > 0.0:
        fs[i, F_NEXT_ARRIVAL] = trace_arrival_time(trace, 0, 0.0, start)
    else:
        fs[i, F_NEXT_ARRIVAL] = next_poisson_arrival(rng[i, SCENARIO_STREAM], start, p, profile_accept)
    if _advance(i, False, fs, ist, rng, expertise, online, workload, slots, queue, stats, records, pt, obs, comps):
        ist[i, I_TERMINATED] = 1
        ist[i, I_DONE] = 1
    ist[i, I_PENDING_REJECTS] = ist[i, I_REJECTED]  # charged in the first step's reward
    fs[i, F_PENDING_HOLD] = comps[C_HOLDING]  # likewise the holding cost accrued so far
    _write_obs(i, st, pt, obs)


@njit(cache=True)
def reset_batch(which: BoolArray, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple, comps: FloatArray) -> int:
    """Reset every environment ``i`` with ``which[i]`` (RNG rows continue their streams).

    Returns how many ran out of their event budget."""
    ist = st[1]
    over = 0
    for i in range(which.shape[0]):
        if which[i]:
            _reset_one(i, st, pt, obs, comps[i])
            comps[i, :] = 0.0
            over += ist[i, I_OVER_BUDGET]
    return over


@njit(cache=True, nogil=True)
def step_batch(actions: IntArray, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple, out: ArrayTuple) -> int:
    """Apply ``actions[i]`` to environment ``i`` for every ``i``.

    A valid action assigns the head of the queue to the agent; an invalid one (agent full or
    offline) is penalised and, after ``max_invalid_retries`` in a row, lets one event pass. The
    clock then advances to the next decision. Environments whose episode ended on their previous
    step are reset instead and their action is ignored (Gymnasium's next-step auto-reset).
    Arrivals rejected during a reset are charged in the episode's first step. Returns how many
    environments ran out of their event budget.
    """
    fs, ist, rng, expertise, online, workload, slots, queue, stats, records = st
    p = pt[0]
    reward, comps_all, terminated, truncated = out
    capacity = slots.shape[2]
    size = queue.shape[2]
    over = 0
    for i in range(actions.shape[0]):
        comps = comps_all[i]
        comps[:] = 0.0
        if ist[i, I_DONE] == 1:
            _reset_one(i, st, pt, obs, comps)
            comps[:] = 0.0
            reward[i] = 0.0
            terminated[i] = False
            truncated[i] = False
            over += ist[i, I_OVER_BUDGET]
            continue
        for _ in range(ist[i, I_PENDING_REJECTS]):
            reward_rejection(comps, p)
        ist[i, I_PENDING_REJECTS] = 0
        comps[C_HOLDING] += fs[i, F_PENDING_HOLD]
        fs[i, F_PENDING_HOLD] = 0.0
        action = actions[i]
        force = False
        priority = ist[i, I_HEAD]
        if priority >= 0 and online[i, action] and workload[i, action] < capacity:
            clock = fs[i, F_CLOCK]
            front = ist[i, I_QFRONT + priority]
            arrival = queue[i, priority, front, Q_ARRIVAL]
            ticket_type = int(queue[i, priority, front, Q_TYPE])
            ist[i, I_QFRONT + priority] = (front + 1) % size
            ist[i, I_QCOUNT + priority] -= 1
            ist[i, I_QLEN] -= 1
            _touch(i, action, clock, online, workload, stats, p)
            e = expertise[i, action, ticket_type]
            n = workload[i, action]
            if n == 0:
                stats[i, A_VWORK, action] = 0.0  # keep the counter small
            weight = priority_weight(priority, p)
            work = sample_work(rng[i, SERVICE_STREAM], ticket_type, e, p)
            target = stats[i, A_VWORK, action] + work / weight
            stats[i, A_WEIGHT, action] += weight
            slots[i, action, n, S_TARGET] = target
            slots[i, action, n, S_ARRIVAL] = arrival
            slots[i, action, n, S_TYPE] = ticket_type
            slots[i, action, n, S_PRIORITY] = priority
            stats[i, A_NEXT_TARGET, action] = min(stats[i, A_NEXT_TARGET, action], target)
            workload[i, action] = n + 1
            _schedule_done(i, action, online, workload, stats, p)
            _refresh_agent(i, action, ist, online, workload, capacity, obs)
            ist[i, I_IN_SERVICE] += 1
            ist[i, I_IN_SERVICE_P + priority] += 1
            ist[i, I_LOAD_SQ] += 2 * n + 1
            stats[i, A_ASSIGNED, action] += 1.0
            ist[i, I_ASSIGNED] += 1
            fs[i, F_SUM_WAIT] += clock - arrival
            if e >= p[P_EXPERT_THRESHOLD]:
                ist[i, I_MATCHES] += 1
            ist[i, I_RETRIES] = 0
            reward_assignment(comps, e, _load_std(i, ist, workload.shape[1]), p)
        else:
            reward_invalid(comps, p)
            ist[i, I_INVALID] += 1
            ist[i, I_RETRIES] += 1
            if ist[i, I_RETRIES] >= p[P_MAX_RETRIES]:
                force = True
                ist[i, I_RETRIES] = 0
        ended = _advance(
            i, force, fs, ist, rng, expertise, online, workload, slots, queue, stats, records, pt, obs, comps
        )
        ist[i, I_STEP] += 1
        terminated[i] = ended
        truncated[i] = ist[i, I_STEP] >= p[P_EPISODE_LENGTH]
        if ended:
            ist[i, I_TERMINATED] = 1
        if ended or truncated[i]:
            ist[i, I_DONE] = 1
        over += ist[i, I_OVER_BUDGET]
        if p[P_W_SLA_BREACH] > 0.0:
            breaches = _breaches(i, fs, ist, queue, slots, workload, p)
            reward_sla_breach(comps, breaches - ist[i, I_BREACHES_CHARGED], p)
            ist[i, I_BREACHES_CHARGED] = breaches
        total = 0.0
        for c in range(comps.shape[0]):
            total += comps[c]
        reward[i] = total
        _write_obs(i, st, pt, obs)
    return over


# --------------------------------------------------------------------------- the Python side
class SimulationBudgetError(RuntimeError):
    """A step or reset needed more events than its budget: the scenario cannot be simulated in bounded time."""

    def __init__(self, where: str, budget: int, rows: IntArray, config: EnvironmentConfig) -> None:
        self.rows = rows
        envs = "" if len(rows) == 1 and rows[0] == 0 else f" (environments {', '.join(map(str, rows[:10]))})"
        super().__init__(
            f"{where}() stopped after {budget:,} simulation events{envs}: tickets arrive, are rejected or "
            "resolve far faster than decisions can be made. Check arrivals.rate_per_day "
            f"({config.arrivals.rate_per_day:g}), max_queue_size ({config.max_queue_size}), "
            f"service.base_effort_hours and service.min_speed ({config.service.min_speed:g}), "
            "and the shifts (agents.shift_hours, agents.work_days). Call reset() to start again."
        )


def _direct_entry(kernel: Any) -> Any:
    """The compiled entry point of a kernel that has exactly one signature, else the kernel.

    Our arrays always have the same types, so after the first call the dispatcher's type
    resolution (about 1 us for this many arrays) can be skipped; with ``NUMBA_DISABLE_JIT``
    the plain Python function is returned.
    """
    overloads = getattr(kernel, "overloads", None)
    if overloads is not None and len(overloads) == 1:
        return next(iter(overloads.values())).entry_point
    return kernel


@dataclass(eq=False)
class Simulation:
    """State arrays of ``num_envs`` environments sharing one configuration.

    With ``threads > 1`` a step runs the same kernel on ``threads`` contiguous blocks of
    environments at once, each in its own thread (the kernel releases the GIL). Environments never
    share state, so results are identical to ``threads=1``.
    """

    config: EnvironmentConfig
    num_envs: int
    trace: ArrivalTrace | None = None
    threads: int = 1

    def __post_init__(self) -> None:
        cfg, n = self.config, self.num_envs
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"num_envs: invalid value {n!r}; must be an integer >= 1")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or not 1 <= self.threads <= 256:
            raise ValueError(f"threads: invalid value {self.threads!r}; must be an integer between 1 and 256")
        a, k = cfg.num_agents, cfg.max_workload
        self.params: CompiledParams = compile_params(cfg, self.trace)
        self.fs: FloatArray = np.zeros((n, NUM_F))
        self.ist: IntArray = np.zeros((n, NUM_I), dtype=np.int64)
        self.rng: UIntArray = np.zeros((n, 2, 4), dtype=np.uint64)
        self.expertise: FloatArray = np.zeros((n, a, NT))
        self.online: BoolArray = np.zeros((n, a), dtype=np.bool_)
        self.workload: IntArray = np.zeros((n, a), dtype=np.int64)
        self.slots: FloatArray = np.zeros((n, a, k, 4))
        self.queue: FloatArray = np.zeros((n, NP, cfg.max_queue_size, 2))
        self.agent_stats: FloatArray = np.zeros((n, NUM_A, a))
        self.records: Float32Array = np.zeros((n, cfg.episode_length, 4), dtype=np.float32)
        self.obs_int: IntArray = np.zeros((n, 4), dtype=np.int64)
        self.obs_age: Float32Array = np.zeros((n, 1), dtype=np.float32)
        self.obs_workload: Float32Array = np.zeros((n, a), dtype=np.float32)
        self.obs_available: Int8Array = np.zeros((n, a), dtype=np.int8)
        self.obs_expertise: Float32Array = np.zeros((n, a * NT), dtype=np.float32)
        self.mask: BoolArray = np.zeros((n, a), dtype=np.bool_)
        self.obs_clock: Float32Array = np.zeros((n, 2), dtype=np.float32)
        self.obs_next_change: Float32Array = np.zeros((n, a), dtype=np.float32)
        self.obs_change_offline: Int8Array = np.zeros((n, a), dtype=np.int8)
        self.obs_remaining_work: Float32Array = np.zeros((n, a), dtype=np.float32)
        self.reward: FloatArray = np.zeros(n)
        self.components: FloatArray = np.zeros((n, NUM_COMPONENTS))
        self.terminated: BoolArray = np.zeros(n, dtype=np.bool_)
        self.truncated: BoolArray = np.zeros(n, dtype=np.bool_)
        self._bind()

    def _bind(self) -> None:
        cp = self.params
        self._pt = (
            cp.p,
            cp.profile_accept,
            cp.schedule,
            cp.hours_to_change,
            cp.fixed_expertise,
            cp.trace,
            cp.online_cum,
            cp.agent_change,
        )
        self._st = (
            self.fs,
            self.ist,
            self.rng,
            self.expertise,
            self.online,
            self.workload,
            self.slots,
            self.queue,
            self.agent_stats,
            self.records,
        )
        self._obs = (
            self.obs_int,
            self.obs_age,
            self.obs_workload,
            self.obs_available,
            self.obs_expertise,
            self.mask,
            self.obs_clock,
            self.obs_next_change,
            self.obs_change_offline,
            self.obs_remaining_work,
        )
        self._out = (self.reward, self.components, self.terminated, self.truncated)
        self._step: Any = step_batch
        self._blocks: list[tuple[slice, ArrayTuple, ArrayTuple, ArrayTuple, ArrayTuple]] = []
        self._pool: ThreadPoolExecutor | None = None
        blocks = min(self.threads, self.num_envs)
        if blocks > 1:
            edges = np.linspace(0, self.num_envs, blocks + 1).astype(int)
            for lo, hi in itertools.pairwise(edges):
                rows = slice(int(lo), int(hi))
                self._blocks.append(
                    (
                        rows,
                        tuple(a[rows] for a in self._st),
                        tuple(a.copy() for a in self._pt),  # private read-only copies: no shared refcounts
                        tuple(a[rows] for a in self._obs),
                        tuple(a[rows] for a in self._out),
                    )
                )
            self._pool = ThreadPoolExecutor(max_workers=blocks, thread_name_prefix="ticket-routing")

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        for key in ("_pt", "_st", "_obs", "_out", "_step", "_blocks", "_pool"):
            state.pop(key, None)
        return state

    def close(self) -> None:
        """Stop the worker threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            self._blocks = []

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._bind()

    def seed(self, rows: IntArray | slice, generators: list[np.random.Generator]) -> None:
        """Seed the random streams of ``rows`` from NumPy generators (one per row)."""
        self.rng[rows] = np.stack([seed_states(g, 2) for g in generators])

    def reset(self, which: BoolArray) -> None:
        """Start new episodes in the environments selected by ``which``."""
        over = reset_batch(which, self._st, self._pt, self._obs, self.components)
        self.reward[which] = 0.0
        self.terminated[which] = False
        self.truncated[which] = False
        if over:
            self._over_budget("reset")

    def step(self, actions: IntArray) -> None:
        """Route one ticket in every environment (``actions`` int64, shape (num_envs,))."""
        if self._pool is not None:
            kernel = self._step
            futures = [
                self._pool.submit(kernel, actions[rows], st, pt, obs, out) for rows, st, pt, obs, out in self._blocks
            ]
            over = sum(future.result() for future in futures)
        else:
            over = self._step(actions, self._st, self._pt, self._obs, self._out)
        if self._step is step_batch:
            self._step = _direct_entry(step_batch)
        if over:
            self._over_budget("step")

    def _over_budget(self, where: str) -> None:
        rows = np.flatnonzero(self.ist[:, I_OVER_BUDGET])
        self.ist[:, I_DONE] = np.maximum(self.ist[:, I_DONE], self.ist[:, I_OVER_BUDGET])
        raise SimulationBudgetError(where, int(self.params.p[P_EVENT_BUDGET]), rows, self.config)

    def head_ticket(self, i: int = 0) -> tuple[float, int, int] | None:
        """Arrival time, type and priority of environment ``i``'s ticket to route (None if none)."""
        priority = int(self.ist[i, I_HEAD])
        if self.ist[i, I_QLEN] == 0 or priority < 0:
            return None
        front = int(self.ist[i, I_QFRONT + priority])
        return float(self.queue[i, priority, front, Q_ARRIVAL]), int(self.queue[i, priority, front, Q_TYPE]), priority
