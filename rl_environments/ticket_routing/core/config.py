"""Typed, validated configuration and the people-facing records of the simulation.

Every parameter of the environment lives in :class:`EnvironmentConfig`, a frozen dataclass
with nested sections. Times are in hours, rates in tickets per day, probabilities in [0, 1].
Mixes and per-category values are keyed by name in dictionaries and YAML, and stored as
tuples in the order of :data:`TICKET_TYPES` and :data:`PRIORITIES`.

Construction validates everything; ``from_dict`` / ``from_yaml`` also reject unknown keys.
Every error is a :class:`ConfigError` (a ``ValueError``) that names the field, a bounded preview of
the value (:func:`.safe_yaml.preview`) and what is allowed. The bounds also keep every step finite:
see :data:`MAX_TICKET_WORK_HOURS`, :data:`MAX_PRIORITY_WEIGHT_RATIO` and the arrival rate range.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from rl_environments.ticket_routing.core import safe_yaml

TICKET_TYPES: tuple[str, ...] = (
    "technical",
    "billing",
    "feature_request",
    "bug_report",
    "integration",
)
"""Ticket types, in the order used by arrays and observations."""

PRIORITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
"""Priority levels, most urgent first (index 0 is served first)."""

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

SERVICE_DISTRIBUTIONS: tuple[str, ...] = ("exponential", "lognormal", "deterministic")


def _business_week_profile() -> tuple[tuple[float, ...], ...]:
    """Relative arrival intensity of a B2B customer base, Monday 00:00 first (see docs/calibration.md).

    Weekdays: 1.0 from 08:00 to 18:00 (customers' office hours), 0.3 in the shoulders 06-08 and
    18-22, 0.05 at night. Weekends: 0.1 from 08:00 to 20:00, 0.03 otherwise. So 78% of tickets
    arrive in weekday office hours and 5% at weekends, and a weekday gets 1.33x the weekly mean.
    """
    weekday = tuple(1.0 if 8 <= h < 18 else 0.3 if (6 <= h < 8 or 18 <= h < 22) else 0.05 for h in range(24))
    weekend = tuple(0.1 if 8 <= h < 20 else 0.03 for h in range(24))
    return (weekday,) * 5 + (weekend,) * 2


BUSINESS_WEEK_PROFILE: tuple[tuple[float, ...], ...] = _business_week_profile()
"""The default weekly arrival profile (7 x 24)."""

_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
PRESETS_DIR = _CONFIG_DIR / "presets"
OBJECTIVES_DIR = _CONFIG_DIR / "objectives"
DEFAULT_CONFIG_PATH = _CONFIG_DIR / "default_config.yaml"


MIN_RATE_PER_DAY = 1e-3
"""Lowest ``arrivals.rate_per_day`` accepted: one ticket in about three years."""
MAX_RATE_PER_DAY = 1e6
"""Highest ``arrivals.rate_per_day`` accepted. Steps stay bounded at any rate: the simulation
raises ``SimulationBudgetError`` if one decision would need too many events."""
MAX_PROFILE_VALUE = 1e6
"""Largest hourly intensity of ``arrivals.weekly_profile`` (values are relative; 1e6 allows any
realistic peak-to-trough ratio while the weekly sum stays far from overflow)."""
MAX_TICKET_WORK_HOURS = 10_000.0
"""Largest mean work of one ticket for the slowest agent, ``max(service.base_effort_hours) /
service.min_speed``, in hours (about 14 months): so every ticket can finish in bounded time."""
MAX_PRIORITY_WEIGHT_RATIO = 1e6
"""Largest ratio of the biggest to the smallest ``service.priority_weights``; weighted sharing is
exact up to this ratio (tested at the bound)."""


class ConfigError(ValueError):
    """An invalid configuration value: the message names the field, the value and what is allowed."""


# --------------------------------------------------------------------------- validation helpers
def _fail(name: str, value: object, allowed: str) -> ConfigError:
    """The error of every validation: the value is quoted through a bounded preview."""
    return ConfigError(f"{_bounded_name(name)}: invalid value {safe_yaml.preview(value)}; {allowed}")


def _bounded_name(name: str, limit: int = 160) -> str:
    return name if len(name) <= limit else name[: limit - 3] + "..."


def _key(prefix: str, key: object) -> str:
    """``prefix.key`` for a key read from user data (bounded in length)."""
    text = key if isinstance(key, str) else safe_yaml.preview(key, 60)
    return f"{prefix}.{text[:60]}" if prefix else text[:60]


def _number(name: str, value: object) -> float:
    # numbers.Real also admits NumPy's integer and floating scalars.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or type(value).__name__ == "bool_":
        raise _fail(name, value, "expected a number")
    try:
        result = float(value)
    except (OverflowError, ValueError):
        raise _fail(name, value, "expected a finite number") from None
    if not math.isfinite(result):
        raise _fail(name, value, "expected a finite number")
    return result


def _integer(name: str, value: object, low: int, high: int | None = None) -> int:
    # numbers.Integral also admits NumPy's integer scalars; the result is always a plain int.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or type(value).__name__ == "bool_":
        raise _fail(name, value, "expected an integer")
    number = int(value)
    if number < low or (high is not None and number > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise _fail(name, value, f"must be an integer {bound}")
    return number


def _in_range(
    name: str,
    value: object,
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
) -> float:
    number = _number(name, value)
    if number < low or (low_open and number == low) or number > high:
        left = "(" if low_open else "["
        raise _fail(name, value, f"must lie in {left}{low}, {high}]")
    return number


def _named_vector(
    name: str,
    value: object,
    names: tuple[str, ...],
    low: float,
    high: float = math.inf,
    *,
    low_open: bool = False,
) -> tuple[float, ...]:
    """Accept a mapping keyed by ``names`` (exactly those keys) or a sequence in that order."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise _fail(_key(name, unknown[0]), value[unknown[0]], f"unknown key; allowed keys: {', '.join(names)}")
        missing = [k for k in names if k not in value]
        if missing:
            raise _fail(
                name, dict(value), f"missing key(s) {', '.join(missing)}; every one of {', '.join(names)} is required"
            )
        items = [value[k] for k in names]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != len(names):
            raise _fail(name, value, f"expected {len(names)} values ({', '.join(names)})")
        items = list(value)
    else:
        raise _fail(name, value, f"expected a mapping with keys {', '.join(names)}")
    return tuple(
        _in_range(f"{name}.{key}", item, low, high, low_open=low_open) for key, item in zip(names, items, strict=True)
    )


def _mix(name: str, value: object, names: tuple[str, ...]) -> tuple[float, ...]:
    probs = _named_vector(name, value, names, 0.0, 1.0)
    if abs(sum(probs) - 1.0) > 1e-6:
        raise _fail(
            name, dict(zip(names, probs, strict=True)), f"probabilities must sum to 1 (they sum to {sum(probs):.6g})"
        )
    return probs


def _pair(name: str, value: object, low: float, high: float) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise _fail(name, value, "expected a pair [low, high]")
    lo = _in_range(f"{name}[0]", value[0], low, high)
    hi = _in_range(f"{name}[1]", value[1], low, high)
    if lo > hi:
        raise _fail(name, value, "low must not exceed high")
    return (lo, hi)


def _set(obj: object, attr: str, value: object) -> None:
    object.__setattr__(obj, attr, value)


def _plain(value: object) -> object:
    """Convert a config value into YAML/JSON-friendly built-ins."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- sections
class _Section:
    """Shared strict ``from_dict`` / ``to_dict`` for config sections."""

    _section: ClassVar[str] = ""
    _named: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def _from_mapping(cls, data: object, prefix: str) -> Any:
        if not isinstance(data, Mapping):
            raise _fail(prefix, data, "expected a mapping of settings")
        allowed = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key in data:
            if key not in allowed:
                raise _fail(_key(prefix, key), data[key], f"unknown key; allowed keys: {', '.join(allowed)}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            names = self._named.get(f.name)
            if names is not None and value is not None:
                if f.name == "weekly_profile":
                    out[f.name] = {day: list(row) for day, row in zip(names, value, strict=True)}
                else:
                    out[f.name] = dict(zip(names, value, strict=True))
            elif f.name == "expertise" and isinstance(value, tuple):
                out[f.name] = [dict(zip(TICKET_TYPES, row, strict=True)) for row in value]
            else:
                out[f.name] = _plain(value)
        return out


@dataclass(frozen=True)
class ArrivalConfig(_Section):
    """How tickets arrive: a (possibly non-homogeneous) Poisson process."""

    rate_per_day: float = 42.0
    """Mean arrivals per day (tickets/day), averaged over the week. The default 42 (294 a week)
    gives about 56 tickets on a weekday with the default profile: the brief's "50+ a day"."""
    type_mix: tuple[float, ...] | Mapping[str, float] = (0.30, 0.20, 0.15, 0.20, 0.15)
    """Probability of each ticket type (keys: TICKET_TYPES); sums to 1. Technical questions are
    the most common B2B tickets, integrations and feature requests the least."""
    priority_mix: tuple[float, ...] | Mapping[str, float] = (0.05, 0.20, 0.45, 0.30)
    """Probability of each priority (keys: PRIORITIES); sums to 1. Few outages (5% critical),
    most tickets medium or low."""
    weekly_profile: tuple[tuple[float, ...], ...] | Mapping[str, Sequence[float]] | None = BUSINESS_WEEK_PROFILE
    """Relative intensity per weekday and hour (7 x 24, Monday 00:00 first); ``None`` is flat.
    Rescaled so that its mean over the week is 1, so ``rate_per_day`` stays the mean rate.
    The default is :data:`BUSINESS_WEEK_PROFILE`: customers file tickets in their office hours."""

    _section: ClassVar[str] = "arrivals"
    _named: ClassVar[dict[str, tuple[str, ...]]] = {
        "type_mix": TICKET_TYPES,
        "priority_mix": PRIORITIES,
        "weekly_profile": WEEKDAYS,
    }

    def __post_init__(self) -> None:
        p = self._section
        _set(
            self,
            "rate_per_day",
            _in_range(f"{p}.rate_per_day", self.rate_per_day, MIN_RATE_PER_DAY, MAX_RATE_PER_DAY),
        )
        _set(self, "type_mix", _mix(f"{p}.type_mix", self.type_mix, TICKET_TYPES))
        _set(self, "priority_mix", _mix(f"{p}.priority_mix", self.priority_mix, PRIORITIES))
        if self.weekly_profile is not None:
            _set(self, "weekly_profile", _weekly_profile(f"{p}.weekly_profile", self.weekly_profile))


def _weekly_profile(name: str, value: object) -> tuple[tuple[float, ...], ...]:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in WEEKDAYS]
        if unknown:
            raise _fail(_key(name, unknown[0]), value[unknown[0]], f"unknown weekday; allowed: {', '.join(WEEKDAYS)}")
        missing = [d for d in WEEKDAYS if d not in value]
        if missing:
            raise _fail(name, "...", f"missing weekday(s) {', '.join(missing)}")
        rows: list[object] = [value[d] for d in WEEKDAYS]
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 7:
        rows = list(value)
    else:
        raise _fail(name, value, "expected a mapping weekday -> 24 hourly intensities")
    out: list[tuple[float, ...]] = []
    for day, row in zip(WEEKDAYS, rows, strict=True):
        if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != 24:
            raise _fail(f"{name}.{day}", row, "expected a list of 24 non-negative hourly intensities")
        out.append(tuple(_in_range(f"{name}.{day}[{h}]", v, 0.0, MAX_PROFILE_VALUE) for h, v in enumerate(row)))
    if sum(sum(r) for r in out) <= 0.0:
        raise _fail(name, "all zeros", "at least one hour must have a positive intensity")
    return tuple(out)


@dataclass(frozen=True)
class AgentConfig(_Section):
    """The agent pool: expertise and working hours."""

    expertise_range: tuple[float, float] = (0.2, 0.6)
    """Uniform range of an agent's expertise on types outside its specialties: a generalist
    works at 40-70% of a specialist's speed (with ``service.min_speed = 0.25``)."""
    specialist_range: tuple[float, float] = (0.8, 1.0)
    """Uniform range of an agent's expertise on each of its specialties."""
    specialties_per_agent: int = 1
    """Number of ticket types (drawn at random) each agent is a specialist in (0-5). One: with 14
    agents each type has about three specialists, so matching matters but cannot carry all load."""
    expertise: tuple[tuple[float, ...], ...] | Sequence[Any] | None = None
    """Optional fixed expertise matrix, one row per agent (list of 5 values or a mapping by type).
    When given, it is used every episode instead of drawing expertise."""
    shift_start_hour: int = 8
    """Hour of day (0-23) at which agent 0's shift starts. Default 08:00, the customers' morning."""
    shift_hours: int = 9
    """Length of a shift in hours (1-24); 24 means always online on working days. Default 9
    (08:00-17:00): one office-hours team, so tickets filed at night or at weekends wait."""
    shift_stagger_hours: int = 0
    """Agent i starts ``i * shift_stagger_hours`` later than agent 0 (follow-the-sun rotas)."""
    work_days: tuple[str, ...] = WEEKDAYS[:5]
    """Weekdays on which shifts start. Default Monday to Friday."""
    expert_threshold: float = 0.7
    """Expertise at or above which an assignment counts as an expertise match (KPI only)."""

    _section: ClassVar[str] = "agents"

    def __post_init__(self) -> None:
        p = self._section
        _set(self, "expertise_range", _pair(f"{p}.expertise_range", self.expertise_range, 0.0, 1.0))
        _set(self, "specialist_range", _pair(f"{p}.specialist_range", self.specialist_range, 0.0, 1.0))
        for name, low, high in (
            ("specialties_per_agent", 0, len(TICKET_TYPES)),
            ("shift_start_hour", 0, 23),
            ("shift_hours", 1, 24),
            ("shift_stagger_hours", 0, 23),
        ):
            _set(self, name, _integer(f"{p}.{name}", getattr(self, name), low, high))
        days = self.work_days
        if isinstance(days, str) or not isinstance(days, Sequence) or not days:
            raise _fail(f"{p}.work_days", days, f"expected a non-empty list drawn from {', '.join(WEEKDAYS)}")
        for day in days:
            if day not in WEEKDAYS:
                raise _fail(f"{p}.work_days", day, f"unknown weekday; allowed: {', '.join(WEEKDAYS)}")
        if len(set(days)) != len(days):
            raise _fail(f"{p}.work_days", list(days), "weekdays must not repeat")
        _set(self, "work_days", tuple(str(day) for day in days))  # plain str (NumPy strings break YAML)
        _set(self, "expert_threshold", _in_range(f"{p}.expert_threshold", self.expert_threshold, 0.0, 1.0))
        if self.expertise is not None:
            matrix = self.expertise
            if isinstance(matrix, (str, Mapping)) or not isinstance(matrix, Sequence) or not matrix:
                raise _fail(f"{p}.expertise", matrix, "expected a list with one row of 5 expertise values per agent")
            rows = tuple(
                _named_vector(f"{p}.expertise[{i}]", row, TICKET_TYPES, 0.0, 1.0) for i, row in enumerate(matrix)
            )
            _set(self, "expertise", rows)


@dataclass(frozen=True)
class ServiceConfig(_Section):
    """How long tickets take to resolve once assigned (processor sharing per agent)."""

    base_effort_hours: tuple[float, ...] | Mapping[str, float] = (1.0, 0.5, 0.75, 1.5, 2.0)
    """Mean work hours a fully expert agent (expertise 1) needs per ticket type (hands-on time,
    not elapsed time). Billing is quickest; bug reports and integrations need reproduction and
    debugging. With the default mix an expert needs 1.1 h per ticket, a random agent about 1.9 h."""
    distribution: str = "exponential"
    """Work distribution around the mean: exponential, lognormal or deterministic."""
    cv: float = 1.0
    """Coefficient of variation of the work for ``lognormal`` (ignored otherwise)."""
    min_speed: float = 0.25
    """Relative speed at expertise 0; speed = min_speed + (1 - min_speed) * expertise. A novice
    takes four times as long as a perfect expert."""
    switching_overhead: float = 0.05
    """Fraction of an agent's capacity lost per extra open ticket: rate = 1 / (1 + s * (n - 1)).
    With 10 open tickets an agent does 69% of the work it does on one: piling tickets costs."""
    priority_weights: tuple[float, ...] | Mapping[str, float] = (1.0, 1.0, 1.0, 1.0)
    """Share of an agent's attention per open ticket, by priority (keys: PRIORITIES): a ticket gets
    ``w[p] / sum of w over the agent's open tickets`` of the agent's capacity. Equal weights (the
    default) is plain processor sharing; e.g. 8/4/2/1 lets agents work urgent tickets first."""

    _section: ClassVar[str] = "service"
    _named: ClassVar[dict[str, tuple[str, ...]]] = {"base_effort_hours": TICKET_TYPES, "priority_weights": PRIORITIES}

    def __post_init__(self) -> None:
        p = self._section
        efforts = _named_vector(f"{p}.base_effort_hours", self.base_effort_hours, TICKET_TYPES, 0.0, 1e4, low_open=True)
        _set(self, "base_effort_hours", efforts)
        if not isinstance(self.distribution, str) or self.distribution not in SERVICE_DISTRIBUTIONS:
            raise _fail(f"{p}.distribution", self.distribution, f"allowed: {', '.join(SERVICE_DISTRIBUTIONS)}")
        _set(self, "distribution", str(self.distribution))
        _set(self, "cv", _in_range(f"{p}.cv", self.cv, 0.0, 10.0, low_open=True))
        min_speed = _in_range(f"{p}.min_speed", self.min_speed, 0.0, 1.0, low_open=True)
        _set(self, "min_speed", min_speed)
        _set(self, "switching_overhead", _in_range(f"{p}.switching_overhead", self.switching_overhead, 0.0, 1.0))
        weights = _named_vector(f"{p}.priority_weights", self.priority_weights, PRIORITIES, 0.0, 1e3, low_open=True)
        _set(self, "priority_weights", weights)
        work = max(efforts) / min_speed
        if work > MAX_TICKET_WORK_HOURS:
            raise _fail(
                f"{p}.base_effort_hours / {p}.min_speed",
                f"{max(efforts):g} / {min_speed:g} = {work:g} hours",
                f"one ticket's mean work for the slowest agent (MAX_TICKET_WORK_HOURS) must be at most "
                f"{MAX_TICKET_WORK_HOURS:g} hours",
            )
        ratio = max(weights) / min(weights)
        if ratio > MAX_PRIORITY_WEIGHT_RATIO:
            raise _fail(
                f"{p}.priority_weights",
                dict(zip(PRIORITIES, weights, strict=True)),
                f"the largest weight may be at most MAX_PRIORITY_WEIGHT_RATIO = {MAX_PRIORITY_WEIGHT_RATIO:g} times "
                f"the smallest (here {ratio:.3g} times)",
            )


@dataclass(frozen=True)
class SlaConfig(_Section):
    """Resolution-time targets per priority."""

    resolution_hours: tuple[float, ...] | Mapping[str, float] = (8.0, 24.0, 72.0, 120.0)
    """Target hours from arrival to resolution, per priority (keys: PRIORITIES): calendar hours,
    as B2B SaaS support plans commonly state them (8 h, 1 day, 3 days, 5 days)."""

    _section: ClassVar[str] = "sla"
    _named: ClassVar[dict[str, tuple[str, ...]]] = {"resolution_hours": PRIORITIES}

    def __post_init__(self) -> None:
        _set(
            self,
            "resolution_hours",
            _named_vector("sla.resolution_hours", self.resolution_hours, PRIORITIES, 0.0, 1e5, low_open=True),
        )


@dataclass(frozen=True)
class CsatConfig(_Section):
    """Customer satisfaction: P(satisfied) = logistic(intercept + expertise_coef * (e - 0.5)
    - sla_ratio_coef * resolution_hours / sla_target), sampled once per resolved ticket."""

    intercept: float = 2.5
    """Log-odds of satisfaction for an instant answer by an average agent (e = 0.5): 92%."""
    expertise_coef: float = 2.0
    """Log-odds gained per unit of expertise: a specialist (0.9) instead of a novice (0.3) adds 1.2."""
    sla_ratio_coef: float = 1.5
    """Log-odds lost per SLA target elapsed: a ticket resolved at its target loses 1.5 (92% -> 73%)."""

    _section: ClassVar[str] = "csat"

    def __post_init__(self) -> None:
        _set(self, "intercept", _in_range("csat.intercept", self.intercept, -20.0, 20.0))
        _set(self, "expertise_coef", _in_range("csat.expertise_coef", self.expertise_coef, 0.0, 20.0))
        _set(self, "sla_ratio_coef", _in_range("csat.sla_ratio_coef", self.sla_ratio_coef, 0.0, 20.0))


@dataclass(frozen=True)
class RewardConfig(_Section):
    """Reward weights. Each name is also a key of ``info["reward_components"]``.

    reward = assignment + expertise - resolution - imbalance - invalid_action - rejection
             - holding - sla_breach

    ``holding`` and ``sla_breach`` are 0 by default; the ``resolution_sla`` objective
    (:meth:`EnvironmentConfig.with_objective`) uses only them, so the return measures what a
    support team measures: hours tickets spend in the system and SLA breaches.
    """

    assignment: float = 10.0
    """Base reward for each valid assignment."""
    expertise: float = 5.0
    """Bonus per unit of the chosen agent's expertise for the ticket type."""
    resolution: float = 0.1
    """Penalty per resolution hour, times the priority multiplier, charged when a ticket resolves."""
    priority_multipliers: tuple[float, ...] | Mapping[str, float] = (4.0, 2.0, 1.0, 0.5)
    """Weight of each priority's resolution hours (keys: PRIORITIES)."""
    imbalance: float = 5.0
    """Penalty when the std of open tickets across agents exceeds ``imbalance_threshold``."""
    imbalance_threshold: float = 2.0
    """Threshold on the workload standard deviation (open tickets)."""
    invalid_action: float = 10.0
    """Penalty for choosing a full or offline agent (the ticket stays queued)."""
    rejection: float = 10.0
    """Penalty per ticket rejected because the queue was full."""
    holding: float = 0.0
    """Penalty per hour each open ticket (waiting or in service) spends in the system, times its
    priority multiplier, charged continuously: every step pays for the time since the last one."""
    sla_breach: float = 0.0
    """Penalty per ticket, charged in the step during which it passes its SLA target (resolved or not)."""

    _section: ClassVar[str] = "reward"
    _named: ClassVar[dict[str, tuple[str, ...]]] = {"priority_multipliers": PRIORITIES}

    def __post_init__(self) -> None:
        for name in (
            "assignment",
            "expertise",
            "resolution",
            "imbalance",
            "invalid_action",
            "rejection",
            "holding",
            "sla_breach",
        ):
            _set(self, name, _in_range(f"reward.{name}", getattr(self, name), 0.0, 1e6))
        _set(
            self,
            "priority_multipliers",
            _named_vector("reward.priority_multipliers", self.priority_multipliers, PRIORITIES, 0.0, 1e3),
        )
        _set(self, "imbalance_threshold", _in_range("reward.imbalance_threshold", self.imbalance_threshold, 0.0, 1e3))


REWARD_COMPONENTS: tuple[str, ...] = (
    "assignment",
    "expertise",
    "resolution",
    "imbalance",
    "invalid_action",
    "rejection",
    "holding",
    "sla_breach",
)
"""Names of the reward components, in the order of the reward arrays; signs are applied."""

_SECTIONS: dict[str, type[_Section]] = {
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
            _set(self, name, _integer(name, getattr(self, name), low, high))
        _set(
            self,
            "max_ticket_age_hours",
            _in_range("max_ticket_age_hours", self.max_ticket_age_hours, 0.0, 1e6, low_open=True),
        )
        for name, cls in _SECTIONS.items():
            value = getattr(self, name)
            if isinstance(value, Mapping):
                _set(self, name, cls._from_mapping(value, name))
            elif not isinstance(value, cls):
                raise _fail(name, value, f"expected a {cls.__name__} or a mapping")
        matrix = self.agents.expertise
        if matrix is not None and len(matrix) != self.num_agents:
            raise _fail(
                "agents.expertise",
                f"{len(matrix)} rows",
                f"needs one row per agent (num_agents = {self.num_agents})",
            )

    # ----------------------------------------------------------------- dict / YAML
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvironmentConfig:
        """Build a config from plain data; missing keys keep their defaults, unknown keys fail."""
        if not isinstance(data, Mapping):
            raise _fail("config", data, "expected a mapping of settings")
        allowed = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in allowed:
                raise _fail(_key("", key), data[key], f"unknown key; allowed keys: {', '.join(allowed)}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in _SECTIONS:
                kwargs[key] = _SECTIONS[key]._from_mapping(value, key)
            else:
                kwargs[key] = value
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain, YAML/JSON-friendly data; ``from_dict(c.to_dict()) == c``."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if isinstance(value, _Section) else value
        return out

    def diff(self, other: EnvironmentConfig | None = None) -> list[str]:
        """Names of the settings that differ from ``other`` (default: the defaults), in config order;
        section fields as ``section.field`` (``["num_agents", "arrivals.rate_per_day"]``)."""
        ref = (other if other is not None else EnvironmentConfig()).to_dict()
        out: list[str] = []
        for key, value in self.to_dict().items():
            if isinstance(value, dict) and isinstance(ref[key], dict):
                out.extend(f"{key}.{k}" for k, v in value.items() if v != ref[key].get(k))
            elif value != ref[key]:
                out.append(key)
        return out

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
            elif isinstance(value, _Section):
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
            raise _fail("preset", name, f"known presets: {', '.join(names)}")
        return cls.from_yaml(PRESETS_DIR / f"{name}.yaml")

    @staticmethod
    def objective_names() -> tuple[str, ...]:
        """Names of the shipped objectives (files in ``config/objectives``: a ``reward`` section each)."""
        return tuple(sorted(p.stem for p in OBJECTIVES_DIR.glob("*.yaml")))

    def with_objective(self, name: str) -> EnvironmentConfig:
        """A copy whose ``reward`` section is the shipped objective ``name`` (others unchanged)."""
        names = self.objective_names()
        if name not in names:
            raise _fail("objective", name, f"known objectives: {', '.join(names)}")
        data = load_yaml_mapping(OBJECTIVES_DIR / f"{name}.yaml")
        if set(data) != {"reward"}:
            raise ValueError(f"objective {name}: expected only a 'reward' section, got {', '.join(map(str, data))}")
        return self.replace(reward=RewardConfig._from_mapping(data["reward"], "reward"))

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


# --------------------------------------------------------------------------- records for people
@dataclass(frozen=True)
class Ticket:
    """A ticket as people see it (built on demand from the state arrays)."""

    ticket_type: str
    priority: str
    arrival_hours: float
    age_hours: float


@dataclass(frozen=True)
class Agent:
    """An agent as people see it (built on demand from the state arrays)."""

    agent_id: int
    expertise: dict[str, float]
    workload: int
    capacity: int
    online: bool

    @property
    def has_room(self) -> bool:
        return self.online and self.workload < self.capacity


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
