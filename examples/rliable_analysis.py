"""Aggregate routing-rule results across scenarios with rliable: IQM with stratified bootstrap
CIs, and performance profiles, from ``ticket-routing compare`` output.

``episodes.csv`` (written by ``ticket-routing compare -o DIR``) has one row per policy, scenario
and seed. Each scenario is one of rliable's "tasks" and each seed one "run"; a KPI in % (SLA
compliance by default) is on the same scale in every scenario, so no normalisation is needed. A
KPI where lower is better (per the KPI catalog) is negated, since rliable ranks higher as better.

rliable's metrics (``aggregate_iqm``) and charts (``plot_utils``) are used as they are. Its
``library`` module (``get_interval_estimates``, ``create_performance_profile``) cannot run next to
pandas 3: rliable 1.2.0 requires ``arch<8``, arch 7.2.0 fails to import under pandas 3
(``deprecate_kwarg() missing 1 required positional argument: 'new_arg_name'``) and arch 8.0.0
rejects the ``random_state`` argument rliable passes. The same stratified bootstrap (resampling
runs within each task) is therefore done here with NumPy, seeded.

    ticket-routing compare --config easy -o runs/easy
    ticket-routing compare --config hard -o runs/hard
    python examples/rliable_analysis.py runs/easy/episodes.csv runs/hard/episodes.csv -o runs/rliable
    python examples/rliable_analysis.py --tiny -o /tmp/rliable   # runs its own small comparison first
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.kpi_catalog import kpi
from rl_environments.ticket_routing.evaluation import evaluate_many


def score_matrices(episodes: pd.DataFrame, kpi_name: str) -> dict[str, np.ndarray]:
    """``{policy: (runs, tasks)}`` scores: scenarios as tasks, seeds as runs (seeds common to all)."""
    sign = -1.0 if kpi(kpi_name).higher_is_better is False else 1.0
    wide = episodes.pivot_table(index=["seed"], columns=["policy", "scenario"], values=kpi_name, aggfunc="first")
    wide = wide.dropna()  # runs where some policy has no value in some scenario
    scenarios = sorted(set(episodes["scenario"]))
    return {
        str(policy): sign * wide[policy][scenarios].to_numpy(dtype=np.float64)
        for policy in dict.fromkeys(episodes["policy"])
    }


def stratified_bootstrap(matrix: np.ndarray, reps: int, seed: int) -> np.ndarray:
    """``reps`` resamples of a ``(runs, tasks)`` matrix, runs drawn with replacement within each task
    (rliable's ``StratifiedBootstrap``)."""
    rng = np.random.default_rng(seed)
    runs, tasks = matrix.shape
    rows = rng.integers(0, runs, size=(reps, runs, tasks))
    return np.take_along_axis(matrix[None, :, :], rows, axis=1)


def score_distribution(matrix: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Fraction of (run, task) scores above each threshold: rliable's performance profile."""
    return (matrix.ravel()[None, :] > taus[:, None]).mean(axis=1)


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("episodes", nargs="*", help="episodes.csv files written by 'ticket-routing compare -o DIR'")
    parser.add_argument("--kpi", default="sla_compliance_pct", help="KPI to aggregate (default: %(default)s)")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument("-o", "--out", default="rliable", help="folder for the charts (default: %(default)s)")
    parser.add_argument("--tiny", action="store_true", help="compare three rules on two presets first, briefly")
    args = parser.parse_args(argv)

    from rliable import metrics, plot_utils

    if args.tiny:
        args.reps = 200
        episodes = pd.concat(
            [
                evaluate_many(["random", "least_loaded", "skill_load"], preset, episodes=4, seed=0, scenario=preset)
                for preset in ("easy", "hard")
            ],
            ignore_index=True,
        )
    elif args.episodes:
        episodes = pd.concat([pd.read_csv(path) for path in args.episodes], ignore_index=True)
    else:
        parser.error("give episodes.csv files (or --tiny)")
    if "scenario" not in episodes.columns:
        parser.error("episodes.csv has no scenario column; write it with this version's 'ticket-routing compare'")

    scores = score_matrices(episodes, args.kpi)
    values = np.concatenate([s.ravel() for s in scores.values()])
    taus = np.linspace(values.min(), values.max(), 41)
    iqm: dict[str, float] = {}
    iqm_ci: dict[str, np.ndarray] = {}
    profiles: dict[str, np.ndarray] = {}
    profile_cis: dict[str, np.ndarray] = {}
    for policy, matrix in scores.items():
        resampled = stratified_bootstrap(matrix, args.reps, args.seed)
        iqm[policy] = float(metrics.aggregate_iqm(matrix))
        iqm_ci[policy] = np.percentile([metrics.aggregate_iqm(m) for m in resampled], [2.5, 97.5])[:, None]
        profiles[policy] = score_distribution(matrix, taus)
        boot = np.stack([score_distribution(m, taus) for m in resampled])
        profile_cis[policy] = np.percentile(boot, [2.5, 97.5], axis=0)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    label = kpi(args.kpi).title
    fig, ax = plt.subplots(figsize=(7, 4))
    plot_utils.plot_performance_profiles(
        profiles, taus, performance_profile_cis=profile_cis, ax=ax, xlabel=f"{label} (τ)",
        ylabel="fraction of episodes with score > τ",
    )  # fmt: skip
    ax.legend(ax.get_lines(), list(profiles), loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "performance_profiles.png", dpi=110)
    plt.close(fig)

    result: dict[str, tuple[float, float, float]] = {}
    plot_utils.plot_interval_estimates(
        {p: np.array([v]) for p, v in iqm.items()}, iqm_ci, metric_names=["IQM"], algorithms=list(iqm),
        xlabel=label, subfigure_width=5.0, row_height=0.5, xlabel_y_coordinate=-0.6,
    )  # fmt: skip
    plt.savefig(out / "iqm.png", dpi=110, bbox_inches="tight")
    plt.close("all")
    print(f"rliable: IQM of {label} over {len(set(episodes['scenario']))} scenarios, stratified bootstrap 95% CI")
    for policy, point in iqm.items():
        low, high = iqm_ci[policy][:, 0]
        result[policy] = (float(point), float(low), float(high))
        print(f"  {policy:>16}: {point:8.2f}  [{low:.2f}, {high:.2f}]")
    print(f"wrote {out / 'performance_profiles.png'} and {out / 'iqm.png'}")
    return result


if __name__ == "__main__":
    main()
