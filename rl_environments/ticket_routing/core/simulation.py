"""``Simulation``: the records of ``num_envs`` environments and the calls into the kernels."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from numba.core import types
from numba.experimental import structref
from numba.extending import intrinsic

from rl_environments.ticket_routing.core.arrival_trace import ArrivalTrace
from rl_environments.ticket_routing.core.config import EnvironmentConfig
from rl_environments.ticket_routing.core.kernels import Kernel, reset_batch, step_batch
from rl_environments.ticket_routing.core.params import Params, compile_params
from rl_environments.ticket_routing.core.rng import seed_states
from rl_environments.ticket_routing.core.state import (
    I_DONE,
    I_HEAD,
    I_OVER_BUDGET,
    I_QFRONT,
    I_QLEN,
    Q_ARRIVAL,
    Q_TYPE,
    Observation,
    State,
    StepOutputs,
    new_observation,
    new_outputs,
    new_state,
)
from rl_environments.ticket_routing.core.typing import BoolArray, IntArray, njit


class SimulationBudgetError(RuntimeError):
    """A step or reset needed more events than its budget: the scenario cannot be simulated in bounded time."""

    def __init__(self, where: str, budget: int, rows: IntArray, config: EnvironmentConfig) -> None:
        self.rows = rows
        envs = "" if len(rows) == 1 and rows[0] == 0 else f" (environments {', '.join(map(str, rows[:10]))})"
        super().__init__(
            f"{where}() stopped after {budget:,} simulation events{envs}: tickets arrive, are rejected or "
            "resolve far faster than decisions can be made. Check arrivals.rate_per_day "
            f"({config.arrivals.rate_per_day:g}), max_queue_size ({config.max_queue_size}), "
            f"service.base_effort_hours and service.min_speed ({config.service.min_speed:g}), "
            "and the shifts (agents.shift_hours, agents.work_days). Call reset() to start again."
        )


# Inside the kernels the records are Numba StructRefs: one reference-counted pointer each. A
# NamedTuple of arrays passed to an inlined helper updates the reference count of every array it
# holds (some 40 atomic operations per call, in loops over agents), which made steps several
# times slower; a StructRef costs one, and none once the kernels take it through `unmanaged`
# (core.unmanaged) at entry. The arrays inside are unmanaged views (`_borrowed`), so
# reading a field from a record updates no reference count either; the Simulation that owns the
# NumPy arrays keeps them alive for as long as it holds the StructRef. The kernels read fields by
# the same names either way, so with NUMBA_DISABLE_JIT they are given the NamedTuples themselves.
class _RefType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(typ)) for name, typ in fields)  # type: ignore[no-untyped-call]


@structref.register
class _StateRefType(_RefType):
    pass


@structref.register
class _ParamsRefType(_RefType):
    pass


@structref.register
class _ObservationRefType(_RefType):
    pass


@structref.register
class _OutputsRefType(_RefType):
    pass


@structref.register
class _KernelRefType(_RefType):
    pass


class _StateRef(structref.StructRefProxy):
    """:class:`State` as the kernels see it."""


class _ParamsRef(structref.StructRefProxy):
    """:class:`Params` as the kernels see it."""


class _ObservationRef(structref.StructRefProxy):
    """:class:`Observation` as the kernels see it."""


class _OutputsRef(structref.StructRefProxy):
    """:class:`StepOutputs` as the kernels see it."""


class _KernelRef(structref.StructRefProxy):
    """:class:`Kernel` as the kernels see it."""


for _proxy, _type, _record in (
    (_StateRef, _StateRefType, State),
    (_ParamsRef, _ParamsRefType, Params),
    (_ObservationRef, _ObservationRefType, Observation),
    (_OutputsRef, _OutputsRefType, StepOutputs),
    (_KernelRef, _KernelRefType, Kernel),
):
    structref.define_proxy(_proxy, _type, list(_record._fields))  # type: ignore[no-untyped-call]


def _borrowed_typer(typingctx: Any, record: Any) -> Any:
    """``record`` (a NamedTuple) with every array replaced by a view of the same memory that Numba
    does not reference-count. Only for arrays that outlive the result (see the note above)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        values = []
        for k, typ in enumerate(record.types):
            value = builder.extract_value(args[0], k)
            if isinstance(typ, types.Array):
                source = context.make_array(typ)(context, builder, value=value)
                view = context.make_array(typ)(context, builder)
                for field in ("nitems", "itemsize", "data", "shape", "strides"):
                    setattr(view, field, getattr(source, field))
                value = view._getvalue()
            values.append(value)
        return context.make_tuple(builder, record, values)

    return record(record), codegen


_borrowed: Any = intrinsic(_borrowed_typer)


@njit(cache=True)
def _kernel_ref(state: State, params: Params, obs: Observation, out: StepOutputs) -> Any:
    """The four records as StructRefs (compiled once and cached on disk, like the kernels)."""
    return _KernelRef(  # type: ignore[no-untyped-call]
        _StateRef(*_borrowed(state)),  # type: ignore[no-untyped-call]
        _ParamsRef(*_borrowed(params)),  # type: ignore[no-untyped-call]
        _ObservationRef(*_borrowed(obs)),  # type: ignore[no-untyped-call]
        _OutputsRef(*_borrowed(out)),  # type: ignore[no-untyped-call]
    )


def _handle(kernel: Kernel) -> Any:
    """What the entry points take: a StructRef when Numba compiles, else the record itself."""
    if getattr(numba.config, "DISABLE_JIT", False):
        return kernel
    return _kernel_ref(*kernel)


def _direct_entry(kernel: Any) -> Any:
    """The compiled entry point of a kernel that has exactly one signature, else the kernel.

    Our arguments always have the same types, so after the first call the dispatcher's type
    resolution can be skipped; with ``NUMBA_DISABLE_JIT`` the plain Python function is returned.
    """
    overloads = getattr(kernel, "overloads", None)
    if overloads is not None and len(overloads) == 1:
        return next(iter(overloads.values())).entry_point
    return kernel


@dataclass(eq=False)
class Simulation:
    """The records of ``num_envs`` environments sharing one configuration.

    ``state``, ``params``, ``obs`` (observation buffers) and ``out`` (the last step's rewards,
    reward components and episode ends) are named records of arrays with a leading environment
    axis (see :mod:`core.state`). With ``threads > 1`` a step runs the same kernel on ``threads``
    contiguous blocks of environments at once, each in its own thread (the kernel releases the
    GIL). Environments never share state, so results are identical to ``threads=1``.
    """

    config: EnvironmentConfig
    num_envs: int
    trace: ArrivalTrace | None = None
    threads: int = 1

    def __post_init__(self) -> None:
        cfg, n = self.config, self.num_envs
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"num_envs: invalid value {n!r}; must be an integer >= 1")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or not 1 <= self.threads <= 256:
            raise ValueError(f"threads: invalid value {self.threads!r}; must be an integer between 1 and 256")
        self.params: Params = compile_params(cfg, self.trace)
        self.state: State = new_state(n, cfg.num_agents, cfg.max_workload, cfg.max_queue_size, cfg.episode_length)
        self.obs: Observation = new_observation(n, cfg.num_agents)
        self.out: StepOutputs = new_outputs(n)
        self._bind()

    def _bind(self) -> None:
        self._kernel = Kernel(self.state, self.params, self.obs, self.out)
        self._handle = _handle(self._kernel)
        self._step: Any = step_batch
        self._blocks: list[tuple[slice, Any, Kernel]] = []  # rows, handle, and the records it views
        self._pool: ThreadPoolExecutor | None = None
        blocks = min(self.threads, self.num_envs)
        if blocks > 1:
            edges = np.linspace(0, self.num_envs, blocks + 1).astype(int)
            for lo, hi in itertools.pairwise(edges):
                rows = slice(int(lo), int(hi))
                block = Kernel(
                    State._make(a[rows] for a in self.state),
                    self.params,
                    Observation._make(a[rows] for a in self.obs),
                    StepOutputs._make(a[rows] for a in self.out),
                )
                self._blocks.append((rows, _handle(block), block))
            self._pool = ThreadPoolExecutor(max_workers=blocks, thread_name_prefix="ticket-routing")

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        for key in ("_kernel", "_handle", "_step", "_blocks", "_pool"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._bind()

    def close(self) -> None:
        """Stop the worker threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            self._blocks = []

    def seed(self, rows: IntArray | slice, generators: list[np.random.Generator]) -> None:
        """Seed the random streams of ``rows`` from NumPy generators (one per row)."""
        self.state.rng[rows] = np.stack([seed_states(g, self.state.rng.shape[1]) for g in generators])

    def reset(self, which: BoolArray) -> None:
        """Start new episodes in the environments selected by ``which``."""
        over = reset_batch(which, self._handle)
        self.out.reward[which] = 0.0
        self.out.terminated[which] = False
        self.out.truncated[which] = False
        if over:
            self._over_budget("reset")

    def step(self, actions: IntArray) -> None:
        """Route one ticket in every environment (``actions`` int64, shape (num_envs,))."""
        if self._pool is not None:
            kernel = self._step
            futures = [self._pool.submit(kernel, actions[rows], handle) for rows, handle, _ in self._blocks]
            over = sum(future.result() for future in futures)
        else:
            over = self._step(actions, self._handle)
        if self._step is step_batch:
            self._step = _direct_entry(step_batch)
        if over:
            self._over_budget("step")

    def _over_budget(self, where: str) -> None:
        counts = self.state.counts
        rows = np.flatnonzero(counts[:, I_OVER_BUDGET])
        counts[:, I_DONE] = np.maximum(counts[:, I_DONE], counts[:, I_OVER_BUDGET])
        raise SimulationBudgetError(where, self.params.event_budget, rows, self.config)

    def head_ticket(self, i: int = 0) -> tuple[float, int, int] | None:
        """Arrival time, type and priority of environment ``i``'s ticket to route (None if none)."""
        counts, queue = self.state.counts, self.state.queue
        priority = int(counts[i, I_HEAD])
        if counts[i, I_QLEN] == 0 or priority < 0:
            return None
        front = int(counts[i, I_QFRONT + priority])
        return float(queue[i, priority, front, Q_ARRIVAL]), int(queue[i, priority, front, Q_TYPE]), priority
