"""Simulator: route tickets one at a time, by hand or with a baseline policy, and watch the state."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from rl_environments.ticket_routing import REWARD_COMPONENTS, TICKET_TYPES
from rl_environments.ticket_routing.core.kpi_catalog import kpi as kpi_entry
from rl_environments.ticket_routing.dashboard.session import (
    SimulatorSession,
    policy_names,
    simulator,
    start_simulator,
)
from rl_environments.ticket_routing.dashboard.ui import active_config

config = active_config()
state = st.session_state

# ----------------------------------------------------------------------------- controls (sidebar)
st.sidebar.number_input("Seed", min_value=0, step=1, key="sim_seed", value=0)


def _restart() -> None:
    sim = start_simulator(state, int(state["sim_seed"]))
    state["sim_agent"] = 0
    state["sim_message"] = ("info", f"New episode with seed {sim.seed}.")


st.sidebar.button("Initialize / reset", key="sim_reset", on_click=_restart, width="stretch")

sim = simulator(state)
if sim is None:
    sim = start_simulator(state, int(state["sim_seed"]))
assert isinstance(sim, SimulatorSession)
if sim.config != config:
    st.sidebar.warning("The configuration changed since this episode started: press **Initialize / reset** to use it.")
names = policy_names()


def _step_manual() -> None:
    current = simulator(state)
    if current is None or current.done:
        return
    agent = int(state["sim_agent"])
    record = current.step(agent)
    if record.valid:
        state["sim_message"] = ("success", f"Agent {agent} took the ticket: reward {record.reward:+.2f}.")
    else:
        state["sim_message"] = ("error", f"Invalid choice: {record.note}. Reward {record.reward:+.2f}.")


def _step_policy() -> None:
    current = simulator(state)
    if current is None or current.done:
        return
    name = str(state["sim_policy"])
    record = current.step(current.policy_action(name), chooser=name)
    state["sim_message"] = ("success", f"{name} chose agent {record.agent}: reward {record.reward:+.2f}.")


# ----------------------------------------------------------------------------- header
st.title("Simulator")
history = sim.history_frame()
last = sim.history[-1] if sim.history else None
top = st.columns(5)
top[0].metric("Decisions", f"{len(sim.history)} / {sim.config.episode_length}")
day, hour = divmod(sim.env.clock_hours, 24.0)
weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[int(day) % 7]
top[1].metric(
    "Clock",
    f"{weekday} {int(hour):02d}:{int(hour % 1 * 60):02d}",
    help=f"{sim.env.clock_hours:.2f} simulated hours since Monday 00:00 of week 1",
)
top[2].metric("Queue", int(sim.observation["queue_size"]))
top[3].metric("Last reward", "–" if last is None else f"{last.reward:+.2f}")
top[4].metric("Cumulative reward", f"{sim.cumulative_reward:+.2f}")

message = state.pop("sim_message", None)
if message is not None:
    getattr(st, message[0])(message[1])
if sim.done:
    st.success("Episode finished. The KPIs below are final; press **Initialize / reset** for a new episode.")

# ----------------------------------------------------------------------------- ticket and choice
left, right = st.columns(2)
with left:
    st.subheader("Current ticket")
    ticket = sim.ticket()
    if ticket is None or sim.done:
        st.write("No ticket waiting.")
    else:
        st.markdown(
            f"**{ticket['type'].replace('_', ' ')}** ticket, **{ticket['priority']}** priority, "
            f"waiting **{ticket['age_hours']:.1f} h**"
        )

    st.subheader("Choose the agent")
    mask = sim.mask
    agents = sim.env.agents()
    ticket_type = ticket["type"] if ticket is not None else TICKET_TYPES[0]
    if state.get("sim_agent") not in range(len(agents)):
        state["sim_agent"] = 0
    # Option labels stay fixed ("Agent i"): the state of each agent is shown next to the choice.
    st.selectbox("Agent", list(range(len(agents))), format_func=lambda a: f"Agent {a}", key="sim_agent")
    chosen = agents[int(state["sim_agent"])]
    flag = "can take it" if mask[chosen.agent_id] else ("off shift" if not chosen.online else "full")
    st.caption(
        f"Agent {chosen.agent_id}: {chosen.workload}/{chosen.capacity} open tickets, "
        f"{ticket_type} expertise {chosen.expertise[ticket_type]:.2f}, {flag}."
    )
    reason = sim.explain(chosen.agent_id)
    if reason is not None and not sim.done:
        st.warning(
            f"This choice is invalid: {reason}. Stepping with it costs the invalid_action penalty "
            f"({sim.config.reward.invalid_action:g})."
        )
    groups = {
        "can take it": [a.agent_id for a in agents if mask[a.agent_id]],
        "full": [a.agent_id for a in agents if a.online and not mask[a.agent_id]],
        "off shift": [a.agent_id for a in agents if not a.online],
    }
    st.caption(
        f"Mask: {int(mask.sum())} of {len(mask)} agents can take this ticket. "
        + "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in groups.items() if v)
    )
    st.button("Step", key="sim_step", on_click=_step_manual, disabled=sim.done, type="primary")

with right:
    st.subheader("Or let a baseline policy choose")
    st.selectbox("Policy", names, key="sim_policy")
    st.button("Step with policy", key="sim_policy_step", on_click=_step_policy, disabled=sim.done or not names)
    st.number_input("Steps to run", min_value=1, max_value=100_000, value=100, step=10, key="sim_n")
    if st.button("Run N steps", key="sim_run", disabled=sim.done or not names):
        total = int(state["sim_n"])
        bar = st.progress(0.0, text=f"Running {state['sim_policy']}…")
        every = max(1, total // 50)

        def _progress(done: int, n: int) -> None:
            if done % every == 0 or done == n:
                bar.progress(done / n, text=f"{done} / {n} steps")

        taken = sim.run(str(state["sim_policy"]), total, _progress)
        state["sim_message"] = ("success", f"{state['sim_policy']} took {taken} decisions.")
        st.rerun()

    st.subheader("Reward of the last step")
    if last is None:
        st.write("No step yet.")
    else:
        parts = pd.DataFrame({"reward": [last.components[k] for k in REWARD_COMPONENTS]}, index=list(REWARD_COMPONENTS))
        st.bar_chart(parts, horizontal=True, height=220)

# ----------------------------------------------------------------------------- agents
st.subheader("Agents")
frame = sim.agents_frame()
styled = frame.style.background_gradient(cmap="Greens", subset=list(TICKET_TYPES), vmin=0.0, vmax=1.0).format(
    "{:.2f}", subset=list(TICKET_TYPES)
)
st.dataframe(
    styled,
    hide_index=True,
    width="stretch",
    height=min(35 * (len(frame) + 1) + 3, 738),
    column_config={
        "workload": st.column_config.ProgressColumn(
            "workload", min_value=0, max_value=sim.config.max_workload, format="%d"
        ),
        "online": st.column_config.CheckboxColumn("online"),
        "can_take": st.column_config.CheckboxColumn("can take ticket"),
    },
)

# ----------------------------------------------------------------------------- over time
st.subheader("Over time")
if history.empty:
    st.write("Step to see the cumulative reward, queue size and workload over time.")
else:
    series = history.set_index("step")
    charts = st.columns(3)
    with charts[0]:
        st.caption("Cumulative reward")
        st.line_chart(series[["cumulative_reward"]], height=220)
    with charts[1]:
        st.caption("Queue size")
        st.line_chart(series[["queue_size"]], height=220)
    with charts[2]:
        st.caption("Workload (open tickets per agent)")
        st.line_chart(series[["mean_workload", "max_workload"]], height=220)

# ----------------------------------------------------------------------------- KPIs
st.subheader("KPIs so far" if not sim.done else "Episode KPIs")
kpis = sim.kpis()
cols = st.columns(5)
for col, key in zip(
    cols,
    ("mean_resolution_hours", "sla_compliance_pct", "csat_pct", "expertise_match_pct", "workload_gini"),
    strict=True,
):
    entry = kpi_entry(key)  # label, unit, format and direction from the KPI catalog
    value = kpis.get(key)
    shown = "–" if value is None or value != value else f"{entry.format(value)} {entry.unit}".rstrip()
    col.metric(entry.label[:1].upper() + entry.label[1:], shown, help=entry.direction or None)
with st.expander("All KPIs"):
    st.json({k: v for k, v in kpis.items() if k != "utilization_per_agent"})
