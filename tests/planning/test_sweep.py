"""What-if sweeps: grids over config fields, resuming, the results file, backends, the sweep command, charts."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.evaluation import evaluate
from rl_environments.ticket_routing.planning.backends import (
    BackendError,
    ProcessBackend,
    RayBackend,
    SerialBackend,
    make_backend,
)
from rl_environments.ticket_routing.planning.plots import plot_heatmap, plot_lines, plot_sweep
from rl_environments.ticket_routing.planning.staffing import Targets, plan_staffing
from rl_environments.ticket_routing.planning.sweep import (
    Param,
    SweepError,
    SweepResult,
    SweepSpec,
    _canon,
    _write_rows,
    parse_param,
    run_sweep,
)
from rl_environments.ticket_routing.planning.tasks import apply_fields

# ----------------------------------------------------------------------------- sweep grids
TINY = EnvironmentConfig(episode_length=80)


def _spec(**overrides: object) -> SweepSpec:
    kwargs: dict[str, object] = {
        "base": TINY,
        "params": (Param("num_agents", (6, 9)), Param("arrivals.rate_per_day", (30.0, 45.0))),
        "policies": ("skill_load", "least_loaded"),
        "seeds": 3,
        "seed": 7,
    }
    kwargs.update(overrides)
    return SweepSpec(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("num_agents=8:14:2", (8, 10, 12, 14)),
        ("num_agents=8:9", (8, 9)),
        ("arrivals.rate_per_day=30:31:0.5", (30.0, 30.5, 31.0)),
        ("arrivals.rate_per_day=30, 42.5,60", (30, 42.5, 60)),
        ("service.distribution=exponential,lognormal", ("exponential", "lognormal")),
        ("agents.work_days=[[monday], [monday, tuesday]]", (["monday"], ["monday", "tuesday"])),
        ("arrivals.weekly_profile=null", (None,)),
    ],
)
def test_param_values_parse(text: str, values: tuple[object, ...]) -> None:
    param = parse_param(text)
    assert param.name == text.split("=")[0]
    assert param.values == values


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("num_agents=", "empty grid"),
        ("num_agents=20:10", "is empty"),
        ("num_agents=1:10:0", "step must be > 0"),
        ("num_agents", "expected FIELD=VALUES"),
        ("=1,2", "expected FIELD=VALUES"),
    ],
)
def test_bad_param_text_is_named(text: str, words: str) -> None:
    with pytest.raises(SweepError, match=words):
        parse_param(text)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"params": ()}, "grid: empty"),
        (
            {"params": (Param("arrivals.rate", (1.0,)),)},
            r"arrivals\.rate: unknown field; allowed keys at arrivals: rate_per_day",
        ),
        ({"params": (Param("num_agents.x", (1,)),)}, "num_agents is a value, not a section"),
        ({"params": (Param("nmu_agents", (1,)),)}, "nmu_agents: unknown field"),
        ({"params": (Param("num_agents", (0, 4)),)}, r"grid point num_agents=0: num_agents: invalid value 0"),
        ({"params": (Param("num_agents", (4, 4)),)}, "repeated"),
        ({"params": (Param("num_agents", (4,)), Param("num_agents", (5,)))}, "given twice"),
        ({"params": (Param("num_agents", ()),)}, "no values"),
        ({"policies": ()}, "at least one policy"),
        ({"policies": ("nope",)}, "nope"),
        ({"seeds": 0}, "seeds"),
    ],
)
def test_bad_sweeps_are_named(overrides: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        _spec(**overrides)


def test_apply_fields_reaches_into_mappings() -> None:
    cfg = apply_fields(TINY, {"sla.resolution_hours.critical": 4.0, "agents.shift_hours": 10})
    assert cfg.sla.resolution_hours[0] == 4.0
    assert cfg.agents.shift_hours == 10
    assert cfg.sla.resolution_hours[1:] == TINY.sla.resolution_hours[1:]


@pytest.fixture(scope="module")
def serial_sweep(tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    return run_sweep(_spec(), tmp_path_factory.mktemp("serial"), progress=True)


def test_sweep_writes_tidy_cells_in_grid_order(serial_sweep: SweepResult) -> None:
    cells = serial_sweep.cells
    spec = serial_sweep.spec
    assert serial_sweep.ran == len(cells) == spec.num_cells == 2 * 2 * 2 * 3
    assert serial_sweep.skipped == 0
    assert list(cells.columns[:2]) == ["num_agents", "arrivals.rate_per_day"]  # the grid fields first
    assert set(cells.columns[2:6]) == {"policy", "scenario", "episode", "seed"}  # then evaluate()'s own columns
    assert set(cells["scenario"]) == {"custom"}
    assert list(cells["seed"][:3]) == [7, 8, 9]
    assert list(dict.fromkeys(zip(cells["num_agents"], cells["arrivals.rate_per_day"], strict=True))) == [
        (6, 30.0), (6, 45.0), (9, 30.0), (9, 45.0)
    ]  # fmt: skip
    # Each group of cells is exactly what evaluate() (ticket-routing compare) gives for that point.
    direct = evaluate("least_loaded", apply_fields(TINY, {"num_agents": 9, "arrivals.rate_per_day": 45.0}), 3, 7)
    group = cells[(cells["num_agents"] == 9) & (cells["arrivals.rate_per_day"] == 45.0)]
    group = group[group["policy"] == "least_loaded"].drop(columns=["num_agents", "arrivals.rate_per_day"])
    pd.testing.assert_frame_equal(group.reset_index(drop=True), direct)
    on_disk = pd.read_csv(serial_sweep.paths["results"])
    pd.testing.assert_frame_equal(on_disk, cells)
    summary = serial_sweep.summary
    assert set(summary.columns) >= {"num_agents", "arrivals.rate_per_day", "policy", "kpi", "mean", "ci95_low"}
    assert (summary[summary["kpi"] == "csat_pct"]["n"] <= 3).all()


def test_an_interrupted_sweep_resumes_without_losing_cells(serial_sweep: SweepResult, tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    def stop_after_two_tasks(cells_done: int) -> None:
        if cells_done >= 2 * 3:
            raise Stop

    with pytest.raises(Stop):
        run_sweep(_spec(), tmp_path, on_task_done=stop_after_two_tasks)
    kept = pd.read_csv(tmp_path / "results.csv")
    assert len(kept) == 6  # both finished tasks are on disk
    resumed = run_sweep(_spec(), tmp_path)
    assert resumed.skipped == 6
    assert resumed.ran == serial_sweep.spec.num_cells - 6
    pd.testing.assert_frame_equal(resumed.cells, serial_sweep.cells)
    assert run_sweep(_spec(), tmp_path).ran == 0  # nothing left to run


def test_a_torn_results_file_is_repaired_on_resume(serial_sweep: SweepResult, tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    run_sweep(_spec(), tmp_path)
    lines = results.read_text().splitlines(keepends=True)
    # A crash in the middle of writing: one task's last row lost, and half a line at the end.
    results.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    resumed = run_sweep(_spec(), tmp_path)
    assert resumed.ran == 3  # only the torn task (three seeds) runs again
    pd.testing.assert_frame_equal(resumed.cells, serial_sweep.cells)


def test_a_grown_grid_runs_only_new_cells(serial_sweep: SweepResult, tmp_path: Path) -> None:
    small = _spec(params=(Param("num_agents", (6,)), Param("arrivals.rate_per_day", (30.0, 45.0))))
    run_sweep(small, tmp_path)
    grown = run_sweep(_spec(), tmp_path)
    assert grown.skipped == small.num_cells
    assert grown.ran == serial_sweep.spec.num_cells - small.num_cells
    pd.testing.assert_frame_equal(grown.cells, serial_sweep.cells)


def test_a_folder_of_another_sweep_is_refused(tmp_path: Path) -> None:
    one = _spec(params=(Param("num_agents", (6,)),), policies=("skill_load",), seeds=2)
    run_sweep(one, tmp_path)
    other = _spec(params=(Param("num_agents", (6,)),), policies=("skill_load",), seeds=3)
    with pytest.raises(SweepError, match=r"another sweep \(seeds 2 \(now 3\) differs\)"):
        run_sweep(other, tmp_path)
    assert run_sweep(other, tmp_path, overwrite=True).ran == 3


# ----------------------------------------------------------------------------- backends
def test_local_worker_processes_give_identical_results(
    serial_sweep: SweepResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A __main__ script that must not run again in the workers (as a Streamlit page or AppTest leaves it).
    script = tmp_path / "main_script.py"
    script.write_text("raise SystemExit('the parent script ran in a worker')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    backend = ProcessBackend(2)
    try:
        parallel = run_sweep(_spec(), tmp_path, backend=backend)
    finally:
        backend.close()
    pd.testing.assert_frame_equal(parallel.cells, serial_sweep.cells)
    pd.testing.assert_frame_equal(parallel.summary, serial_sweep.summary)
    assert sys.modules["__main__"] is main  # put back after the workers started
    assert (tmp_path / "results.csv").read_bytes() == serial_sweep.paths["results"].read_bytes()


def test_ray_gives_identical_results(serial_sweep: SweepResult, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    backend = RayBackend("local", num_cpus=1)
    try:
        assert backend.name.startswith("Ray (local")
        on_ray = run_sweep(_spec(), tmp_path, backend=backend)
        plan = plan_staffing(TINY, "skill_load", Targets(csat_pct=80.0), episodes=2, max_agents=6, backend=backend)
    finally:
        backend.close()
    pd.testing.assert_frame_equal(on_ray.cells, serial_sweep.cells)
    serial_plan = plan_staffing(TINY, "skill_load", Targets(csat_pct=80.0), episodes=2, max_agents=6)
    assert plan.runs == serial_plan.runs


def test_backend_choices_are_checked() -> None:
    assert isinstance(make_backend(1), SerialBackend)
    with pytest.raises(BackendError, match="workers"):
        make_backend(0)
    with pytest.raises(BackendError, match="not both"):
        make_backend(2, "auto")
    with pytest.raises(BackendError, match="invalid value 'http://x'"):
        RayBackend("http://x")
    with pytest.raises(BackendError, match="workers"):
        ProcessBackend(0)


def test_the_package_does_not_import_ray() -> None:
    code = (
        "import sys, rl_environments.ticket_routing.planning, rl_environments.ticket_routing.cli;"
        "assert 'ray' not in sys.modules, 'ray imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


# ----------------------------------------------------------------------------- the sweep command and charts
def test_sweep_command_writes_results_and_charts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ["sweep", "--episode-length", "80", "--param", "num_agents=6,9", "--param", "arrivals.rate_per_day=30,45",
            "--seeds", "2", "--out", str(tmp_path), "--format", "parquet", "--kpi", "csat_pct"]  # fmt: skip
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "4 grid points x 1 policies x 2 seeds = 8 cells" in out and "ran 8 cells" in out
    for name in ("results.csv", "results.parquet", "summary.csv", "sweep.json", "lines_csat_pct.png",
                 "heatmap_csat_pct.png"):  # fmt: skip
        assert (tmp_path / name).stat().st_size > 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "results.parquet"), pd.read_csv(tmp_path / "results.csv"))
    assert set(pd.read_csv(tmp_path / "results.csv")["scenario"]) == {"default"}
    code = main(argv)
    out, _ = capsys.readouterr()
    assert code == 0 and "resumed: 8 finished cells" in out and "ran 0 cells" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], ["--param", "grid is empty"]),
        (["--param", "num_agents="], ["num_agents", "empty grid"]),
        (["--param", "agents.shift_length=8,9"], ["agents.shift_length: unknown field", "shift_hours"]),
        (["--param", "num_agents=4", "--x", "seed"], ["--x"]),
        (["--param", "num_agents=4", "--kpi", "speed"], ["--kpi", "speed"]),
        (["--param", "num_agents=4", "--policies", "nope"], ["nope"]),
        (["--param", "num_agents=0,4"], ["num_agents: invalid value 0"]),
    ],
)
def test_sweep_command_names_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], words: list[str]
) -> None:
    code = main(["sweep", "--episode-length", "20", "--seeds", "2", "--out", str(tmp_path), *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("ticket-routing: error:") and "Traceback" not in err
    for word in words:
        assert word in err


def test_charts_need_known_kpis_and_fields(serial_sweep: SweepResult, tmp_path: Path) -> None:
    names = serial_sweep.spec.names
    paths = plot_sweep(serial_sweep.summary, names, "sla_compliance_pct", tmp_path, x="arrivals.rate_per_day")
    assert set(paths) == {"lines", "heatmap"} and all(p.stat().st_size > 0 for p in paths.values())
    with pytest.raises(ValueError, match="unknown KPI"):
        plot_lines(serial_sweep.summary, names, "speed", tmp_path / "x.png")
    with pytest.raises(ValueError, match="at least two fields"):
        plot_heatmap(serial_sweep.summary, names[:1], "csat_pct", tmp_path / "x.png")
    with pytest.raises(ValueError, match="not a field"):
        plot_lines(serial_sweep.summary, names, "csat_pct", tmp_path / "x.png", x="seed")


# ----------------------------------------------------------------------------- the results file
def test_canonical_keys_survive_the_csv_round_trip() -> None:
    assert _canon(8) == _canon(8.0) == _canon(pd.Series([8.0])[0]) != _canon(8.5)
    assert _canon(None) == _canon(math.nan) == "null"
    assert _canon(True) == "true" != _canon(1)
    assert _canon(["monday", "tuesday"]) == _canon('["monday", "tuesday"]')
    assert _canon({"b": 1, "a": 2}) == _canon('{"a": 2, "b": 1}')
    assert _canon("[not json") == json.dumps("[not json")


def test_odd_values_are_named(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="at most 100000"):
        parse_param("arrivals.rate_per_day=1:1000:0.001")
    with pytest.raises(SweepError, match="not valid YAML"):
        parse_param("agents.work_days=[[monday")
    with pytest.raises(SweepError, match="repeats a policy"):
        _spec(policies=("skill_load", "skill_load"))


def test_foreign_files_in_the_folder_are_refused(tmp_path: Path) -> None:
    one = _spec(params=(Param("num_agents", (6,)),), policies=("skill_load",), seeds=2)
    (tmp_path / "results.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SweepError, match=r"exists without sweep\.json"):
        run_sweep(one, tmp_path)
    (tmp_path / "sweep.json").write_text("{not json")
    with pytest.raises(SweepError, match="unreadable"):
        run_sweep(one, tmp_path)
    (tmp_path / "sweep.json").write_text(one.to_json())
    with pytest.raises(SweepError, match="not a results file of this sweep"):
        run_sweep(one, tmp_path)
    (tmp_path / "results.csv").write_text("")  # an empty file is started afresh
    assert run_sweep(one, tmp_path).ran == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SweepError, match="cannot create"):
        run_sweep(one, blocker / "sub")


def test_new_kpi_columns_widen_the_file(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    _write_rows(path, pd.DataFrame({"num_agents": [6], "policy": ["x"], "csat_pct": [90.0]}))
    _write_rows(path, pd.DataFrame({"num_agents": [7], "policy": ["x"], "csat_pct": [91.0], "new_kpi": [1.5]}))
    _write_rows(path, pd.DataFrame({"num_agents": [8], "policy": ["x"], "csat_pct": [92.0], "new_kpi": [2.5]}))
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["num_agents", "policy", "csat_pct", "new_kpi"]
    assert list(frame["num_agents"]) == [6, 7, 8]
    assert math.isnan(frame["new_kpi"][0]) and list(frame["new_kpi"][1:]) == [1.5, 2.5]
