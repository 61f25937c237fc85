"""Analytics: compare routing policies over many seeded episodes, and two configurations side by side."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from rl_environments.ticket_routing import PRIORITIES
from rl_environments.ticket_routing.core.kpi_catalog import kpi as kpi_entry
from rl_environments.ticket_routing.dashboard.analytics import (
    FAIRNESS_KPIS,
    MODELS_DIR_ENV,
    NO_MODEL,
    SLA_BY_PRIORITY,
    ci_table,
    compare_configs,
    load_trained_policy,
    model_names,
    run_policies,
    scenario_config,
    scenario_names,
    summary,
)
from rl_environments.ticket_routing.dashboard.session import policy_names
from rl_environments.ticket_routing.dashboard.ui import active_config

config = active_config()
state = st.session_state
names = policy_names()

st.title("Analytics")
st.caption(
    "Every policy runs the same seeded episodes (episode k uses seed + k), so all of them face the same tickets."
)

# ----------------------------------------------------------------------------- policy comparison
with st.container(border=True):
    st.subheader("Compare policies")
    cols = st.columns([3, 2, 1, 1])
    cols[0].multiselect("Policies", names, default=list(names), key="an_policies")
    cols[1].selectbox("Scenario", scenario_names(), key="an_scenario")
    cols[2].number_input("Episodes", min_value=2, max_value=10_000, value=20, step=1, key="an_episodes")
    cols[3].number_input("Seed", min_value=0, value=0, step=1, key="an_seed")
    models = model_names()
    st.selectbox(
        "Trained model (optional): a Stable-Baselines3 .zip from the models folder",
        [NO_MODEL, *models],
        format_func=lambda name: name or "none",
        key="an_model",
        help=(
            f"Models are offered from one folder on the server: ${MODELS_DIR_ENV}, else models/ where the app "
            "was started. Loading rebuilds the policy and reads only its weights: nothing in the file is unpickled."
        ),
    )
    run_clicked = st.button("Run", key="an_run", type="primary")

if run_clicked:
    scenario = scenario_config(str(state["an_scenario"]), config)
    chosen: list[object] = list(state["an_policies"])
    problem = None
    if state.get("an_model"):
        try:
            chosen.append(load_trained_policy(str(state["an_model"]), scenario))
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        state["an_error"] = problem
    elif not chosen:
        state["an_error"] = "Choose at least one policy (or give a trained model)."
    else:
        state.pop("an_error", None)
        bar = st.progress(0.0, text="Starting…")
        results = run_policies(
            chosen,
            scenario,
            int(state["an_episodes"]),
            int(state["an_seed"]),
            progress=lambda done, total, text: bar.progress(done / total, text=text),
        )
        state["an_results"] = results
        state["an_results_label"] = f"{state['an_scenario']}, {state['an_episodes']} episodes, seed {state['an_seed']}"

if "an_error" in state:
    st.error(state["an_error"])

results: pd.DataFrame | None = state.get("an_results")
if results is not None:
    st.subheader("KPIs with 95% confidence intervals")
    st.caption(f"{state.get('an_results_label', '')}. Each cell: mean [95% CI] over episodes.")
    tidy = summary(results)
    st.dataframe(ci_table(tidy), width="stretch")

    kpi = st.selectbox("KPI to chart", list(dict.fromkeys(tidy["kpi"])), key="an_chart_kpi")
    part = tidy[tidy["kpi"] == kpi]
    points = (
        alt.Chart(part)
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("mean:Q", title=kpi_entry(kpi).title, scale=alt.Scale(zero=False)), y=alt.Y("policy:N", sort=None)
        )
    )
    bars = alt.Chart(part).mark_rule().encode(x="ci95_low:Q", x2="ci95_high:Q", y=alt.Y("policy:N", sort=None))
    st.altair_chart(bars + points, width="stretch")

    st.subheader("Distributions over episodes")
    dist = st.columns(2)
    for col, column in zip(dist, ("mean_resolution_hours", "csat_pct"), strict=True):
        title = kpi_entry(column).title
        box = (
            alt.Chart(results)
            .mark_boxplot(extent="min-max")
            .encode(x=alt.X(f"{column}:Q", title=title, scale=alt.Scale(zero=False)), y=alt.Y("policy:N", sort=None))
        )
        col.altair_chart(box, width="stretch")

    sla = results.melt(id_vars=["policy"], value_vars=list(SLA_BY_PRIORITY), var_name="priority", value_name="sla")
    sla["priority"] = sla["priority"].str.replace("sla_compliance_pct_", "", regex=False)
    sla_chart = (
        alt.Chart(sla)
        .mark_bar()
        .encode(
            x=alt.X("policy:N", sort=None, title=None),
            y=alt.Y("mean(sla):Q", title="SLA compliance (%)"),
            color=alt.Color("priority:N", sort=list(PRIORITIES)),
            xOffset=alt.XOffset("priority:N", sort=list(PRIORITIES)),
        )
    )
    st.caption("SLA compliance by priority (mean over episodes)")
    st.altair_chart(sla_chart, width="stretch")

    st.subheader("Workload fairness")
    st.caption("Gini of tickets assigned per agent (0 = perfectly even), std of open tickets, mean utilization.")
    fair = st.columns(len(FAIRNESS_KPIS))
    for col, column in zip(fair, FAIRNESS_KPIS, strict=True):
        box = (
            alt.Chart(results)
            .mark_boxplot(extent="min-max")
            .encode(x=alt.X("policy:N", sort=None, title=None), y=alt.Y(f"{column}:Q", scale=alt.Scale(zero=False)))
        )
        col.altair_chart(box, width="stretch")

    downloads = st.columns(2)
    downloads[0].download_button(
        "Download episodes (CSV)", results.to_csv(index=False), file_name="episodes.csv", mime="text/csv"
    )
    downloads[1].download_button(
        "Download summary (CSV)", tidy.to_csv(index=False), file_name="summary.csv", mime="text/csv"
    )

# ----------------------------------------------------------------------------- two configurations
with st.container(border=True):
    st.subheader("Compare two configurations")
    cols = st.columns(5)
    scenarios = scenario_names()
    cols[0].selectbox("Configuration A", scenarios, key="cmp_a")
    default_b = scenarios.index("hard") if "hard" in scenarios else len(scenarios) - 1
    cols[1].selectbox("Configuration B", scenarios, index=default_b, key="cmp_b")
    cols[2].selectbox("Policy", names, key="cmp_policy")
    cols[3].number_input("Episodes", min_value=2, max_value=10_000, value=10, step=1, key="cmp_episodes")
    cols[4].number_input("Seed", min_value=0, value=0, step=1, key="cmp_seed")
    if st.button("Compare", key="cmp_run"):
        bar = st.progress(0.0, text="Starting…")
        a, b = str(state["cmp_a"]), str(state["cmp_b"])
        try:
            table = compare_configs(
                str(state["cmp_policy"]),
                {f"A: {a}": scenario_config(a, config), f"B: {b}": scenario_config(b, config)},
                int(state["cmp_episodes"]),
                int(state["cmp_seed"]),
                progress=lambda done, total, text: bar.progress(done / total, text=text),
            )
        except ValueError as exc:
            st.error(str(exc))
        else:
            state["cmp_results"] = table
    if "cmp_results" in state:
        st.dataframe(state["cmp_results"], width="stretch")
