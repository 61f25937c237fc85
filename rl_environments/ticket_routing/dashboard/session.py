"""State the dashboard keeps per browser session: the chosen configuration and a live simulator.

Everything lives in ``st.session_state`` (any mutable mapping here), so the pages share it and a
rerun never rebuilds the environment.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from rl_environments.ticket_routing import REWARD_COMPONENTS, TICKET_TYPES, EnvironmentConfig, TicketRoutingEnv

CONFIG_KEY = "config"
"""Session key of the :class:`EnvironmentConfig` every page uses."""
CONFIG_NAME_KEY = "config_name"
"""Session key of a short label for the configuration (a preset name, "imported", "custom")."""
SIMULATOR_KEY = "simulator"
"""Session key of the :class:`SimulatorSession`."""


def current_config(state: MutableMapping[str, Any]) -> EnvironmentConfig:
    """The configuration chosen on the Configuration page (the defaults until then)."""
    config = state.get(CONFIG_KEY)
    if not isinstance(config, EnvironmentConfig):
        config = EnvironmentConfig()
        state[CONFIG_KEY] = config
        state[CONFIG_NAME_KEY] = "balanced (default)"
    return config


def set_config(state: MutableMapping[str, Any], config: EnvironmentConfig, name: str) -> None:
    """Make ``config`` the configuration of every page."""
    state[CONFIG_KEY] = config
    state[CONFIG_NAME_KEY] = name


def policy_names() -> tuple[str, ...]:
    """Names of the baseline policies (empty if the policies module is not available)."""
    try:
        from rl_environments.ticket_routing.policies import POLICY_NAMES
    except ImportError:  # pragma: no cover - the module ships with the package
        return ()
    return tuple(POLICY_NAMES)


def make_policy(name: str, config: EnvironmentConfig, seed: int) -> Any:
    """A baseline policy by name (see ``rl_environments.ticket_routing.policies``)."""
    from rl_environments.ticket_routing.policies import make_policy as _make

    return _make(name, config, seed)


@dataclass(frozen=True)
class StepRecord:
    """One routing decision as the Simulator shows it."""

    step: int
    agent: int
    chooser: str
    valid: bool
    reward: float
    cumulative_reward: float
    components: dict[str, float]
    queue_size: int
    workload: tuple[int, ...]
    clock_hours: float
    note: str = ""


@dataclass
class SimulatorSession:
    """One ``TicketRoutingEnv`` driven from the Simulator page, with its history."""

    config: EnvironmentConfig
    seed: int = 0
    env: TicketRoutingEnv = field(init=False)
    observation: dict[str, Any] = field(init=False)
    history: list[StepRecord] = field(init=False)
    cumulative_reward: float = field(init=False, default=0.0)
    done: bool = field(init=False, default=False)
    episode_kpis: dict[str, Any] | None = field(init=False, default=None)
    _policies: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.env = TicketRoutingEnv(self.config)
        self.reset(self.seed)

    # ----------------------------------------------------------------- control
    def reset(self, seed: int | None = None) -> None:
        """Start a new episode (with ``seed`` if given, else the session's seed)."""
        if seed is not None:
            self.seed = int(seed)
        self.observation, _ = self.env.reset(seed=self.seed)
        self.history = []
        self.cumulative_reward = 0.0
        self.done = False
        self.episode_kpis = None
        self._policies = {}

    def step(self, agent: int, chooser: str = "manual") -> StepRecord:
        """Route the current ticket to ``agent``; an invalid choice is stepped too (and penalised)."""
        if self.done:
            raise RuntimeError("the episode has ended; reset the simulator to start a new one")
        note = self.explain(agent) or ""
        obs, reward, terminated, truncated, info = self.env.step(int(agent))
        self.observation = obs
        self.cumulative_reward += float(reward)
        record = StepRecord(
            step=len(self.history) + 1,
            agent=int(agent),
            chooser=chooser,
            valid=not note,
            reward=float(reward),
            cumulative_reward=self.cumulative_reward,
            components={k: float(v) for k, v in info["reward_components"].items()},
            queue_size=int(obs["queue_size"]),
            workload=tuple(int(w) for w in obs["agent_workload"]),
            clock_hours=float(info["clock_hours"]),
            note=note,
        )
        self.history.append(record)
        if terminated or truncated:
            self.done = True
            self.episode_kpis = dict(info["episode_kpis"])
        return record

    def policy_action(self, name: str) -> int:
        """The action the baseline policy ``name`` picks for the current ticket."""
        policy = self._policies.get(name)
        if policy is None:
            policy = make_policy(name, self.config, self.seed)
            policy.reset(self.seed)
            self._policies[name] = policy
        return int(policy.act(self.observation, self.env.action_masks()))

    def run(self, name: str, steps: int, progress: Callable[[int, int], None] | None = None) -> int:
        """Let the policy ``name`` take up to ``steps`` decisions; returns how many it took."""
        taken = 0
        for i in range(int(steps)):
            if self.done:
                break
            self.step(self.policy_action(name), chooser=name)
            taken += 1
            if progress is not None:
                progress(i + 1, steps)
        return taken

    # ----------------------------------------------------------------- views
    @property
    def mask(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Agents that can take the current ticket."""
        return self.env.action_masks()

    def explain(self, agent: int) -> str | None:
        """Why ``agent`` cannot take the current ticket, or ``None`` if it can."""
        agents = self.env.agents()
        if not 0 <= agent < len(agents):
            return f"agent {agent} does not exist (choose 0 to {len(agents) - 1})"
        record = agents[agent]
        if not record.online:
            return f"agent {agent} is off shift right now, so the ticket stays in the queue"
        if record.workload >= record.capacity:
            return (
                f"agent {agent} is full ({record.workload}/{record.capacity} open tickets, "
                "the max_workload), so the ticket stays in the queue"
            )
        return None

    def ticket(self) -> dict[str, Any] | None:
        """The ticket waiting to be routed, as plain values."""
        ticket = self.env.current_ticket()
        if ticket is None:
            return None
        return {
            "type": ticket.ticket_type,
            "priority": ticket.priority,
            "age_hours": ticket.age_hours,
            "arrival_hours": ticket.arrival_hours,
        }

    def agents_frame(self) -> pd.DataFrame:
        """One row per agent: availability, workload and expertise per ticket type."""
        mask = self.mask
        rows = []
        for agent in self.env.agents():
            row: dict[str, Any] = {
                "agent": agent.agent_id,
                "online": agent.online,
                "can_take": bool(mask[agent.agent_id]),
                "workload": agent.workload,
                "capacity": agent.capacity,
            }
            row.update(agent.expertise)
            rows.append(row)
        frame: pd.DataFrame = pd.DataFrame(
            rows, columns=["agent", "online", "can_take", "workload", "capacity", *TICKET_TYPES]
        )
        return frame

    def history_frame(self) -> pd.DataFrame:
        """One row per decision so far (empty before the first step)."""
        columns = [
            "step",
            "agent",
            "chooser",
            "valid",
            "reward",
            "cumulative_reward",
            "queue_size",
            "mean_workload",
            "max_workload",
            "clock_hours",
            *REWARD_COMPONENTS,
        ]
        rows = [
            {
                "step": r.step,
                "agent": r.agent,
                "chooser": r.chooser,
                "valid": r.valid,
                "reward": r.reward,
                "cumulative_reward": r.cumulative_reward,
                "queue_size": r.queue_size,
                "mean_workload": float(np.mean(r.workload)),
                "max_workload": max(r.workload),
                "clock_hours": r.clock_hours,
                **r.components,
            }
            for r in self.history
        ]
        frame: pd.DataFrame = pd.DataFrame(rows, columns=columns)
        return frame

    def kpis(self) -> dict[str, Any]:
        """KPIs of the episode so far (the final ones once it has ended)."""
        if self.episode_kpis is not None:
            return self.episode_kpis
        return self.env.kpis()


def simulator(state: MutableMapping[str, Any]) -> SimulatorSession | None:
    """The session's simulator, if one was initialised."""
    sim = state.get(SIMULATOR_KEY)
    return sim if isinstance(sim, SimulatorSession) else None


def start_simulator(state: MutableMapping[str, Any], seed: int) -> SimulatorSession:
    """Build (or reset) the simulator with the current configuration and ``seed``.

    The environment is rebuilt only when the configuration changed; otherwise it is just reset.
    """
    config = current_config(state)
    sim = simulator(state)
    if sim is None or sim.config != config:
        sim = SimulatorSession(config, seed)
        state[SIMULATOR_KEY] = sim
    else:
        sim.reset(seed)
    return sim
