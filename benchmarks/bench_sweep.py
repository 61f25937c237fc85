"""Wall time of a 1,000-cell what-if sweep on each backend: in-process, local worker processes, Ray.

    python benchmarks/bench_sweep.py                  # 20 team sizes x 5 arrival rates x 10 seeds, skill_load
    python benchmarks/bench_sweep.py --quick          # 4 x 5 x 10 = 200 cells
    python benchmarks/bench_sweep.py --backends serial workers

Each backend runs the same grid into a fresh folder (nothing to resume). The time of each backend
is split into starting it (worker processes or Ray, which load the compiled kernels from Numba's
disk cache) and running the cells; the table prints cells per second and the speed-up over the
serial run, and checks that every backend produced exactly the same results.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
from machine import describe  # benchmarks/machine.py (the scripts run from this folder)

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.planning.backends import Backend, ProcessBackend, RayBackend, SerialBackend
from rl_environments.ticket_routing.planning.sweep import Param, SweepSpec, run_sweep
from rl_environments.ticket_routing.planning.tasks import Task


def make_backend(name: str, workers: int) -> Backend:
    if name == "serial":
        return SerialBackend()
    if name == "workers":
        return ProcessBackend(workers)
    return RayBackend("local", num_cpus=workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 team sizes instead of 20 (200 cells)")
    parser.add_argument("--episode-length", type=int, default=150, help="decisions per episode (default: 150)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes / Ray CPUs (default: 2)")
    parser.add_argument(
        "--backends", nargs="+", default=["serial", "workers", "ray"], choices=["serial", "workers", "ray"]
    )
    args = parser.parse_args()

    sizes = tuple(range(8, 12)) if args.quick else tuple(range(6, 26))
    rates = (30.0, 36.0, 42.0, 48.0, 54.0)
    base = EnvironmentConfig(episode_length=args.episode_length)
    spec = SweepSpec(
        base, (Param("num_agents", sizes), Param("arrivals.rate_per_day", rates)), ("skill_load",), seeds=10, seed=0
    )
    print(f"machine: {describe()}")
    print(
        f"grid: {len(sizes)} team sizes x {len(rates)} arrival rates x {spec.seeds} seeds = {spec.num_cells} cells "
        f"({len(spec.configs)} tasks of {spec.seeds} episodes), skill_load, {args.episode_length} decisions per "
        "episode"
    )
    rows: list[dict[str, Any]] = []
    frames: dict[str, pd.DataFrame] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        for name in args.backends:
            start = time.perf_counter()
            backend = make_backend(name, args.workers)
            # Starting includes loading the kernels in every worker: one one-decision task per worker.
            warm = Task(base.replace(episode_length=1).to_dict(), "skill_load", 1, 0)
            for _ in backend.run([warm] * (1 if name == "serial" else args.workers)):
                pass
            ready = time.perf_counter()
            try:
                result = run_sweep(spec, Path(folder) / name, backend=backend)
            finally:
                backend.close()
            done = time.perf_counter()
            frames[name] = result.cells
            rows.append(
                {
                    "backend": backend.name,
                    "start s": ready - start,
                    "run s": done - ready,
                    "total s": done - start,
                    "cells/s": spec.num_cells / (done - start),
                }
            )
    table = pd.DataFrame(rows)
    table["speed-up"] = table["total s"].iloc[0] / table["total s"]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    first = next(iter(frames.values()))
    same = all(frame.equals(first) for frame in frames.values())
    print(f"results identical across backends: {'yes' if same else 'NO'}")


if __name__ == "__main__":  # the guard the spawned worker processes need
    main()
