"""The kernel's data, by name: state, observation buffers and step outputs of N environments.

Every array has a leading environment axis, so the single environment (N = 1) and the vector
environment run the same compiled code. Records are ``NamedTuple``s of arrays, which Numba
compiles and caches; the widths of their last axes come from the field lists below, and each
column constant is that field's offset. A field of width ``NP`` holds one column per priority.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rl_environments.ticket_routing.core.config import PRIORITIES, REWARD_COMPONENTS, TICKET_TYPES
from rl_environments.ticket_routing.core.rng import STATE_WORDS
from rl_environments.ticket_routing.core.typing import (
    BoolArray,
    Float32Array,
    FloatArray,
    Int8Array,
    IntArray,
    UIntArray,
)

NT = len(TICKET_TYPES)
NP = len(PRIORITIES)
HOURS_PER_WEEK = 168

Fields = tuple[tuple[str, int], ...]


def offsets(fields: Fields) -> dict[str, int]:
    """Column offset of each named field (a field of width w takes w adjacent columns)."""
    out: dict[str, int] = {}
    column = 0
    for name, width in fields:
        out[name] = column
        column += width
    return out


def width(fields: Fields) -> int:
    """Columns taken by all ``fields``."""
    return sum(w for _, w in fields)


# --------------------------------------------------------------------------- per-environment floats
FLOAT_FIELDS: Fields = (
    ("clock", 1),  # hours since Monday 00:00 of week 0
    ("next_arrival", 1),  # time of the next arrival (inf when a trace is exhausted)
    ("trace_shift", 1),  # hours added to trace times after each loop
    ("sum_wait", 1),  # total hours from arrival to assignment of assigned tickets
    ("std_integral", 1),  # integral over time of the workload standard deviation
    ("start", 1),  # clock at reset
    ("next_shift", 1),  # time of the next availability change not yet applied (inf if none)
    ("pending_hold", 1),  # holding cost accrued during reset, charged in the first step
)
_F = offsets(FLOAT_FIELDS)
F_CLOCK = _F["clock"]
F_NEXT_ARRIVAL = _F["next_arrival"]
F_TRACE_SHIFT = _F["trace_shift"]
F_SUM_WAIT = _F["sum_wait"]
F_STD_INTEGRAL = _F["std_integral"]
F_START = _F["start"]
F_NEXT_SHIFT = _F["next_shift"]
F_PENDING_HOLD = _F["pending_hold"]
NUM_F = width(FLOAT_FIELDS)

# --------------------------------------------------------------------------- per-environment counters
# The six ticket counters lead, in the order of kpis.COUNT_KPIS, so one slice reads them.
COUNT_FIELDS: Fields = (
    ("arrived", 1),
    ("assigned", 1),
    ("resolved", 1),
    ("rejected", 1),
    ("queue_length", 1),  # tickets waiting (all priorities)
    ("in_service", 1),  # open tickets over all agents (sum of workloads)
    ("step", 1),  # decisions taken this episode
    ("head", 1),  # priority of the ticket to route (-1 if none)
    ("retries", 1),  # consecutive invalid actions
    ("invalid", 1),
    ("matches", 1),  # assignments with expertise >= expert_threshold
    ("trace_index", 1),
    ("done", 1),  # episode over; the next vector step resets it
    ("terminated", 1),
    ("sla_met", 1),
    ("satisfied", 1),
    ("load_sq", 1),  # sum of squared workloads (for the workload standard deviation)
    ("room", 1),  # agents that can take a ticket (true entries of the action mask)
    ("queue_front", NP),  # ring-buffer front of each priority's FIFO
    ("queue_count", NP),  # tickets waiting per priority
    ("pending_rejects", 1),  # rejections during reset, charged in the first step's reward
    ("over_budget", 1),  # 1 when a step or reset ran out of its event budget
    ("resolved_p", NP),  # tickets resolved per priority
    ("sla_met_p", NP),  # resolved within the priority's SLA target
    ("rejected_p", NP),  # tickets rejected per priority
    ("in_service_p", NP),  # open tickets held by agents, per priority
    ("breaches_charged", 1),  # SLA breaches charged so far (sla_breach component)
)
_I = offsets(COUNT_FIELDS)
I_ARRIVED = _I["arrived"]
I_ASSIGNED = _I["assigned"]
I_RESOLVED = _I["resolved"]
I_REJECTED = _I["rejected"]
I_QLEN = _I["queue_length"]
I_IN_SERVICE = _I["in_service"]
I_STEP = _I["step"]
I_HEAD = _I["head"]
I_RETRIES = _I["retries"]
I_INVALID = _I["invalid"]
I_MATCHES = _I["matches"]
I_TRACE_INDEX = _I["trace_index"]
I_DONE = _I["done"]
I_TERMINATED = _I["terminated"]
I_SLA_MET = _I["sla_met"]
I_SATISFIED = _I["satisfied"]
I_LOAD_SQ = _I["load_sq"]
I_ROOM = _I["room"]
I_QFRONT = _I["queue_front"]
I_QCOUNT = _I["queue_count"]
I_PENDING_REJECTS = _I["pending_rejects"]
I_OVER_BUDGET = _I["over_budget"]
I_RESOLVED_P = _I["resolved_p"]
I_SLA_MET_P = _I["sla_met_p"]
I_REJECTED_P = _I["rejected_p"]
I_IN_SERVICE_P = _I["in_service_p"]
I_BREACHES_CHARGED = _I["breaches_charged"]
NUM_I = width(COUNT_FIELDS)

# --------------------------------------------------------------------------- tickets and agents
# The queue is one FIFO ring buffer per priority: queue[i, priority, slot, field]. Arrivals come in
# time order, so each FIFO is sorted by arrival and the head of the queue is the front of the most
# urgent non-empty FIFO.
QUEUE_FIELDS: Fields = (("arrival", 1), ("type", 1))
Q_ARRIVAL, Q_TYPE = offsets(QUEUE_FIELDS).values()
# Open tickets: slots[i, field, agent, k] holds agent's k-th open ticket (k < workload). An agent's
# tickets are adjacent, so the scans over one agent's tickets (remaining work, resolutions) read
# one or two cache lines per field, and idle agents' lines are not read at all.
# Under weighted processor sharing an open ticket of weight w receives w * dV of work while the
# agent's counter V (A_VWORK, work per unit of weight) grows by dV, so a ticket needing `work`
# finishes when V reaches V0 + work / w (S_TARGET).
SLOT_FIELDS: Fields = (("target", 1), ("arrival", 1), ("type", 1), ("priority", 1))
S_TARGET, S_ARRIVAL, S_TYPE, S_PRIORITY = offsets(SLOT_FIELDS).values()
# Per-agent statistics and service state: agent_stats[i, field, agent] (field-major, so a scan over
# agents reads contiguous memory). An agent's counters are brought up to date lazily (A_UPDATED)
# whenever its load or availability changes.
AGENT_FIELDS: Fields = (
    ("assigned", 1),  # tickets assigned this episode
    ("busy_hours", 1),  # online hours with at least one open ticket, up to A_UPDATED
    ("online_hours", 1),  # online hours, up to A_UPDATED
    ("vwork", 1),  # work-hours received per unit of priority weight
    ("next_target", 1),  # smallest S_TARGET among open tickets (inf if none)
    ("updated", 1),  # clock time the counters above refer to
    ("done_at", 1),  # clock time of the next resolution (inf if idle or offline)
    ("weight", 1),  # sum of the priority weights of the open tickets
)
(
    A_ASSIGNED,
    A_BUSY_HOURS,
    A_ONLINE_HOURS,
    A_VWORK,
    A_NEXT_TARGET,
    A_UPDATED,
    A_DONE_AT,
    A_WEIGHT,
) = offsets(AGENT_FIELDS).values()
NUM_A = width(AGENT_FIELDS)
# Resolved tickets: records[i, r, field].
RECORD_FIELDS: Fields = (("hours", 1), ("priority", 1), ("satisfied", 1), ("agent", 1))
R_HOURS, R_PRIORITY, R_SATISFIED, R_AGENT = offsets(RECORD_FIELDS).values()

# Replayed arrivals (Params.trace): trace[k, field], in arrival order; ArrivalTrace.as_array builds it.
TRACE_FIELDS: Fields = (("hours", 1), ("type", 1), ("priority", 1))
T_HOURS, T_TYPE, T_PRIORITY = offsets(TRACE_FIELDS).values()

# Random streams per environment: the scenario (expertise, arrivals) never depends on the
# actions, so every policy sees the same tickets for the same seed (common random numbers);
# service times and CSAT draws come from the second stream.
STREAMS = ("scenario", "service")
SCENARIO_STREAM, SERVICE_STREAM = range(len(STREAMS))


CLOCK_FEATURES = ("sin", "cos")


class State(NamedTuple):
    """Everything that changes while ``num_envs`` environments run (leading axis: environment)."""

    floats: FloatArray  # (N, NUM_F): the F_* columns
    counts: IntArray  # (N, NUM_I): the I_* columns
    rng: UIntArray  # (N, len(STREAMS), STATE_WORDS)
    expertise: FloatArray  # (N, A, NT)
    online: BoolArray  # (N, A)
    workload: IntArray  # (N, A): open tickets per agent
    slots: FloatArray  # (N, SLOT_FIELDS, A, max_workload)
    queue: FloatArray  # (N, NP, max_queue_size, QUEUE_FIELDS)
    agent_stats: FloatArray  # (N, AGENT_FIELDS, A)
    records: Float32Array  # (N, episode_length, RECORD_FIELDS): resolved tickets


class Observation(NamedTuple):
    """The observation buffers, named as the keys of the flat observation, plus the action mask."""

    ticket_type: IntArray  # (N,)
    ticket_priority: IntArray  # (N,)
    ticket_age: Float32Array  # (N, 1)
    agent_expertise: Float32Array  # (N, A * NT)
    agent_workload: Float32Array  # (N, A)
    agent_availability: Int8Array  # (N, A)
    queue_size: IntArray  # (N,)
    time_step: IntArray  # (N,)
    hour_of_week: Float32Array  # (N, len(CLOCK_FEATURES)): the position in the week on a circle
    agent_next_change_hours: Float32Array  # (N, A)
    agent_change_goes_offline: Int8Array  # (N, A)
    agent_remaining_work: Float32Array  # (N, A)
    action_mask: BoolArray  # (N, A)


OBSERVATION_KEYS: tuple[str, ...] = Observation._fields[:-1]
"""The keys of the flat observation, in order."""


class StepOutputs(NamedTuple):
    """What ``step_batch`` returns per environment."""

    reward: FloatArray  # (N,)
    components: FloatArray  # (N, len(REWARD_COMPONENTS))
    terminated: BoolArray  # (N,)
    truncated: BoolArray  # (N,)


def new_state(n: int, num_agents: int, max_workload: int, max_queue_size: int, episode_length: int) -> State:
    a = num_agents
    return State(
        floats=np.zeros((n, NUM_F)),
        counts=np.zeros((n, NUM_I), dtype=np.int64),
        rng=np.zeros((n, len(STREAMS), STATE_WORDS), dtype=np.uint64),
        expertise=np.zeros((n, a, NT)),
        online=np.zeros((n, a), dtype=np.bool_),
        workload=np.zeros((n, a), dtype=np.int64),
        slots=np.zeros((n, width(SLOT_FIELDS), a, max_workload)),
        queue=np.zeros((n, NP, max_queue_size, width(QUEUE_FIELDS))),
        agent_stats=np.zeros((n, NUM_A, a)),
        records=np.zeros((n, episode_length, width(RECORD_FIELDS)), dtype=np.float32),
    )


def new_observation(n: int, num_agents: int) -> Observation:
    a = num_agents
    return Observation(
        ticket_type=np.zeros(n, dtype=np.int64),
        ticket_priority=np.zeros(n, dtype=np.int64),
        ticket_age=np.zeros((n, 1), dtype=np.float32),
        agent_expertise=np.zeros((n, a * NT), dtype=np.float32),
        agent_workload=np.zeros((n, a), dtype=np.float32),
        agent_availability=np.zeros((n, a), dtype=np.int8),
        queue_size=np.zeros(n, dtype=np.int64),
        time_step=np.zeros(n, dtype=np.int64),
        hour_of_week=np.zeros((n, len(CLOCK_FEATURES)), dtype=np.float32),
        agent_next_change_hours=np.zeros((n, a), dtype=np.float32),
        agent_change_goes_offline=np.zeros((n, a), dtype=np.int8),
        agent_remaining_work=np.zeros((n, a), dtype=np.float32),
        action_mask=np.zeros((n, a), dtype=np.bool_),
    )


def new_outputs(n: int) -> StepOutputs:
    return StepOutputs(
        reward=np.zeros(n),
        components=np.zeros((n, len(REWARD_COMPONENTS))),
        terminated=np.zeros(n, dtype=np.bool_),
        truncated=np.zeros(n, dtype=np.bool_),
    )
