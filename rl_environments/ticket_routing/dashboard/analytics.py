"""Runs behind the Analytics page: policies over seeded episodes, summaries with 95% CIs.

Thin wrappers over :mod:`rl_environments.ticket_routing.evaluation`; the page adds the widgets.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rl_environments.ticket_routing import PRIORITIES, EnvironmentConfig
from rl_environments.ticket_routing.evaluation import MAIN_KPIS

CURRENT = "current configuration"
"""Scenario label for the configuration chosen on the Configuration page."""
TABLE_KPIS: tuple[str, ...] = (*MAIN_KPIS, "workload_std")
"""KPIs of the summary tables, in display order: the CLI's, plus the workload std."""
SLA_BY_PRIORITY: tuple[str, ...] = tuple(f"sla_compliance_pct_{p}" for p in PRIORITIES)
FAIRNESS_KPIS: tuple[str, ...] = ("workload_gini", "workload_std", "mean_utilization_pct")

Progress = Callable[[int, int, str], None]
"""``progress(done, total, label)``, called after each unit of work."""


def scenario_names() -> tuple[str, ...]:
    """The scenarios the Analytics page offers: the current configuration, then every preset."""
    return (CURRENT, *EnvironmentConfig.preset_names())


def scenario_config(name: str, current: EnvironmentConfig) -> EnvironmentConfig:
    """The configuration of scenario ``name`` (``current`` for :data:`CURRENT`)."""
    return current if name == CURRENT else EnvironmentConfig.preset(name)


def load_trained_policy(path: str, config: EnvironmentConfig) -> Any:
    """A trained Stable-Baselines3 model as a policy, from a local path the operator typed.

    Raises ``ValueError`` with a clear message if the ``train`` extra is not installed or the
    file is missing, not a model, or trained for another number of agents.
    """
    file = Path(path.strip()).expanduser()
    if not path.strip():
        raise ValueError("model path: empty; type the path of a saved .zip model")
    try:
        sb3 = importlib.import_module("rl_environments.ticket_routing.sb3")
    except ImportError as exc:
        raise ValueError(
            f"Loading a trained model needs the train extra (missing: {exc.name}). "
            'Install it with: pip install -e ".[train]"'
        ) from None
    return sb3.load_policy(file, config, name=f"trained:{file.name}")


def run_policies(
    policies: Sequence[Any],
    config: EnvironmentConfig,
    episodes: int,
    seed: int,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Evaluate each policy (a baseline name or a policy object) on the same seeded episodes.

    One row per policy and episode (see ``evaluation.evaluate``); ``progress`` is called after
    each policy.
    """
    from rl_environments.ticket_routing.evaluation import evaluate

    if not policies:
        raise ValueError("policies: choose at least one policy")
    frames = []
    for i, policy in enumerate(policies):
        label = policy if isinstance(policy, str) else str(getattr(policy, "name", policy))
        if progress is not None:
            progress(i, len(policies), f"Running {label} ({episodes} episodes)…")
        frames.append(evaluate(policy, config, episodes, seed))
    if progress is not None:
        progress(len(policies), len(policies), "Done.")
    return pd.concat(frames, ignore_index=True)


def summary(per_episode: pd.DataFrame, kpis: Sequence[str] = TABLE_KPIS) -> pd.DataFrame:
    """Tidy summary (policy, kpi, mean, ci95_low, ci95_high, std, n) of the KPIs present."""
    from rl_environments.ticket_routing.evaluation import summarize

    tidy: pd.DataFrame = summarize(per_episode, [k for k in kpis if k in per_episode.columns])
    return tidy


def ci_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Policies as rows, KPIs as columns, each cell ``mean [low, high]`` (95% CI)."""

    def cell(row: pd.Series) -> str:
        if pd.isna(row["mean"]):
            return "–"
        if pd.isna(row["ci95_low"]):
            return f"{row['mean']:.2f}"
        return f"{row['mean']:.2f} [{row['ci95_low']:.2f}, {row['ci95_high']:.2f}]"

    cells = tidy.assign(cell=tidy.apply(cell, axis=1))
    wide = cells.pivot(index="policy", columns="kpi", values="cell")
    order = list(dict.fromkeys(tidy["policy"]))
    columns = list(dict.fromkeys(tidy["kpi"]))
    table: pd.DataFrame = wide.loc[order, columns]
    return table


def compare_configs(
    policy: str,
    configs: dict[str, EnvironmentConfig],
    episodes: int,
    seed: int,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """One policy on two (or more) configurations, same seeds: KPI rows, a ``mean [CI]`` column per config."""
    from rl_environments.ticket_routing.evaluation import evaluate

    columns: dict[str, pd.Series] = {}
    means: dict[str, pd.Series] = {}
    for i, (label, config) in enumerate(configs.items()):
        if progress is not None:
            progress(i, len(configs), f"Running {policy} on {label}…")
        frame = evaluate(policy, config, episodes, seed).assign(policy=label)
        tidy = summary(frame)
        table = ci_table(tidy)
        columns[label] = table.loc[label]
        means[label] = tidy.set_index("kpi")["mean"]
    if progress is not None:
        progress(len(configs), len(configs), "Done.")
    out: pd.DataFrame = pd.DataFrame(columns)
    labels = list(configs)
    if len(labels) == 2:
        out["difference (B - A)"] = (means[labels[1]] - means[labels[0]]).map(lambda v: f"{v:+.2f}")
    out.index.name = "kpi"
    return out
