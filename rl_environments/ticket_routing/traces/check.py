"""Holding a fitted scenario against its log: real figures beside simulated ones.

:func:`check_fit` simulates the fitted scenario under a reference policy in episodes of about four
weeks of tickets (from Monday 00:00; an episode ends after its number of decisions, so a few
tickets at its end are still open) and sets the log's window beside it: tickets per day, tickets per weekday,
the busiest hour of the week, resolution hours (mean and 90th percentile, the statistics the
environment's KPIs hold) and SLA compliance against the fitted targets. The simulated arrivals per
hour of the week are the model's expected counts (exact: the fitted profile times the rate); the
window's first week is also replayed, and its tickets per hour compared with the log's (exact).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.config import PRIORITIES, WEEKDAYS
from rl_environments.ticket_routing.core.params import weekly_intensity
from rl_environments.ticket_routing.traces.fitting import ScenarioFit
from rl_environments.ticket_routing.traces.log import HOUR, TicketLog

REFERENCE_POLICY = "least_loaded"
"""The policy the check simulates: join the shortest queue, what many help desks do by hand."""


def check_fit(
    log: TicketLog,
    fit: ScenarioFit,
    *,
    policy: str = REFERENCE_POLICY,
    episodes: int = 3,
    seed: int = 0,
    weeks: int = 4,
) -> pd.DataFrame:
    """A table (``metric``, ``log``, ``simulated``) of the log's window against the fitted scenario."""
    from rl_environments.ticket_routing.evaluation import episode_log, evaluate

    cfg = fit.config
    window = log.between(fit.start, fit.end).tickets
    days = fit.days
    hours = pd.date_range(fit.start, fit.end - HOUR, freq="h")
    exposure = np.bincount(hours.day_of_week * 24 + hours.hour, minlength=168).astype(np.float64)
    opened = window["opened_at"]
    counts = np.bincount((opened.dt.day_of_week * 24 + opened.dt.hour).to_numpy(), minlength=168)
    real_how = np.divide(counts, exposure, out=np.zeros(168), where=exposure > 0)
    model_how = cfg.arrivals.rate_per_day / 24.0 * weekly_intensity(cfg)
    decisions = math.ceil(7 * weeks * cfg.arrivals.rate_per_day)  # about ``weeks`` weeks of tickets
    sim_cfg = cfg.replace(start_hour_of_week=0, episode_length=max(decisions, 10))
    runs = evaluate(policy, sim_cfg, episodes, seed)
    res = (window["resolved_at"] - window["opened_at"]) / HOUR
    targets = dict(zip(PRIORITIES, np.asarray(cfg.sla.resolution_hours, dtype=np.float64), strict=True))
    limit = window["priority"].map(targets)
    met = float((res[res.notna()] <= limit[res.notna()]).mean() * 100) if res.notna().any() else float("nan")
    sim_days = runs["elapsed_hours"] / 24.0
    rows: list[tuple[str, float, float]] = [
        ("tickets per day", len(window) / days, float((runs["tickets_arrived"] / sim_days).mean())),
    ]
    for d, name in enumerate(WEEKDAYS):
        rows.append(
            (
                f"tickets on a {name} (mean)",
                float(real_how[d * 24 : d * 24 + 24].sum()),
                float(model_how[d * 24 : d * 24 + 24].sum()),
            )
        )
    peak_real, peak_sim = int(np.argmax(real_how)), int(np.argmax(model_how))
    rows.append(("busiest hour of the week: tickets/hour", float(real_how[peak_real]), float(model_how[peak_sim])))
    rows.append(("mean resolution hours", float(res.mean()), float(runs["mean_resolution_hours"].mean())))
    rows.append(("median resolution hours", float(res.median()), float(runs["median_resolution_hours"].mean())))
    rows.append(("p90 resolution hours", float(res.quantile(0.9)), float(runs["p90_resolution_hours"].mean())))
    rows.append(("SLA met % (resolved tickets)", met, float(runs["sla_compliance_resolved_pct"].mean())))
    rows.append(("tickets rejected per episode", 0.0, float(runs["tickets_rejected"].mean())))
    # Replay of the window's first week: every real ticket arrives in its real hour.
    week_end = min(fit.start + pd.Timedelta(days=7), fit.end)
    replay = log.replay(fit.start, week_end)
    room = cfg.replace(max_queue_size=max(cfg.max_queue_size, len(replay) + 10))
    steps = episode_log(policy, replay.configure(room), seed, trace=replay.trace)
    replayed = replay.timestamps(steps.loc[steps["valid"].astype(bool), "arrival_hours"].to_numpy()).floor("h")
    expected = log.counts("h", fit.start, week_end)
    got = replayed.value_counts().reindex(expected.index, fill_value=0)
    rows.append(("replay of the first week: tickets", float(len(replay)), float(len(replayed))))
    table: pd.DataFrame = pd.DataFrame(rows, columns=["metric", "log", "simulated"])
    table.attrs.update(
        policy=policy,
        episodes=episodes,
        weeks=weeks,
        peak=(
            f"{WEEKDAYS[peak_real // 24][:3]} {peak_real % 24:02d}:00",
            f"{WEEKDAYS[peak_sim // 24][:3]} {peak_sim % 24:02d}:00",
        ),
        hour_of_week_max_abs_diff=float(np.abs(real_how - model_how).max()),
        replay_max_abs_diff=int(np.abs(got.to_numpy() - expected.to_numpy()).max()),
    )
    return table


def check_text(table: pd.DataFrame) -> str:
    """The check as aligned text, with the policy, the busiest hours and the largest hourly gap."""
    a = table.attrs
    lines = [
        f"Fitted scenario vs the log ({a['policy']}, {a['episodes']} simulated episodes of about {a['weeks']} weeks "
        "from Monday 00:00):",
        f"  {'metric':<40} {'log':>10} {'simulated':>10}",
    ]
    lines += [f"  {m:<40} {r:>10.1f} {s:>10.1f}" for m, r, s in table.itertuples(index=False)]
    lines.append(
        f"  busiest hour: log {a['peak'][0]}, model {a['peak'][1]}; arrivals per hour of the week differ by at most "
        f"{a['hour_of_week_max_abs_diff']:.2f} tickets (model: expected counts); replayed, by "
        f"{a['replay_max_abs_diff']} in any hour of the first week"
    )
    return "\n".join(lines)
