"""Charts of a sweep's summary: a heatmap over two fields, and a KPI against one field with 95% CI bands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _slice(summary: pd.DataFrame, kpi: str, keep: Sequence[str], names: Sequence[str]) -> tuple[pd.DataFrame, str]:
    """Rows of ``kpi`` with every field outside ``keep`` at its first value, and a note saying so."""
    if kpi not in set(summary["kpi"]):
        raise ValueError(f"kpi: unknown KPI {kpi!r}; available: {', '.join(dict.fromkeys(summary['kpi']))}")
    part = summary[summary["kpi"] == kpi]
    fixed = []
    for name in names:
        if name not in keep:
            first = part[name].iloc[0]
            part = part[part[name] == first]
            text = str(first)
            fixed.append(f"{name}={text if len(text) <= 32 else text[:31] + '…'}")
    return part, (f" ({', '.join(fixed)})" if fixed else "")


def _is_numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


def plot_heatmap(
    summary: pd.DataFrame, names: Sequence[str], kpi: str, path: str | Path, x: str | None = None, y: str | None = None
) -> Path:
    """One heatmap panel per policy: the mean of ``kpi`` over grid fields ``x`` (columns) and ``y`` (rows)."""
    if len(names) < 2:
        raise ValueError("heatmap: needs a grid over at least two fields")
    x = x or names[0]
    y = y or next(n for n in names if n != x)
    part, note = _slice(summary, kpi, (x, y), names)
    plt = _pyplot()
    policies = list(dict.fromkeys(part["policy"]))
    fig, axes = plt.subplots(1, len(policies), figsize=(5.2 * len(policies), 4.2), squeeze=False)
    xs, ys = list(dict.fromkeys(part[x])), list(dict.fromkeys(part[y]))
    for ax, policy in zip(axes.flat, policies, strict=True):
        grid = part[part["policy"] == policy].pivot_table(index=y, columns=x, values="mean", sort=False)
        grid = grid.reindex(index=ys, columns=xs)
        image = ax.imshow(grid.to_numpy(dtype=np.float64), aspect="auto", origin="lower", cmap="viridis")
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=np.float64)):
            if np.isfinite(value) and grid.size <= 400:
                ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=7, color="white")
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels([str(v) for v in xs], rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(ys)))
        ax.set_yticklabels([str(v) for v in ys], fontsize=8)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(policy, fontsize=10)
        fig.colorbar(image, ax=ax, label=kpi)
    fig.suptitle(f"{kpi}: mean over seeds{note}", fontsize=11)
    fig.tight_layout()
    target = Path(path)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def plot_lines(summary: pd.DataFrame, names: Sequence[str], kpi: str, path: str | Path, x: str | None = None) -> Path:
    """``kpi`` against field ``x``: one line per policy (and per value of the next field), 95% CI bands."""
    x = x or names[0]
    if x not in names:
        raise ValueError(f"x: {x!r} is not a field of the grid ({', '.join(names)})")
    hue = next((n for n in names if n != x), None)
    part, note = _slice(summary, kpi, (x,) if hue is None else (x, hue), names)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    xs = list(dict.fromkeys(part[x]))
    numeric = _is_numeric(xs)
    position = {v: (float(v) if numeric else float(k)) for k, v in enumerate(xs)}
    groups = ["policy"] if hue is None else ["policy", hue]
    for key, group in part.groupby(groups, sort=False):
        label = " · ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        if hue is not None:
            label = label.replace(" · ", f" · {hue}=", 1)
        px = np.array([position[v] for v in group[x]])
        order = np.argsort(px)
        line = ax.plot(px[order], group["mean"].to_numpy(dtype=np.float64)[order], marker="o", ms=3, label=label)
        low = group["ci95_low"].to_numpy(dtype=np.float64)[order]
        high = group["ci95_high"].to_numpy(dtype=np.float64)[order]
        ax.fill_between(px[order], low, high, alpha=0.2, color=line[0].get_color(), linewidth=0)
    if not numeric:
        ax.set_xticks([position[v] for v in xs])
        ax.set_xticklabels([str(v) for v in xs], rotation=30, ha="right", fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(kpi)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2 if len(ax.lines) > 6 else 1)
    ax.set_title(f"{kpi}: mean and 95% CI over seeds{note}", fontsize=10)
    fig.tight_layout()
    target = Path(path)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target


def plot_sweep(
    summary: pd.DataFrame, names: Sequence[str], kpi: str, folder: str | Path, x: str | None = None
) -> dict[str, Path]:
    """``lines_<kpi>.png`` (against ``x``, default the first field), and ``heatmap_<kpi>.png`` when the
    grid has two or more fields (``x`` across, the next field up)."""
    out = Path(folder)
    paths = {"lines": plot_lines(summary, names, kpi, out / f"lines_{kpi}.png", x=x)}
    if len(names) >= 2:
        paths["heatmap"] = plot_heatmap(summary, names, kpi, out / f"heatmap_{kpi}.png", x=x)
    return paths
