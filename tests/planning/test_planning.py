"""Staffing plans and what-if sweeps: Erlang C, the team-size search, grids, resuming, backends, the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.cli import main
from rl_environments.ticket_routing.evaluation import evaluate, summarize
from rl_environments.ticket_routing.planning.erlang import (
    _cumulative_on_shift,
    erlang_agents,
    erlang_c,
    erlang_estimate,
    halfin_whitt_beta,
    hourly_needs,
    mean_work_hours,
    on_shift,
    service_level,
)
from rl_environments.ticket_routing.planning.staffing import (
    Targets,
    TargetUnreachableError,
    assess,
    plan_staffing,
)

# The default scenario with short episodes: about a week of tickets, fast enough for many team sizes.
SHORT = EnvironmentConfig(episode_length=300)
EVERY_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


# ----------------------------------------------------------------------------- Erlang C
def test_erlang_c_matches_textbook_values() -> None:
    # 10 agents, 8 Erlangs: P(wait) = 0.409 (e.g. Koole, Call Center Optimization, table of Erlang C).
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=1e-4)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(5, 5.0) == 1.0  # unstable
    assert erlang_c(3, 0.0) == 0.0


def test_halfin_whitt_beta_solves_its_equation() -> None:
    for alpha in (0.05, 0.2, 0.5, 0.9):
        beta = halfin_whitt_beta(alpha)
        phi = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
        cdf = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
        assert 1 / (1 + beta * cdf / phi) == pytest.approx(alpha, abs=1e-9)
    assert halfin_whitt_beta(1.0) == 0.0
    assert halfin_whitt_beta(0.0) == 6.0
    with pytest.raises(ValueError, match="wait_probability"):
        halfin_whitt_beta(1.5)


def test_erlang_staffing_grows_with_load_and_target() -> None:
    windows, mix = np.array([1.0]), np.array([1.0])
    assert erlang_agents(0.0, 1.0, windows, mix, 0.9) == 0
    n80 = erlang_agents(8.0, 1.0, windows, mix, 0.8)
    n95 = erlang_agents(8.0, 1.0, windows, mix, 0.95)
    assert 8 < n80 <= n95 < erlang_agents(16.0, 1.0, windows, mix, 0.95)
    assert service_level(n95, 8.0, 1.0, windows, mix) >= 0.95 > service_level(n95 - 1, 8.0, 1.0, windows, mix)


def test_mean_work_hours_by_hand() -> None:
    # Every agent a perfect expert: AHT is the mix-weighted base effort.
    experts = EnvironmentConfig(num_agents=2, agents={"expertise": [[1.0] * 5, [1.0] * 5]})
    mix = np.asarray(experts.arrivals.type_mix)
    assert mean_work_hours(experts) == pytest.approx(float(mix @ np.asarray(experts.service.base_effort_hours)))
    # Expertise 0 everywhere: four times as long (min_speed 0.25).
    novices = experts.replace(agents={"expertise": [[0.0] * 5, [0.0] * 5]})
    assert mean_work_hours(novices) == pytest.approx(4 * mean_work_hours(experts))


def test_erlang_estimate_for_an_always_open_team() -> None:
    # Flat arrivals and 24/7 shifts: every hour is covered, so λ is the plain hourly rate.
    cfg = EnvironmentConfig(
        arrivals={"rate_per_day": 48.0, "weekly_profile": None},
        agents={"shift_hours": 24, "shift_start_hour": 0, "work_days": EVERY_DAY},
    )
    est = erlang_estimate(cfg, 90.0)
    assert est.arrivals_per_hour == pytest.approx(2.0)
    assert est.offered_load == pytest.approx(2.0 * mean_work_hours(cfg))
    assert est.off_shift_share == 0.0
    assert est.team_erlang_c == est.on_shift_erlang_c > est.offered_load
    assert est.team_sqrt >= est.team_erlang_c
    assert set(on_shift(cfg, 5)) == {5}
    assert len(hourly_needs(cfg, 90.0)) == 168
    with pytest.raises(ValueError, match="sla target"):
        erlang_estimate(cfg, 101.0)


def test_office_hours_team_counts_off_shift_arrivals() -> None:
    est = erlang_estimate(EnvironmentConfig(), 90.0)
    # 09:00-17:00 weekdays (shift 08-17) leave about 30% of the default arrivals off shift.
    assert 0.2 < est.off_shift_share < 0.4
    needs = hourly_needs(EnvironmentConfig(), 90.0).reshape(7, 24)
    assert needs[0, 10] > needs[0, 3] >= 1  # Monday 10:00 busier than 03:00
    assert needs[5].max() < needs[0].max()  # Saturday quieter than Monday


# ----------------------------------------------------------------------------- targets
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sla_pct": 120.0}, "sla_pct"),
        ({"csat_pct": -1.0}, "csat_pct"),
        ({"p90_hours": 0.0}, "p90_hours"),
        ({"sla_pct": True}, "sla_pct"),
        ({}, "none given"),
    ],
)
def test_bad_targets_are_named(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Targets(**kwargs)


def test_assess_uses_the_interval_ends() -> None:
    targets = Targets(sla_pct=90.0, p90_hours=48.0)
    ok = {"sla_compliance_pct": (93.0, 90.0, 96.0), "p90_resolution_hours": (40.0, 30.0, 47.9)}
    assert assess(targets, ok) == (True, 0.0)
    low_sla = {**ok, "sla_compliance_pct": (93.0, 89.0, 97.0)}  # the mean meets, the lower end does not
    assert assess(targets, low_sla)[0] is False
    slow = {**ok, "p90_resolution_hours": (40.0, 30.0, 48.0)}  # the upper end must be strictly below
    assert assess(targets, slow)[0] is False
    unknown = {**ok, "sla_compliance_pct": (math.nan, math.nan, math.nan)}
    assert assess(targets, unknown) == (False, math.inf)


# ----------------------------------------------------------------------------- the team-size search
def _meets_by_scan(config: EnvironmentConfig, targets: Targets, sizes: range, episodes: int) -> dict[int, bool]:
    out = {}
    for n in sizes:
        frame = evaluate("skill_load", config.replace(num_agents=n), episodes, 0)
        tidy = summarize(frame, ["sla_compliance_pct", "csat_pct", "p90_resolution_hours"]).set_index("kpi")
        kpis = {k: (r["mean"], r["ci95_low"], r["ci95_high"]) for k, r in tidy.iterrows()}
        out[n] = assess(targets, kpis)[0]
    return out


def test_plan_finds_the_smallest_team_a_full_scan_finds() -> None:
    targets = Targets(sla_pct=85.0, csat_pct=85.0)
    result = plan_staffing(SHORT, "skill_load", targets, episodes=4, seed=0, max_agents=20)
    scan = _meets_by_scan(SHORT, targets, range(1, 21), 4)
    assert result.answer is not None
    assert result.answer.num_agents == min(n for n, ok in scan.items() if ok)
    assert all(run.meets == scan[run.num_agents] for run in result.runs)
    assert len(result.runs) < 8  # a search, not a scan of all 20 sizes
    assert result.episodes_run == 4 * len(result.runs)
    # The answer's neighbour below was tried and failed: the answer is proven within the range.
    assert any(r.num_agents == result.answer.num_agents - 1 and not r.meets for r in result.runs)
    # Several sizes per round: same answer.
    wide = plan_staffing(SHORT, "skill_load", targets, episodes=4, seed=0, max_agents=20, probes=3)
    assert wide.answer is not None and wide.answer.num_agents == result.answer.num_agents
    table = result.runs_table()
    assert list(table["num_agents"]) == sorted(r.num_agents for r in result.runs)
    assert {"sla_compliance_pct_ci95_low", "csat_pct_ci95_high", "meets", "round"} <= set(table.columns)
    sentence = result.explanation()
    assert sentence.count(".") <= 3 and sentence.startswith("Erlang C") and "skill_load" in sentence


def test_unreachable_targets_name_the_best_found() -> None:
    with pytest.raises(
        TargetUnreachableError, match=r"not met by any team of 2-5 agents.*best found: 5 agents"
    ) as info:
        plan_staffing(SHORT, "skill_load", Targets(sla_pct=99.9), episodes=3, min_agents=2, max_agents=5)
    result = info.value.result
    assert result.answer is None
    assert result.best.num_agents == 5
    assert 5 in {r.num_agents for r in result.runs}


def test_plan_rejects_bad_arguments() -> None:
    targets = Targets(sla_pct=80.0)
    with pytest.raises(ValueError, match="policy"):
        plan_staffing(SHORT, "no_such_rule", targets)
    with pytest.raises(ValueError, match="episodes"):
        plan_staffing(SHORT, "skill_load", targets, episodes=1)
    with pytest.raises(ValueError, match="max_agents"):
        plan_staffing(SHORT, "skill_load", targets, min_agents=5, max_agents=4)
    with pytest.raises(ValueError, match="probes"):
        plan_staffing(SHORT, "skill_load", targets, probes=0)


def test_plan_drops_a_fixed_expertise_matrix_and_says_so() -> None:
    fixed = SHORT.replace(num_agents=2, agents={"expertise": [[0.9] * 5, [0.9] * 5]})
    result = plan_staffing(fixed, "skill_load", Targets(csat_pct=50.0), episodes=3, min_agents=9, max_agents=10)
    assert result.answer is not None
    assert any("expertise" in note for note in result.notes)


# ----------------------------------------------------------------------------- the plan command
def test_plan_command_prints_answer_runs_and_erlang(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(
        ["plan", "--episode-length", "300", "--episodes", "4", "--sla", "85", "--csat", "85", "--p90-hours", "200",
         "--max-agents", "20", "--per-hour", "--out", str(tmp_path)]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Answer: " in out and " agents" in out
    assert "Erlang C:" in out and "square-root staffing" in out and "simulation:" in out
    assert "Runs: " in out and "episodes in" in out
    assert "Agents needed on shift (Erlang C" in out and "Agents on shift with" in out
    runs = pd.read_csv(tmp_path / "plan_runs.csv")
    assert runs["meets"].any()
    hourly = pd.read_csv(tmp_path / "hourly_needs.csv")
    assert len(hourly) == 168 and {"erlang_c_needed", "on_shift"} <= set(hourly.columns)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--sla", "120"], ["--sla", "120", "[0, 100]"]),
        (["--csat", "-5"], ["--csat"]),
        (["--p90-hours", "0"], ["--p90-hours"]),
        ([], ["no target given"]),
        (["--sla", "80", "--policy", "nope"], ["nope"]),
        (["--sla", "80", "--workers", "0"], ["--workers"]),
        (["--sla", "80", "--ray-address", "not an address"], ["ray address"]),
    ],
)
def test_plan_command_names_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]) -> None:
    code = main(["plan", "--episode-length", "50", "--episodes", "2", *argv])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("ticket-routing: error:") and "Traceback" not in err
    for word in words:
        assert word in err


def test_plan_command_unreachable_shows_best(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "plan",
            "--episode-length",
            "300",
            "--episodes",
            "3",
            "--sla",
            "99.9",
            "--min-agents",
            "2",
            "--max-agents",
            "4",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert "No team of 2-4 agents meets the targets; closest: 4 agents" in out
    assert "best found: 4 agents" in err


@pytest.mark.parametrize("command", ["plan", "sweep"])
def test_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    assert main([command, "--help"]) == 0
    out, _ = capsys.readouterr()
    assert f"usage: ticket-routing {command}" in out and "--ray-address" in out and "--workers" in out


def test_staggered_shifts_head_count() -> None:
    # Follow-the-sun: agent i starts 8 h after agent i - 1, so three agents cover the whole day.
    cfg = EnvironmentConfig(agents={"shift_hours": 8, "shift_stagger_hours": 8, "work_days": EVERY_DAY})
    cumulative = _cumulative_on_shift(cfg)
    for team in (1, 2, 3, 7):
        assert list(cumulative[team - 1]) == list(on_shift(cfg, team))
    assert set(on_shift(cfg, 3)) == {1}
    est = erlang_estimate(cfg, 90.0)
    # Every hour covered by a team of three or more: λ is the plain weekly mean rate.
    assert est.arrivals_per_hour == pytest.approx(cfg.arrivals.rate_per_day / 24.0)
    assert est.off_shift_share == 0.0
    assert est.team_erlang_c >= 3 * est.on_shift_erlang_c - 2
