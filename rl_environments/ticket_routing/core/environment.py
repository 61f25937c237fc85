"""The Gymnasium environment ``TicketRouting-v0``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import (
    PRIORITIES,
    REWARD_COMPONENTS,
    TICKET_TYPES,
    Agent,
    ConfigLike,
    EnvironmentConfig,
    Ticket,
    resolve_config,
)
from rl_environments.ticket_routing.core.kpis import COUNT_KPIS, compute_kpis
from rl_environments.ticket_routing.core.observation import (
    ObservationBuilder,
    check_display,
    observation_space_for,
)
from rl_environments.ticket_routing.core.safe_yaml import preview
from rl_environments.ticket_routing.core.simulation import Simulation
from rl_environments.ticket_routing.core.state import F_CLOCK, I_DONE
from rl_environments.ticket_routing.core.typing import BoolArray

CONFIG_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(EnvironmentConfig))


class UnknownKeywordError(TypeError, ValueError):
    """An unknown keyword argument to an environment constructor.

    A ``TypeError`` like the one Python raises for any unexpected keyword (libraries such as
    TorchRL retry without keywords an env rejects that way), and a ``ValueError`` like every other
    configuration error of this package.
    """


def check_keywords(owner: str, overrides: Mapping[str, Any], arguments: Iterable[str]) -> None:
    """Raise :class:`UnknownKeywordError` for a keyword that is neither an argument nor a config field."""
    for key in overrides:
        if key not in CONFIG_FIELDS:
            allowed = ", ".join([*arguments, *CONFIG_FIELDS])
            raise UnknownKeywordError(
                f"{owner}() got an unexpected keyword argument {key!r}; allowed keywords: {allowed}"
            )


def episode_length_override(max_episode_steps: int | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` with ``max_episode_steps`` (Gymnasium's name) mapped to ``episode_length``."""
    if max_episode_steps is None:
        return overrides
    if "episode_length" in overrides and overrides["episode_length"] != max_episode_steps:
        raise ValueError(
            f"max_episode_steps: invalid value {max_episode_steps!r}; it is another name for episode_length, "
            f"which is given as {overrides['episode_length']!r}"
        )
    return {**overrides, "episode_length": max_episode_steps}


class TicketRoutingEnv(gym.Env[dict[str, Any], np.int64]):
    """Route B2B SaaS support tickets to human agents.

    ## Description

    Tickets (technical, billing, feature request, bug report, integration; priority critical,
    high, medium or low) arrive by a Poisson process on a continuous clock measured in hours,
    optionally shaped by a weekly profile, or replayed from a real log. Each ``step`` routes the
    ticket at the head of the queue (most urgent priority first, then oldest) to one agent. Agents
    work their open tickets by processor sharing; the higher their expertise for the ticket type
    and the lower their load, the sooner tickets resolve. Between decisions the clock jumps from
    event to event (arrivals, resolutions, shift changes), so no step is spent without a ticket to
    route. See ``docs/design.md`` for the model and its formulas.

    ## Action Space

    ``Discrete(num_agents)``: the agent that gets the ticket. ``action_masks()`` (and
    ``info["action_mask"]``) marks the agents that are online with room (``workload <
    max_workload``). Choosing another agent is an invalid action: it is penalised, the ticket stays
    at the head of the queue, and after ``max_invalid_retries`` consecutive invalid actions the
    clock moves on by one event. An index outside ``[0, num_agents)`` raises ``ValueError``.

    ## Observation Space

    The default ``observation_layout="flat"`` is a ``Dict`` that Stable-Baselines3's
    ``MultiInputPolicy`` accepts (no nesting, no 2-D boxes):

    | Key                  | Space                                  | Meaning                               |
    |----------------------|----------------------------------------|---------------------------------------|
    | `ticket_type`        | `Discrete(5)`                          | type of the ticket to route           |
    | `ticket_priority`    | `Discrete(4)`                          | 0 critical ... 3 low                  |
    | `ticket_age`         | `Box(0, max_ticket_age_hours, (1,))`   | hours since arrival (capped)          |
    | `agent_expertise`    | `Box(0, 1, (num_agents * 5,))`         | expertise matrix, row-major by agent  |
    | `agent_workload`     | `Box(0, max_workload, (num_agents,))`  | open tickets per agent                |
    | `agent_availability` | `MultiBinary(num_agents)`              | 1 if the agent is online              |
    | `queue_size`         | `Discrete(max_queue_size + 1)`         | tickets waiting, including this one   |
    | `time_step`          | `Discrete(episode_length + 1)`         | decisions taken this episode          |

    ``observation_layout="nested"`` gives the same values as ``current_ticket`` (type, priority,
    age), ``agents`` (expertise as ``(num_agents, 5)``, workload, availability), ``queue_size`` and
    ``time_step``.

    ## Rewards

    ``assignment + expertise - resolution - imbalance - invalid_action - rejection``, each weight
    set in ``config.reward``; ``info["reward_components"]`` holds every signed part. The resolution
    penalty is charged when tickets resolve: ``weight * priority_multiplier * resolution_hours``.

    ## Starting State

    The clock starts at ``start_hour_of_week`` with empty queues and idle agents; expertise is
    drawn for the episode (or taken from ``config.agents.expertise``). The clock then runs to the
    first arrival, which is the first observation.

    ## Episode End

    Truncation after ``episode_length`` decisions. Termination only when replaying a finite trace:
    once it is exhausted and every ticket is routed (open tickets are then left to resolve so the
    final KPIs count them). The final ``info`` carries ``episode_kpis``; with
    ``episode_kpis_in_info=False`` every ``info`` has the same keys (what dataset recorders such as
    Minari need) and ``env.kpis()`` gives the finished episode's KPIs until the next ``reset``.
    ``env.spec.max_episode_steps`` is ``episode_length``.

    ## Arguments

    ```python
    import gymnasium as gym
    env = gym.make("TicketRouting-v0", config=None, render_mode=None, observation_layout="flat",
                   trace=None, num_agents=8)
    ```

    ``config`` is an ``EnvironmentConfig``, a mapping, a preset name (``easy``, ``balanced``,
    ``hard``...) or a YAML path; further keywords override top-level fields (``max_episode_steps``
    is another name for ``episode_length``). Any other keyword raises :class:`UnknownKeywordError`,
    both a ``TypeError`` and a ``ValueError``. ``trace`` is an
    ``ArrivalTrace`` to replay instead of generated arrivals; ``reset(options={"trace": t})``
    switches to (or, with ``None``, away from) a trace from that episode on.

    >>> env = TicketRoutingEnv()
    >>> obs, info = env.reset(seed=0)
    >>> sorted(obs)[:3]
    ['agent_availability', 'agent_expertise', 'agent_workload']
    >>> bool(info["action_mask"].any())
    True

    ## Version History

    * v0: Initial version.
    """

    metadata: dict[str, Any] = {"render_modes": ["human", "ansi", "rgb_array"], "render_fps": 4}  # noqa: RUF012
    _ARGUMENTS = (
        "config",
        "render_mode",
        "observation_layout",
        "trace",
        "max_episode_steps",
        "episode_kpis_in_info",
    )
    _spec: EnvSpec | None = None

    @property
    def spec(self) -> EnvSpec | None:
        """The registration spec (set by ``gymnasium.make``), stating this env's episode length
        as ``max_episode_steps``."""
        if self._spec is None:
            return None
        return dataclasses.replace(self._spec, max_episode_steps=self.config.episode_length)

    @spec.setter
    def spec(self, value: EnvSpec | None) -> None:
        self._spec = value

    def __init__(
        self,
        config: ConfigLike = None,
        *,
        render_mode: str | None = None,
        observation_layout: str = "flat",
        trace: ArrivalTrace | None = None,
        max_episode_steps: int | None = None,
        episode_kpis_in_info: bool = True,
        **overrides: Any,
    ) -> None:
        check_keywords("TicketRoutingEnv.__init__", overrides, self._ARGUMENTS)
        self.config = resolve_config(config, **episode_length_override(max_episode_steps, overrides))
        if not isinstance(episode_kpis_in_info, bool):
            raise ValueError(f"episode_kpis_in_info: invalid value {episode_kpis_in_info!r}; expected True or False")
        self.episode_kpis_in_info = episode_kpis_in_info
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode: invalid value {render_mode!r}; allowed: {', '.join(self.metadata['render_modes'])}"
            )
        if trace is not None and not isinstance(trace, ArrivalTrace):
            raise ValueError(f"trace: invalid value {trace!r}; expected an ArrivalTrace")
        self.render_mode = render_mode
        self.observation_layout = observation_layout
        self.observation_space = observation_space_for(self.config, observation_layout)
        self.action_space = spaces.Discrete(self.config.num_agents)
        self.trace = trace
        self.sim = Simulation(self.config, 1, trace)
        self._bind_rows()
        self._rng_seeded = False
        self._started = False
        self._needs_reset = True
        self._actions = np.zeros(1, dtype=np.int64)
        self._num_agents = self.config.num_agents
        self._all = np.ones(1, dtype=np.bool_)
        self._viewer: Any = None

    # ----------------------------------------------------------------- Gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if isinstance(seed, np.integer):  # NumPy integers are seeds too (Gymnasium takes only int)
            seed = int(seed)
        super().reset(seed=seed)
        if options:
            unknown = sorted(set(options) - {"trace"})
            if unknown:
                raise ValueError(f"options: unsupported key(s) {unknown}; allowed: 'trace'")
            self._set_trace(options["trace"])
        if seed is not None or not self._rng_seeded:
            self.sim.seed(slice(None), [self.np_random])
            self._rng_seeded = True
        self.sim.reset(self._all)
        self._started = True
        self._needs_reset = bool(self.sim.state.counts[0, I_DONE])
        info = self._info()
        if self.render_mode == "human":
            self.render()
        return self._observation(), info

    def _set_trace(self, trace: ArrivalTrace | None) -> None:
        """Replay ``trace`` from the next episode on (``None``: generated arrivals again)."""
        if trace is not None and not isinstance(trace, ArrivalTrace):
            raise ValueError(f"trace: invalid value {trace!r}; expected an ArrivalTrace or None")
        rng = self.sim.state.rng.copy()
        self.trace = trace
        self.sim = Simulation(self.config, 1, trace)
        self.sim.state.rng[:] = rng
        self._bind_rows()

    def _agent_index(self, action: Any) -> int:
        """``action`` as an agent index, or a ``ValueError`` saying it is not in the action space
        (any integer type, including NumPy's and 0-d arrays; never a float, bool, inf or NaN)."""
        n = self._num_agents
        if type(action) is np.int64 and 0 <= action < n:
            return int(action)  # NumPy's usual integer, checked first (step() takes a Python int itself)
        value = action.item() if isinstance(action, np.ndarray) and action.shape == () else action
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) < n:
            raise ValueError(
                f"action: invalid value {preview(action, 80)}; not in the action space Discrete({n}) "
                f"(an integer agent index in [0, {n - 1}])"
            )
        return int(value)

    def step(self, action: Any) -> tuple[dict[str, Any], SupportsFloat, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            if not self._started:
                raise RuntimeError("step() called before reset(); call env.reset() first")
            raise RuntimeError("step() called after the episode ended; call env.reset() first")
        # a Python int in range (the common case) is taken as is; anything else is checked
        in_range = type(action) is int and 0 <= action < self._num_agents
        self._actions[0] = action if in_range else self._agent_index(action)
        sim = self.sim
        sim.step(self._actions)
        terminated = self._terminated()
        truncated = self._truncated()
        info = self._info()
        if terminated or truncated:
            self._needs_reset = True
            if self.episode_kpis_in_info:
                info["episode_kpis"] = compute_kpis(sim)
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._reward(), terminated, truncated, info

    def action_masks(self) -> BoolArray:
        """Agents that can take the current ticket (online with room); sb3-contrib's convention."""
        mask: BoolArray = self._mask.copy()
        return mask

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='ansi', 'human' or 'rgb_array'")
            return None
        from rl_environments.ticket_routing.core import viewer

        if self.render_mode == "rgb_array":
            if self._viewer is None:
                self._viewer = viewer.FrameRenderer()
            return self._viewer.frame(self)
        text = viewer.render_text(self)
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def close(self) -> None:
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_viewer"] = None
        for key in self._ROW_VIEWS:
            del state[key]
        return state

    # ----------------------------------------------------------------- helpers
    _ROW_VIEWS = ("_observation", "_mask", "_components", "_counters", "_terminated", "_truncated", "_reward", "_clock")

    def _bind_rows(self) -> None:
        """The observation builder, and views of this env's row and their bound ``item`` methods
        (rebuilt whenever the buffers change): each step reads them without attribute lookups."""
        sim = self.sim
        self._observation = ObservationBuilder(sim.obs, self.observation_layout, row=0)
        self._mask = sim.obs.action_mask[0]
        self._components = sim.out.components[0]
        self._counters = sim.state.counts[0, : len(COUNT_KPIS)]  # the ticket counters lead the row
        self._terminated = sim.out.terminated[0, ...].item
        self._truncated = sim.out.truncated[0, ...].item
        self._reward = sim.out.reward[0, ...].item
        self._clock = sim.state.floats[0, F_CLOCK, ...].item

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._bind_rows()  # views do not survive pickling

    def _info(self) -> dict[str, Any]:
        return {
            "action_mask": self._mask.copy(),
            "reward_components": _components_dict(*self._components.tolist()),
            "clock_hours": self._clock(),
            "kpis": _counts_dict(*self._counters.tolist()),
        }

    # ----------------------------------------------------------------- views for people
    def kpis(self) -> dict[str, Any]:
        """All KPIs of the current episode so far (see ``metrics.compute_kpis``)."""
        return compute_kpis(self.sim)

    @property
    def clock_hours(self) -> float:
        """Simulated hours since Monday 00:00 of the first week."""
        return float(self.sim.state.floats[0, F_CLOCK])

    def current_ticket(self) -> Ticket | None:
        """The ticket waiting to be routed (``None`` after a terminated episode)."""
        head = self.sim.head_ticket()
        if head is None:
            return None
        arrival, ticket_type, priority = head
        return Ticket(
            ticket_type=TICKET_TYPES[ticket_type],
            priority=PRIORITIES[priority],
            arrival_hours=arrival,
            age_hours=self.clock_hours - arrival,
        )

    def agents(self) -> list[Agent]:
        """The agent pool as records."""
        state = self.sim.state
        return [
            Agent(
                agent_id=a,
                expertise=dict(zip(TICKET_TYPES, state.expertise[0, a].tolist(), strict=True)),
                workload=int(state.workload[0, a]),
                capacity=self.config.max_workload,
                online=bool(state.online[0, a]),
            )
            for a in range(self.config.num_agents)
        ]


# The two dictionaries of every step's info, as displays (faster than dict(zip(names, values))).
def _components_dict(
    assignment: float,
    expertise: float,
    resolution: float,
    imbalance: float,
    invalid_action: float,
    rejection: float,
    holding: float,
    sla_breach: float,
) -> dict[str, float]:
    return {
        "assignment": assignment,
        "expertise": expertise,
        "resolution": resolution,
        "imbalance": imbalance,
        "invalid_action": invalid_action,
        "rejection": rejection,
        "holding": holding,
        "sla_breach": sla_breach,
    }


def _counts_dict(
    tickets_arrived: int,
    tickets_assigned: int,
    tickets_resolved: int,
    tickets_rejected: int,
    tickets_waiting: int,
    tickets_in_service: int,
) -> dict[str, int]:
    return {
        "tickets_arrived": tickets_arrived,
        "tickets_assigned": tickets_assigned,
        "tickets_resolved": tickets_resolved,
        "tickets_rejected": tickets_rejected,
        "tickets_waiting": tickets_waiting,
        "tickets_in_service": tickets_in_service,
    }


check_display(
    lambda: _components_dict(*range(len(REWARD_COMPONENTS))), REWARD_COMPONENTS, "core/environment.py: _components_dict"
)
check_display(lambda: _counts_dict(*range(len(COUNT_KPIS))), COUNT_KPIS, "core/environment.py: _counts_dict")
