"""Learned routing against the best rule on what a support team measures (docs/results.md).

Trains PPO and MaskablePPO (agent-scoring network) with the ``resolution_sla`` objective on several
scenarios and training seeds, evaluates every model and every baseline on the same held-out seeds,
and reports mean and p90 resolution hours, SLA % and CSAT % with paired 95% intervals against the
best rule on each measure, per training seed and pooled over seeds.

    # train (each run writes runs/objective/<scenario>/<algo>/seed<k>/ with model and episodes.csv)
    python examples/objective_study.py train --scenarios balanced hard service_desk --algos ppo --seeds 0 1 2
    # report from the finished runs
    python examples/objective_study.py report --out docs/objective_results.md

Training runs are independent: start several processes on disjoint subsets (one per core).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_sb3_ppo import build_parser as train_parser
from train_sb3_ppo import run as train

from rl_environments.ticket_routing.evaluation import mean_ci95

OBJECTIVE = "resolution_sla"
MEASURES = {  # KPI, label, higher is better
    "mean_resolution_hours": ("mean resolution h", False),
    "p90_resolution_hours": ("p90 resolution h", False),
    "sla_compliance_pct": ("SLA %", True),
    "csat_pct": ("CSAT %", True),
}
LEARNED = ("ppo", "maskable_ppo")


def run_dir(root: Path, scenario: str, algo: str, seed: int) -> Path:
    return root / scenario / algo / f"seed{seed}"


def cmd_train(args: argparse.Namespace) -> None:
    for scenario in args.scenarios:
        for algo in args.algos:
            for seed in args.seeds:
                out = run_dir(args.root, scenario, algo, seed)
                if (out / "episodes.csv").is_file():
                    print(f"skip {out} (done)")
                    continue
                argv = [
                    "--algo",
                    algo,
                    "--config",
                    f"{scenario}+{OBJECTIVE}",
                    "--extractor",
                    "agents",
                    "--total-timesteps",
                    str(args.total_timesteps),
                    "--seed",
                    str(seed * 1000),
                    "--eval-freq",
                    "0",
                    "--compare-episodes",
                    str(args.episodes),
                    "--out-dir",
                    str(out),
                    *(["--delay-feature"] if args.delay_feature else []),
                    *(["--gamma", str(args.gamma)] if args.gamma is not None else []),
                    "--ent-coef",
                    str(args.ent_coef),
                ]
                print("python examples/train_sb3_ppo.py " + " ".join(argv), flush=True)
                train(train_parser(algo=algo).parse_args(argv))


def paired(a: pd.Series, b: pd.Series) -> str:
    mean, low, high, _ = mean_ci95((a - b).to_numpy())
    mark = "" if low <= 0.0 <= high else " *"
    return f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]{mark}"


def scenario_report(root: Path, scenario: str) -> list[str]:
    frames = []
    for algo in LEARNED:
        for path in sorted((root / scenario / algo).glob("seed*/episodes.csv")):
            frame = pd.read_csv(path)
            seed = path.parent.name
            learned = frame[frame["policy"] == algo].assign(policy=f"{algo} {seed}")
            frames.append(learned)
            baselines = frame[~frame["policy"].isin(LEARNED)]
    if not frames:
        return []
    episodes = pd.concat([baselines, *frames], ignore_index=True)
    table = episodes.pivot_table(index="seed", columns="policy", values=list(MEASURES))
    rules = [p for p in baselines["policy"].unique()]
    lines = [f"### {scenario}", ""]
    header = "| policy | " + " | ".join(label for label, _ in MEASURES.values()) + " |"
    lines += [header, "|---" * (len(MEASURES) + 1) + "|"]
    best: dict[str, str] = {}
    speed = table["mean_resolution_hours"][rules].mean()
    for kpi, (_, higher) in MEASURES.items():
        means = table[kpi][rules].mean()
        top = means.max() if higher else means.min()
        tied = means.index[np.isclose(means, top, rtol=0.0, atol=1e-9)]
        best[kpi] = str(speed[tied].idxmin())  # ties (e.g. every rule at 100% SLA): the fastest rule
    for policy in [*rules, *sorted(p for p in table["mean_resolution_hours"].columns if p not in rules)]:
        cells = []
        for kpi in MEASURES:
            mean, low, high, _ = mean_ci95(table[kpi][policy].to_numpy())
            cell = f"{mean:.2f} ± {(high - low) / 2:.2f}"
            cells.append(f"**{cell}**" if policy == best[kpi] else cell)
        lines.append(f"| {policy} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Paired differences, learned minus the best rule on each measure (mean [95% CI] over the "
        "evaluation seeds; * = interval clear of zero):",
        "",
    ]
    lines += ["| policy | " + " | ".join(f"Δ {label} vs {best[k]}" for k, (label, _) in MEASURES.items()) + " |"]
    lines += ["|---" * (len(MEASURES) + 1) + "|"]
    for algo in LEARNED:
        seeds = [p for p in table["mean_resolution_hours"].columns if p.startswith(f"{algo} seed")]
        for policy in sorted(seeds):
            cells = [paired(table[k][policy], table[k][best[k]]) for k in MEASURES]
            lines.append(f"| {policy} | " + " | ".join(cells) + " |")
        if seeds:
            cells = [paired(table[k][seeds].mean(axis=1), table[k][best[k]]) for k in MEASURES]
            lines.append(f"| {algo} pooled ({len(seeds)} seeds) | " + " | ".join(cells) + " |")
    return [*lines, ""]


def cmd_report(args: argparse.Namespace) -> None:
    lines = []
    for scenario in args.scenarios:
        lines += scenario_report(args.root, scenario)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "report"):
        p = sub.add_parser(name)
        p.add_argument("--root", type=Path, default=Path("runs/objective"), help="where runs are kept")
        p.add_argument("--scenarios", nargs="+", default=["balanced", "hard", "service_desk"])
    t = sub.choices["train"]
    t.add_argument("--algos", nargs="+", choices=LEARNED, default=list(LEARNED))
    t.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="training seeds (run k uses seeds k*1000+i)")
    t.add_argument("--total-timesteps", type=int, default=200_000, help="routing decisions per run")
    t.add_argument("--episodes", type=int, default=20, help="held-out evaluation episodes (seeds 100000+)")
    t.add_argument("--delay-feature", action="store_true", help="feed the shift_sed expected delay per agent")
    t.add_argument("--gamma", type=float, default=None, help="discount per decision (default: the script's)")
    t.add_argument("--ent-coef", type=float, default=0.0, help="entropy bonus (0: the rule prior is sharp)")
    sub.choices["report"].add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    args = parser.parse_args(argv)
    {"train": cmd_train, "report": cmd_report}[args.command](args)
    np.set_printoptions(precision=2)


if __name__ == "__main__":
    main()
