"""Configuration: edit every parameter, load presets, import and export JSON or YAML."""

from __future__ import annotations

from typing import Any

import streamlit as st

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.core.config import SERVICE_DISTRIBUTIONS, WEEKDAYS
from rl_environments.ticket_routing.dashboard.config_form import (
    SECTIONS,
    config_fields,
    config_from_widgets,
    error_section,
    export_json,
    parse_config_upload,
    widget_values,
)
from rl_environments.ticket_routing.dashboard.session import CONFIG_NAME_KEY, set_config
from rl_environments.ticket_routing.dashboard.ui import active_config

config = active_config()
state = st.session_state
fields = config_fields()

# Widgets are created without a default: their values live in the session state, written from the
# configuration in use whenever they are missing (first visit, or back from another page).
if any(f.key not in state for f in fields):
    for key, value in widget_values(config).items():
        state.setdefault(key, value)


def _use(new: EnvironmentConfig, name: str, message: str) -> None:
    set_config(state, new, name)
    state.update(widget_values(new))
    state["cfg_notice"] = message
    state.pop("cfg_import_error", None)


def _load_preset(name: str) -> None:
    _use(EnvironmentConfig.preset(name), name, f"Loaded the {name} preset.")


def _import(data: bytes, filename: str) -> None:
    try:
        new = parse_config_upload(data, filename)
    except ValueError as exc:
        state["cfg_import_error"] = f"Import rejected, the configuration in use is unchanged. {exc}"
        state.pop("cfg_notice", None)
        return
    _use(new, f"imported from {filename}", f"Imported {filename}.")


def _import_upload() -> None:
    upload = state.get("cfg_upload")
    if upload is not None:
        _import(upload.getvalue(), upload.name)


def _import_text() -> None:
    text = str(state.get("cfg_import_text", ""))
    name = "pasted JSON.json" if text.lstrip().startswith(("{", "[")) else "pasted YAML"
    _import(text.encode("utf-8"), name)


st.title("Configuration")
st.caption("The configuration in use is shared by the Simulator and Analytics pages.")

st.subheader("Presets")
preset_cols = st.columns(len(EnvironmentConfig.preset_names()) + 1)
for col, name in zip(preset_cols, EnvironmentConfig.preset_names(), strict=False):
    label = name.replace("_", " ").title()
    col.button(label, key=f"preset_{name}", on_click=_load_preset, args=(name,), width="stretch")
status = st.container()

st.subheader("Parameters")
tabs = dict(zip(SECTIONS, st.tabs([s.upper() if s in ("sla", "csat") else s.title() for s in SECTIONS]), strict=True))
inline: dict[str, Any] = {}
for section in SECTIONS:
    with tabs[section]:
        inline[section] = st.container()
        grid = st.columns(4)
        cell = 0
        for f in (f for f in fields if f.section == section):
            if f.kind == "matrix":
                st.text_area(f.label, key=f.key, help=f.help, height=120)
                continue
            target = grid[cell % 4]
            cell += 1
            if f.kind == "int":
                target.number_input(f.label, key=f.key, step=1)
            elif f.kind == "float":
                target.number_input(f.label, key=f.key, step=0.05, format="%g")
            elif f.kind == "choice":
                target.selectbox(f.label, SERVICE_DISTRIBUTIONS, key=f.key)
            elif f.kind == "days":
                target.multiselect(f.label, WEEKDAYS, key=f.key)
            elif f.kind == "bool":
                target.checkbox(f.label, key=f.key)
            else:
                target.text_input(f.label, key=f.key)

# Validate what the form says with the configuration's own rules; apply it only if it is valid.
try:
    edited = config_from_widgets({f.key: state[f.key] for f in fields})
except ValueError as exc:
    message = str(exc)
    inline[error_section(message)].error(message, icon="⚠️")
    status.error(f"Not applied: {message}. The other pages keep the last valid configuration.")
else:
    if edited != config:
        set_config(state, edited, "custom")
        config = edited
    status.success(f"Valid. In use: **{state.get(CONFIG_NAME_KEY, 'custom')}**.")
if "cfg_notice" in state:
    status.info(state.pop("cfg_notice"))

st.subheader("Export")
export_cols = st.columns(2)
export_cols[0].download_button(
    "Download JSON", export_json(config), file_name="ticket_routing_config.json", mime="application/json"
)
export_cols[1].download_button(
    "Download YAML", config.to_yaml(), file_name="ticket_routing_config.yaml", mime="application/x-yaml"
)
with st.expander("Configuration in use (YAML)"):
    st.code(config.to_yaml(), language="yaml")

st.subheader("Import")
st.caption("JSON or YAML, read as data only. A file that does not parse or validate is rejected.")
if "cfg_import_error" in state:
    st.error(state["cfg_import_error"])
st.file_uploader(
    "Upload a configuration file", type=["json", "yaml", "yml"], key="cfg_upload", on_change=_import_upload
)
st.text_area("…or paste JSON or YAML", key="cfg_import_text", height=120)
st.button("Import pasted text", key="cfg_import_button", on_click=_import_text)
