"""Key performance indicators, computed from the state arrays on demand (never in ``step``'s hot path).

They are separate from the reward: they say how the support team did, whatever the reward weights.
Each KPI's population (which tickets it counts) is stated below and in ``docs/design.md``:

* SLA compliance counts every ticket whose outcome is known: resolved tickets (met or missed),
  rejected tickets (missed) and tickets still open past their target (missed). Open tickets still
  within their target are not counted yet. ``sla_compliance_resolved_pct`` is the resolved-only figure.
* Resolution times and CSAT are over resolved tickets.
* ``mean_wait_hours`` is over assigned tickets and tickets still waiting, whose waits so far are
  censored (a lower bound); ``mean_wait_hours_assigned`` is over assigned tickets only.
* Utilization and the workload Gini are over agents who were online at some time this episode.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_environments.ticket_routing.core.config import PRIORITIES
from rl_environments.ticket_routing.core.state import (
    A_ASSIGNED,
    A_BUSY_HOURS,
    A_ONLINE_HOURS,
    A_UPDATED,
    F_CLOCK,
    F_START,
    F_STD_INTEGRAL,
    F_SUM_WAIT,
    I_ARRIVED,
    I_ASSIGNED,
    I_IN_SERVICE,
    I_INVALID,
    I_MATCHES,
    I_QCOUNT,
    I_QFRONT,
    I_QLEN,
    I_REJECTED,
    I_REJECTED_P,
    I_RESOLVED,
    I_RESOLVED_P,
    I_SATISFIED,
    I_SLA_MET,
    I_SLA_MET_P,
    I_STEP,
    Q_ARRIVAL,
    R_HOURS,
    R_PRIORITY,
    S_ARRIVAL,
    S_PRIORITY,
)
from rl_environments.ticket_routing.core.typing import AnyArray, FloatArray, IntArray

if TYPE_CHECKING:
    from rl_environments.ticket_routing.core.simulation import Simulation

COUNT_KPIS: tuple[str, ...] = (
    "tickets_arrived",
    "tickets_assigned",
    "tickets_resolved",
    "tickets_rejected",
    "tickets_waiting",
    "tickets_in_service",
)
"""Ticket counters; ``arrived = waiting + in_service + resolved + rejected`` at every step."""
_NUM_COUNTS = len(COUNT_KPIS)
assert tuple(range(_NUM_COUNTS)) == (I_ARRIVED, I_ASSIGNED, I_RESOLVED, I_REJECTED, I_QLEN, I_IN_SERVICE)


def gini(values: FloatArray) -> float:
    """Gini coefficient of non-negative values (0 = perfectly even, towards 1 = concentrated)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = x.size
    total = float(x.sum())
    if n == 0 or total <= 0.0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.sum(ranks * x) / (n * total)) - (n + 1.0) / n)


def open_tickets(sim: Simulation, rows: IntArray) -> tuple[FloatArray, FloatArray]:
    """Hours since arrival of every open ticket of ``rows``, NaN-padded, by priority.

    Returns ``(waiting, in_service)`` with shapes (rows, priorities, queue size) and
    (rows, priorities, agents * max_workload).
    """
    ist, clock = sim.state.counts[rows], sim.state.floats[rows, F_CLOCK]
    num_p = len(PRIORITIES)
    queue = sim.state.queue[rows]  # (n, P, size, field)
    size = queue.shape[2]
    slot = np.arange(size)[None, None, :]
    front = ist[:, I_QFRONT : I_QFRONT + num_p][:, :, None]
    count = ist[:, I_QCOUNT : I_QCOUNT + num_p][:, :, None]
    queued = (slot - front) % size < count
    waiting = np.where(queued, clock[:, None, None] - queue[:, :, :, Q_ARRIVAL], np.nan)
    slots = sim.state.slots[rows]  # (n, field, A, K)
    held = np.arange(slots.shape[3])[None, None, :] < sim.state.workload[rows][:, :, None]
    flat = slots.shape[2] * slots.shape[3]
    age = np.where(held, clock[:, None, None] - slots[:, S_ARRIVAL], np.nan).reshape(len(rows), flat)
    prio = slots[:, S_PRIORITY].reshape(len(rows), flat)
    in_service = np.stack([np.where(prio == k, age, np.nan) for k in range(num_p)], axis=1)
    return waiting, in_service


def batch_kpis(sim: Simulation, rows: IntArray) -> dict[str, AnyArray]:
    """KPIs of the environments ``rows`` so far this episode, one array entry per row.

    Hours are from arrival to resolution; percentages are in [0, 100]; NaN means "no data yet"
    (e.g. no ticket resolved). Utilization is busy hours / online hours per agent. The population
    of each KPI is given in this module's docstring.
    """
    ist, fs = sim.state.counts[rows], sim.state.floats[rows]
    n = len(rows)
    out: dict[str, AnyArray] = {
        "tickets_arrived": ist[:, I_ARRIVED].copy(),
        "tickets_assigned": ist[:, I_ASSIGNED].copy(),
        "tickets_resolved": ist[:, I_RESOLVED].copy(),
        "tickets_rejected": ist[:, I_REJECTED].copy(),
        "tickets_waiting": ist[:, I_QLEN].copy(),
        "tickets_in_service": ist[:, I_IN_SERVICE].copy(),
        "decisions": ist[:, I_STEP].copy(),
        "invalid_actions": ist[:, I_INVALID].copy(),
    }
    elapsed = fs[:, F_CLOCK] - fs[:, F_START]
    out["elapsed_hours"] = elapsed
    rec = sim.state.records[rows].astype(np.float64)
    valid = np.arange(rec.shape[1])[None, :] < np.minimum(ist[:, I_RESOLVED], rec.shape[1])[:, None]
    hours = np.where(valid, rec[:, :, R_HOURS], np.nan)
    prio = rec[:, :, R_PRIORITY]
    num_p = len(PRIORITIES)
    sla = sim.params.sla_resolution_hours
    waiting, in_service = open_tickets(sim, rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no data yet
        out["mean_resolution_hours"] = np.nanmean(hours, axis=1) if n else np.zeros(0)
        out["p90_resolution_hours"], out["median_resolution_hours"] = nan_p90_median(hours)
        assigned = ist[:, I_ASSIGNED].astype(np.float64)
        resolved = ist[:, I_RESOLVED].astype(np.float64)
        waits_so_far = np.nansum(waiting, axis=(1, 2))
        out["mean_wait_hours"] = (fs[:, F_SUM_WAIT] + waits_so_far) / (assigned + ist[:, I_QLEN])
        out["mean_wait_hours_assigned"] = fs[:, F_SUM_WAIT] / assigned
        past = np.sum(waiting > sla[None, :, None], axis=2) + np.sum(in_service > sla[None, :, None], axis=2)
        met = ist[:, I_SLA_MET_P : I_SLA_MET_P + num_p]
        known = ist[:, I_RESOLVED_P : I_RESOLVED_P + num_p] + ist[:, I_REJECTED_P : I_REJECTED_P + num_p] + past
        out["tickets_open_past_sla"] = past.sum(axis=1)
        out["sla_compliance_pct"] = 100.0 * met.sum(axis=1) / known.sum(axis=1)
        out["sla_compliance_resolved_pct"] = 100.0 * ist[:, I_SLA_MET] / resolved
        out["csat_pct"] = 100.0 * ist[:, I_SATISFIED] / resolved
        for k, name in enumerate(PRIORITIES):
            sel = np.where(prio == k, hours, np.nan)
            out[f"resolved_{name}"] = ist[:, I_RESOLVED_P + k].copy()
            out[f"mean_resolution_hours_{name}"] = np.nanmean(sel, axis=1) if n else np.zeros(0)
            out[f"p90_resolution_hours_{name}"] = nan_p90_median(sel)[0]
            out[f"sla_compliance_pct_{name}"] = 100.0 * met[:, k] / known[:, k]
        out["expertise_match_pct"] = 100.0 * ist[:, I_MATCHES] / assigned
    stats = sim.state.agent_stats[rows]
    # Agent counters are updated lazily; add the time since each agent's last update.
    since = np.where(sim.state.online[rows], fs[:, F_CLOCK, None] - stats[:, A_UPDATED, :], 0.0)
    online = stats[:, A_ONLINE_HOURS, :] + since
    busy = stats[:, A_BUSY_HOURS, :] + np.where(sim.state.workload[rows] > 0, since, 0.0)
    worked = online > 0
    util = np.divide(busy, online, out=np.zeros_like(online), where=worked)
    out["utilization_per_agent"] = util
    num_worked = worked.sum(axis=1)
    out["agents_online"] = num_worked
    out["mean_utilization_pct"] = 100.0 * np.divide(
        np.where(worked, util, 0.0).sum(axis=1), num_worked, out=np.full(n, np.nan), where=num_worked > 0
    )
    out["workload_std"] = np.divide(fs[:, F_STD_INTEGRAL], elapsed, out=np.zeros_like(elapsed), where=elapsed > 0)
    out["workload_gini"] = np.array(
        [gini(assigned_row[mask]) for assigned_row, mask in zip(stats[:, A_ASSIGNED, :], worked, strict=True)]
    )
    return out


def nan_p90_median(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Each row's 90th percentile and median over its non-NaN values (NaN when it has none).

    Bit for bit what ``np.nanpercentile(row, 90)`` (linear interpolation) and ``np.nanmedian(row)``
    return, with one sort for all rows: those two loop over the rows in Python (about a
    millisecond per row at the end of a long episode, which the vector env pays for every
    sub-environment that ends on the same step).
    """
    ordered = np.sort(values, axis=1)  # NaN last
    count = np.count_nonzero(~np.isnan(values), axis=1)
    last = np.maximum(count - 1, 0)
    row = np.arange(values.shape[0])

    def at(index: IntArray) -> FloatArray:  # every index is in [0, max(count - 1, 0)]
        taken: FloatArray = ordered[row, index]
        return taken

    # NumPy's linear method: virtual index (n - 1) * q, the values on either side, then its lerp.
    virtual = (count - 1) * (90 / 100)
    above = virtual >= count - 1  # one value: NumPy takes it (index -1) with weight virtual + 1
    below = np.where(above, -1.0, np.floor(virtual))
    gamma = virtual - below
    low = np.where(above, last, below.astype(np.intp))
    a, b = at(low), at(np.where(above, low, low + 1))
    diff = b - a
    p90 = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    half = count // 2
    odd = count % 2 == 1
    high = at(half)
    median = np.where(odd, high, (at(np.maximum(half - 1, 0)) + high) / 2.0)
    none = count == 0
    p90[none] = np.nan
    median[none] = np.nan
    return p90, median


def compute_kpis(sim: Simulation, i: int = 0) -> dict[str, Any]:
    """All KPIs of environment ``i`` as plain Python numbers (see :func:`batch_kpis`)."""
    batch = batch_kpis(sim, np.array([i]))
    out: dict[str, Any] = {}
    for key, value in batch.items():
        item = value[0]
        if key == "utilization_per_agent":
            out[key] = [float(u) for u in item]
        elif np.issubdtype(value.dtype, np.integer):
            out[key] = int(item)
        else:
            out[key] = float(item)
    return out
