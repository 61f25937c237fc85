"""``benchmarks/bench_revision.py``: the earlier revision is extracted under its own package name."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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
