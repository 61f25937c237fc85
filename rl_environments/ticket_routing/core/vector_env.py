"""``TicketRoutingVectorEnv``: N ticket-routing environments stepped by one compiled kernel."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from rl_environments.ticket_routing.core.data_models import REWARD_COMPONENTS, TICKET_TYPES
from rl_environments.ticket_routing.core.environment import (
    ConfigLike,
    observation_space_for,
    resolve_config,
)
from rl_environments.ticket_routing.core.metrics import batch_kpis
from rl_environments.ticket_routing.core.state_manager import (
    F_CLOCK,
    I_DONE,
    O_PRIORITY,
    O_QUEUE,
    O_STEP,
    O_TYPE,
    Simulation,
)
from rl_environments.ticket_routing.core.trace import ArrivalTrace
from rl_environments.ticket_routing.core.typing import AnyArray, BoolArray


class TicketRoutingVectorEnv(gym.vector.VectorEnv[dict[str, Any], AnyArray, AnyArray]):
    """``num_envs`` copies of ``TicketRouting-v0`` in shared arrays, with next-step auto-reset.

    Observations are the single env's (flat or nested) layout stacked on a leading axis;
    ``action_masks()`` is ``(num_envs, num_agents)``. After an episode ends, the next ``step``
    resets that sub-environment and ignores its action (Gymnasium's ``NEXT_STEP`` mode). Infos
    follow Gymnasium's vector convention: ``info[key]`` is an array and ``info["_" + key]`` marks
    the sub-environments it applies to; ``episode_kpis`` appears on the step an episode ends.

    ``reset(seed=s)`` seeds sub-environment ``i`` with ``s + i``, so it follows exactly the
    trajectory of ``TicketRoutingEnv`` reset with ``seed=s + i``. ``threads=k`` steps k blocks of
    sub-environments in parallel threads of this process (same results; worth it for large
    ``num_envs`` when nothing else uses the cores). ``reset(options={"reset_mask":
    mask})`` resets only the sub-environments where ``mask`` is true (Gymnasium's partial reset,
    for wrappers that want same-step auto-reset).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int = 1,
        config: ConfigLike = None,
        *,
        observation_layout: str = "flat",
        trace: ArrivalTrace | None = None,
        render_mode: str | None = None,
        threads: int = 1,
        **overrides: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode: invalid value {render_mode!r}; the vector env does not render")
        self.config = resolve_config(config, **overrides)
        self.sim = Simulation(self.config, num_envs, trace, threads=threads)
        self.num_envs = num_envs
        self.observation_layout = observation_layout
        self.single_observation_space = observation_space_for(self.config, observation_layout)
        self.single_action_space = spaces.Discrete(self.config.num_agents)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = None
        self._seeded = False
        self._started = False
        self._all = np.ones(num_envs, dtype=np.bool_)
        self._actions = np.zeros(num_envs, dtype=np.int64)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        which = self._all
        if options:
            unknown = sorted(set(options) - {"reset_mask"})
            if unknown:
                raise ValueError(f"options: unsupported key(s) {unknown}; allowed: 'reset_mask'")
            which = np.asarray(options["reset_mask"])
            if which.shape != (self.num_envs,) or which.dtype != np.bool_:
                raise ValueError(f"options['reset_mask']: expected a bool array of shape ({self.num_envs},)")
            if not self._started:
                raise RuntimeError("reset(options={'reset_mask': ...}) needs a full reset() first")
        n = self.num_envs
        if isinstance(seed, int):
            seeds: list[int | None] = [seed + i for i in range(n)]
        elif seed is None:
            seeds = [None] * n
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"seed: expected {n} seeds (one per sub-environment), got {len(seeds)}")
        if seed is not None or not self._seeded:
            rows = np.flatnonzero(which)
            gens = [seeding.np_random(seeds[i])[0] for i in rows]
            self._np_random = gens[0]
            self.sim.seed(rows, gens)
            self._seeded = True
        self.sim.reset(which)
        self._started = True
        return self._observation(), self._info(None)

    def step(self, actions: AnyArray) -> tuple[dict[str, Any], AnyArray, BoolArray, BoolArray, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("step() called before reset(); call reset() first")
        acts = np.asarray(actions)
        if acts.shape != (self.num_envs,) or not np.issubdtype(acts.dtype, np.integer):
            raise ValueError(
                f"actions: expected {self.num_envs} integer agent indices, got shape {acts.shape} dtype {acts.dtype}"
            )
        bad = (acts < 0) | (acts >= self.config.num_agents)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"actions[{i}]: invalid value {int(acts[i])}; must be in [0, {self.config.num_agents - 1}]"
            )
        np.copyto(self._actions, acts, casting="unsafe")
        sim = self.sim
        sim.step(self._actions)
        terminated = sim.terminated.copy()
        truncated = sim.truncated.copy()
        ended = terminated | truncated
        return self._observation(), sim.reward.copy(), terminated, truncated, self._info(ended)

    def close_extras(self, **kwargs: Any) -> None:
        sim = getattr(self, "sim", None)  # absent when the constructor raised
        if sim is not None:
            sim.close()

    def action_masks(self) -> BoolArray:
        """``(num_envs, num_agents)``: agents that can take each sub-environment's ticket."""
        masks: BoolArray = self.sim.mask.copy()
        return masks

    def _observation(self) -> dict[str, Any]:
        sim = self.sim
        ints = sim.obs_int
        if self.observation_layout == "flat":
            return {
                "ticket_type": ints[:, O_TYPE].copy(),
                "ticket_priority": ints[:, O_PRIORITY].copy(),
                "ticket_age": sim.obs_age.copy(),
                "agent_expertise": sim.obs_expertise.copy(),
                "agent_workload": sim.obs_workload.copy(),
                "agent_availability": sim.obs_available.copy(),
                "queue_size": ints[:, O_QUEUE].copy(),
                "time_step": ints[:, O_STEP].copy(),
            }
        return {
            "current_ticket": {
                "type": ints[:, O_TYPE].copy(),
                "priority": ints[:, O_PRIORITY].copy(),
                "age": sim.obs_age.copy(),
            },
            "agents": {
                "expertise": sim.obs_expertise.reshape(self.num_envs, self.config.num_agents, len(TICKET_TYPES)).copy(),
                "workload": sim.obs_workload.copy(),
                "availability": sim.obs_available.copy(),
            },
            "queue_size": ints[:, O_QUEUE].copy(),
            "time_step": ints[:, O_STEP].copy(),
        }

    def _info(self, ended: BoolArray | None) -> dict[str, Any]:
        sim = self.sim
        every = self._all
        comps = sim.components
        info: dict[str, Any] = {
            "action_mask": sim.mask.copy(),
            "_action_mask": every,
            "reward_components": {name: comps[:, c].copy() for c, name in enumerate(REWARD_COMPONENTS)},
            "_reward_components": every,
            "clock_hours": sim.fs[:, F_CLOCK].copy(),
            "_clock_hours": every,
        }
        if ended is not None and ended.any():
            rows = np.flatnonzero(ended)
            kpis = batch_kpis(sim, rows)
            full: dict[str, Any] = {}
            for key, value in kpis.items():
                arr = np.zeros((self.num_envs, *value.shape[1:]), dtype=value.dtype)
                arr[rows] = value
                full[key] = arr
                full["_" + key] = ended
            info["episode_kpis"] = full
            info["_episode_kpis"] = ended.copy()
        return info

    @property
    def episodes_done(self) -> BoolArray:
        """Sub-environments whose next ``step`` starts a new episode."""
        return self.sim.ist[:, I_DONE].astype(np.bool_)
