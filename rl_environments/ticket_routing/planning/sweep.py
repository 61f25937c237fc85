"""What-if sweeps: a grid over configuration fields, policies and seeds, resumable from its results file.

A *cell* is one grid point, one policy and one seed: one episode and one row of the results. The
cells of a grid point and policy run together as one :class:`~.tasks.Task` (all seeds side by side
in a vector environment, exactly as ``ticket-routing compare`` runs them: episode ``k`` uses seed
``seed + k`` at every grid point and for every policy, so the comparisons use common random numbers).

Each finished task's rows are appended to ``results.csv`` (one write, flushed to disk) before the
next one is reported, and ``sweep.json`` records what the rows depend on (the base configuration,
the seeds, the field names). Running the same sweep again skips every cell already in the file,
so an interrupted sweep loses no finished cell; a grid extended with new values, or new policies,
runs only the new cells. At the end the file is rewritten in grid order, so it is the same whatever
the backend and however often the sweep was interrupted.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.core.safe_yaml import load_yaml
from rl_environments.ticket_routing.planning.backends import Backend, SerialBackend
from rl_environments.ticket_routing.planning.tasks import Task, apply_fields, check_field

RESULTS = "results.csv"
SPEC = "sweep.json"
SUMMARY = "summary.csv"
ROW_IDS: tuple[str, ...] = ("policy", "scenario", "episode", "seed")

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*(?::\s*({_NUMBER})\s*)?$")


class SweepError(ValueError):
    """A sweep that cannot run as asked: an empty grid, a results folder written by another sweep."""


@dataclass(frozen=True)
class Param:
    """One axis of the grid: a dotted configuration field and the values it takes."""

    name: str
    values: tuple[Any, ...]


def parse_values(name: str, text: str) -> tuple[Any, ...]:
    """Values of ``--param NAME=TEXT``: ``8:20:2`` (inclusive range), ``30,42.5,60``, or a YAML list.

    Each comma-separated item is read as YAML (numbers, true/false, null, words); a list of lists
    (``[[monday, tuesday], [monday]]``) gives list values.
    """
    text = text.strip()
    match = _RANGE.match(text)
    if match:
        lo_text, hi_text, step_text = match.groups()
        nums = [load_yaml(t) for t in (lo_text, hi_text, step_text or "1")]
        lo, hi, step = (float(v) for v in nums)
        if step <= 0:
            raise SweepError(f"{name}: invalid range {text!r}; the step must be > 0")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        if count < 1:
            raise SweepError(f"{name}: the range {text!r} is empty (start above stop)")
        if count > 100_000:
            raise SweepError(f"{name}: the range {text!r} has {count} values; at most 100000")
        values = [lo + k * step for k in range(count)]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in nums):
            return tuple(round(v) for v in values)
        return tuple(round(v, 10) for v in values)
    if text.startswith("["):
        try:
            loaded = load_yaml(text, source=f"{name} values")
        except ValueError as exc:
            raise SweepError(str(exc)) from None
        items: list[Any] = list(loaded) if isinstance(loaded, list) else [loaded]
    else:
        items = []
        for part in text.split(","):
            if not part.strip():
                continue
            try:
                items.append(load_yaml(part.strip(), source=f"{name} values"))
            except ValueError:
                items.append(part.strip())
    if not items:
        raise SweepError(f"{name}: no values (empty grid); give e.g. {name}=1,2,3 or {name}=1:10:1")
    return tuple(items)


def parse_param(text: str) -> Param:
    """A grid axis from ``NAME=VALUES`` (see :func:`parse_values`)."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip():
        raise SweepError(f"--param: invalid value {text!r}; expected FIELD=VALUES, e.g. num_agents=8:16:2")
    return Param(name.strip(), parse_values(name.strip(), values))


def _canon(value: Any) -> str:
    """A text key equal for a value and its CSV round trip (8 == 8.0, a list == its JSON text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value))
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{":
            try:
                return _canon(json.loads(text))
            except json.JSONDecodeError:
                pass
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_canon(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_canon(v)}" for k, v in sorted(value.items())) + "}"
    return json.dumps(str(value))


def _cell_value(value: Any) -> Any:
    """How a grid value is stored in the results: lists and mappings as JSON text."""
    return json.dumps(value) if isinstance(value, (list, tuple, dict)) else value


@dataclass(frozen=True)
class SweepSpec:
    """A grid over ``params`` (every combination), for every policy, with seeds ``seed .. seed + seeds - 1``."""

    base: EnvironmentConfig
    params: tuple[Param, ...]
    policies: tuple[str, ...] = ("skill_load",)
    seeds: int = 10
    seed: int = 0
    scenario: str = "custom"
    """Label of the base scenario, written in every row's ``scenario`` column (not part of the resume check)."""
    configs: tuple[EnvironmentConfig, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from rl_environments.ticket_routing.policies import make_policy

        params = tuple(self.params)
        if not params:
            raise SweepError("grid: empty; give at least one field to vary, e.g. --param num_agents=8:16:2")
        base_data = self.base.to_dict()
        names = [p.name for p in params]
        for p in params:
            check_field(base_data, p.name)
            if not p.values:
                raise SweepError(f"{p.name}: no values (empty grid)")
            if len({_canon(v) for v in p.values}) != len(p.values):
                raise SweepError(f"{p.name}: a value is repeated in {list(p.values)!r}")
        if len(set(names)) != len(names):
            raise SweepError(f"grid: field {next(n for n in names if names.count(n) > 1)!r} is given twice")
        policies = tuple(self.policies)
        if not policies:
            raise SweepError("policies: expected at least one policy")
        if len(set(policies)) != len(policies):
            raise SweepError(f"policies: {policies!r} repeats a policy")
        for name in policies:
            make_policy(name, self.base)
        for label, value, low in (("seeds", self.seeds, 1), ("seed", self.seed, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SweepError(f"{label}: invalid value {value!r}; must be an integer >= {low}")
        configs = []
        for point in self.points():
            try:
                configs.append(apply_fields(self.base, dict(zip(names, point, strict=True))))
            except ValueError as exc:
                raise SweepError(f"grid point {self.describe_point(point)}: {exc}") from None
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "policies", policies)
        object.__setattr__(self, "configs", tuple(configs))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def points(self) -> list[tuple[Any, ...]]:
        """Every combination of the values, the last field varying fastest."""
        return list(itertools.product(*(p.values for p in self.params)))

    def describe_point(self, point: Sequence[Any]) -> str:
        return ", ".join(f"{n}={v!r}" for n, v in zip(self.names, point, strict=True))

    @property
    def num_cells(self) -> int:
        return len(self.configs) * len(self.policies) * self.seeds

    def identity(self) -> dict[str, Any]:
        """What the rows of a results file depend on besides the grid values and the policy."""
        return {"base": self.base.to_dict(), "fields": self.names, "seeds": self.seeds, "seed": self.seed}

    def to_json(self) -> str:
        grid = {p.name: list(p.values) for p in self.params}
        return json.dumps({**self.identity(), "grid": grid, "policies": list(self.policies)}, indent=1)


@dataclass(frozen=True)
class SweepResult:
    """The cells of the grid (one row each, in grid order), their summary, and what this run did."""

    spec: SweepSpec
    cells: pd.DataFrame
    summary: pd.DataFrame
    """Per grid point, policy and KPI: mean, ci95_low, ci95_high, std, n (see ``evaluation.summarize``)."""
    ran: int
    """Cells simulated by this call."""
    skipped: int
    """Cells found finished in the results file and not run again."""
    paths: dict[str, Path]


def _keys(frame: pd.DataFrame, names: Sequence[str]) -> list[tuple[str, ...]]:
    cols = [frame[n].tolist() for n in names] + [frame["policy"].tolist()]
    return [tuple(_canon(v) for v in row) for row in zip(*cols, strict=True)]


def _read_results(path: Path, spec: SweepSpec) -> pd.DataFrame:
    """The rows of an existing results file; a torn last line (a crash mid-write) is cut off."""
    empty: pd.DataFrame = pd.DataFrame()
    if not path.exists():
        return empty
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with path.open("r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    if not data.strip():
        path.unlink()
        return empty
    frame = pd.read_csv(path)
    missing = [c for c in (*spec.names, *ROW_IDS) if c not in frame.columns]
    if missing:
        raise SweepError(f"{path}: not a results file of this sweep (missing columns {', '.join(missing)})")
    return frame


def _check_spec(folder: Path, spec: SweepSpec) -> None:
    path = folder / SPEC
    if not path.exists():
        if (folder / RESULTS).exists():
            raise SweepError(f"{folder / RESULTS}: exists without {SPEC}; use another folder or overwrite")
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SweepError(f"{path}: unreadable ({exc}); use another folder or overwrite") from None
    new = json.loads(json.dumps(spec.identity()))
    for key in ("fields", "seeds", "seed", "base"):
        if old.get(key) != new[key]:
            what = "the base configuration" if key == "base" else f"{key} {old.get(key)!r} (now {new[key]!r})"
            raise SweepError(
                f"{folder}: holds results of another sweep ({what} differs); to resume, keep it the same; "
                "otherwise use another output folder or overwrite"
            )


def _write_rows(path: Path, rows: pd.DataFrame) -> None:
    """Append ``rows`` (a header first if the file is new) in one write, flushed to disk."""
    new = not path.exists()
    if not new:
        header = pd.read_csv(path, nrows=0).columns.tolist()
        extra = [c for c in rows.columns if c not in header]
        if extra:  # new KPI columns: rewrite the file with the union of columns
            _replace(path, pd.concat([pd.read_csv(path), rows], ignore_index=True))
            return
        rows = rows.reindex(columns=header)
    buffer = io.StringIO()
    rows.to_csv(buffer, header=new, index=False)
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())


def _replace(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)


def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path,
    *,
    backend: Backend | None = None,
    overwrite: bool = False,
    progress: bool = False,
    on_task_done: Callable[[int], None] | None = None,
) -> SweepResult:
    """Run every cell of ``spec`` not already in ``out_dir/results.csv``; return all cells of the grid.

    ``on_task_done(cells_done)`` is called after each task's rows are on disk.
    """
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"out_dir: cannot create {str(folder)!r}: {exc.strerror or exc}") from None
    results = folder / RESULTS
    if overwrite:
        for name in (RESULTS, SPEC, SUMMARY):
            (folder / name).unlink(missing_ok=True)
    _check_spec(folder, spec)
    (folder / SPEC).write_text(spec.to_json(), encoding="utf-8")
    names = spec.names
    existing = _read_results(results, spec)
    done: set[tuple[str, ...]] = set()
    if len(existing):
        keys = _keys(existing, names)
        episodes = existing["episode"].tolist()
        seen: dict[tuple[str, ...], set[int]] = {}
        for key, episode in zip(keys, episodes, strict=True):
            seen.setdefault(key, set()).add(int(episode))
        done = {k for k, eps in seen.items() if eps >= set(range(spec.seeds))}
        partial = [k not in done for k in keys]
        if any(partial):  # a task cut short: drop its rows, it runs again whole
            _replace(results, existing.loc[[not p for p in partial]])
    pending: list[tuple[tuple[Any, ...], str, Task]] = []
    skipped = 0
    for point, config in zip(spec.points(), spec.configs, strict=True):
        canon = tuple(_canon(v) for v in point)
        for policy in spec.policies:
            if (*canon, _canon(policy)) in done:
                skipped += spec.seeds
            else:
                task = Task(config.to_dict(), policy, spec.seeds, spec.seed, spec.scenario)
                pending.append((point, policy, task))
    runner = backend if backend is not None else SerialBackend()
    ran = 0
    bar = _Bar(progress, spec.num_cells, skipped)
    try:
        for index, rows in runner.run([task for _, _, task in pending]):
            point = pending[index][0]
            frame = pd.DataFrame(rows)
            for k, name in enumerate(names):
                frame.insert(k, name, [_cell_value(point[k])] * len(frame))
            _write_rows(results, frame)
            ran += len(frame)
            bar.advance(len(frame))
            if on_task_done is not None:
                on_task_done(ran)
    finally:
        bar.close()
    everything = _read_results(results, spec)
    cells = _ordered(everything, spec)
    if len(cells) != spec.num_cells:
        raise SweepError(f"{results}: expected {spec.num_cells} cells of this grid, found {len(cells)}")
    ours = set(_keys(cells, names))
    others = everything.loc[[k not in ours for k in _keys(everything, names)]]
    _replace(results, pd.concat([cells, others], ignore_index=True))
    summary = summarize_cells(cells, names)
    summary.to_csv(folder / SUMMARY, index=False)
    paths = {"results": results, "spec": folder / SPEC, "summary": folder / SUMMARY}
    return SweepResult(spec, cells, summary, ran, skipped, paths)


def _ordered(frame: pd.DataFrame, spec: SweepSpec) -> pd.DataFrame:
    """The rows of ``spec``'s grid in grid order (points, then policies, then episodes)."""
    if not len(frame):
        return frame
    order: dict[tuple[str, ...], int] = {}
    for point in spec.points():
        for policy in spec.policies:
            key = (*[_canon(v) for v in point], _canon(policy))
            order[key] = len(order)
    rank = [order.get(k, -1) for k in _keys(frame, spec.names)]
    picked = frame.assign(_rank=rank)
    picked = picked[picked["_rank"] >= 0].sort_values(["_rank", "episode"], kind="stable")
    out: pd.DataFrame = picked.drop(columns="_rank").reset_index(drop=True)
    return out


def summarize_cells(cells: pd.DataFrame, names: Sequence[str], kpis: Iterable[str] | None = None) -> pd.DataFrame:
    """Per grid point and policy: each KPI's mean with its 95% CI over seeds (``evaluation.summarize``)."""
    from rl_environments.ticket_routing.evaluation import summarize

    skip = {*names, *ROW_IDS}
    chosen = list(kpis) if kpis is not None else [
        c for c in cells.columns if c not in skip and pd.api.types.is_numeric_dtype(cells[c])
    ]  # fmt: skip
    frames = []
    for point, group in cells.groupby(list(names), sort=False, dropna=False):
        values = point if isinstance(point, tuple) else (point,)
        tidy = summarize(group, chosen)
        for k, name in enumerate(names):
            tidy.insert(k, name, [values[k]] * len(tidy))
        frames.append(tidy)
    out: pd.DataFrame = pd.concat(frames, ignore_index=True)
    return out


class _Bar:
    """A rich progress bar over cells (finished cells from earlier runs are counted as done)."""

    def __init__(self, enabled: bool, total: int, done: int) -> None:
        self._progress: Any = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("cells"), TimeRemainingColumn()
            )
            self._progress.start()
            self._task = self._progress.add_task("sweep", total=total, completed=done)

    def advance(self, count: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, count)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
