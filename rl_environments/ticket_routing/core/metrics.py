"""Key performance indicators, computed from the state arrays on demand (never in ``step``'s hot path).

They are separate from the reward: they say how the support team did, whatever the reward weights.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from rl_environments.ticket_routing.core.data_models import PRIORITIES
from rl_environments.ticket_routing.core.params import P_SLA
from rl_environments.ticket_routing.core.state_manager import (
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
    I_QLEN,
    I_REJECTED,
    I_RESOLVED,
    I_SATISFIED,
    I_SLA_MET,
    I_STEP,
    R_HOURS,
    R_PRIORITY,
    Simulation,
)
from rl_environments.ticket_routing.core.typing import AnyArray, FloatArray, IntArray

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


def batch_kpis(sim: Simulation, rows: IntArray) -> dict[str, AnyArray]:
    """KPIs of the environments ``rows`` so far this episode, one array entry per row.

    Hours are from arrival to resolution; percentages are in [0, 100]; NaN means "no data yet"
    (e.g. no ticket resolved). Utilization is busy hours / online hours per agent.
    """
    ist, fs = sim.ist[rows], sim.fs[rows]
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
    rec = sim.records[rows].astype(np.float64)
    valid = np.arange(rec.shape[1])[None, :] < np.minimum(ist[:, I_RESOLVED], rec.shape[1])[:, None]
    hours = np.where(valid, rec[:, :, R_HOURS], np.nan)
    prio = rec[:, :, R_PRIORITY]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no data yet
        out["mean_resolution_hours"] = np.nanmean(hours, axis=1) if n else np.zeros(0)
        out["p90_resolution_hours"] = _nanp90(hours)
        assigned = ist[:, I_ASSIGNED].astype(np.float64)
        resolved = ist[:, I_RESOLVED].astype(np.float64)
        out["mean_wait_hours"] = fs[:, F_SUM_WAIT] / assigned
        out["sla_compliance_pct"] = 100.0 * ist[:, I_SLA_MET] / resolved
        out["csat_pct"] = 100.0 * ist[:, I_SATISFIED] / resolved
        sla = sim.params.p[P_SLA : P_SLA + len(PRIORITIES)]
        for k, name in enumerate(PRIORITIES):
            sel = np.where(prio == k, hours, np.nan)
            count = np.sum(~np.isnan(sel), axis=1)
            out[f"resolved_{name}"] = count
            out[f"mean_resolution_hours_{name}"] = np.nanmean(sel, axis=1) if n else np.zeros(0)
            out[f"p90_resolution_hours_{name}"] = _nanp90(sel)
            out[f"sla_compliance_pct_{name}"] = 100.0 * np.sum(sel <= sla[k], axis=1) / count
        out["expertise_match_pct"] = 100.0 * ist[:, I_MATCHES] / assigned
    stats = sim.agent_stats[rows]
    # Agent counters are updated lazily; add the time since each agent's last update.
    since = np.where(sim.online[rows], fs[:, F_CLOCK, None] - stats[:, A_UPDATED, :], 0.0)
    online = stats[:, A_ONLINE_HOURS, :] + since
    busy = stats[:, A_BUSY_HOURS, :] + np.where(sim.workload[rows] > 0, since, 0.0)
    util = np.divide(busy, online, out=np.zeros_like(online), where=online > 0)
    out["utilization_per_agent"] = util
    out["mean_utilization_pct"] = 100.0 * util.mean(axis=1)
    out["workload_std"] = np.divide(fs[:, F_STD_INTEGRAL], elapsed, out=np.zeros_like(elapsed), where=elapsed > 0)
    out["workload_gini"] = np.array([gini(row) for row in stats[:, A_ASSIGNED, :]])
    return out


def _nanp90(values: FloatArray) -> FloatArray:
    if values.shape[0] == 0:
        return np.zeros(0)
    out = np.full(values.shape[0], np.nan)
    has = ~np.all(np.isnan(values), axis=1)
    if has.any():
        out[has] = np.nanpercentile(values[has], 90, axis=1)
    return out


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
