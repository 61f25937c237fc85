"""The step kernel of this checkout against an earlier git revision, paired in one process.

    python benchmarks/bench_revision.py REV            # e.g. HEAD~1 or a commit id
    python benchmarks/bench_revision.py REV --envs 64 --rounds 150 --steps 100

This machine's speed can change by a factor of two within minutes, so two `bench_env.py` runs a
few minutes apart compare periods more than code. Here both versions run in the same process:
the revision's package is extracted with `git archive` into a temporary folder under another
name (its kernels compile there once, about a minute and a half). Both simulations are stepped
from the same state for the same actions, in random order within each round, and each round's
ratio compares the two versions at the same moment. Prints the median time per env-step of each,
the median of the per-round ratios (above 1: this checkout is faster), their interquartile range,
and in how many rounds this checkout was faster.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = "rl_environments"
OTHER = "rl_environments_at_revision"
ROOT = Path(__file__).resolve().parent.parent


def extract(rev: str, into: Path) -> None:
    """Write the package as of ``rev`` into ``into`` as the package ``OTHER``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, PACKAGE], capture_output=True)
    if archive.returncode != 0:
        reason = archive.stderr.decode(errors="replace").strip()
        raise ValueError(f"rev: invalid value {rev!r}; git archive says: {reason}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    (into / PACKAGE).rename(into / OTHER)
    for path in (into / OTHER).rglob("*.py"):
        path.write_text(path.read_text(encoding="utf-8").replace(PACKAGE, OTHER), encoding="utf-8")


def simulation(package: str, envs: int, warmup: int) -> tuple[Any, list[np.ndarray], list[np.ndarray]]:
    """A default-config simulation of ``envs`` environments, ``warmup`` steps in, with a snapshot."""
    module = importlib.import_module(f"{package}.ticket_routing.core.simulation")
    config = importlib.import_module(f"{package}.ticket_routing").EnvironmentConfig()
    sim = module.Simulation(config, envs)
    sim.seed(slice(None), [np.random.default_rng(s) for s in range(envs)])
    sim.reset(np.ones(envs, dtype=bool))
    take_steps(sim, warmup)
    arrays = [*sim.state, *sim.obs, *sim.out]
    return sim, arrays, [a.copy() for a in arrays]


def take_steps(sim: Any, steps: int) -> None:
    """Step ``sim`` ``steps`` times, each environment routing to its first agent with room."""
    actions = np.argmax(sim.obs.action_mask, axis=1)
    for _ in range(steps):
        sim.step(actions)
        actions = np.argmax(sim.obs.action_mask, axis=1)


def time_per_env_step(run: tuple[Any, list[np.ndarray], list[np.ndarray]], steps: int) -> float:
    """Restore the snapshot, take ``steps`` steps; microseconds per env-step."""
    sim, arrays, snapshot = run
    for array, saved in zip(arrays, snapshot, strict=True):
        np.copyto(array, saved)
    start = time.perf_counter()
    take_steps(sim, steps)
    elapsed = time.perf_counter() - start
    return elapsed / steps / int(sim.num_envs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the git revision to compare with (e.g. HEAD~1)")
    parser.add_argument("--envs", type=int, default=1024, help="environments per simulation (default 1024)")
    parser.add_argument("--rounds", type=int, default=100, help="paired rounds (default 100)")
    parser.add_argument("--steps", type=int, default=30, help="steps per round (default 30)")
    parser.add_argument("--warmup", type=int, default=100, help="steps before the snapshot (default 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        extract(args.rev, Path(folder))
        sys.path.insert(0, folder)
        runs = {
            "revision": simulation(OTHER, args.envs, args.warmup),
            "checkout": simulation(PACKAGE, args.envs, args.warmup),
        }
        for run in runs.values():
            time_per_env_step(run, args.steps)  # warm the caches once
        times: dict[str, list[float]] = {name: [] for name in runs}
        order = np.random.default_rng(0)
        for _ in range(args.rounds):
            for name in order.permutation(list(runs)):
                times[str(name)].append(time_per_env_step(runs[str(name)], args.steps))
    before, after = np.array(times["revision"]), np.array(times["checkout"])
    ratio = before / after
    low, high = np.percentile(ratio, [25, 75])
    print(f"N = {args.envs}, {args.rounds} rounds of {args.steps} steps, {args.rev} vs this checkout")
    print(f"{args.rev}: median {np.median(before):.3f} us per env-step")
    print(f"this checkout: median {np.median(after):.3f} us per env-step")
    print(
        f"ratio {args.rev} / this checkout: median {np.median(ratio):.3f} (IQR {low:.3f} to {high:.3f}); "
        f"this checkout faster in {int((ratio > 1).sum())} of {args.rounds} rounds"
    )


if __name__ == "__main__":
    main()
