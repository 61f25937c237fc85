"""Batched simulation state and the kernels that move it: one implementation of the rules.

All state lives in NumPy arrays with a leading environment axis, so the single environment
(N = 1) and the vector environment (any N) run exactly the same compiled code. A decision
epoch is an event: ``step`` routes the head of the queue (most urgent priority, then oldest),
then advances the continuous clock (hours) through arrivals, completions and shift changes
until another ticket can be routed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from rl_environments.ticket_routing.core.agent_manager import draw_expertise, per_ticket_rate, sample_work
from rl_environments.ticket_routing.core.data_models import EnvironmentConfig
from rl_environments.ticket_routing.core.params import (
    NT,
    P_EPISODE_LENGTH,
    P_EXPERT_THRESHOLD,
    P_MAX_AGE,
    P_MAX_RETRIES,
    P_SLA,
    P_START_HOUR,
    P_TRACE_MODE,
    CompiledParams,
    compile_params,
)
from rl_environments.ticket_routing.core.reward_calculator import (
    NUM_COMPONENTS,
    csat_probability,
    reward_assignment,
    reward_invalid,
    reward_rejection,
    reward_resolution,
)
from rl_environments.ticket_routing.core.rng import seed_states, uniform
from rl_environments.ticket_routing.core.ticket_generator import (
    advance_trace,
    draw_type_priority,
    next_poisson_arrival,
    trace_arrival_time,
)
from rl_environments.ticket_routing.core.trace import ArrivalTrace
from rl_environments.ticket_routing.core.typing import (
    ArrayTuple,
    BoolArray,
    Float32Array,
    FloatArray,
    Int8Array,
    IntArray,
    UIntArray,
)

# Float state columns.
F_CLOCK = 0  # hours since Monday 00:00 of week 0
F_NEXT_ARRIVAL = 1  # time of the next arrival (inf when a trace is exhausted)
F_TRACE_SHIFT = 2  # hours added to trace times after each loop
F_SUM_WAIT = 3  # total hours from arrival to assignment of assigned tickets
F_STD_INTEGRAL = 4  # integral over time of the workload standard deviation
F_START = 5  # clock at reset
NUM_F = 6

# Integer state columns.
I_STEP = 0  # decisions taken this episode
I_QLEN = 1  # tickets waiting
I_HEAD = 2  # queue slot of the ticket to route
I_RETRIES = 3  # consecutive invalid actions
I_ARRIVED = 4
I_ASSIGNED = 5
I_RESOLVED = 6
I_REJECTED = 7
I_INVALID = 8
I_MATCHES = 9  # assignments with expertise >= expert_threshold
I_TRACE_INDEX = 10
I_DONE = 11  # episode over; the next vector step resets it
I_TERMINATED = 12
I_SLA_MET = 13
I_SATISFIED = 14
NUM_I = 15

# Queue fields (queue[i, slot, field]) and open-ticket fields (slots[i, agent, k, field]).
Q_ARRIVAL, Q_TYPE, Q_PRIORITY = 0, 1, 2
S_REMAINING, S_ARRIVAL, S_TYPE, S_PRIORITY = 0, 1, 2, 3
# Per-agent statistics and resolved-ticket records.
A_ASSIGNED, A_BUSY_HOURS, A_ONLINE_HOURS = 0, 1, 2
R_HOURS, R_PRIORITY, R_SATISFIED, R_AGENT = 0, 1, 2, 3

# Random streams per environment: the scenario (expertise, arrivals) never depends on the
# actions, so every policy sees the same tickets for the same seed (common random numbers);
# service times and CSAT draws come from the second stream.
SCENARIO_STREAM, SERVICE_STREAM = 0, 1

# Observation integer columns.
O_TYPE, O_PRIORITY, O_QUEUE, O_STEP = 0, 1, 2, 3


# --------------------------------------------------------------------------- kernel pieces
@njit(cache=True)
def _decision_ready(i: int, ist: IntArray, online: BoolArray, workload: IntArray, capacity: int) -> bool:
    if ist[i, I_QLEN] == 0:
        return False
    for a in range(workload.shape[1]):
        if online[i, a] and workload[i, a] < capacity:
            return True
    return False


@njit(cache=True)
def _select_head(i: int, ist: IntArray, queue: FloatArray) -> int:
    """Queue slot of the most urgent, then oldest, waiting ticket."""
    best = 0
    for q in range(1, ist[i, I_QLEN]):
        if queue[i, q, Q_PRIORITY] < queue[i, best, Q_PRIORITY] or (
            queue[i, q, Q_PRIORITY] == queue[i, best, Q_PRIORITY]
            and queue[i, q, Q_ARRIVAL] < queue[i, best, Q_ARRIVAL]
        ):
            best = q
    return best


@njit(cache=True)
def _integrate(i: int, dt: float, st: ArrayTuple, p: FloatArray) -> None:
    """Let ``dt`` hours pass: agents work, time-weighted statistics accumulate."""
    fs, ist, rng, expertise, online, workload, slots, queue, agent_stats, records = st
    if dt <= 0.0:
        return
    num_agents = workload.shape[1]
    mean = 0.0
    for a in range(num_agents):
        mean += workload[i, a]
    mean /= num_agents
    var = 0.0
    for a in range(num_agents):
        d = workload[i, a] - mean
        var += d * d
    fs[i, F_STD_INTEGRAL] += np.sqrt(var / num_agents) * dt
    for a in range(num_agents):
        if online[i, a]:
            agent_stats[i, a, A_ONLINE_HOURS] += dt
            n = workload[i, a]
            if n > 0:
                agent_stats[i, a, A_BUSY_HOURS] += dt
                done = dt * per_ticket_rate(n, p)
                for k in range(n):
                    slots[i, a, k, S_REMAINING] -= done


@njit(cache=True)
def _complete(i: int, a: int, k: int, st: ArrayTuple, p: FloatArray, comps: FloatArray) -> None:
    """Resolve open ticket ``k`` of agent ``a`` now: record it, sample CSAT, charge the penalty."""
    fs, ist, rng, expertise, online, workload, slots, queue, agent_stats, records = st
    clock = fs[i, F_CLOCK]
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
    if hours <= p[P_SLA + priority]:
        ist[i, I_SLA_MET] += 1
    if satisfied:
        ist[i, I_SATISFIED] += 1
    reward_resolution(comps, hours, priority, p)
    last = workload[i, a] - 1
    for f in range(slots.shape[3]):
        slots[i, a, k, f] = slots[i, a, last, f]
    workload[i, a] = last


@njit(cache=True)
def _arrive(i: int, st: ArrayTuple, pt: ArrayTuple, comps: FloatArray) -> None:
    """The next ticket arrives now: queue it (or reject it if the queue is full), schedule the next."""
    fs, ist, rng, expertise, online, workload, slots, queue, agent_stats, records = st
    p, profile_accept, schedule, hours_to_change, fixed, trace = pt
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
    q = ist[i, I_QLEN]
    if q >= queue.shape[1]:
        ist[i, I_REJECTED] += 1
        reward_rejection(comps, p)
        return
    queue[i, q, Q_ARRIVAL] = clock
    queue[i, q, Q_TYPE] = ticket_type
    queue[i, q, Q_PRIORITY] = priority
    ist[i, I_QLEN] = q + 1


@njit(cache=True)
def _advance(i: int, force_one: bool, st: ArrayTuple, pt: ArrayTuple, comps: FloatArray) -> bool:
    """Process events until a ticket can be routed. Returns True when none ever will (terminated).

    With ``force_one`` at least one event is processed first (after repeated invalid actions).
    """
    fs, ist, rng, expertise, online, workload, slots, queue, agent_stats, records = st
    p, profile_accept, schedule, hours_to_change, fixed, trace = pt
    capacity = slots.shape[2]
    num_agents = workload.shape[1]
    while True:
        if ist[i, I_QLEN] == 0 and fs[i, F_NEXT_ARRIVAL] == np.inf:
            # A finished trace: let open tickets resolve, then end the episode.
            busy = 0
            for a in range(num_agents):
                busy += workload[i, a]
            if busy == 0:
                return True
        elif not force_one and _decision_ready(i, ist, online, workload, capacity):
            return False
        force_one = False
        clock = fs[i, F_CLOCK]
        t_done, done_agent, done_slot = np.inf, -1, -1
        for a in range(num_agents):
            n = workload[i, a]
            if online[i, a] and n > 0:
                rate = per_ticket_rate(n, p)
                for k in range(n):
                    t = clock + max(slots[i, a, k, S_REMAINING], 0.0) / rate
                    if t < t_done:
                        t_done, done_agent, done_slot = t, a, k
        hour = np.floor(clock)
        t_shift = hour + hours_to_change[int(hour) % 168]
        t_arrival = fs[i, F_NEXT_ARRIVAL]
        t = min(t_done, t_shift, t_arrival)
        if t == np.inf:
            return True
        _integrate(i, t - clock, st, p)
        fs[i, F_CLOCK] = t
        if t_done <= t_shift and t_done <= t_arrival:
            _complete(i, done_agent, done_slot, st, p, comps)
        elif t_shift <= t_arrival:
            h = int(np.floor(t + 0.5)) % 168
            for a in range(num_agents):
                online[i, a] = schedule[a, h]
        else:
            _arrive(i, st, pt, comps)


@njit(cache=True)
def _write_obs(i: int, st: ArrayTuple, p: FloatArray, obs: ArrayTuple) -> None:
    fs, ist, rng, expertise, online, workload, slots, queue, agent_stats, records = st
    obs_int, obs_age, obs_workload, obs_available, obs_expertise, mask = obs
    capacity = slots.shape[2]
    if ist[i, I_QLEN] > 0:
        head = _select_head(i, ist, queue)
        ist[i, I_HEAD] = head
        obs_int[i, O_TYPE] = int(queue[i, head, Q_TYPE])
        obs_int[i, O_PRIORITY] = int(queue[i, head, Q_PRIORITY])
        obs_age[i, 0] = min(fs[i, F_CLOCK] - queue[i, head, Q_ARRIVAL], p[P_MAX_AGE])
    else:  # terminated: no ticket left; placeholders
        obs_int[i, O_TYPE] = 0
        obs_int[i, O_PRIORITY] = 0
        obs_age[i, 0] = 0.0
    obs_int[i, O_QUEUE] = ist[i, I_QLEN]
    obs_int[i, O_STEP] = ist[i, I_STEP]
    for a in range(workload.shape[1]):
        obs_workload[i, a] = workload[i, a]
        obs_available[i, a] = 1 if online[i, a] else 0
        mask[i, a] = online[i, a] and workload[i, a] < capacity


@njit(cache=True)
def _reset_one(i: int, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple, comps: FloatArray) -> None:
    fs, ist, rng, expertise, online, workload, slots, queue, agent_stats, records = st
    p, profile_accept, schedule, hours_to_change, fixed, trace = pt
    obs_expertise = obs[4]
    fs[i, :] = 0.0
    ist[i, :] = 0
    workload[i, :] = 0
    agent_stats[i, :, :] = 0.0
    start = p[P_START_HOUR]
    fs[i, F_CLOCK] = start
    fs[i, F_START] = start
    draw_expertise(rng[i, SCENARIO_STREAM], expertise[i], p, fixed)
    num_agents = workload.shape[1]
    for a in range(num_agents):
        online[i, a] = schedule[a, int(start) % 168]
        for k in range(NT):
            obs_expertise[i, a * NT + k] = expertise[i, a, k]
    if p[P_TRACE_MODE] > 0.0:
        fs[i, F_NEXT_ARRIVAL] = trace_arrival_time(trace, 0, 0.0, start)
    else:
        fs[i, F_NEXT_ARRIVAL] = next_poisson_arrival(rng[i, SCENARIO_STREAM], start, p, profile_accept)
    if _advance(i, False, st, pt, comps):
        ist[i, I_TERMINATED] = 1
        ist[i, I_DONE] = 1
    _write_obs(i, st, p, obs)


@njit(cache=True)
def _step_one(i: int, action: int, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple, out: ArrayTuple) -> None:
    fs, ist, rng, expertise, online, workload, slots, queue, agent_stats, records = st
    p = pt[0]
    reward, comps_all, terminated, truncated = out
    comps = comps_all[i]
    comps[:] = 0.0
    if ist[i, I_DONE] == 1:  # next-step autoreset: this step only resets
        _reset_one(i, st, pt, obs, comps)
        comps[:] = 0.0
        reward[i] = 0.0
        terminated[i] = False
        truncated[i] = False
        return
    capacity = slots.shape[2]
    force = False
    if ist[i, I_QLEN] > 0 and online[i, action] and workload[i, action] < capacity:
        head = ist[i, I_HEAD]
        q_last = ist[i, I_QLEN] - 1
        arrival = queue[i, head, Q_ARRIVAL]
        ticket_type = int(queue[i, head, Q_TYPE])
        priority = int(queue[i, head, Q_PRIORITY])
        for f in range(queue.shape[2]):
            queue[i, head, f] = queue[i, q_last, f]
        ist[i, I_QLEN] = q_last
        e = expertise[i, action, ticket_type]
        n = workload[i, action]
        slots[i, action, n, S_REMAINING] = sample_work(rng[i, SERVICE_STREAM], ticket_type, e, p)
        slots[i, action, n, S_ARRIVAL] = arrival
        slots[i, action, n, S_TYPE] = ticket_type
        slots[i, action, n, S_PRIORITY] = priority
        workload[i, action] = n + 1
        agent_stats[i, action, A_ASSIGNED] += 1.0
        ist[i, I_ASSIGNED] += 1
        fs[i, F_SUM_WAIT] += fs[i, F_CLOCK] - arrival
        if e >= p[P_EXPERT_THRESHOLD]:
            ist[i, I_MATCHES] += 1
        ist[i, I_RETRIES] = 0
        reward_assignment(comps, e, workload[i], p)
    else:
        reward_invalid(comps, p)
        ist[i, I_INVALID] += 1
        ist[i, I_RETRIES] += 1
        if ist[i, I_RETRIES] >= p[P_MAX_RETRIES]:
            force = True
            ist[i, I_RETRIES] = 0
    ended = _advance(i, force, st, pt, comps)
    ist[i, I_STEP] += 1
    terminated[i] = ended
    truncated[i] = ist[i, I_STEP] >= p[P_EPISODE_LENGTH]
    if ended:
        ist[i, I_TERMINATED] = 1
    if terminated[i] or truncated[i]:
        ist[i, I_DONE] = 1
    total = 0.0
    for c in range(comps.shape[0]):
        total += comps[c]
    reward[i] = total
    _write_obs(i, st, p, obs)


@njit(cache=True)
def reset_batch(which: BoolArray, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple, comps: FloatArray) -> None:
    """Reset every environment ``i`` with ``which[i]`` (RNG rows continue their streams)."""
    for i in range(which.shape[0]):
        if which[i]:
            _reset_one(i, st, pt, obs, comps[i])
            comps[i, :] = 0.0


@njit(cache=True)
def step_batch(actions: IntArray, st: ArrayTuple, pt: ArrayTuple, obs: ArrayTuple, out: ArrayTuple) -> None:
    """Apply ``actions[i]`` to environment ``i`` for every ``i`` (auto-resetting finished ones)."""
    for i in range(actions.shape[0]):
        _step_one(i, actions[i], st, pt, obs, out)


# --------------------------------------------------------------------------- the Python side
@dataclass(eq=False)
class Simulation:
    """State arrays of ``num_envs`` environments sharing one configuration."""

    config: EnvironmentConfig
    num_envs: int
    trace: ArrivalTrace | None = None

    def __post_init__(self) -> None:
        cfg, n = self.config, self.num_envs
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"num_envs: invalid value {n!r}; must be an integer >= 1")
        a, k = cfg.num_agents, cfg.max_workload
        self.params: CompiledParams = compile_params(cfg, self.trace)
        self.fs: FloatArray = np.zeros((n, NUM_F))
        self.ist: IntArray = np.zeros((n, NUM_I), dtype=np.int64)
        self.rng: UIntArray = np.zeros((n, 2, 4), dtype=np.uint64)
        self.expertise: FloatArray = np.zeros((n, a, NT))
        self.online: BoolArray = np.zeros((n, a), dtype=np.bool_)
        self.workload: IntArray = np.zeros((n, a), dtype=np.int64)
        self.slots: FloatArray = np.zeros((n, a, k, 4))
        self.queue: FloatArray = np.zeros((n, cfg.max_queue_size, 3))
        self.agent_stats: FloatArray = np.zeros((n, a, 3))
        self.records: Float32Array = np.zeros((n, cfg.episode_length, 4), dtype=np.float32)
        self.obs_int: IntArray = np.zeros((n, 4), dtype=np.int64)
        self.obs_age: Float32Array = np.zeros((n, 1), dtype=np.float32)
        self.obs_workload: Float32Array = np.zeros((n, a), dtype=np.float32)
        self.obs_available: Int8Array = np.zeros((n, a), dtype=np.int8)
        self.obs_expertise: Float32Array = np.zeros((n, a * NT), dtype=np.float32)
        self.mask: BoolArray = np.zeros((n, a), dtype=np.bool_)
        self.reward: FloatArray = np.zeros(n)
        self.components: FloatArray = np.zeros((n, NUM_COMPONENTS))
        self.terminated: BoolArray = np.zeros(n, dtype=np.bool_)
        self.truncated: BoolArray = np.zeros(n, dtype=np.bool_)
        self._bind()

    def _bind(self) -> None:
        cp = self.params
        self._pt = (cp.p, cp.profile_accept, cp.schedule, cp.hours_to_change, cp.fixed_expertise, cp.trace)
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
        )
        self._out = (self.reward, self.components, self.terminated, self.truncated)

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        for key in ("_pt", "_st", "_obs", "_out"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._bind()

    def seed(self, rows: IntArray | slice, generators: list[np.random.Generator]) -> None:
        """Seed the random streams of ``rows`` from NumPy generators (one per row)."""
        self.rng[rows] = np.stack([seed_states(g, 2) for g in generators])

    def reset(self, which: BoolArray) -> None:
        """Start new episodes in the environments selected by ``which``."""
        reset_batch(which, self._st, self._pt, self._obs, self.components)
        self.reward[which] = 0.0
        self.terminated[which] = False
        self.truncated[which] = False

    def step(self, actions: IntArray) -> None:
        """Route one ticket in every environment (``actions`` int64, shape (num_envs,))."""
        step_batch(actions, self._st, self._pt, self._obs, self._out)
