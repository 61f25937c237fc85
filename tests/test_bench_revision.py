"""``benchmarks/bench_revision.py``: the earlier revision is extracted under its own package name."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_revision", ROOT / "benchmarks" / "bench_revision.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_extract_renames_the_package_and_every_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _load()
    bench.extract("HEAD", tmp_path)
    copy = tmp_path / bench.OTHER
    assert (copy / "ticket_routing" / "core" / "kernels.py").exists()
    assert not (tmp_path / bench.PACKAGE).exists()
    for path in copy.rglob("*.py"):
        assert "rl_environments." not in path.read_text(encoding="utf-8").replace(bench.OTHER, ""), path
    monkeypatch.syspath_prepend(str(tmp_path))
    config = importlib.import_module(f"{bench.OTHER}.ticket_routing.core.config")
    ours = importlib.import_module("rl_environments.ticket_routing.core.config")
    assert config.EnvironmentConfig is not ours.EnvironmentConfig
    assert config.EnvironmentConfig().num_agents == ours.EnvironmentConfig().num_agents
    for name in [m for m in sys.modules if m.startswith(bench.OTHER)]:
        del sys.modules[name]


def test_extract_names_an_unknown_revision(tmp_path: Path) -> None:
    bench = _load()
    with pytest.raises(ValueError, match="rev: invalid value 'no-such-revision-0123'"):
        bench.extract("no-such-revision-0123", tmp_path)


@pytest.mark.parametrize("whole_step", [False, True])
def test_every_round_steps_from_the_same_snapshot(whole_step: bool) -> None:
    """Each timed round restores the snapshot first, so both versions (and all rounds) step the
    same states; with ``whole_step`` the vector env's ``step()`` is what is called."""
    bench = _load()
    run = bench.simulation(bench.PACKAGE, 3, 5, whole_step)
    step, sim, arrays, snapshot = run
    assert (getattr(step, "__self__", None) is sim) is not whole_step
    assert bench.time_per_env_step(run, 4) > 0.0
    after_first = [a.copy() for a in arrays]
    assert any(not np.array_equal(a, s) for a, s in zip(after_first, snapshot, strict=True))
    bench.time_per_env_step(run, 4)
    for array, first in zip(arrays, after_first, strict=True):
        np.testing.assert_array_equal(array, first)
