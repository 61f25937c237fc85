"""Evaluate routing policies on seeded episodes and compare them with confidence intervals.

Common random numbers: episode ``k`` of every policy runs with environment seed ``seed + k``.
The simulation draws the scenario (agent expertise, ticket arrival times, types and priorities)
from a random stream separate from the one for service times and CSAT, so for the same seed every
policy faces exactly the same tickets, and differences between policies are not sampling noise
of the arrivals.

The statistics of the results (intervals, summaries, paired differences) live in
:mod:`~rl_environments.ticket_routing.statistics`; the names used with evaluation are importable here too.

>>> from rl_environments.ticket_routing import EnvironmentConfig
>>> df = evaluate("least_loaded", EnvironmentConfig(episode_length=50), episodes=2, seed=0)
>>> list(df["seed"])
[0, 1]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import (
    REWARD_COMPONENTS,
    TICKET_TYPES,
    ConfigLike,
    EnvironmentConfig,
    resolve_config,
)
from rl_environments.ticket_routing.core.environment import TicketRoutingEnv
from rl_environments.ticket_routing.core.kpi_catalog import CHART_KPIS, MAIN_KPIS, kpi
from rl_environments.ticket_routing.core.vector_env import TicketRoutingVectorEnv
from rl_environments.ticket_routing.policies import Policy, make_policy
from rl_environments.ticket_routing.statistics import (
    BOOTSTRAP_RESAMPLES,
    ID_COLUMNS,
    mean_ci95,
    paired_differences,
    summarize,
    summary_table,
    t_quantile_975,
)

PolicyLike = str | Policy

DEFAULT_BATCH = 16
"""Episodes simulated side by side in one vector environment."""


def scenario_name(config: ConfigLike) -> str:
    """A name for the scenario of ``config``: the preset's name, the YAML file's stem, ``default``
    for the defaults, a preset's name when the config equals it, else ``custom``."""
    if isinstance(config, (str, Path)):
        name = str(config)
        return name if name in EnvironmentConfig.preset_names() else Path(name).stem
    cfg = resolve_config(config)
    if cfg == EnvironmentConfig():
        return "default"
    for name in EnvironmentConfig.preset_names():
        if EnvironmentConfig.preset(name) == cfg:
            return name
    return "custom"


def _policy(policy: PolicyLike, config: EnvironmentConfig, seed: int) -> Policy:
    if isinstance(policy, str):
        return make_policy(policy, config, seed)
    if not isinstance(policy, Policy):
        raise ValueError(f"policy: invalid value {policy!r}; expected a policy name or an object with act/act_batch")
    policy.reset(seed)
    return policy


def _check_run(episodes: int, seed: int) -> None:
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes: invalid value {episodes!r}; must be an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: invalid value {seed!r}; must be an integer >= 0")


def evaluate(
    policy: PolicyLike,
    config: ConfigLike,
    episodes: int,
    seed: int,
    *,
    trace: ArrivalTrace | None = None,
    log_steps: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: bool = False,
    scenario: str | None = None,
) -> pd.DataFrame:
    """Run ``episodes`` episodes of ``policy`` (a name or a :class:`Policy`) and return one row per episode.

    Columns: ``policy``, ``episode``, ``seed`` (the env seed, ``seed + episode``), ``scenario``
    (``scenario``, default :func:`scenario_name` of ``config``), ``episode_return`` and every
    scalar KPI of ``env.kpis()``. Episodes run side by side in a
    :class:`TicketRoutingVectorEnv` (``batch_size`` at a time) through ``act_batch``. With
    ``log_steps=True`` they run one by one through ``act`` instead, and the step logs of all
    episodes (see :func:`episode_log`) are attached as ``result.attrs["step_log"]``.
    """
    cfg = resolve_config(config)
    _check_run(episodes, seed)
    label = scenario_name(config) if scenario is None else str(scenario)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: invalid value {batch_size!r}; must be an integer >= 1")
    pol = _policy(policy, cfg, seed)
    rows: list[dict[str, Any]] = []
    logs: list[pd.DataFrame] = []
    with _Progress(progress, f"{pol.name}", episodes) as bar:
        if log_steps:
            for k in range(episodes):
                log, kpis, ret = _run_single(pol, cfg, seed + k, trace)
                log.insert(0, "episode", k)
                logs.append(log)
                rows.append(_row(pol.name, label, k, seed + k, ret, kpis))
                bar.advance(1)
        else:
            for start in range(0, episodes, batch_size):
                count = min(batch_size, episodes - start)
                for j, (kpis, ret) in enumerate(_run_batch(pol, cfg, seed + start, count, trace)):
                    rows.append(_row(pol.name, label, start + j, seed + start + j, ret, kpis))
                bar.advance(count)
    result: pd.DataFrame = pd.DataFrame(rows)
    if log_steps:
        step_log = pd.concat(logs, ignore_index=True)
        step_log.insert(0, "policy", pol.name)
        result.attrs["step_log"] = step_log
    return result


def _row(
    name: str, scenario: str, episode: int, env_seed: int, episode_return: float, kpis: Mapping[str, Any]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "policy": name,
        "episode": episode,
        "seed": env_seed,
        "scenario": scenario,
        "episode_return": episode_return,
    }
    for key, value in kpis.items():
        if key != "utilization_per_agent":
            row[key] = value.item() if isinstance(value, np.generic) else value
    return row


def _run_batch(
    policy: Policy, cfg: EnvironmentConfig, first_seed: int, count: int, trace: ArrivalTrace | None
) -> list[tuple[dict[str, Any], float]]:
    """One episode in each of ``count`` sub-environments seeded ``first_seed + i``."""
    env = TicketRoutingVectorEnv(count, cfg, trace=trace)
    obs, info = env.reset(seed=first_seed)
    masks = info["action_mask"]
    returns = np.zeros(count)
    done = np.zeros(count, dtype=np.bool_)
    results: list[dict[str, Any] | None] = [None] * count
    while not done.all():
        actions = np.asarray(policy.act_batch(obs, masks), dtype=np.int64)
        obs, reward, terminated, truncated, info = env.step(actions)
        masks = info["action_mask"]
        returns += np.where(done, 0.0, reward)
        ended = (terminated | truncated) & ~done
        if ended.any():
            kpis = info["episode_kpis"]
            for i in np.flatnonzero(ended):
                results[i] = {key: value[i] for key, value in kpis.items() if not key.startswith("_")}
            done |= ended
    env.close()
    return [(r, float(ret)) for r, ret in zip(results, returns, strict=True) if r is not None]


def _run_single(
    policy: Policy,
    cfg: EnvironmentConfig,
    env_seed: int,
    trace: ArrivalTrace | None,
    max_steps: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Any], float]:
    env = TicketRoutingEnv(cfg, trace=trace)
    obs, info = env.reset(seed=env_seed)
    records: list[dict[str, Any]] = []
    total = 0.0
    limit = cfg.episode_length if max_steps is None else max_steps
    for step in range(limit):
        ticket = env.current_ticket()
        mask = info["action_mask"]
        workload = obs["agent_workload"]
        action = int(policy.act(obs, mask))
        record: dict[str, Any] = {
            "step": step,
            "time_hours": env.clock_hours,
            "ticket_type": ticket.ticket_type if ticket else None,
            "priority": ticket.priority if ticket else None,
            "arrival_hours": ticket.arrival_hours if ticket else math.nan,
            "ticket_age_hours": ticket.age_hours if ticket else math.nan,
            "agent": action,
            "valid": bool(mask[action]),
            "expertise": float(obs["agent_expertise"][action * len(TICKET_TYPES) + int(obs["ticket_type"])]),
            "queue_size": int(obs["queue_size"]),
            "tickets_arrived": int(info["kpis"]["tickets_arrived"]),
        }
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        record["reward"] = float(reward)
        for name in REWARD_COMPONENTS:
            record[f"reward_{name}"] = info["reward_components"][name]
        for a, w in enumerate(workload.tolist()):
            record[f"workload_{a}"] = int(w)
        records.append(record)
        if terminated or truncated:
            break
    kpis = env.kpis()
    env.close()
    return pd.DataFrame(records), kpis, total


def episode_log(
    policy: PolicyLike,
    config: ConfigLike,
    seed: int,
    *,
    trace: ArrivalTrace | None = None,
    max_steps: int | None = None,
) -> pd.DataFrame:
    """Step-level log of one episode: one row per routing decision.

    Columns: ``step``, ``time_hours`` (clock at the decision), ``ticket_type``, ``priority``,
    ``arrival_hours``, ``ticket_age_hours``, ``agent`` (chosen), ``valid``, ``expertise`` (of the
    chosen agent for the ticket type), ``queue_size``, ``tickets_arrived`` (so far), ``reward``,
    ``reward_<component>`` for every reward component, and ``workload_<agent>`` (open tickets of
    each agent when the decision was taken). Write it with ``to_csv`` or ``to_parquet``
    (the latter needs pyarrow); the final KPIs are in ``log.attrs["kpis"]``.
    """
    cfg = resolve_config(config)
    _check_run(1, seed)
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps: invalid value {max_steps!r}; must be an integer >= 1")
    pol = _policy(policy, cfg, seed)
    log, kpis, _ = _run_single(pol, cfg, seed, trace, max_steps)
    log.attrs["kpis"] = {k: v for k, v in kpis.items() if k != "utilization_per_agent"}
    return log


def evaluate_many(
    policies: Iterable[PolicyLike],
    config: ConfigLike,
    episodes: int,
    seed: int,
    *,
    trace: ArrivalTrace | None = None,
    progress: bool = False,
    scenario: str | None = None,
) -> pd.DataFrame:
    """:func:`evaluate` for several policies on the same seeds, concatenated (one row per episode)."""
    cfg = resolve_config(config)
    items = list(policies)
    if not items:
        raise ValueError("policies: expected at least one policy")
    label = scenario_name(config) if scenario is None else scenario
    frames = [evaluate(p, cfg, episodes, seed, trace=trace, progress=progress, scenario=label) for p in items]
    return pd.concat(frames, ignore_index=True)


def compare(
    policies: Iterable[PolicyLike],
    config: ConfigLike,
    episodes: int,
    seed: int,
    *,
    trace: ArrivalTrace | None = None,
    out_dir: str | Path | None = None,
    progress: bool = False,
    baseline: str | None = None,
    scenario: str | None = None,
) -> pd.DataFrame:
    """Evaluate every policy on the same seeds and summarise (see :func:`summarize`).

    With ``baseline`` (a policy's name), also the paired differences against it
    (:func:`paired_differences`, attached as ``summary.attrs["paired"]``). With ``out_dir``, writes
    ``episodes.csv`` (one row per policy and episode), ``summary.csv``, ``comparison.png`` (the
    main KPIs with 95% CIs) and, with a baseline, ``paired.csv`` there. The per-episode frame is
    also attached as ``summary.attrs["episodes"]``.
    """
    per_episode = evaluate_many(policies, config, episodes, seed, trace=trace, progress=progress, scenario=scenario)
    summary = summarize(per_episode)
    paired = None if baseline is None else paired_differences(per_episode, baseline, seed=seed)
    if out_dir is not None:
        write_outputs(per_episode, summary, out_dir, paired)
    summary.attrs["episodes"] = per_episode
    if paired is not None:
        summary.attrs["paired"] = paired
    return summary


def write_outputs(
    per_episode: pd.DataFrame, summary: pd.DataFrame, out_dir: str | Path, paired: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write ``episodes.csv``, ``summary.csv``, ``comparison.png`` and (with ``paired``) ``paired.csv``
    into ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"out_dir: cannot create {str(out)!r}: {exc.strerror or exc}") from None
    paths = {"episodes": out / "episodes.csv", "summary": out / "summary.csv", "chart": out / "comparison.png"}
    per_episode.to_csv(paths["episodes"], index=False)
    summary.to_csv(paths["summary"], index=False)
    plot_summary(summary, paths["chart"])
    if paired is not None:
        paths["paired"] = out / "paired.csv"
        paired.to_csv(paths["paired"], index=False)
    return paths


def plot_summary(summary: pd.DataFrame, path: str | Path, kpis: Sequence[str] = CHART_KPIS) -> Path:
    """A PNG with one bar panel per KPI: the mean of each policy with its 95% CI."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [k for k in kpis if k in set(summary["kpi"])]
    if not shown:
        raise ValueError(f"kpis: none of {', '.join(kpis)} is in the summary")
    cols = min(3, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    policies = list(dict.fromkeys(summary["policy"]))
    colors = plt.get_cmap("tab10")(np.arange(len(policies)) % 10)
    for ax, kpi_name in zip(axes.flat, shown, strict=False):
        part = summary[summary["kpi"] == kpi_name].set_index("policy").loc[policies]
        means = part["mean"].to_numpy(dtype=np.float64)
        err = np.vstack([means - part["ci95_low"].to_numpy(), part["ci95_high"].to_numpy() - means])
        ax.bar(range(len(policies)), means, yerr=np.nan_to_num(err), color=colors, capsize=3)
        ax.set_title(kpi(kpi_name).title, fontsize=9)
        ax.set_xticks(range(len(policies)))
        ax.set_xticklabels(policies, rotation=35, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    fig.suptitle("Routing policies: mean over episodes with 95% confidence intervals", fontsize=11)
    fig.tight_layout()
    target = Path(path)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


class _Progress:
    """A rich progress bar over episodes, or nothing."""

    def __init__(self, enabled: bool, label: str, total: int) -> None:
        self.enabled = enabled
        self.label = label
        self.total = total
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description:>16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total)
        return self

    def advance(self, count: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, count)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "CHART_KPIS",
    "ID_COLUMNS",
    "MAIN_KPIS",
    "compare",
    "episode_log",
    "evaluate",
    "evaluate_many",
    "mean_ci95",
    "paired_differences",
    "plot_summary",
    "scenario_name",
    "summarize",
    "summary_table",
    "t_quantile_975",
    "write_outputs",
]
