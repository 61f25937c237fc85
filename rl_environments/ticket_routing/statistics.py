"""Statistics of evaluation results: confidence intervals, summaries, paired differences and the IQM.

Everything here works on the frames of :func:`~rl_environments.ticket_routing.evaluation.evaluate`
(one row per policy and episode) or on plain arrays of values; nothing runs a simulation.

>>> mean, low, high, n = mean_ci95([1.0, 2.0, 3.0])
>>> (mean, n)
(2.0, 3)
>>> iqm([0.0, 1.0, 2.0, 3.0, 100.0, -100.0, 4.0, 5.0])
2.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.kpi_catalog import MAIN_KPIS, kpi

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

ID_COLUMNS: tuple[str, ...] = ("policy", "episode", "seed", "scenario")
"""Columns of an episode row that identify it (every other numeric column is a KPI)."""
BOOTSTRAP_RESAMPLES = 2000
"""Bootstrap resamples for the paired differences of :func:`paired_differences` and the IQM interval of
:func:`iqm_interval`."""


# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(dof: int) -> float:
    """The 0.975 quantile of Student's t with ``dof`` degrees of freedom (table, then expansion)."""
    if dof < 1:
        raise ValueError(f"dof: invalid value {dof!r}; must be >= 1")
    if dof <= len(_T975):
        return _T975[dof - 1]
    z = 1.959963984540054
    # Cornish-Fisher expansion of t around the normal quantile (error < 1e-4 for dof > 30).
    return z + (z**3 + z) / (4 * dof) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * dof**2)


def mean_ci95(values: Sequence[float] | np.ndarray) -> tuple[float, float, float, int]:
    """Mean, 95% CI low and high (Student's t), and the number of finite values used."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = t_quantile_975(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def summarize(episodes: pd.DataFrame, kpis: Sequence[str] | None = None) -> pd.DataFrame:
    """Per policy and KPI: mean, 95% CI (Student's t over episodes) and the episodes counted.

    Returns a tidy frame with columns ``policy``, ``kpi``, ``mean``, ``ci95_low``, ``ci95_high``,
    ``std``, ``n`` (policies in their first-seen order). NaN KPIs (e.g. no critical ticket resolved
    in an episode) are left out of that KPI's statistics. Intervals are clipped to the values the
    KPI can take (``kpi_catalog``): a count's never goes below zero, a percentage's never above 100.
    """
    if kpis is None:
        kpis = [c for c in episodes.columns if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(episodes[c])]
    unknown = [k for k in kpis if k not in episodes.columns]
    if unknown:
        raise ValueError(f"kpis: unknown KPI {unknown[0]!r}; available: {', '.join(map(str, episodes.columns))}")
    rows: list[dict[str, Any]] = []
    for name in dict.fromkeys(episodes["policy"]):
        part = episodes[episodes["policy"] == name]
        for kpi_name in kpis:
            values = part[kpi_name].to_numpy(dtype=np.float64)
            mean, low, high, n = mean_ci95(values)
            low, high = kpi(kpi_name).clip(low, high)
            std = float(np.nanstd(values, ddof=1)) if n > 1 else math.nan
            rows.append(
                {"policy": name, "kpi": kpi_name, "mean": mean, "ci95_low": low, "ci95_high": high, "std": std, "n": n}
            )
    summary: pd.DataFrame = pd.DataFrame(rows)
    return summary


def paired_differences(
    episodes: pd.DataFrame,
    baseline: str,
    kpis: Sequence[str] | None = None,
    *,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Per policy and KPI: the mean paired difference ``policy - baseline`` with a bootstrap 95% CI.

    Episodes are paired by ``scenario`` and ``seed``: both policies faced the same tickets (common
    random numbers), so the interval excludes the variation between episodes that both share and
    is much narrower than comparing two separate intervals. The interval is the percentile
    bootstrap of the mean difference over ``resamples`` resamples of the pairs, drawn from a
    generator seeded with ``seed`` (the same inputs give the same interval). Pairs where either
    value is NaN are left out.

    Returns columns ``policy``, ``baseline``, ``kpi``, ``mean_diff``, ``ci95_low``, ``ci95_high``,
    ``n`` and ``verdict`` (``better``/``worse`` when the interval excludes 0 and the KPI has a
    direction, ``no clear difference`` when it includes 0, else empty).
    """
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 100:
        raise ValueError(f"resamples: invalid value {resamples!r}; must be an integer >= 100")
    policies = list(dict.fromkeys(episodes["policy"]))
    if baseline not in policies:
        raise ValueError(f"baseline: invalid value {baseline!r}; evaluated policies: {', '.join(map(str, policies))}")
    if kpis is None:
        kpis = [c for c in MAIN_KPIS if c in episodes.columns]
    unknown = [k for k in kpis if k not in episodes.columns]
    if unknown:
        raise ValueError(f"kpis: unknown KPI {unknown[0]!r}; available: {', '.join(map(str, episodes.columns))}")
    keys = [c for c in ("scenario", "seed") if c in episodes.columns]
    base = episodes[episodes["policy"] == baseline].set_index(keys)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for name in policies:
        if name == baseline:
            continue
        other = episodes[episodes["policy"] == name].set_index(keys)
        common = other.index.intersection(base.index)
        for kpi_name in kpis:
            diff = other.loc[common, kpi_name].to_numpy(np.float64) - base.loc[common, kpi_name].to_numpy(np.float64)
            diff = diff[np.isfinite(diff)]
            n = int(diff.size)
            mean = float(diff.mean()) if n else math.nan
            low = high = math.nan
            if n > 1:
                means = diff[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
                low, high = (float(q) for q in np.percentile(means, [2.5, 97.5]))
            rows.append(
                {
                    "policy": name,
                    "baseline": baseline,
                    "kpi": kpi_name,
                    "mean_diff": mean,
                    "ci95_low": low,
                    "ci95_high": high,
                    "n": n,
                    "verdict": _verdict(kpi_name, low, high),
                }
            )
    result: pd.DataFrame = pd.DataFrame(rows)
    return result


def _verdict(kpi_name: str, low: float, high: float) -> str:
    if math.isnan(low) or math.isnan(high):
        return ""
    if low <= 0.0 <= high:
        return "no clear difference"
    better = kpi(kpi_name).higher_is_better
    if better is None:
        return "higher" if low > 0 else "lower"
    return "better" if (low > 0) == better else "worse"


def summary_table(summary: pd.DataFrame, kpis: Sequence[str] = MAIN_KPIS) -> pd.DataFrame:
    """Policies as rows, ``kpis`` as columns of means (for printing)."""
    wide = summary.pivot(index="policy", columns="kpi", values="mean")
    order = list(dict.fromkeys(summary["policy"]))
    table: pd.DataFrame = wide.loc[order, [k for k in kpis if k in wide.columns]]
    return table


def iqm(scores: ArrayLike) -> float:
    """Interquartile mean: the mean of the middle 50% of ``scores`` (25% trimmed from each end)."""
    from scipy import stats

    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise ValueError("scores: expected at least one score")
    return float(stats.trim_mean(values, 0.25))


def iqm_interval(
    scores_by_task: Sequence[ArrayLike], *, n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> tuple[float, float, float]:
    """IQM over all tasks' scores with a stratified-bootstrap 95% percentile interval.

    Each task's runs are resampled with replacement within that task (the stratified bootstrap
    of Agarwal et al. 2021, rliable's ``StratifiedBootstrap``), here with SciPy's multi-sample
    ``bootstrap``, which resamples every sample independently. The interval is NaN when a task
    has a single run.
    """
    from scipy import stats

    samples = [np.asarray(s, dtype=np.float64).reshape(-1) for s in scores_by_task]
    if not samples or any(s.size == 0 for s in samples):
        raise ValueError("scores_by_task: expected at least one task with at least one score each")
    point = iqm(np.concatenate(samples))
    if any(s.size < 2 for s in samples) or n_resamples < 1:
        return point, math.nan, math.nan

    def statistic(*xs: NDArray[np.float64], axis: int = -1) -> Any:
        return stats.trim_mean(np.concatenate(xs, axis=axis), 0.25, axis=axis)

    result = stats.bootstrap(
        samples,
        statistic,
        n_resamples=n_resamples,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    return point, float(low), float(high)


__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "ID_COLUMNS",
    "iqm",
    "iqm_interval",
    "mean_ci95",
    "paired_differences",
    "summarize",
    "summary_table",
    "t_quantile_975",
]
