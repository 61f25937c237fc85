"""The dynamics on a tiny scenario whose every number can be checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rl_environments.ticket_routing import ArrivalTrace, EnvironmentConfig, TicketRoutingEnv
from rl_environments.ticket_routing.core.simulation import Simulation
from rl_environments.ticket_routing.core.state import I_DONE

ALWAYS_ON = {
    "shift_hours": 24,
    "work_days": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
}


def hand_config(num_agents: int = 1) -> EnvironmentConfig:
    """Deterministic work: billing 1 h, technical 3 h for an expert (expertise 1, speed 1)."""
    return EnvironmentConfig(
        num_agents=num_agents,
        episode_length=10,
        agents={**ALWAYS_ON, "expertise": [[1.0] * 5] * num_agents},
        service={
            "distribution": "deterministic",
            "base_effort_hours": {
                "technical": 3.0,
                "billing": 1.0,
                "feature_request": 2.0,
                "bug_report": 2.0,
                "integration": 2.0,
            },
            "switching_overhead": 0.0,
        },
    )


def test_processor_sharing_by_hand() -> None:
    """Billing at t=0, technical at t=0.5, both to one agent.

    0.0-0.5: billing alone, 0.5 h of its 1 h done. From 0.5 both share the agent (rate 1/2 each):
    billing's last 0.5 h takes 1 h -> resolved at 1.5 (1.5 h). Technical has 3 - 0.5 = 2.5 h left at
    t = 1.5, alone at full rate -> resolved at 4.0 (3.5 h).
    """
    cfg = hand_config()
    trace = ArrivalTrace.from_records([0.0, 0.5], ["billing", "technical"], ["medium", "high"])
    env = TicketRoutingEnv(cfg, trace=trace)
    obs, _ = env.reset(seed=0)
    assert (int(obs["ticket_type"]), int(obs["ticket_priority"])) == (1, 2)
    obs, r1, term1, _, _ = env.step(0)
    assert not term1
    assert env.clock_hours == pytest.approx(0.5)
    assert (int(obs["ticket_type"]), int(obs["ticket_priority"])) == (0, 1)
    assert r1 == pytest.approx(cfg.reward.assignment + cfg.reward.expertise * 1.0)
    obs, r2, term2, trunc2, info2 = env.step(0)
    assert term2 and not trunc2
    assert env.clock_hours == pytest.approx(4.0)
    mult = dict(zip(("critical", "high", "medium", "low"), cfg.reward.priority_multipliers, strict=True))
    expected_penalty = cfg.reward.resolution * (mult["medium"] * 1.5 + mult["high"] * 3.5)
    assert info2["reward_components"]["resolution"] == pytest.approx(-expected_penalty)
    assert r2 == pytest.approx(cfg.reward.assignment + cfg.reward.expertise - expected_penalty)
    kpis = info2["episode_kpis"]
    assert kpis["tickets_resolved"] == 2
    assert kpis["mean_resolution_hours"] == pytest.approx(2.5)
    assert kpis["p90_resolution_hours"] == pytest.approx(1.5 + 0.9 * 2.0)
    assert kpis["mean_resolution_hours_high"] == pytest.approx(3.5)
    assert kpis["mean_wait_hours"] == pytest.approx(0.0)
    assert kpis["utilization_per_agent"] == [pytest.approx(1.0)]
    assert kpis["expertise_match_pct"] == pytest.approx(100.0)
    sla = dict(zip(("critical", "high", "medium", "low"), cfg.sla.resolution_hours, strict=True))
    met = int(sla["medium"] >= 1.5) + int(sla["high"] >= 3.5)
    assert kpis["sla_compliance_pct"] == pytest.approx(50.0 * met)
    assert obs["queue_size"] == 0


def test_priority_weights_give_urgent_tickets_more_attention() -> None:
    """Critical (weight 3) and low (weight 1), 1 h of work each, both at t=0 on one agent.

    The critical ticket gets 3/4 of the agent: done at 4/3 h, when the low one has had 1/3 h.
    The low ticket then has the agent alone: its last 2/3 h ends at 2 h.
    """
    cfg = hand_config().replace(
        service={
            "base_effort_hours": [1.0] * 5,
            "priority_weights": {"critical": 3.0, "high": 1.0, "medium": 1.0, "low": 1.0},
        }
    )
    trace = ArrivalTrace.from_records([0.0, 0.0], ["billing", "billing"], ["low", "critical"])
    env = TicketRoutingEnv(cfg, trace=trace)
    env.reset(seed=0)
    env.step(0)  # the critical ticket is routed first (priority order)
    _, _, terminated, _, info = env.step(0)
    assert terminated
    assert env.clock_hours == pytest.approx(2.0)
    kpis = info["episode_kpis"]
    assert kpis["mean_resolution_hours_critical"] == pytest.approx(4.0 / 3.0)
    assert kpis["mean_resolution_hours_low"] == pytest.approx(2.0)


def test_queue_serves_priority_then_age() -> None:
    """Three tickets wait while the only agent is busy; they leave critical first, then oldest."""
    cfg = hand_config().replace(max_workload=1)
    trace = ArrivalTrace.from_records(
        [0.0, 0.1, 0.2, 0.3], ["technical", "billing", "billing", "billing"], ["low", "low", "critical", "low"]
    )
    env = TicketRoutingEnv(cfg, trace=trace)
    env.reset(seed=0)
    order = []
    for _ in range(4):
        ticket = env.current_ticket()
        assert ticket is not None
        order.append((ticket.priority, round(ticket.arrival_hours, 1)))
        _, _, terminated, _, _ = env.step(0)
    assert terminated
    assert order == [("low", 0.0), ("critical", 0.2), ("low", 0.1), ("low", 0.3)]


def test_queue_overflow_rejects_and_counts() -> None:
    cfg = hand_config().replace(max_workload=1, max_queue_size=2)
    trace = ArrivalTrace.from_records([0.0, 0.1, 0.2, 0.3, 0.4], ["technical"] * 5, ["medium"] * 5)
    env = TicketRoutingEnv(cfg, trace=trace)
    env.reset(seed=0)
    _, _, _, _, info = env.step(0)
    kpis = env.kpis()
    assert kpis["tickets_rejected"] == 2
    assert kpis["tickets_waiting"] == 2
    assert info["reward_components"]["rejection"] == pytest.approx(-2 * cfg.reward.rejection)
    assert kpis["tickets_arrived"] == 5


def test_looping_trace_restarts_after_its_period() -> None:
    cfg = hand_config()
    trace = ArrivalTrace(np.array([1.0, 2.0]), np.array([1, 1]), np.array([2, 2]), loop=True, period_hours=10.0)
    env = TicketRoutingEnv(cfg, trace=trace)
    env.reset(seed=0)
    arrivals = []
    for _ in range(5):
        ticket = env.current_ticket()
        assert ticket is not None
        arrivals.append(ticket.arrival_hours)
        _, _, terminated, _, _ = env.step(0)
        assert not terminated
    assert arrivals == pytest.approx([1.0, 2.0, 11.0, 12.0, 21.0])


def test_shifts_take_agents_offline_and_work_pauses() -> None:
    """One agent working 09:00-17:00 on Mondays only: a ticket at 16:00 needing 3 h ends next Monday."""
    cfg = hand_config().replace(agents={"shift_start_hour": 9, "shift_hours": 8, "work_days": ["monday"]})
    trace = ArrivalTrace.from_records([16.0], ["technical"], ["low"])
    env = TicketRoutingEnv(cfg, trace=trace)
    obs, _ = env.reset(seed=0)
    assert env.clock_hours == pytest.approx(16.0)
    assert obs["agent_availability"].tolist() == [1]
    _, _, terminated, _, info = env.step(0)
    assert terminated
    # 1 h on Monday (16-17), then 2 h from next Monday 09:00 -> 168 + 11 = 179 h.
    assert env.clock_hours == pytest.approx(179.0)
    assert info["episode_kpis"]["mean_resolution_hours"] == pytest.approx(163.0)
    # Online 09-17 on the first Monday and 09-11 on the next (10 h), busy 16-17 and 09-11 (3 h).
    assert info["episode_kpis"]["utilization_per_agent"] == [pytest.approx(0.3)]


def test_tickets_wait_for_the_shift_to_start() -> None:
    cfg = hand_config().replace(agents={"shift_start_hour": 9, "shift_hours": 8, "work_days": ["monday"]})
    trace = ArrivalTrace.from_records([2.0, 3.0], ["billing", "billing"], ["low", "low"])
    env = TicketRoutingEnv(cfg, trace=trace)
    obs, _ = env.reset(seed=0)
    assert env.clock_hours == pytest.approx(9.0)  # nobody online before 09:00: first decision at 09:00
    assert obs["queue_size"] == 2
    assert float(obs["ticket_age"][0]) == pytest.approx(7.0)


def test_slower_with_lower_expertise_and_more_load() -> None:
    base = hand_config(2).replace(agents={**ALWAYS_ON, "expertise": [[1.0] * 5, [0.0] * 5]}, service={"min_speed": 0.5})
    trace = ArrivalTrace.from_records([0.0], ["technical"], ["low"])
    times = []
    for agent in (0, 1):
        env = TicketRoutingEnv(base, trace=trace)
        env.reset(seed=0)
        env.step(agent)
        times.append(env.clock_hours)
    assert times == pytest.approx([3.0, 6.0])  # speed 1 vs 0.5


def test_reset_option_switches_to_a_trace_and_back() -> None:
    env = TicketRoutingEnv(hand_config())
    env.reset(seed=0)
    trace = ArrivalTrace.from_records([0.25], ["billing"], ["high"])
    env.reset(options={"trace": trace})
    ticket = env.current_ticket()
    assert ticket is not None
    assert (ticket.arrival_hours, ticket.ticket_type, ticket.priority) == (0.25, "billing", "high")
    _, _, terminated, _, _ = env.step(0)
    assert terminated
    env.reset(options={"trace": None})
    assert env.trace is None
    for _ in range(5):
        _, _, terminated, _, _ = env.step(0)
        assert not terminated
    with pytest.raises(ValueError, match="trace: invalid value"):
        env.reset(options={"trace": [1.0]})
    with pytest.raises(ValueError, match="options: unsupported key"):
        env.reset(options={"speed": 2})


def test_simulation_rejects_bad_num_envs() -> None:
    with pytest.raises(ValueError, match="num_envs: invalid value 0"):
        Simulation(EnvironmentConfig(), 0)


def test_trace_validation() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        ArrivalTrace(np.array([2.0, 1.0]), np.array([0, 0]), np.array([0, 0]))
    with pytest.raises(ValueError, match="same length"):
        ArrivalTrace(np.array([1.0]), np.array([0, 0]), np.array([0]))
    with pytest.raises(ValueError, match="non-empty"):
        ArrivalTrace(np.array([]), np.array([]), np.array([]))
    with pytest.raises(ValueError, match=r"trace.types: indices must lie in \[0, 4\]"):
        ArrivalTrace(np.array([1.0]), np.array([7]), np.array([0]))
    with pytest.raises(ValueError, match=r"trace.priorities"):
        ArrivalTrace(np.array([1.0]), np.array([0]), np.array([4]))
    with pytest.raises(ValueError, match="period_hours"):
        ArrivalTrace(np.array([1.0, 5.0]), np.array([0, 0]), np.array([0, 0]), loop=True, period_hours=3.0)
    with pytest.raises(ValueError, match="unknown ticket type 'refund'"):
        ArrivalTrace.from_records([1.0], ["refund"], ["low"])
    with pytest.raises(ValueError, match="unknown priority 'p1'"):
        ArrivalTrace.from_records([1.0], ["billing"], ["p1"])
    trace = ArrivalTrace.from_records([1.0, 200.0], ["billing", "billing"], ["low", "low"])
    assert len(trace) == 2 and trace.period_hours == 336.0


def test_done_flag_set_on_termination() -> None:
    env = TicketRoutingEnv(hand_config(), trace=ArrivalTrace.from_records([0.0], ["billing"], ["low"]))
    env.reset(seed=0)
    env.step(0)
    assert env.sim.state.counts[0, I_DONE] == 1
