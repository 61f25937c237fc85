"""Speed and memory of TicketRouting-v0, measured side by side with Gymnasium's CartPole-v1.

    python benchmarks/bench_env.py            # full table (about two minutes)
    python benchmarks/bench_env.py --quick    # smaller budgets

Prints the machine, then medians over repeated, interleaved runs:
  * raw ``step()`` time of the single env vs CartPole-v1 (both unwrapped) and their ratio;
  * env-steps/s of SyncVectorEnv, AsyncVectorEnv and the native TicketRoutingVectorEnv, each run
    from reset() for 200,000 env-steps (at N = 1024 that is 195 steps, the first and lightly
    loaded part of a 1,500-step episode);
  * the native vector env at N = 1024 over a whole episode, its end and auto-reset included, and
    the time of the episode KPIs at its end;
  * memory per environment, memory growth over many steps, and reset cost.
Actions are valid agents (the first agent with room) so every step routes a ticket.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from machine import describe  # benchmarks/machine.py (the scripts run from this folder)

from rl_environments.ticket_routing import EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv
from rl_environments.ticket_routing.core.kpis import batch_kpis


def rss_mib() -> float:
    """Resident memory of this process (Linux), MiB."""
    try:
        with open("/proc/self/statm", encoding="utf-8") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def median_of(runs: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(runs))


def single_env_step_us(steps: int) -> Callable[[], float]:
    env = TicketRoutingEnv()
    _, info = env.reset(seed=0)
    mask = info["action_mask"]

    def run() -> float:
        nonlocal mask
        step = env.step
        start = time.perf_counter()
        for _ in range(steps):
            _, _, terminated, truncated, info = step(int(mask.argmax()))
            mask = info["action_mask"]
            if terminated or truncated:
                _, info = env.reset()
                mask = info["action_mask"]
        return (time.perf_counter() - start) / steps * 1e6

    return run


def cartpole_step_us(steps: int) -> Callable[[], float]:
    env = gym.make("CartPole-v1").unwrapped
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 2, size=steps)

    def run() -> float:
        step = env.step
        start = time.perf_counter()
        for k in range(steps):
            _, _, terminated, truncated, _ = step(int(actions[k]))
            if terminated or truncated:
                env.reset()
        return (time.perf_counter() - start) / steps * 1e6

    return run


def vector_steps_per_s(vec: Any, steps: int, masks: Callable[[], np.ndarray]) -> float:
    vec.reset(seed=0)
    acts = np.argmax(masks(), axis=1)
    start = time.perf_counter()
    for _ in range(steps):
        vec.step(acts)
        acts = np.argmax(masks(), axis=1)
    elapsed = time.perf_counter() - start
    return vec.num_envs * steps / elapsed


def gym_vector(n: int, mode: str) -> tuple[Any, Callable[[], np.ndarray]]:
    cls = gym.vector.SyncVectorEnv if mode == "sync" else gym.vector.AsyncVectorEnv
    vec = cls([lambda: TicketRoutingEnv() for _ in range(n)])
    state: dict[str, np.ndarray] = {"mask": np.ones((n, EnvironmentConfig().num_agents), dtype=bool)}
    original_step = vec.step

    def step(actions: np.ndarray) -> Any:
        out = original_step(actions)
        state["mask"] = out[4]["action_mask"]
        return out

    vec.step = step  # type: ignore[method-assign]
    return vec, lambda: state["mask"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller budgets (less precise)")
    parser.add_argument(
        "--repeats", type=int, default=7, help="runs behind each median of the single env and the native vector env"
    )
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    print(f"machine: {describe(f', Gymnasium {gym.__version__}')}")
    print(f"default config: {EnvironmentConfig().num_agents} agents, max_workload {EnvironmentConfig().max_workload}")

    steps = int(50_000 * scale)
    ours, theirs = single_env_step_us(steps), cartpole_step_us(steps)
    ours(), theirs()  # warm up (and compile)
    pairs = [(ours(), theirs()) for _ in range(args.repeats)]
    t_ours = statistics.median(p[0] for p in pairs)
    t_cart = statistics.median(p[1] for p in pairs)
    print("\n## Single env, raw step() (median of interleaved runs)")
    print("| env | us/step |")
    print("|---|---:|")
    print(f"| TicketRouting-v0 | {t_ours:.2f} |")
    print(f"| CartPole-v1 | {t_cart:.2f} |")
    print(f"| ratio | {t_ours / t_cart:.2f}x |")

    print(f"\n## Vector envs, env-steps/s (median of {args.repeats} runs for the native env, 3 for Gymnasium's)")
    print(
        "| N | SyncVectorEnv | AsyncVectorEnv | TicketRoutingVectorEnv | native / sync | native, 2 threads | / sync |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in (1, 8, 64, 1024, 4096):
        budget = max(20, int(200_000 * scale) // n)
        native = TicketRoutingVectorEnv(n)
        native_sps = median_of(args.repeats, lambda v=native, b=budget: vector_steps_per_s(v, b, v.action_masks))
        threaded = TicketRoutingVectorEnv(n, threads=2)
        threaded_sps = median_of(args.repeats, lambda v=threaded, b=budget: vector_steps_per_s(v, b, v.action_masks))
        threaded.close()
        sync_budget = max(5, int(20_000 * scale) // n)
        sync_vec, sync_masks = gym_vector(n, "sync")
        sync_sps = median_of(3, lambda v=sync_vec, b=sync_budget, m=sync_masks: vector_steps_per_s(v, b, m))
        sync_vec.close()
        if n <= 8:  # one process per sub-env: beyond the 2 cores of the reference machine this only measures overload
            async_vec, async_masks = gym_vector(n, "async")
            async_sps = median_of(3, lambda v=async_vec, b=sync_budget, m=async_masks: vector_steps_per_s(v, b, m))
            async_vec.close()
            async_txt = f"{async_sps:,.0f}"
        else:
            async_txt = "n/a (one process per env)"
        print(
            f"| {n} | {sync_sps:,.0f} | {async_txt} | {native_sps:,.0f} | {native_sps / sync_sps:.0f}x "
            f"| {threaded_sps:,.0f} | {threaded_sps / sync_sps:.0f}x |"
        )

    print("\n## Whole episodes, N = 1024 (one thread)")
    n = 1024
    whole = TicketRoutingVectorEnv(n)
    length = whole.config.episode_length
    whole_sps = median_of(3, lambda: vector_steps_per_s(whole, length + 1, whole.action_masks))
    print(
        f"{whole_sps:,.0f} env-steps/s over a whole episode: {length + 1} steps from reset(), so the "
        f"step where every episode ends (with its episode KPIs) and the auto-reset step are included"
    )
    vector_steps_per_s(whole, length, whole.action_masks)  # every episode has just ended
    rows = np.arange(n)

    def kpis_ms() -> float:
        start = time.perf_counter()
        batch_kpis(whole.sim, rows)
        return (time.perf_counter() - start) * 1e3

    print(f"episode KPIs of all {n} sub-environments after {length} steps: {median_of(3, kpis_ms):.0f} ms")
    kpis = batch_kpis(whole.sim, rows)
    slots = whole.config.num_agents * whole.config.max_workload
    in_service, waiting = kpis["tickets_in_service"].mean(), kpis["tickets_waiting"].mean()
    print(
        f"open tickets at the episode's end (mean over the sub-environments): "
        f"{in_service:.1f} in service ({slots} slots), {waiting:.1f} waiting"
    )

    print("\n## Memory and reset")
    native = whole  # the same N = 1024 vector env
    sim = native.sim
    arrays = [*sim.state, *sim.obs, *sim.out]  # the per-environment records (Params are shared)
    per_env_kib = sum(a.nbytes for a in arrays) / n / 1024
    print(f"native vector env state: {per_env_kib:.1f} KiB per environment (N={n})")
    gc.collect()
    before = rss_mib()
    single = TicketRoutingEnv()
    single.reset(seed=0)
    after_create = rss_mib()
    mask = single.action_masks()
    total = int(1_000_000 * scale)
    for _ in range(total):
        _, _, terminated, truncated, info = single.step(int(mask.argmax()))
        mask = info["action_mask"]
        if terminated or truncated:
            _, info = single.reset()
            mask = info["action_mask"]
    after_steps = rss_mib()
    growth = after_steps - after_create
    print(f"single env: {after_create - before:.1f} MiB to create; growth over {total:,} steps: {growth:+.1f} MiB")
    reset_runs = 2000

    def reset_us() -> float:
        start = time.perf_counter()
        for _ in range(reset_runs):
            single.reset()
        return (time.perf_counter() - start) / reset_runs * 1e6

    print(f"single env reset(): {median_of(3, reset_us):.1f} us")
    native.reset(seed=0)

    def native_reset_us() -> float:
        start = time.perf_counter()
        native.reset(seed=1)
        return (time.perf_counter() - start) / n * 1e6

    per_env = median_of(3, native_reset_us)
    print(f"native vector reset(seed=...): {per_env:.1f} us per environment (N={n}, seeding included)")


if __name__ == "__main__":
    main()
