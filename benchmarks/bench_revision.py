"""The step kernel of this checkout against an earlier git revision, paired in one process.

    python benchmarks/bench_revision.py REV            # e.g. HEAD~1 or a commit id
    python benchmarks/bench_revision.py REV --envs 64 --rounds 150 --steps 100
    python benchmarks/bench_revision.py REV --whole-step --envs 16   # TicketRoutingVectorEnv.step()

This machine's speed can change by a factor of two within minutes, so two `bench_env.py` runs a
few minutes apart compare periods more than code. Here both versions run in the same process:
the revision's package is extracted with `git archive` into a temporary folder under another
name (its kernels compile there once, about a minute and a half). Both simulations are stepped
from the same state for the same actions, in random order within each round, and each round's
ratio compares the two versions at the same moment. ``--whole-step`` times the vector env's
``step()`` (checking the actions, the observation and info dictionaries) instead of the kernel
alone. Prints the median time per env-step of each, the median of the per-round ratios (above 1:
this checkout is faster), their interquartile range, and in how many rounds this checkout was
faster.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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


Run = tuple[Callable[[np.ndarray], Any], Any, list[np.ndarray], list[np.ndarray]]
"""What one version steps (the kernel's ``Simulation.step`` or the vector env's ``step``), its
simulation, the simulation's arrays and a snapshot of them."""


def simulation(package: str, envs: int, warmup: int, whole_step: bool = False) -> Run:
    """A default-config vector env of ``envs`` environments, ``warmup`` steps in, with a snapshot;
    stepped through its ``step()`` with ``whole_step``, else through the kernel (``Simulation.step``)."""
    vec = importlib.import_module(f"{package}.ticket_routing").TicketRoutingVectorEnv(envs)
    vec.reset(seed=0)
    sim = vec.sim
    step = vec.step if whole_step else sim.step
    take_steps(step, sim, warmup)
    arrays = [*sim.state, *sim.obs, *sim.out]
    return step, sim, arrays, [a.copy() for a in arrays]


def take_steps(step: Callable[[np.ndarray], Any], sim: Any, steps: int) -> None:
    """Call ``step`` ``steps`` times, each environment routing to its first agent with room."""
    actions = np.argmax(sim.obs.action_mask, axis=1)
    for _ in range(steps):
        step(actions)
        actions = np.argmax(sim.obs.action_mask, axis=1)


def time_per_env_step(run: Run, steps: int) -> float:
    """Restore the snapshot, take ``steps`` steps; microseconds per env-step."""
    step, sim, arrays, snapshot = run
    for array, saved in zip(arrays, snapshot, strict=True):
        np.copyto(array, saved)
    start = time.perf_counter()
    take_steps(step, sim, steps)
    elapsed = time.perf_counter() - start
    return elapsed / steps / int(sim.num_envs) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the git revision to compare with (e.g. HEAD~1)")
    parser.add_argument("--envs", type=int, default=1024, help="environments per simulation (default 1024)")
    parser.add_argument("--rounds", type=int, default=100, help="paired rounds (default 100)")
    parser.add_argument("--steps", type=int, default=30, help="steps per round (default 30)")
    parser.add_argument("--warmup", type=int, default=100, help="steps before the snapshot (default 100)")
    parser.add_argument(
        "--whole-step", action="store_true", help="time TicketRoutingVectorEnv.step(), not the kernel alone"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        extract(args.rev, Path(folder))
        sys.path.insert(0, folder)
        runs = {
            "revision": simulation(OTHER, args.envs, args.warmup, args.whole_step),
            "checkout": simulation(PACKAGE, args.envs, args.warmup, args.whole_step),
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
    what = "TicketRoutingVectorEnv.step()" if args.whole_step else "the step kernel"
    print(f"{what}, N = {args.envs}, {args.rounds} rounds of {args.steps} steps, {args.rev} vs this checkout")
    print(f"{args.rev}: median {np.median(before):.3f} us per env-step")
    print(f"this checkout: median {np.median(after):.3f} us per env-step")
    print(
        f"ratio {args.rev} / this checkout: median {np.median(ratio):.3f} (IQR {low:.3f} to {high:.3f}); "
        f"this checkout faster in {int((ratio > 1).sum())} of {args.rounds} rounds"
    )


if __name__ == "__main__":
    main()
