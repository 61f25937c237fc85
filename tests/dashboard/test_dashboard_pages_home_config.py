"""AppTest tests of the Home and Configuration pages."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from rl_environments.ticket_routing import EnvironmentConfig
from rl_environments.ticket_routing.dashboard.config_form import config_fields


def _errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def _metric(at: AppTest, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def _config_line(at: AppTest) -> str:
    """The sidebar line the router draws on every page."""
    return next(str(c.value) for c in at.sidebar.caption if str(c.value).startswith("Configuration in use"))


# ----------------------------------------------------------------------------- Home
def test_home_shows_the_configuration_in_use_and_links_to_every_page(page: Callable[[str], AppTest]) -> None:
    at = page("home").run()
    assert not at.exception
    assert "TicketRouting-v0" in at.title[0].value
    default = EnvironmentConfig()
    assert _metric(at, "Agents") == str(default.num_agents)
    assert _metric(at, "Tickets per day") == f"{default.arrivals.rate_per_day:g}"
    # Each link targets a page the router registered (its URL path), in sidebar order.
    links = [(e.proto.label, e.proto.page) for e in at.get("page_link")]
    assert links == [
        ("Simulator", "Simulator"),
        ("Analytics", "Analytics"),
        ("Configuration", "Configuration"),
        ("Planner", "Planner"),
    ]
    assert _config_line(at) == "Configuration in use: **balanced (default)**"

    at.session_state["config"] = EnvironmentConfig(num_agents=3, arrivals={"rate_per_day": 12.5})
    at.run()
    assert _metric(at, "Agents") == "3"
    assert _metric(at, "Tickets per day") == "12.5"
    assert "exponential" in at.caption[0].value


# ----------------------------------------------------------------------------- Configuration
def test_configuration_has_a_widget_for_every_parameter(page: Callable[[str], AppTest]) -> None:
    at = page("configuration").run()
    assert not at.exception
    keys = {w.key for kind in ("number_input", "selectbox", "multiselect", "text_area") for w in at.get(kind)}
    assert {f.key for f in config_fields()} <= keys
    numeric = [f for f in config_fields() if f.kind in ("int", "float")]
    assert len(at.number_input) == len(numeric)
    presets = {name.replace("_", " ").title() for name in EnvironmentConfig.preset_names()}
    assert {b.label for b in at.button} == presets | {"Import pasted text"}
    assert len(at.get("download_button")) == 2
    assert at.success[0].value.startswith("Valid.")


def test_preset_button_loads_the_preset_into_config_and_widgets(page: Callable[[str], AppTest]) -> None:
    at = page("configuration").run()
    at.button(key="preset_hard").click().run()
    assert at.session_state["config"] == EnvironmentConfig.preset("hard")
    assert at.session_state["config_name"] == "hard"
    assert _config_line(at) == "Configuration in use: **hard**"
    hard = EnvironmentConfig.preset("hard")
    assert at.number_input(key="cfg:arrivals.rate_per_day").value == hard.arrivals.rate_per_day
    assert at.selectbox(key="cfg:service.distribution").value == hard.service.distribution
    assert "Loaded the hard preset." in [i.value for i in at.info]

    at.button(key="preset_easy").click().run()
    assert at.session_state["config"] == EnvironmentConfig.preset("easy")
    easy = EnvironmentConfig.preset("easy")
    assert at.number_input(key="cfg:agents.expertise_range.0").value == easy.agents.expertise_range[0]


def test_valid_edit_is_applied_and_shared(page: Callable[[str], AppTest]) -> None:
    at = page("configuration").run()
    at.number_input(key="cfg:arrivals.rate_per_day").set_value(80.0).run()
    at.selectbox(key="cfg:service.distribution").set_value("deterministic").run()
    at.multiselect(key="cfg:agents.work_days").set_value(["monday", "tuesday"]).run()
    config = at.session_state["config"]
    assert config.arrivals.rate_per_day == 80.0
    assert config.service.distribution == "deterministic"
    assert config.agents.work_days == ("monday", "tuesday")
    assert at.session_state["config_name"] == "custom"
    # The sidebar line is drawn after the page ran, so it already names the edited configuration.
    assert _config_line(at) == "Configuration in use: **custom**"
    assert not _errors(at)


def test_invalid_edit_shows_the_named_error_inline_and_keeps_the_config(page: Callable[[str], AppTest]) -> None:
    at = page("configuration").run()
    before = at.session_state["config"]
    at.number_input(key="cfg:num_agents").set_value(0).run()
    errors = _errors(at)
    assert any(e.startswith("num_agents: invalid value 0") for e in errors), errors
    assert any(e.startswith("Not applied: num_agents") for e in errors), errors
    assert at.session_state["config"] == before

    at.number_input(key="cfg:num_agents").set_value(before.num_agents).run()
    assert not _errors(at)
    at.number_input(key="cfg:arrivals.type_mix.technical").set_value(0.9).run()
    errors = _errors(at)
    assert any("arrivals.type_mix" in e and "sum to 1" in e for e in errors), errors
    # The inline message sits in the Arrivals tab, next to the field.
    arrivals_tab = at.tabs[1]
    assert arrivals_tab.label == "Arrivals"
    assert any("arrivals.type_mix" in str(e.value) for e in arrivals_tab.error)
    assert at.session_state["config"] == before


def test_matrix_field_is_validated_by_the_config(page: Callable[[str], AppTest]) -> None:
    at = page("configuration").run()
    at.text_area(key="cfg:agents.expertise").set_value("- [0.9, 0.1, 0.1, 0.1, 0.1]\n").run()
    rows = EnvironmentConfig().num_agents
    assert any(e.startswith("agents.expertise") and f"num_agents = {rows}" in e for e in _errors(at))
    at.number_input(key="cfg:num_agents").set_value(1).run()
    assert not _errors(at)
    assert at.session_state["config"].agents.expertise == ((0.9, 0.1, 0.1, 0.1, 0.1),)
    at.text_area(key="cfg:agents.expertise").set_value("- [0.9, 0.1\n").run()
    assert any(e.startswith("agents.expertise: not valid YAML/JSON") for e in _errors(at))


def test_import_of_bad_json_or_yaml_is_rejected_and_keeps_the_config(page: Callable[[str], AppTest]) -> None:
    at = page("configuration").run()
    at.button(key="preset_hard").click().run()
    hard = at.session_state["config"]
    bad = {
        "{not json": "not valid JSON",
        "arrivals: [1, 2": "not valid YAML/JSON",
        "num_agents: -1\n": "num_agents: invalid value -1",
        "arrivals:\n  rate_per_day: fast\n": "arrivals.rate_per_day",
        "nonsense_key: 1\n": "nonsense_key: invalid value 1; unknown key",
        "- just\n- a list\n": "expected a mapping",
        "!!python/object/apply:os.system ['echo hacked']\n": "not valid YAML/JSON",
    }
    for text, expected in bad.items():
        at.text_area(key="cfg_import_text").set_value(text).run()
        at.button(key="cfg_import_button").click().run()
        errors = _errors(at)
        assert any(e.startswith("Import rejected") and expected in e for e in errors), (text, errors)
        assert at.session_state["config"] == hard
        assert at.session_state["config_name"] == "hard"

    at.file_uploader(key="cfg_upload").upload("broken.json", b'{"num_agents": 3,}').run()
    assert any("broken.json: not valid JSON" in e for e in _errors(at))
    at.file_uploader(key="cfg_upload").upload("broken.yaml", b"service: {distribution: gamma}").run()
    assert any("service.distribution" in e for e in _errors(at))
    assert at.session_state["config"] == hard


def test_import_of_valid_json_and_yaml_replaces_the_config(page: Callable[[str], AppTest]) -> None:
    at = page("configuration").run()
    at.file_uploader(key="cfg_upload").upload("team.json", b'{"num_agents": 4, "arrivals": {"rate_per_day": 30}}').run()
    assert not _errors(at)
    config = at.session_state["config"]
    assert (config.num_agents, config.arrivals.rate_per_day) == (4, 30.0)
    assert at.session_state["config_name"] == "imported from team.json"
    assert at.number_input(key="cfg:num_agents").value == 4

    hard_yaml = EnvironmentConfig.preset("hard").to_yaml()
    at.text_area(key="cfg_import_text").set_value(hard_yaml).run()
    at.button(key="cfg_import_button").click().run()
    assert at.session_state["config"] == EnvironmentConfig.preset("hard")
    assert at.number_input(key="cfg:service.cv").value == EnvironmentConfig.preset("hard").service.cv
