"""Where tasks run: in this process, in local worker processes, or on a Ray cluster.

Every backend takes the same :class:`~rl_environments.ticket_routing.planning.tasks.Task` objects and
yields ``(index, rows)`` as tasks finish (in any order). The rows of a task do not depend on where
it ran, because a task carries its seeds: callers put results back in task order.

* :class:`SerialBackend`: one task after the other, here.
* :class:`ProcessBackend`: a ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start
  method, so workers start clean (no forked Numba or thread state) on every platform.
* :class:`RayBackend`: Ray's task API (``ray.remote``) on an existing cluster (``address="auto"``,
  ``"HOST:PORT"`` or ``"ray://HOST:PORT"``), or on a Ray instance started here (``"local"``). Ray is
  imported only when this backend is created.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import re
import sys
import types
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from rl_environments.ticket_routing.planning.tasks import Task, run_task

Rows = list[dict[str, Any]]


class BackendError(ValueError):
    """A backend that cannot start: Ray missing, a bad address, a cluster that does not answer."""


class Backend(Protocol):
    name: str
    """Short description for people (``serial``, ``2 worker processes``, ``Ray at auto``)."""

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Rows]]:
        """Yield ``(index into tasks, rows)`` as each task finishes."""
        ...

    def close(self) -> None:
        """Release workers (idempotent)."""
        ...


def warm_up() -> None:
    """Load the simulation kernels in this process (from Numba's disk cache) with a one-decision episode.

    Worker processes run it when they start, so no task pays for it.
    """
    from rl_environments.ticket_routing.core.config import EnvironmentConfig

    run_task(Task(EnvironmentConfig(episode_length=1).to_dict(), "random", 1, 0, "warm-up"))


class SerialBackend:
    """Run tasks one after the other in this process."""

    name = "serial (in-process)"

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Rows]]:
        for index, task in enumerate(tasks):
            yield index, run_task(task)

    def close(self) -> None:
        return None


@contextlib.contextmanager
def _empty_main() -> Iterator[None]:
    """Show spawned workers an empty ``__main__`` while they start.

    A spawned process runs the parent's ``__main__`` script again (unless it was started with
    ``python -m``). Tasks need nothing from it (they call importable functions), and some scripts
    must not run twice: a Streamlit page, or a test runner that left its script as ``__main__``.
    """
    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


class ProcessBackend:
    """Run tasks in ``workers`` local processes (started with ``spawn``; kept for the backend's life)."""

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise BackendError(f"workers: invalid value {workers!r}; must be an integer >= 1")
        self.workers = workers
        self.name = f"{workers} local worker processes"
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=warm_up
        )

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Rows]]:
        if self._pool is None:
            raise BackendError("this backend is closed")
        with _empty_main():  # the pool starts its worker processes inside submit()
            futures: dict[Future[Rows], int] = {self._pool.submit(run_task, task): i for i, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:  # interrupted or failed: do not start the tasks still waiting
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_ADDRESS = re.compile(r"^(auto|local|(ray://)?[A-Za-z0-9_.\-\[\]:]+:\d{1,5})$")


class RayBackend:
    """Run tasks as Ray tasks (one CPU each) on a cluster, or on a local Ray instance (``"local"``).

    ``num_cpus`` only applies to ``"local"``. A Ray instance this backend started is shut down by
    :meth:`close`; a connection to an existing cluster is only dropped.
    """

    def __init__(self, address: str, num_cpus: int | None = None) -> None:
        if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
            raise BackendError(
                f"ray address: invalid value {address!r}; expected auto, local, HOST:PORT or ray://HOST:PORT"
            )
        try:
            ray: Any = importlib.import_module("ray")
        except ImportError as exc:
            raise BackendError(
                f"ray address {address}: Ray is not installed ({exc}); pip install 'rl-environments[rllib]' "
                "or 'ray>=2.40'"
            ) from None
        self._ray: Any = ray
        self.address = address.strip()
        self._owned = False
        if not ray.is_initialized():
            try:
                if self.address == "local":
                    ray.init(
                        num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR
                    )
                else:
                    ray.init(address=self.address, log_to_driver=False, logging_level=logging.ERROR)
            except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
                raise BackendError(f"ray address {self.address}: cannot connect: {exc}") from None
            self._owned = True
        self.name = f"Ray ({self.address}, {int(ray.cluster_resources().get('CPU', 0))} CPUs)"
        self._remote: Any = ray.remote(num_cpus=1)(run_task)

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[int, Rows]]:
        ray = self._ray
        refs = {self._remote.remote(task): i for i, task in enumerate(tasks)}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    yield refs[ref], ray.get(ref)
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        if self._owned:
            self._ray.shutdown()
            self._owned = False


def make_backend(workers: int = 1, ray_address: str | None = None) -> Backend:
    """The backend for ``workers`` local processes (1: in-process) or a Ray ``ray_address``."""
    if ray_address is not None:
        if workers != 1:
            raise BackendError("workers: give either workers or a Ray address, not both")
        return RayBackend(ray_address)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise BackendError(f"workers: invalid value {workers!r}; must be an integer >= 1")
    return SerialBackend() if workers == 1 else ProcessBackend(workers)
