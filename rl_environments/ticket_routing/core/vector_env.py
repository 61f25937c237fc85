"""``TicketRoutingVectorEnv``: N ticket-routing environments stepped by one compiled kernel."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import REWARD_COMPONENTS, ConfigLike, resolve_config
from rl_environments.ticket_routing.core.environment import (
    check_keywords,
    episode_length_override,
)
from rl_environments.ticket_routing.core.kpis import batch_kpis, compute_kpis
from rl_environments.ticket_routing.core.observation import ObservationBuilder, observation_space_for
from rl_environments.ticket_routing.core.safe_yaml import preview
from rl_environments.ticket_routing.core.simulation import Simulation
from rl_environments.ticket_routing.core.state import F_CLOCK, I_DONE
from rl_environments.ticket_routing.core.typing import AnyArray, BoolArray, IntArray, njit

AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED)


def _autoreset_mode(value: AutoresetMode | str) -> AutoresetMode:
    """An ``AutoresetMode`` from itself, its value (``"SameStep"``) or its name (``"same_step"``)."""
    if isinstance(value, AutoresetMode):
        return value
    key = str(value).replace("_", "").lower()
    for mode in AUTORESET_MODES:
        if key in (mode.value.lower(), mode.name.replace("_", "").lower()):
            return mode
    allowed = ", ".join(repr(m.value) for m in AUTORESET_MODES)
    raise ValueError(f"autoreset_mode: invalid value {value!r}; allowed: {allowed} (or their names)")


class TicketRoutingVectorEnv(gym.vector.VectorEnv[dict[str, Any], AnyArray, AnyArray]):
    """``num_envs`` copies of ``TicketRouting-v0`` in shared arrays.

    Observations are the single env's (flat or nested) layout stacked on a leading axis;
    ``action_masks()`` is ``(num_envs, num_agents)``. Infos follow Gymnasium's vector convention:
    ``info[key]`` is an array and ``info["_" + key]`` marks the sub-environments it applies to;
    ``episode_kpis`` appears on the step an episode ends (``episode_kpis_in_info=False`` keeps the
    keys the same every step; ``kpis(i)`` then gives sub-environment ``i``'s KPIs).

    ``autoreset_mode`` (also ``metadata["autoreset_mode"]``) is one of Gymnasium's modes:

    * ``NEXT_STEP`` (default): after an episode ends, the next ``step`` resets that
      sub-environment, ignores its action and returns reward 0;
    * ``SAME_STEP``: the step that ends an episode already returns the new episode's first
      observation; the last observation is in ``info["final_obs"]`` (an object array) and the
      last info in ``info["final_info"]``, each marked by ``info["_final_obs"]`` / ``_final_info``;
    * ``DISABLED``: nothing resets by itself; reset ended sub-environments with
      ``reset(options={"reset_mask": mask})``. Stepping one that has not been reset raises
      ``RuntimeError``.

    ``reset(seed=s)`` seeds sub-environment ``i`` with ``s + i``, so it follows exactly the
    trajectory of ``TicketRoutingEnv`` reset with ``seed=s + i``. ``threads=k`` steps k blocks of
    sub-environments in parallel threads of this process (same results; worth it for large
    ``num_envs`` when nothing else uses the cores). ``reset(options={"reset_mask":
    mask})`` resets only the sub-environments where ``mask`` is true (Gymnasium's partial reset;
    an all-false mask changes nothing and returns the current observation).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}  # noqa: RUF012
    _ARGUMENTS = (
        "num_envs",
        "config",
        "observation_layout",
        "trace",
        "render_mode",
        "threads",
        "autoreset_mode",
        "max_episode_steps",
        "episode_kpis_in_info",
    )
    _spec: EnvSpec | None = None

    @property
    def spec(self) -> EnvSpec | None:
        """The spec set by ``gymnasium.make_vec``, stating the episode length as ``max_episode_steps``."""
        if self._spec is None:
            return None
        return dataclasses.replace(self._spec, max_episode_steps=self.config.episode_length)

    @spec.setter
    def spec(self, value: EnvSpec | None) -> None:
        self._spec = value

    def __init__(
        self,
        num_envs: int = 1,
        config: ConfigLike = None,
        *,
        observation_layout: str = "flat",
        trace: ArrivalTrace | None = None,
        render_mode: str | None = None,
        threads: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        max_episode_steps: int | None = None,
        episode_kpis_in_info: bool = True,
        **overrides: Any,
    ) -> None:
        check_keywords("TicketRoutingVectorEnv.__init__", overrides, self._ARGUMENTS)
        if render_mode is not None:
            raise ValueError(f"render_mode: invalid value {render_mode!r}; the vector env does not render")
        if not isinstance(episode_kpis_in_info, bool):
            raise ValueError(f"episode_kpis_in_info: invalid value {episode_kpis_in_info!r}; expected True or False")
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": self.autoreset_mode}
        self.episode_kpis_in_info = episode_kpis_in_info
        self.config = resolve_config(config, **episode_length_override(max_episode_steps, overrides))
        self.sim = Simulation(self.config, num_envs, trace, threads=threads)
        self.num_envs = num_envs
        self.observation_layout = observation_layout
        self.single_observation_space = observation_space_for(self.config, observation_layout)
        self._observation = ObservationBuilder(self.sim.obs, observation_layout)
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
            if not which.any():  # nothing to reset: the current state, unchanged
                return self._observation(), self._info(None)
        n = self.num_envs
        if _is_seed(seed):
            seeds: list[int | None] = [int(seed) + i for i in range(n)]  # type: ignore[arg-type]
        elif seed is None:
            seeds = [None] * n
        else:
            if isinstance(seed, (str, bytes)) or not isinstance(seed, Iterable):
                raise ValueError(f"seed: invalid value {preview(seed, 80)}; expected an integer, a list or None")
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"seed: expected {n} seeds (one per sub-environment), got {len(seeds)}")
            for i, s in enumerate(seeds):
                if s is not None and not _is_seed(s):
                    raise ValueError(f"seed[{i}]: invalid value {preview(s, 80)}; expected an integer >= 0 or None")
            seeds = [None if s is None else int(s) for s in seeds]
        negative = [s for s in seeds if s is not None and s < 0]
        if negative:
            raise ValueError(f"seed: invalid value {negative[0]}; seeds must be integers >= 0")
        if seed is not None or not self._seeded:
            rows = np.flatnonzero(which)
            gens = [seeding.np_random(seeds[i])[0] for i in rows]
            self.np_random = gens[0]
            self.sim.seed(rows, gens)
            self._seeded = True
        self.sim.reset(which)
        self._started = True
        return self._observation(), self._info(None)

    def step(self, actions: AnyArray) -> tuple[dict[str, Any], AnyArray, BoolArray, BoolArray, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("step() called before reset(); call reset() first")
        acts = np.asarray(actions)
        if acts.shape != self._actions.shape or acts.dtype.kind not in "iu":  # signed or unsigned integers
            raise ValueError(
                f"actions: expected {self.num_envs} integer agent indices, got shape {acts.shape} dtype {acts.dtype}"
            )
        np.copyto(self._actions, acts, casting="unsafe")  # a value beyond int64 wraps to a negative: caught below
        i = first_invalid_action(self._actions, self.config.num_agents)
        if i >= 0:
            raise ValueError(
                f"actions[{i}]: invalid value {int(acts[i])}; must be in [0, {self.config.num_agents - 1}]"
            )
        sim = self.sim
        if self.autoreset_mode == AutoresetMode.DISABLED:
            waiting = np.flatnonzero(sim.state.counts[:, I_DONE])
            if waiting.size:
                raise RuntimeError(
                    f"step(): sub-environment(s) {waiting.tolist()} ended and autoreset_mode is DISABLED; "
                    "reset them with reset(options={'reset_mask': mask}) first"
                )
        sim.step(self._actions)
        reward = sim.out.reward.copy()
        terminated = sim.out.terminated.copy()
        truncated = sim.out.truncated.copy()
        ended = terminated | truncated
        if self.autoreset_mode != AutoresetMode.SAME_STEP or not ended.any():
            return self._observation(), reward, terminated, truncated, self._info(ended)
        final_obs = np.full(self.num_envs, None, dtype=object)
        last = self._observation()
        for row in np.flatnonzero(ended).tolist():
            final_obs[row] = _row(last, row)
        final_info = self._info(ended, rows=ended)
        sim.reset(ended)
        info = self._info(None)
        info.update(final_obs=final_obs, _final_obs=ended, final_info=final_info, _final_info=ended.copy())
        return self._observation(), reward, terminated, truncated, info

    def close_extras(self, **kwargs: Any) -> None:
        sim = getattr(self, "sim", None)  # absent when the constructor raised
        if sim is not None:
            sim.close()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_observation"]  # views of the simulation's buffers do not survive pickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._observation = ObservationBuilder(self.sim.obs, self.observation_layout)

    def action_masks(self) -> BoolArray:
        """``(num_envs, num_agents)``: agents that can take each sub-environment's ticket."""
        masks: BoolArray = self.sim.obs.action_mask.copy()
        return masks

    def _info(self, ended: BoolArray | None, rows: BoolArray | None = None) -> dict[str, Any]:
        """The vector info; ``rows`` marks the sub-environments it applies to (default: all)."""
        sim = self.sim
        every = self._all if rows is None else rows
        comps = sim.out.components.T.copy()  # one copy; each component a contiguous row of it
        info: dict[str, Any] = {
            "action_mask": sim.obs.action_mask.copy(),
            "_action_mask": every,
            "reward_components": {name: comps[c] for c, name in enumerate(REWARD_COMPONENTS)},
            "_reward_components": every,
            "clock_hours": sim.state.floats[:, F_CLOCK].copy(),
            "_clock_hours": every,
        }
        if self.episode_kpis_in_info and ended is not None and ended.any():
            which = np.flatnonzero(ended)
            kpis = batch_kpis(sim, which)
            full: dict[str, Any] = {}
            for key, value in kpis.items():
                arr = np.zeros((self.num_envs, *value.shape[1:]), dtype=value.dtype)
                arr[which] = value
                full[key] = arr
                full["_" + key] = ended
            info["episode_kpis"] = full
            info["_episode_kpis"] = ended.copy()
        return info

    def kpis(self, index: int) -> dict[str, Any]:
        """All KPIs of sub-environment ``index``'s episode so far (after it ended: the whole
        episode, until it is reset), as in ``TicketRoutingEnv.kpis()``."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < self.num_envs:
            raise ValueError(f"index: invalid value {index!r}; must be an integer in [0, {self.num_envs - 1}]")
        return compute_kpis(self.sim, int(index))

    @property
    def episodes_done(self) -> BoolArray:
        """Sub-environments whose next ``step`` starts a new episode."""
        return self.sim.state.counts[:, I_DONE].astype(np.bool_)


@njit(cache=True)
def first_invalid_action(actions: IntArray, num_agents: int) -> int:
    """Index of the first action outside ``[0, num_agents)``, or -1 when all are agents. Compiled:
    one pass, where NumPy's comparisons and ``any`` cost several microseconds per step."""
    for i in range(actions.shape[0]):
        if actions[i] < 0 or actions[i] >= num_agents:
            return i
    return -1


def _row(batch: dict[str, Any], i: int) -> dict[str, Any]:
    """Sub-environment ``i``'s observation out of a batched (possibly nested) observation."""
    return {key: _row(value, i) if isinstance(value, dict) else value[i] for key, value in batch.items()}


def _is_seed(value: object) -> bool:
    """A Python or NumPy integer (not a bool): what ``reset(seed=...)`` accepts for one seed."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
