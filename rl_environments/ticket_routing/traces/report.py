"""The fit report: a PNG of what the fit saw (daily volume, weekly profile, resolution times)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.config import PRIORITIES, WEEKDAYS
from rl_environments.ticket_routing.traces.fitting import ScenarioFit
from rl_environments.ticket_routing.traces.log import HOUR, TicketLog


def plot_fit(log: TicketLog, fit: ScenarioFit, path: str | Path) -> Path:
    """Write a PNG with three panels: tickets per day over the whole log (the fitted window shaded),
    tickets per hour of the week in the window (the data behind the weekly profile), and the
    resolution hours per priority with the fitted SLA targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_day, ax_week, ax_res) = plt.subplots(1, 3, figsize=(16, 4.2), gridspec_kw={"width_ratios": [1.3, 1.3, 1]})
    daily = log.counts("D", log.opened.iloc[0].floor("D"), log.opened.iloc[-1].floor("D") + pd.Timedelta(days=1))
    ax_day.plot(daily.index, daily.to_numpy(), lw=0.8, color="tab:blue")
    ax_day.axvspan(fit.start, fit.end, color="tab:green", alpha=0.12, label="fitted window")
    ax_day.set_title(f"tickets opened per day ({len(log):,} tickets)", fontsize=10)
    ax_day.legend(fontsize=8, loc="upper right")
    ax_day.tick_params(axis="x", labelrotation=30, labelsize=8)

    window = log.between(fit.start, fit.end).tickets
    opened = window["opened_at"]
    counts = np.bincount((opened.dt.day_of_week * 24 + opened.dt.hour).to_numpy(), minlength=168).reshape(7, 24)
    image = ax_week.imshow(counts, aspect="auto", cmap="viridis")
    ax_week.set_yticks(range(7))
    ax_week.set_yticklabels([d[:3] for d in WEEKDAYS], fontsize=8)
    ax_week.set_xticks(range(0, 24, 3))
    ax_week.set_xlabel("hour of day", fontsize=8)
    ax_week.set_title("tickets per hour of the week (fitted window)", fontsize=10)
    fig.colorbar(image, ax=ax_week, fraction=0.04)

    hours = (window["resolved_at"] - window["opened_at"]) / HOUR
    bins = np.logspace(-2, 5, 50)
    targets = [float(h) for h in np.asarray(fit.config.sla.resolution_hours, dtype=np.float64)]
    for k, (priority, target) in enumerate(zip(PRIORITIES, targets, strict=True)):
        sample = hours[(window["priority"] == priority) & hours.notna()].clip(lower=0.01)
        if len(sample):
            ax_res.hist(sample, bins=bins, histtype="step", color=f"C{k}", label=f"{priority} (n = {len(sample):,})")
            ax_res.axvline(target, color=f"C{k}", ls="--", lw=0.8)
    ax_res.set_xscale("log")
    ax_res.set_xlabel("hours from opening to resolution (dashed: fitted SLA target)", fontsize=8)
    ax_res.set_title("resolution times", fontsize=10)
    if ax_res.get_legend_handles_labels()[0]:
        ax_res.legend(fontsize=7)
    else:
        ax_res.text(0.5, 0.5, "no resolved tickets", ha="center", va="center", transform=ax_res.transAxes)
    fig.suptitle(f"Fit of {fit.source}: {fit.start:%Y-%m-%d} to {fit.end:%Y-%m-%d}", fontsize=11)
    fig.tight_layout()
    target_path = Path(path)
    fig.savefig(target_path, dpi=100)
    plt.close(fig)
    return target_path
