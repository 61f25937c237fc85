"""The sections of :class:`.EnvironmentConfig`, the names they are keyed by, and their bounds.

Each section is a frozen dataclass whose fields are annotated with what is stored after validation:
per-type and per-priority values are tuples in the order of :data:`TICKET_TYPES` and
:data:`PRIORITIES`, the weekly profile a 7 x 24 tuple of tuples, the expertise matrix a tuple of
rows. Mappings keyed by name (as in dictionaries and YAML) are accepted at the input boundary:
:meth:`ConfigSection.from_dict`, :meth:`.EnvironmentConfig.from_dict`, :meth:`.EnvironmentConfig.replace`,
YAML loading and :func:`.resolve_config`.

The bounds keep every step finite: see :data:`MAX_TICKET_WORK_HOURS`, :data:`MAX_PRIORITY_WEIGHT_RATIO`
and the arrival rate range.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from rl_environments.ticket_routing.core.validation import (
    fail,
    in_range,
    integer,
    key_name,
    mix,
    named_vector,
    pair,
    plain,
    store,
)

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


S = TypeVar("S", bound="ConfigSection")


class ConfigSection:
    """Shared strict ``from_dict`` / ``to_dict`` of the config sections.

    Fields are annotated with what is stored after validation (tuples of floats, a tuple of
    tuples...). Build a section from plain data (mappings keyed by name, lists) with
    :meth:`from_dict`, which type-checks. Direct construction validates and normalises the same
    forms at run time, so ``ArrivalConfig(priority_mix={"critical": 0.1, ...})`` keeps working
    and stores a tuple, but type checkers accept only the stored types there.
    """

    _section: ClassVar[str] = ""
    _named: ClassVar[dict[str, tuple[str, ...]]] = {}

    @classmethod
    def from_dict(cls: type[S], data: Mapping[str, Any]) -> S:
        """A section from plain data; mappings keyed by name become tuples, unknown keys fail.

        >>> SlaConfig.from_dict({"resolution_hours": {"critical": 4, "high": 8, "medium": 24, "low": 48}})
        SlaConfig(resolution_hours=(4.0, 8.0, 24.0, 48.0))
        """
        prefix = cls._section
        if not isinstance(data, Mapping):
            raise fail(prefix, data, "expected a mapping of settings")
        allowed = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key in data:
            if key not in allowed:
                raise fail(key_name(prefix, key), data[key], f"unknown key; allowed keys: {', '.join(allowed)}")
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
                out[f.name] = plain(value)
        return out


@dataclass(frozen=True)
class ArrivalConfig(ConfigSection):
    """How tickets arrive: a (possibly non-homogeneous) Poisson process.

    Typed as stored; build it from mappings keyed by name with :meth:`~ConfigSection.from_dict`
    (direct construction also normalises them at run time: see :class:`ConfigSection`).
    """

    rate_per_day: float = 42.0
    """Mean arrivals per day (tickets/day), averaged over the week. The default 42 (294 a week)
    gives about 56 tickets on a weekday with the default profile: the brief's "50+ a day"."""
    type_mix: tuple[float, ...] = (0.30, 0.20, 0.15, 0.20, 0.15)
    """Probability of each ticket type (keys: TICKET_TYPES); sums to 1. Technical questions are
    the most common B2B tickets, integrations and feature requests the least."""
    priority_mix: tuple[float, ...] = (0.05, 0.20, 0.45, 0.30)
    """Probability of each priority (keys: PRIORITIES); sums to 1. Few outages (5% critical),
    most tickets medium or low."""
    weekly_profile: tuple[tuple[float, ...], ...] | None = BUSINESS_WEEK_PROFILE
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
        store(
            self,
            "rate_per_day",
            in_range(f"{p}.rate_per_day", self.rate_per_day, MIN_RATE_PER_DAY, MAX_RATE_PER_DAY),
        )
        store(self, "type_mix", mix(f"{p}.type_mix", self.type_mix, TICKET_TYPES))
        store(self, "priority_mix", mix(f"{p}.priority_mix", self.priority_mix, PRIORITIES))
        if self.weekly_profile is not None:
            store(self, "weekly_profile", _weekly_profile(f"{p}.weekly_profile", self.weekly_profile))


def _weekly_profile(name: str, value: object) -> tuple[tuple[float, ...], ...]:
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in WEEKDAYS]
        if unknown:
            raise fail(
                key_name(name, unknown[0]), value[unknown[0]], f"unknown weekday; allowed: {', '.join(WEEKDAYS)}"
            )
        missing = [d for d in WEEKDAYS if d not in value]
        if missing:
            raise fail(name, "...", f"missing weekday(s) {', '.join(missing)}")
        rows: list[object] = [value[d] for d in WEEKDAYS]
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 7:
        rows = list(value)
    else:
        raise fail(name, value, "expected a mapping weekday -> 24 hourly intensities")
    out: list[tuple[float, ...]] = []
    for day, row in zip(WEEKDAYS, rows, strict=True):
        if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != 24:
            raise fail(f"{name}.{day}", row, "expected a list of 24 non-negative hourly intensities")
        out.append(tuple(in_range(f"{name}.{day}[{h}]", v, 0.0, MAX_PROFILE_VALUE) for h, v in enumerate(row)))
    if sum(sum(r) for r in out) <= 0.0:
        raise fail(name, "all zeros", "at least one hour must have a positive intensity")
    return tuple(out)


@dataclass(frozen=True)
class AgentConfig(ConfigSection):
    """The agent pool: expertise and working hours.

    Typed as stored; build it from mappings keyed by name with :meth:`~ConfigSection.from_dict`
    (direct construction also normalises them at run time: see :class:`ConfigSection`).
    """

    expertise_range: tuple[float, float] = (0.2, 0.6)
    """Uniform range of an agent's expertise on types outside its specialties: a generalist
    works at 40-70% of a specialist's speed (with ``service.min_speed = 0.25``)."""
    specialist_range: tuple[float, float] = (0.8, 1.0)
    """Uniform range of an agent's expertise on each of its specialties."""
    specialties_per_agent: int = 1
    """Number of ticket types (drawn at random) each agent is a specialist in (0-5). One: with 14
    agents each type has about three specialists, so matching matters but cannot carry all load."""
    expertise: tuple[tuple[float, ...], ...] | None = None
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
        store(self, "expertise_range", pair(f"{p}.expertise_range", self.expertise_range, 0.0, 1.0))
        store(self, "specialist_range", pair(f"{p}.specialist_range", self.specialist_range, 0.0, 1.0))
        for name, low, high in (
            ("specialties_per_agent", 0, len(TICKET_TYPES)),
            ("shift_start_hour", 0, 23),
            ("shift_hours", 1, 24),
            ("shift_stagger_hours", 0, 23),
        ):
            store(self, name, integer(f"{p}.{name}", getattr(self, name), low, high))
        store(self, "work_days", _work_days(f"{p}.work_days", self.work_days))
        store(self, "expert_threshold", in_range(f"{p}.expert_threshold", self.expert_threshold, 0.0, 1.0))
        if self.expertise is not None:
            store(self, "expertise", _expertise_matrix(f"{p}.expertise", self.expertise))


def _work_days(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise fail(name, value, f"expected a non-empty list drawn from {', '.join(WEEKDAYS)}")
    for day in value:
        if day not in WEEKDAYS:
            raise fail(name, day, f"unknown weekday; allowed: {', '.join(WEEKDAYS)}")
    if len(set(value)) != len(value):
        raise fail(name, list(value), "weekdays must not repeat")
    return tuple(str(day) for day in value)  # plain str (NumPy strings break YAML)


def _expertise_matrix(name: str, value: object) -> tuple[tuple[float, ...], ...]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence) or not value:
        raise fail(name, value, "expected a list with one row of 5 expertise values per agent")
    return tuple(named_vector(f"{name}[{i}]", row, TICKET_TYPES, 0.0, 1.0) for i, row in enumerate(value))


@dataclass(frozen=True)
class ServiceConfig(ConfigSection):
    """How long tickets take to resolve once assigned (processor sharing per agent).

    Typed as stored; build it from mappings keyed by name with :meth:`~ConfigSection.from_dict`
    (direct construction also normalises them at run time: see :class:`ConfigSection`).
    """

    base_effort_hours: tuple[float, ...] = (1.0, 0.5, 0.75, 1.5, 2.0)
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
    priority_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    """Share of an agent's attention per open ticket, by priority (keys: PRIORITIES): a ticket gets
    ``w[p] / sum of w over the agent's open tickets`` of the agent's capacity. Equal weights (the
    default) is plain processor sharing; e.g. 8/4/2/1 lets agents work urgent tickets first."""

    _section: ClassVar[str] = "service"
    _named: ClassVar[dict[str, tuple[str, ...]]] = {"base_effort_hours": TICKET_TYPES, "priority_weights": PRIORITIES}

    def __post_init__(self) -> None:
        p = self._section
        efforts = named_vector(f"{p}.base_effort_hours", self.base_effort_hours, TICKET_TYPES, 0.0, 1e4, low_open=True)
        store(self, "base_effort_hours", efforts)
        if not isinstance(self.distribution, str) or self.distribution not in SERVICE_DISTRIBUTIONS:
            raise fail(f"{p}.distribution", self.distribution, f"allowed: {', '.join(SERVICE_DISTRIBUTIONS)}")
        store(self, "distribution", str(self.distribution))
        store(self, "cv", in_range(f"{p}.cv", self.cv, 0.0, 10.0, low_open=True))
        min_speed = in_range(f"{p}.min_speed", self.min_speed, 0.0, 1.0, low_open=True)
        store(self, "min_speed", min_speed)
        store(self, "switching_overhead", in_range(f"{p}.switching_overhead", self.switching_overhead, 0.0, 1.0))
        weights = named_vector(f"{p}.priority_weights", self.priority_weights, PRIORITIES, 0.0, 1e3, low_open=True)
        store(self, "priority_weights", weights)
        work = max(efforts) / min_speed
        if work > MAX_TICKET_WORK_HOURS:
            raise fail(
                f"{p}.base_effort_hours / {p}.min_speed",
                f"{max(efforts):g} / {min_speed:g} = {work:g} hours",
                f"one ticket's mean work for the slowest agent (MAX_TICKET_WORK_HOURS) must be at most "
                f"{MAX_TICKET_WORK_HOURS:g} hours",
            )
        ratio = max(weights) / min(weights)
        if ratio > MAX_PRIORITY_WEIGHT_RATIO:
            raise fail(
                f"{p}.priority_weights",
                dict(zip(PRIORITIES, weights, strict=True)),
                f"the largest weight may be at most MAX_PRIORITY_WEIGHT_RATIO = {MAX_PRIORITY_WEIGHT_RATIO:g} times "
                f"the smallest (here {ratio:.3g} times)",
            )


@dataclass(frozen=True)
class SlaConfig(ConfigSection):
    """Resolution-time targets per priority.

    Typed as stored; build it from mappings keyed by name with :meth:`~ConfigSection.from_dict`
    (direct construction also normalises them at run time: see :class:`ConfigSection`).
    """

    resolution_hours: tuple[float, ...] = (8.0, 24.0, 72.0, 120.0)
    """Target hours from arrival to resolution, per priority (keys: PRIORITIES): calendar hours,
    as B2B SaaS support plans commonly state them (8 h, 1 day, 3 days, 5 days)."""

    _section: ClassVar[str] = "sla"
    _named: ClassVar[dict[str, tuple[str, ...]]] = {"resolution_hours": PRIORITIES}

    def __post_init__(self) -> None:
        store(
            self,
            "resolution_hours",
            named_vector("sla.resolution_hours", self.resolution_hours, PRIORITIES, 0.0, 1e5, low_open=True),
        )


@dataclass(frozen=True)
class CsatConfig(ConfigSection):
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
        store(self, "intercept", in_range("csat.intercept", self.intercept, -20.0, 20.0))
        store(self, "expertise_coef", in_range("csat.expertise_coef", self.expertise_coef, 0.0, 20.0))
        store(self, "sla_ratio_coef", in_range("csat.sla_ratio_coef", self.sla_ratio_coef, 0.0, 20.0))


@dataclass(frozen=True)
class RewardConfig(ConfigSection):
    """Reward weights. Each name is also a key of ``info["reward_components"]``.

    reward = assignment + expertise - resolution - imbalance - invalid_action - rejection
             - holding - sla_breach

    ``holding`` and ``sla_breach`` are 0 by default; the ``resolution_sla`` objective
    (:meth:`EnvironmentConfig.with_objective`) uses only them, so the return measures what a
    support team measures: hours tickets spend in the system and SLA breaches.

    Typed as stored; build it from mappings keyed by name with :meth:`~ConfigSection.from_dict`
    (direct construction also normalises them at run time: see :class:`ConfigSection`).
    """

    assignment: float = 10.0
    """Base reward for each valid assignment."""
    expertise: float = 5.0
    """Bonus per unit of the chosen agent's expertise for the ticket type."""
    resolution: float = 0.1
    """Penalty per resolution hour, times the priority multiplier, charged when a ticket resolves."""
    priority_multipliers: tuple[float, ...] = (4.0, 2.0, 1.0, 0.5)
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
        for name in REWARD_COMPONENTS:  # each component has a weight of the same name
            store(self, name, in_range(f"reward.{name}", getattr(self, name), 0.0, 1e6))
        store(
            self,
            "priority_multipliers",
            named_vector("reward.priority_multipliers", self.priority_multipliers, PRIORITIES, 0.0, 1e3),
        )
        store(self, "imbalance_threshold", in_range("reward.imbalance_threshold", self.imbalance_threshold, 0.0, 1e3))
