"""Regression tests for defects found by an audit of the dynamics and the KPIs (each from its repro).

Every scenario is deterministic (fixed expertise 1, deterministic service, replayed arrivals), so
the expected numbers are worked out by hand in the docstrings.
"""

from __future__ import annotations

import numpy as np
import pytest

from rl_environments.ticket_routing import ArrivalTrace, EnvironmentConfig, TicketRoutingEnv, TicketRoutingVectorEnv
from rl_environments.ticket_routing.core import params
from rl_environments.ticket_routing.core.config import WEEKDAYS
from rl_environments.ticket_routing.core.kpis import open_tickets
from rl_environments.ticket_routing.core.simulation import SimulationBudgetError
from rl_environments.ticket_routing.core.state import (
    A_ONLINE_HOURS,
    A_UPDATED,
    F_CLOCK,
    I_RESOLVED,
    R_HOURS,
    R_PRIORITY,
)

EFFORT = {"technical": 3.0, "billing": 1.0, "feature_request": 2.0, "bug_report": 2.0, "integration": 20.0}


def config(num_agents: int = 1, *, agents: dict[str, object] | None = None, **overrides: object) -> EnvironmentConfig:
    """Deterministic work at speed 1: technical 3 h, billing 1 h, integration 20 h."""
    base: dict[str, object] = {
        "num_agents": num_agents,
        "episode_length": 10,
        "agents": {
            "shift_hours": 24,
            "work_days": list(WEEKDAYS),
            "expertise": [[1.0] * 5] * num_agents,
            **(agents or {}),
        },
        "service": {"distribution": "deterministic", "base_effort_hours": EFFORT, "switching_overhead": 0.0},
    }
    base.update(overrides)
    return EnvironmentConfig.from_dict(base)


def trace(times: list[float], types: list[str], priorities: list[str]) -> ArrivalTrace:
    return ArrivalTrace.from_records(times, types, priorities)


# --------------------------------------------------------------------------- 1. shift changes at event times
def test_shift_change_at_a_resolution_time_is_applied() -> None:
    """One agent on shift Monday 09-17. A 3 h ticket from 14:00 resolves at exactly 17:00, when the
    shift ends; a ticket arriving at 20:00 must wait for next Monday 09:00 (clock 177)."""
    cfg = config(agents={"shift_start_hour": 9, "shift_hours": 8, "work_days": ["monday"]})
    env = TicketRoutingEnv(cfg, trace=trace([14.0, 20.0], ["technical", "technical"], ["medium", "medium"]))
    env.reset(seed=0)
    assert env.clock_hours == 14.0
    _, _, terminated, _, info = env.step(0)
    assert not terminated
    assert env.clock_hours == 177.0
    assert info["action_mask"].tolist() == [True]
    _, _, terminated, _, _ = env.step(0)
    assert terminated
    assert env.clock_hours == 180.0
    assert env.kpis()["mean_resolution_hours"] == pytest.approx((3.0 + 160.0) / 2)


def test_every_event_at_a_time_comes_before_the_decision_at_that_time() -> None:
    """Agent 0 works 01-09, agent 1 09-17 (Mondays). A 3 h ticket from 06:00 resolves at 09:00 while
    a second one waits (one ticket per agent). At the 09:00 decision agent 0 is already off shift
    and agent 1 on it."""
    cfg = config(
        2,
        max_workload=1,
        agents={"shift_start_hour": 1, "shift_hours": 8, "shift_stagger_hours": 8, "work_days": ["monday"]},
    )
    env = TicketRoutingEnv(cfg, trace=trace([6.0, 7.0], ["technical", "technical"], ["medium", "medium"]))
    _, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [True, False]
    obs, _, _, _, info = env.step(0)
    assert env.clock_hours == 9.0
    assert info["action_mask"].tolist() == [False, True]
    assert obs["agent_availability"].tolist() == [0, 1]


# --------------------------------------------------------------------------- 2. every rejection charged
def test_rejections_during_reset_are_charged_once_in_the_first_step() -> None:
    """Starting on a Saturday with a queue of 3 and nobody on shift until Monday, arrivals are
    rejected during reset(); the episode's rejection component must charge all of them."""
    cfg = EnvironmentConfig(max_queue_size=3, start_hour_of_week=5 * 24, episode_length=60)
    env = TicketRoutingEnv(cfg)
    _, info = env.reset(seed=1)
    rejected_at_reset = env.kpis()["tickets_rejected"]
    assert rejected_at_reset > 0
    total = 0.0
    first = None
    for _ in range(cfg.episode_length):
        _, _, terminated, truncated, info = env.step(int(np.argmax(info["action_mask"])))
        first = info["reward_components"]["rejection"] if first is None else first
        total += info["reward_components"]["rejection"]
        if terminated or truncated:
            break
    assert first is not None and first <= -cfg.reward.rejection * rejected_at_reset
    assert total == pytest.approx(-cfg.reward.rejection * env.kpis()["tickets_rejected"])


def test_vector_auto_reset_charges_rejections_of_the_new_episode() -> None:
    cfg = EnvironmentConfig(max_queue_size=3, start_hour_of_week=5 * 24, episode_length=4)
    n = 3
    env = TicketRoutingVectorEnv(n, cfg)
    _, info = env.reset(seed=7)
    charged = np.zeros(n)
    episodes = 0
    for _ in range(4 * (cfg.episode_length + 1)):
        _, _, terminated, truncated, info = env.step(np.argmax(info["action_mask"], axis=1))
        charged += info["reward_components"]["rejection"]
        ended = terminated | truncated
        if ended.any():
            rejected = info["episode_kpis"]["tickets_rejected"]
            for i in np.flatnonzero(ended):
                assert charged[i] == pytest.approx(-cfg.reward.rejection * rejected[i])
                assert rejected[i] > 0
                charged[i] = 0.0
                episodes += 1
    assert episodes >= 2 * n


# --------------------------------------------------------------------------- 3. KPIs over every ticket
def test_sla_counts_rejected_and_overdue_open_tickets_as_misses() -> None:
    """Critical tickets (SLA 8 h), one agent taking one ticket at a time, a queue of one.

    A billing 0.0 -> assigned at 0, resolved at 1.0 (met). B integration 0.2 -> waits, assigned at
    1.0, resolved at 21.0 (20.8 h: missed). C billing 0.4 -> rejected (queue full). D billing 10.0
    -> still waiting at 21.0 when the episode truncates, 11 h old: past its target.
    SLA over known outcomes: 1 met of 4 = 25%; resolved only: 1 of 2 = 50%.
    """
    cfg = config(max_workload=1, max_queue_size=1, episode_length=2)
    arrivals = trace([0.0, 0.2, 0.4, 10.0], ["billing", "integration", "billing", "billing"], ["critical"] * 4)
    env = TicketRoutingEnv(cfg, trace=arrivals)
    env.reset(seed=0)
    env.step(0)
    assert env.clock_hours == 1.0
    _, _, terminated, truncated, _ = env.step(0)
    assert truncated and not terminated
    assert env.clock_hours == 21.0
    kpis = env.kpis()
    assert (kpis["tickets_resolved"], kpis["tickets_rejected"], kpis["tickets_waiting"]) == (2, 1, 1)
    assert kpis["tickets_open_past_sla"] == 1
    assert kpis["sla_compliance_pct"] == pytest.approx(25.0)
    assert kpis["sla_compliance_pct_critical"] == pytest.approx(25.0)
    assert kpis["sla_compliance_resolved_pct"] == pytest.approx(50.0)
    assert kpis["mean_wait_hours_assigned"] == pytest.approx(0.4)
    assert kpis["mean_wait_hours"] == pytest.approx((0.0 + 0.8 + 11.0) / 3)  # D's 11 h censored


def test_an_overloaded_agent_cannot_report_high_sla() -> None:
    """One agent, a queue of two, ten times more work than it can do: nearly every ticket is
    rejected, so SLA compliance over every ticket is near zero (the resolved-only figure is not)."""
    cfg = EnvironmentConfig(
        num_agents=1, max_queue_size=2, max_workload=2, arrivals={"rate_per_day": 400.0}, episode_length=300
    )
    env = TicketRoutingEnv(cfg)
    _, info = env.reset(seed=3)
    for _ in range(cfg.episode_length):
        _, _, terminated, truncated, info = env.step(int(np.argmax(info["action_mask"])))
        if terminated or truncated:
            break
    kpis = env.kpis()
    known = kpis["tickets_resolved"] + kpis["tickets_rejected"] + kpis["tickets_open_past_sla"]
    met = kpis["sla_compliance_resolved_pct"] * kpis["tickets_resolved"] / 100.0
    assert kpis["tickets_rejected"] > 10 * kpis["tickets_resolved"]
    assert kpis["sla_compliance_pct"] == pytest.approx(100.0 * met / known)
    assert kpis["sla_compliance_pct"] < 10.0


# --------------------------------------------------------------------------- 4. utilization of online agents
def test_utilization_and_gini_count_only_agents_who_were_online() -> None:
    """Agent 0 works 00-08, agent 1 12-20 (Mondays). Two 3 h tickets at 0 and 2 keep agent 0 busy
    until both resolve at 6.0 (the trace is then exhausted): 100% utilization, one agent, Gini 0."""
    cfg = config(
        2,
        max_workload=1,
        agents={"shift_start_hour": 0, "shift_hours": 8, "shift_stagger_hours": 12, "work_days": ["monday"]},
    )
    env = TicketRoutingEnv(cfg, trace=trace([0.0, 2.0], ["technical", "technical"], ["low", "low"]))
    env.reset(seed=0)
    env.step(0)
    assert env.clock_hours == 3.0
    _, _, terminated, _, _ = env.step(0)
    assert terminated and env.clock_hours == 6.0
    kpis = env.kpis()
    assert kpis["agents_online"] == 1
    assert kpis["mean_utilization_pct"] == pytest.approx(100.0)
    assert kpis["workload_gini"] == 0.0
    assert kpis["utilization_per_agent"] == [1.0, 0.0]


# --------------------------------------------------------------------------- 5. one precision for SLA
def test_overall_and_per_priority_sla_agree_at_the_target() -> None:
    """A critical ticket needing 8.0000001 h against an 8 h target misses both ways."""
    cfg = config(service={"distribution": "deterministic", "base_effort_hours": [8.0000001] * 5})
    env = TicketRoutingEnv(cfg, trace=trace([0.0], ["billing"], ["critical"]))
    env.reset(seed=0)
    _, _, terminated, _, _ = env.step(0)
    assert terminated
    kpis = env.kpis()
    assert kpis["sla_compliance_pct"] == kpis["sla_compliance_pct_critical"] == 0.0
    assert kpis["sla_compliance_resolved_pct"] == 0.0


# --------------------------------------------------------------------------- 6. extreme priority weights
@pytest.mark.parametrize("low_weight", [1.0, 1e-3])
def test_weighted_sharing_conserves_work_at_extreme_weights(low_weight: float) -> None:
    """Critical billing (1 h) and low technical (3 h) share one agent from 0 with weights 1000 : w.
    Critical finishes at 1 + w/1000 h; low needs 3 h of work in all, so it finishes at 4.0."""
    cfg = config(
        service={
            "distribution": "deterministic",
            "base_effort_hours": EFFORT,
            "switching_overhead": 0.0,
            "priority_weights": [1000.0, 1.0, 1.0, low_weight],
        }
    )
    env = TicketRoutingEnv(cfg, trace=trace([0.0, 0.0], ["technical", "billing"], ["low", "critical"]))
    env.reset(seed=0)
    env.step(0)  # the critical ticket is routed first
    _, _, terminated, _, _ = env.step(0)
    assert terminated
    kpis = env.kpis()
    assert kpis["mean_resolution_hours_critical"] == pytest.approx(1.0 + low_weight / 1000.0, rel=1e-6)
    assert kpis["mean_resolution_hours_low"] == pytest.approx(4.0, rel=1e-6)
    assert env.clock_hours == pytest.approx(4.0, abs=1e-9)


# --------------------------------------------------------------------------- 7. idle time is jumped over
def test_idle_time_is_jumped_with_availability_from_the_schedule() -> None:
    """Default Monday-Friday shifts from 08:00, one ticket arriving 10^9 + 0.25 hours after Monday
    00:00 (about 114,000 years later, a Sunday at 16:15): it is routed on Monday at 08:00.

    Event by event that is some 60 million shift changes; the clock jumps instead, and each
    agent's online hours still equal its scheduled hours.
    """
    cfg = EnvironmentConfig(num_agents=3, agents={"shift_stagger_hours": 5})
    env = TicketRoutingEnv(cfg, trace=trace([1e9 + 0.25], ["billing"], ["low"]))
    env.reset(seed=0)
    sim = env.sim
    clock = 1e9 + 16.0
    assert sim.state.floats[0, F_CLOCK] == clock
    schedule = params.agent_schedule(cfg)
    weeks, rest = divmod(clock, 168.0)
    h = int(rest)
    for a in range(cfg.num_agents):
        expected = weeks * schedule[a].sum() + schedule[a, :h].sum() + (rest - h) * schedule[a, h]
        online = (
            sim.state.agent_stats[0, A_ONLINE_HOURS, a]
            + (clock - sim.state.agent_stats[0, A_UPDATED, a]) * sim.state.online[0, a]
        )
        assert online == pytest.approx(expected, rel=1e-12)
    assert sim.state.online[0].tolist() == schedule[:, h].tolist() == [True, False, False]


def scheduled_hours(schedule: np.ndarray, a: int, t0: float, t1: float) -> float:
    """Hours agent ``a`` is on shift between clock times ``t0`` and ``t1`` (hour by hour)."""
    total, t = 0.0, t0
    while t < t1:
        edge = min(np.floor(t) + 1.0, t1)
        total += (edge - t) * schedule[a, int(np.floor(t)) % 168]
        t = edge
    return total


def test_online_hours_follow_the_schedule_through_quiet_nights() -> None:
    """At a low rate the team is often idle and the clock jumps; online hours must still equal the
    hours each agent was scheduled, and the ticket counts must still balance."""
    cfg = EnvironmentConfig(
        num_agents=4, arrivals={"rate_per_day": 6.0}, episode_length=200, agents={"shift_stagger_hours": 3}
    )
    env = TicketRoutingEnv(cfg)
    _, info = env.reset(seed=11)
    for _ in range(cfg.episode_length):
        _, _, terminated, truncated, info = env.step(int(np.argmax(info["action_mask"])))
        if terminated or truncated:
            break
    sim, kpis = env.sim, env.kpis()
    clock = sim.state.floats[0, F_CLOCK]
    schedule = params.agent_schedule(cfg)
    for a in range(cfg.num_agents):
        online = (
            sim.state.agent_stats[0, A_ONLINE_HOURS, a]
            + (clock - sim.state.agent_stats[0, A_UPDATED, a]) * sim.state.online[0, a]
        )
        assert online == pytest.approx(scheduled_hours(schedule, a, cfg.start_hour_of_week, clock), rel=1e-9)
    assert kpis["elapsed_hours"] > 4 * 168
    assert kpis["tickets_arrived"] == kpis["tickets_resolved"] + kpis["tickets_waiting"] + kpis["tickets_in_service"]


# --------------------------------------------------------------------------- event budget
def test_a_step_that_needs_too_many_events_raises_a_named_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a budget of 100 events, a weekend of rejected arrivals cannot be simulated in one reset."""
    monkeypatch.setattr(params, "EVENT_WORK_BUDGET", 100)
    monkeypatch.setattr(params, "MIN_EVENT_BUDGET", 100)
    cfg = EnvironmentConfig(max_queue_size=1, start_hour_of_week=5 * 24, arrivals={"rate_per_day": 500.0})
    env = TicketRoutingEnv(cfg)
    with pytest.raises(SimulationBudgetError, match=r"reset\(\) stopped after 100 simulation events") as err:
        env.reset(seed=0)
    assert "arrivals.rate_per_day (500)" in str(err.value)
    vec = TicketRoutingVectorEnv(2, cfg)
    with pytest.raises(SimulationBudgetError, match=r"environments 0, 1"):
        vec.reset(seed=0)


def test_default_budget_is_far_above_what_scenarios_need() -> None:
    assert params.event_budget(14) == params.EVENT_WORK_BUDGET // 14
    assert params.event_budget(1000) == params.MIN_EVENT_BUDGET


# --------------------------------------------------------------------------- objectives aligned with the KPIs
def test_holding_cost_equals_weighted_hours_in_system() -> None:
    """Over an episode the holding component sums to minus the priority-weighted hours every ticket
    spent in the system: resolved tickets their whole resolution time, open tickets up to the end
    (tickets that arrived during reset() included)."""
    cfg = EnvironmentConfig(start_hour_of_week=20, episode_length=300, reward={"holding": 0.5})
    env = TicketRoutingEnv(cfg)
    _, info = env.reset(seed=4)
    total = 0.0
    for _ in range(cfg.episode_length):
        _, _, terminated, truncated, info = env.step(int(np.argmax(info["action_mask"])))
        total += info["reward_components"]["holding"]
        if terminated or truncated:
            break
    sim = env.sim
    mult = np.asarray(cfg.reward.priority_multipliers)
    resolved = sim.state.records[0, : int(sim.state.counts[0, I_RESOLVED])].astype(np.float64)
    hours = float(np.sum(mult[resolved[:, R_PRIORITY].astype(int)] * resolved[:, R_HOURS]))
    waiting, in_service = open_tickets(sim, np.array([0]))
    hours += float(np.nansum(mult[None, :, None] * waiting) + np.nansum(mult[None, :, None] * in_service))
    assert env.kpis()["tickets_waiting"] + env.kpis()["tickets_in_service"] > 0
    assert total == pytest.approx(-0.5 * hours, rel=1e-5)


def test_sla_breaches_are_charged_in_the_step_they_happen() -> None:
    """The scenario of the SLA test above: B passes its target at 8.2 h while in service and D at
    18.0 h while waiting, both during the second step; nothing breaches during the first."""
    cfg = config(max_workload=1, max_queue_size=1, episode_length=2, reward={"sla_breach": 3.0})
    arrivals = trace([0.0, 0.2, 0.4, 10.0], ["billing", "integration", "billing", "billing"], ["critical"] * 4)
    env = TicketRoutingEnv(cfg, trace=arrivals)
    env.reset(seed=0)
    _, _, _, _, info1 = env.step(0)
    _, _, _, _, info2 = env.step(0)
    assert info1["reward_components"]["sla_breach"] == 0.0
    assert info2["reward_components"]["sla_breach"] == -6.0


def test_sla_breach_total_counts_every_late_ticket() -> None:
    cfg = EnvironmentConfig.preset("hard").replace(episode_length=400, reward={"sla_breach": 1.0})
    env = TicketRoutingEnv(cfg)
    _, info = env.reset(seed=2)
    total = 0.0
    for _ in range(cfg.episode_length):
        _, _, terminated, truncated, info = env.step(int(np.argmax(info["action_mask"])))
        total += info["reward_components"]["sla_breach"]
        if terminated or truncated:
            break
    kpis = env.kpis()
    late = kpis["tickets_resolved"] * (1.0 - kpis["sla_compliance_resolved_pct"] / 100.0)
    assert -total == pytest.approx(round(late) + kpis["tickets_open_past_sla"])
    assert -total > 0


def test_the_resolution_sla_objective_is_shipped_and_named() -> None:
    cfg = EnvironmentConfig.named("hard+resolution_sla")
    assert cfg.num_agents == EnvironmentConfig.preset("hard").num_agents
    assert (cfg.reward.holding, cfg.reward.sla_breach, cfg.reward.assignment, cfg.reward.expertise) == (
        0.1,
        2.0,
        0.0,
        0.0,
    )
    assert EnvironmentConfig.named("resolution_sla").reward == cfg.reward
    assert TicketRoutingEnv(config="balanced+resolution_sla").config.reward == cfg.reward
    with pytest.raises(ValueError, match="objective"):
        EnvironmentConfig().with_objective("fastest")


# --------------------------------------------------------------------------- what a dispatcher sees
def test_dispatcher_features_by_hand() -> None:
    """Billing (1 h) at 0.0, technical at 0.5 on one agent on shift Monday 00-12: at the 0.5
    decision the agent has 0.5 h of billing work left, its shift ends in 11.5 h, and it is
    Monday 00:30 (hour of week 0.5)."""
    cfg = config(agents={"shift_start_hour": 0, "shift_hours": 12, "work_days": ["monday"]})
    env = TicketRoutingEnv(cfg, trace=trace([0.0, 0.5], ["billing", "technical"], ["medium", "high"]))
    obs, _ = env.reset(seed=0)
    assert obs["agent_remaining_work"].tolist() == [0.0]
    assert obs["agent_next_change_hours"].tolist() == [12.0]
    obs, _, _, _, _ = env.step(0)
    assert obs["agent_remaining_work"][0] == pytest.approx(0.5)
    assert obs["agent_next_change_hours"][0] == pytest.approx(11.5)
    assert obs["agent_change_goes_offline"].tolist() == [1]
    angle = 2 * np.pi * 0.5 / 168
    np.testing.assert_allclose(obs["hour_of_week"], [np.sin(angle), np.cos(angle)], rtol=1e-6)
    assert env.observation_space.contains(obs)
    nested = TicketRoutingEnv(cfg, observation_layout="nested", trace=env.trace)
    nobs, _ = nested.reset(seed=0)
    nobs, *_ = nested.step(0)
    assert nobs["agents"]["remaining_work"][0] == pytest.approx(0.5)
    assert nested.observation_space.contains(nobs)
