"""Planner: the smallest team that meets service targets, Erlang C beside it, and a what-if sweep."""

from __future__ import annotations

import altair as alt
import streamlit as st

from rl_environments.ticket_routing.dashboard.analytics import scenario_config, scenario_names
from rl_environments.ticket_routing.dashboard.planner import (
    SWEEP_KPIS,
    answer_table,
    band_frame,
    find_team,
    parse_rates,
    runs_table,
    team_sizes,
    what_if,
)
from rl_environments.ticket_routing.dashboard.session import policy_names
from rl_environments.ticket_routing.dashboard.ui import active_config
from rl_environments.ticket_routing.planning.staffing import Targets

config = active_config()
state = st.session_state
names = list(policy_names())

st.title("Planner")
st.caption(
    "How many agents does the team need? Every team size plays the same seeded episodes. A size meets a "
    "target when its 95% confidence interval does: the lower end for SLA % and CSAT %, the upper end for "
    "the p90 resolution hours."
)

# ----------------------------------------------------------------------------- staffing answer
with st.container(border=True):
    st.subheader("Staffing targets")
    cols = st.columns(4)
    cols[0].selectbox("Scenario", scenario_names(), key="pl_scenario")
    cols[1].selectbox("Policy", names, index=names.index("skill_load") if "skill_load" in names else 0, key="pl_policy")
    cols[2].number_input("Episodes per team size", min_value=2, max_value=1000, value=10, step=1, key="pl_episodes")
    cols[3].number_input("Seed", min_value=0, value=0, step=1, key="pl_seed")
    cols = st.columns(4)
    cols[0].number_input("SLA target (%)", min_value=0.0, max_value=100.0, value=90.0, step=1.0, key="pl_sla")
    cols[1].number_input("CSAT target (%)", min_value=0.0, max_value=100.0, value=85.0, step=1.0, key="pl_csat")
    cols[2].checkbox("Also a p90 resolution target", key="pl_use_p90")
    cols[3].number_input(
        "p90 resolution hours", min_value=0.1, value=72.0, step=1.0, key="pl_p90", disabled=not state.get("pl_use_p90")
    )
    plan_clicked = st.button("Find the team", key="pl_run", type="primary")

if plan_clicked:
    scenario = scenario_config(str(state["pl_scenario"]), config)
    targets = Targets(
        sla_pct=float(state["pl_sla"]),
        csat_pct=float(state["pl_csat"]),
        p90_hours=float(state["pl_p90"]) if state.get("pl_use_p90") else None,
    )
    bar = st.progress(0.0, text="Starting…")
    result, problem = find_team(
        scenario,
        str(state["pl_policy"]),
        targets,
        episodes=int(state["pl_episodes"]),
        seed=int(state["pl_seed"]),
        progress=lambda done, text: bar.progress(done, text=text),
    )
    state["pl_result"], state["pl_problem"] = result, problem
    # Centre the what-if team sizes on the answer (set before those widgets are drawn in this run).
    state["pl_from"], state["pl_to"] = max(1, result.best.num_agents - 4), result.best.num_agents + 4
    state["pl_label"] = f"{state['pl_scenario']}, {state['pl_policy']}, {targets.describe()}"

result = state.get("pl_result")
if result is not None:
    problem = state.get("pl_problem")
    n = result.best.num_agents
    if problem:
        st.error(problem)
    else:
        st.success(f"{n} agents: the smallest team whose 95% intervals meet every target ({state['pl_label']}).")
    metrics = st.columns(4)
    metrics[0].metric("Team needed (simulation)" if not problem else "Closest team", n)
    metrics[1].metric("Erlang C", result.erlang.team_erlang_c)
    metrics[2].metric("Square-root staffing", result.erlang.team_sqrt)
    metrics[3].metric("Episodes simulated", result.episodes_run)
    st.dataframe(answer_table(result), width="stretch")
    st.caption(result.explanation())
    with st.expander(f"Team sizes tried ({len(result.runs)})"):
        st.dataframe(runs_table(result), width="stretch")

# ----------------------------------------------------------------------------- what-if sweep
with st.container(border=True):
    st.subheader("What-if: team size × arrival rate")
    rate = config.arrivals.rate_per_day
    state.setdefault("pl_from", max(1, config.num_agents - 4))
    state.setdefault("pl_to", config.num_agents + 4)
    state.setdefault("pl_rates", f"{0.8 * rate:g}, {rate:g}, {1.2 * rate:g}")
    cols = st.columns(5)
    cols[0].number_input("Team from", min_value=1, max_value=1000, key="pl_from")
    cols[1].number_input("Team to", min_value=1, max_value=1000, key="pl_to")
    cols[2].number_input("Step", min_value=1, max_value=100, value=1, key="pl_step")
    cols[3].text_input("Tickets per day", key="pl_rates")
    cols[4].number_input("Seeds", min_value=3, max_value=100, value=5, key="pl_seeds")
    st.selectbox("KPI to chart", SWEEP_KPIS, key="pl_kpi")
    sweep_clicked = st.button("Run sweep", key="pl_sweep")

if sweep_clicked:
    scenario = scenario_config(str(state["pl_scenario"]), config)
    try:
        sizes = team_sizes(int(state["pl_from"]), int(state["pl_to"]), int(state["pl_step"]))
        rates = parse_rates(str(state["pl_rates"]))
        bar = st.progress(0.0, text="Starting…")
        state["pl_sweep_result"] = what_if(
            scenario,
            str(state["pl_policy"]),
            sizes,
            rates,
            seeds=int(state["pl_seeds"]),
            seed=int(state["pl_seed"]),
            progress=lambda done, text: bar.progress(done, text=text),
        )
        state.pop("pl_sweep_error", None)
    except ValueError as exc:
        state["pl_sweep_error"] = str(exc)

if "pl_sweep_error" in state:
    st.error(state["pl_sweep_error"])

sweep = state.get("pl_sweep_result")
if sweep is not None:
    kpi = str(state.get("pl_kpi", SWEEP_KPIS[0]))
    frame = band_frame(sweep, kpi)
    st.caption(
        f"{kpi}: mean over {sweep.spec.seeds} seeds with its 95% confidence band (clipped to the KPI's range), "
        "per arrival rate."
    )
    base = alt.Chart(frame).encode(
        x=alt.X("num_agents:Q", title="agents", scale=alt.Scale(zero=False), axis=alt.Axis(format="d", tickMinStep=1)),
        color=alt.Color("tickets per day:N", scale=alt.Scale(scheme="category10")),
    )
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("ci95_low:Q", title=kpi), y2="ci95_high:Q")
    line = base.mark_line(point=True).encode(y="mean:Q")
    st.altair_chart(band + line, width="stretch")
    heat = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("num_agents:O", title="agents"),
            y=alt.Y("tickets per day:O", sort="descending"),
            color=alt.Color("mean:Q", title=kpi),
            tooltip=["num_agents", "tickets per day", "mean", "ci95_low", "ci95_high"],
        )
    )
    st.altair_chart(heat, width="stretch")
    st.download_button(
        "Download sweep results (CSV)",
        sweep.cells.to_csv(index=False),
        file_name="sweep_results.csv",
        mime="text/csv",
        key="pl_download",
    )
