"""Runs behind the Analytics page: policies over seeded episodes, summaries with 95% CIs.

Thin wrappers over :mod:`rl_environments.ticket_routing.evaluation`; the page adds the widgets.
"""

from __future__ import annotations

import importlib
import os
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


MODELS_DIR_ENV = "TICKET_ROUTING_MODELS_DIR"
"""Environment variable naming the folder the Analytics page loads trained models from."""
NO_MODEL = ""
"""The model choice meaning "no trained model"."""


def models_dir() -> Path:
    """The models folder: ``$TICKET_ROUTING_MODELS_DIR`` if set, else ``models/`` in the directory the
    app was started from (the repository root for ``make dashboard``)."""
    configured = os.environ.get(MODELS_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.cwd() / "models"


def model_names(folder: Path | None = None) -> list[str]:
    """The ``.zip`` files directly inside the models folder, by name (empty if there is no folder)."""
    root = models_dir() if folder is None else folder
    try:
        return sorted(p.name for p in root.iterdir() if p.suffix == ".zip" and p.is_file())
    except OSError:
        return []


def load_trained_policy(name: str, config: EnvironmentConfig, folder: Path | None = None) -> Any:
    """A trained Stable-Baselines3 model from the models folder (:func:`models_dir`), by file name.

    Only names that :func:`model_names` lists are accepted, so a visitor can neither load a file
    elsewhere on the server nor learn whether one exists. Raises ``ValueError`` with a clear
    message if the ``train`` extra is not installed or the file is not a loadable model, or was
    trained for another scenario. Loading never unpickles anything (see ``sb3.load_model``).
    """
    name = name.strip()
    if not name:
        raise ValueError("model: none chosen; pick a model from the models folder")
    root = models_dir() if folder is None else folder
    if name not in model_names(root):
        raise ValueError(f"model: {name[:80]!r} is not one of the models in the models folder")
    try:
        sb3 = importlib.import_module("rl_environments.ticket_routing.sb3")
    except ImportError as exc:
        raise ValueError(
            f"Loading a trained model needs the train extra (missing: {exc.name}). "
            'Install it with: pip install -e ".[train]"'
        ) from None
    file = root / name
    try:
        return sb3.load_policy(file, config, name=f"trained:{name}")
    except ValueError as exc:  # name the file, not the server path of the models folder
        raise ValueError(str(exc).replace(repr(str(file)), repr(name)).replace(str(file), name)) from None


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
