"""Typed, validated configuration: :class:`EnvironmentConfig`, its presets and objectives, and loading.

Every parameter of the environment lives in :class:`EnvironmentConfig`, a frozen dataclass
with nested sections (:mod:`.config_sections`). Times are in hours, rates in tickets per day,
probabilities in [0, 1]. Mixes and per-category values are keyed by name in dictionaries and YAML,
and stored as tuples in the order of :data:`TICKET_TYPES` and :data:`PRIORITIES`; fields are typed
as stored, and mappings are accepted at the input boundary (``from_dict``, ``from_yaml``,
``replace``, :func:`resolve_config`).

Construction validates everything; ``from_dict`` / ``from_yaml`` also reject unknown keys.
Every error is a :class:`ConfigError` (a ``ValueError``, :mod:`.validation`) that names the field,
a bounded preview of the value (:func:`.safe_yaml.preview`) and what is allowed.

This module also re-exports the names the rest of the package imports from it: the name tuples and
bounds, the sections, and the records :class:`Ticket` and :class:`Agent` (:mod:`.records`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rl_environments.ticket_routing.core import safe_yaml
from rl_environments.ticket_routing.core.config_sections import (
    BUSINESS_WEEK_PROFILE,
    MAX_PRIORITY_WEIGHT_RATIO,
    MAX_PROFILE_VALUE,
    MAX_RATE_PER_DAY,
    MAX_TICKET_WORK_HOURS,
    MIN_RATE_PER_DAY,
    PRIORITIES,
    REWARD_COMPONENTS,
    SERVICE_DISTRIBUTIONS,
    TICKET_TYPES,
    WEEKDAYS,
    AgentConfig,
    ArrivalConfig,
    ConfigSection,
    CsatConfig,
    RewardConfig,
    ServiceConfig,
    SlaConfig,
)
from rl_environments.ticket_routing.core.records import Agent, Ticket
from rl_environments.ticket_routing.core.validation import ConfigError, fail, in_range, integer, key_name, store

__all__ = [
    "BUSINESS_WEEK_PROFILE",
    "DEFAULT_CONFIG_PATH",
    "MAX_PRIORITY_WEIGHT_RATIO",
    "MAX_PROFILE_VALUE",
    "MAX_RATE_PER_DAY",
    "MAX_TICKET_WORK_HOURS",
    "MIN_RATE_PER_DAY",
    "OBJECTIVES_DIR",
    "PRESETS_DIR",
    "PRIORITIES",
    "REWARD_COMPONENTS",
    "SERVICE_DISTRIBUTIONS",
    "TICKET_TYPES",
    "WEEKDAYS",
    "Agent",
    "AgentConfig",
    "ArrivalConfig",
    "ConfigError",
    "ConfigLike",
    "ConfigSection",
    "CsatConfig",
    "EnvironmentConfig",
    "RewardConfig",
    "ServiceConfig",
    "SlaConfig",
    "Ticket",
    "load_yaml_mapping",
    "resolve_config",
]

_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
PRESETS_DIR = _CONFIG_DIR / "presets"
OBJECTIVES_DIR = _CONFIG_DIR / "objectives"
DEFAULT_CONFIG_PATH = _CONFIG_DIR / "default_config.yaml"

_SECTIONS: dict[str, type[ConfigSection]] = {
    "arrivals": ArrivalConfig,
    "agents": AgentConfig,
    "service": ServiceConfig,
    "sla": SlaConfig,
    "csat": CsatConfig,
    "reward": RewardConfig,
}


# --------------------------------------------------------------------------- the config
@dataclass(frozen=True)
class EnvironmentConfig:
    """Every parameter of ``TicketRouting-v0``.

    Fields are typed as stored: each section is its dataclass, each vector a tuple. Build a config
    from plain data (section mappings, vectors keyed by name) with :meth:`from_dict`, :meth:`replace`,
    :meth:`from_yaml` or :func:`resolve_config`; direct construction also accepts a mapping for a
    section at run time (as before), but type checkers accept only the section classes there.

    >>> EnvironmentConfig(num_agents=10, episode_length=2000, max_queue_size=100).num_agents
    10
    """

    num_agents: int = 14
    """Number of support agents (the size of the action space). 14 agents of 9-hour weekday
    shifts can serve the default load comfortably when tickets go to the right people, and only
    just when they do not (see docs/calibration.md)."""
    episode_length: int = 1500
    """Routing decisions per episode; the episode is truncated after this many steps. 1500 is about
    five weeks at the default load: several weekends, and time for a backlog to show."""
    max_queue_size: int = 200
    """Waiting tickets the queue holds; arrivals beyond it are rejected and counted. 200 holds
    more than three weekdays of tickets, so a weekend never overflows it."""
    max_workload: int = 10
    """Open tickets an agent can hold at once."""
    max_invalid_retries: int = 3
    """Consecutive invalid actions after which the clock moves to the next event."""
    start_hour_of_week: int = 0
    """Clock position at reset, in hours since Monday 00:00."""
    max_ticket_age_hours: float = 720.0
    """Cap of the ``ticket_age`` observation (hours); the true age is kept internally."""
    arrivals: ArrivalConfig = field(default_factory=ArrivalConfig)
    agents: AgentConfig = field(default_factory=AgentConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    csat: CsatConfig = field(default_factory=CsatConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)

    def __post_init__(self) -> None:
        for name, low, high in (
            ("num_agents", 1, 1000),
            ("episode_length", 1, 10_000_000),
            ("max_queue_size", 1, 100_000),
            ("max_workload", 1, 1000),
            ("max_invalid_retries", 1, 1000),
            ("start_hour_of_week", 0, 167),
        ):
            store(self, name, integer(name, getattr(self, name), low, high))
        store(
            self,
            "max_ticket_age_hours",
            in_range("max_ticket_age_hours", self.max_ticket_age_hours, 0.0, 1e6, low_open=True),
        )
        for name, cls in _SECTIONS.items():
            value = getattr(self, name)
            if isinstance(value, Mapping):
                store(self, name, cls.from_dict(value))
            elif not isinstance(value, cls):
                raise fail(name, value, f"expected a {cls.__name__} or a mapping")
        matrix = self.agents.expertise
        if matrix is not None and len(matrix) != self.num_agents:
            raise fail(
                "agents.expertise",
                f"{len(matrix)} rows",
                f"needs one row per agent (num_agents = {self.num_agents})",
            )

    # ----------------------------------------------------------------- dict / YAML
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvironmentConfig:
        """Build a config from plain data; missing keys keep their defaults, unknown keys fail."""
        if not isinstance(data, Mapping):
            raise fail("config", data, "expected a mapping of settings")
        allowed = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in allowed:
                raise fail(key_name("", key), data[key], f"unknown key; allowed keys: {', '.join(allowed)}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in _SECTIONS:
                kwargs[key] = _SECTIONS[key].from_dict(value)
            else:
                kwargs[key] = value
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML/JSON-friendly data; ``from_dict(c.to_dict()) == c``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, ConfigSection) else value
        return out

    def changes(self, other: EnvironmentConfig | None = None) -> dict[str, Any]:
        """The entries of :meth:`to_dict` that differ from ``other`` (default: the defaults), in config
        order; of a section, only its changed fields. ``other.replace(**c.changes(other)) == c``.

        >>> EnvironmentConfig(num_agents=3).changes()
        {'num_agents': 3}
        """
        ref = (other if other is not None else EnvironmentConfig()).to_dict()
        out: dict[str, Any] = {}
        for key, value in self.to_dict().items():
            if key in _SECTIONS:
                changed = {k: v for k, v in value.items() if v != ref[key].get(k)}
                if changed:
                    out[key] = changed
            elif value != ref[key]:
                out[key] = value
        return out

    def diff(self, other: EnvironmentConfig | None = None) -> list[str]:
        """Names of the settings that differ from ``other`` (default: the defaults): the keys of
        :meth:`changes`, section fields as ``section.field`` (``["num_agents", "arrivals.rate_per_day"]``)."""
        names: list[str] = []
        for key, value in self.changes(other).items():
            if key in _SECTIONS:
                names.extend(f"{key}.{name}" for name in value)
            else:
                names.append(key)
        return names

    @classmethod
    def from_yaml(cls, path: str | Path) -> EnvironmentConfig:
        """Read a YAML file (safe loader only); see :meth:`from_dict`."""
        return cls.from_dict(load_yaml_mapping(Path(path)))

    @classmethod
    def from_yaml_text(cls, text: str, source: str = "<text>") -> EnvironmentConfig:
        """Parse YAML (or JSON, a subset of YAML) text with the safe reader (:mod:`.safe_yaml`)."""
        return cls.from_dict(safe_yaml.load_yaml_mapping(text, source))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Return the config as YAML text, and write it to ``path`` if given."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, width=100)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def replace(self, **changes: Any) -> EnvironmentConfig:
        """A copy with top-level fields changed; section mappings are merged into the current section."""
        data = self.to_dict()
        for key, value in changes.items():
            if key in _SECTIONS and isinstance(value, Mapping):
                data[key] = {**data[key], **value}
            elif isinstance(value, ConfigSection):
                data[key] = value.to_dict()
            else:
                data[key] = value
        return EnvironmentConfig.from_dict(data)

    # ----------------------------------------------------------------- presets
    @staticmethod
    def preset_names() -> tuple[str, ...]:
        """Names of the shipped presets (files in ``config/presets``)."""
        return tuple(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))

    @classmethod
    def preset(cls, name: str) -> EnvironmentConfig:
        """A shipped preset: the defaults changed by ``config/presets/<name>.yaml``."""
        names = cls.preset_names()
        if name not in names:
            raise fail("preset", name, f"known presets: {', '.join(names)}")
        return cls.from_yaml(PRESETS_DIR / f"{name}.yaml")

    @staticmethod
    def objective_names() -> tuple[str, ...]:
        """Names of the shipped objectives (files in ``config/objectives``: a ``reward`` section each)."""
        return tuple(sorted(p.stem for p in OBJECTIVES_DIR.glob("*.yaml")))

    def with_objective(self, name: str) -> EnvironmentConfig:
        """A copy whose ``reward`` section is the shipped objective ``name`` (others unchanged)."""
        names = self.objective_names()
        if name not in names:
            raise fail("objective", name, f"known objectives: {', '.join(names)}")
        data = load_yaml_mapping(OBJECTIVES_DIR / f"{name}.yaml")
        if set(data) != {"reward"}:
            raise ValueError(f"objective {name}: expected only a 'reward' section, got {', '.join(map(str, data))}")
        return self.replace(reward=RewardConfig.from_dict(data["reward"]))

    @classmethod
    def named(cls, name: str) -> EnvironmentConfig:
        """A preset, an objective on the default scenario, or ``"preset+objective"`` (``"hard+resolution_sla"``)."""
        scenario, _, objective = name.partition("+")
        if not objective and scenario in cls.objective_names():
            return cls().with_objective(scenario)
        config = cls.preset(scenario)
        return config.with_objective(objective) if objective else config

    @classmethod
    def default(cls) -> EnvironmentConfig:
        """The shipped ``default_config.yaml`` (equal to ``EnvironmentConfig()``)."""
        return cls.from_yaml(DEFAULT_CONFIG_PATH)


def load_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file with the safe reader (:mod:`.safe_yaml`) and require a mapping at the top."""
    return safe_yaml.load_yaml_mapping(Path(path))


ConfigLike = EnvironmentConfig | Mapping[str, Any] | str | Path | None
"""What the environments, ``evaluate`` and the adapters accept as a configuration."""


def resolve_config(config: ConfigLike = None, **overrides: Any) -> EnvironmentConfig:
    """An :class:`EnvironmentConfig` from a config, a mapping, a preset name or a YAML path,
    with keyword overrides (top-level fields, or section mappings merged into the section)."""
    if config is None:
        cfg = EnvironmentConfig()
    elif isinstance(config, EnvironmentConfig):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = EnvironmentConfig.from_dict(config)
    elif isinstance(config, (str, Path)):
        name = str(config)
        scenario = name.partition("+")[0]
        if scenario in EnvironmentConfig.preset_names() or scenario in EnvironmentConfig.objective_names():
            cfg = EnvironmentConfig.named(name)
        else:
            cfg = EnvironmentConfig.from_yaml(name)
    else:
        raise ValueError(
            f"config: invalid value {config!r}; expected an EnvironmentConfig, a mapping, a preset name or a YAML path"
        )
    return cfg.replace(**overrides) if overrides else cfg
