"""Where a run's tasks are computed: this process, worker processes on this machine, or a Dask
cluster.

A backend maps a function over tasks and hands back each result as it arrives, in any order.
Every result is a set of integer tallies (or a sweep chunk's figures, placed by its index), so
the merged results are identical whatever the backend, the worker count or the order in which
tasks finish (``tests/run/test_backends.py``).

* :class:`LocalBackend` (``--backend local``): one worker runs every task in this process; more
  run in a pool of processes (:mod:`sim.run.workers`).
* :class:`DaskBackend` (``--backend dask``): a ``dask.distributed`` client, of an existing
  scheduler (``--scheduler ADDRESS``) or of a ``LocalCluster`` of ``--workers`` single-threaded
  processes. Each task is submitted under its own key, after the inputs every task shares (the
  scenario), which are sent once. A task is pure (same inputs, same tallies), so the work a lost
  worker held is simply recomputed by the scheduler elsewhere; a map that stops early (an error,
  Ctrl-C) cancels its tasks on the cluster. Every result carries the identity of the worker
  that computed it (:func:`sim.sources.identity`: the hash of sim's kernel sources and the
  versions it runs on), and a
  result from a worker whose identity is not this process's is refused: identical results need
  identical code (``docs/cluster.md``).

:func:`open_backend` opens either, and is where a bad choice or an unreachable scheduler becomes
an :class:`sim.inputs.InputError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sim.inputs import InputError
from sim.run.workers import worker_pool
from sim.sources import describe_identity
from sim.sources import identity as worker_identity

__all__ = [
    "BACKENDS",
    "SCHEDULER_TIMEOUT_SECONDS",
    "Backend",
    "ClusterError",
    "ClusterOptions",
    "DaskBackend",
    "LocalBackend",
    "as_backend",
    "open_backend",
]

#: The backends ``--backend`` accepts.
BACKENDS = ("local", "dask")

#: How long to try to reach a scheduler before giving up (seconds).
SCHEDULER_TIMEOUT_SECONDS = 10.0

#: ``function(shared, task)``: one task's result; both picklable, the function importable.
Task = Callable[[Any, Any], Any]
#: ``on_piece(done, total)``: tasks completed so far, of a map's total.
PieceProgress = Callable[[int, int], None]


class ClusterError(RuntimeError):
    """The cluster could not finish a run: a task that kept killing its workers, or a worker
    whose code differs from this process's. ``str()`` is the message for the user."""


class Backend(Protocol):
    """What the runner needs of a backend."""

    name: str

    @property
    def workers(self) -> int:
        """Workers that run tasks at once (at least 1): sizes tasks and sweep chunks."""
        ...

    def map_unordered(
        self, function: Task, shared: Any, tasks: Sequence[Any], label: str = "task"
    ) -> Iterator[tuple[int, Any]]:
        """``(index, function(shared, tasks[index]))`` for every task, as each finishes."""
        ...


def _apply(item: tuple[Task, Any, int, Any]) -> tuple[int, Any]:
    function, shared, index, task = item
    return index, function(shared, task)


class LocalBackend:
    """Tasks in this process (``workers`` = 1) or in a pool of ``workers`` processes.

    Parameters
    ----------
    workers : int
        Processes; 1 runs every task in this process.
    """

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self._workers = max(1, int(workers))

    @property
    def workers(self) -> int:
        return self._workers

    def map_unordered(
        self, function: Task, shared: Any, tasks: Sequence[Any], label: str = "task"
    ) -> Iterator[tuple[int, Any]]:
        """See :meth:`Backend.map_unordered`. Close the iterator (``contextlib.closing``) to
        stop the pool at once when the caller stops early."""
        if self._workers <= 1 or len(tasks) <= 1:
            for index, task in enumerate(tasks):
                yield index, function(shared, task)
            return
        items = ((function, shared, index, task) for index, task in enumerate(tasks))
        with worker_pool(min(self._workers, len(tasks))) as pool:
            yield from pool.imap_unordered(_apply, items)


def as_backend(workers: int | Backend) -> Backend:
    """``workers`` if it is a backend, else a :class:`LocalBackend` of that many processes."""
    return LocalBackend(workers) if isinstance(workers, int) else workers


def _shared_inputs(shared: Any) -> Any:
    """A task whose result is the inputs every task of a map shares: held by the cluster like
    any result, and recomputed from its (small) definition if the worker holding it is lost."""
    return shared


def _run_task(function: Task, shared: Any, task: Any) -> tuple[tuple[str, ...], str, Any]:
    """One task on a Dask worker, with that worker's identity and address."""
    from distributed import get_worker

    return worker_identity(), get_worker().address, function(shared, task)


class DaskBackend:
    """Tasks on a ``dask.distributed`` cluster (:func:`open_backend` makes one).

    Parameters
    ----------
    client : distributed.Client
    on_piece : callable, optional
        ``on_piece(done, total)`` after each task of a map completes.
    """

    name = "dask"

    def __init__(self, client: Any, on_piece: PieceProgress | None = None) -> None:
        self.client = client
        self.on_piece = on_piece

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1)["workers"]))

    @property
    def scheduler_address(self) -> str:
        return str(self.client.scheduler.address)

    @property
    def dashboard_link(self) -> str | None:
        with contextlib.suppress(Exception):
            return str(self.client.dashboard_link)
        return None

    def describe(self) -> str:
        """A line for the user: where the scheduler is, its workers, the dashboard."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        threads = sum(w.get("nthreads", 1) for w in info.values())
        line = f"dask: scheduler {self.scheduler_address}, {len(info)} workers ({threads} threads)"
        link = self.dashboard_link
        return line + (f"; dashboard {link}" if link else "")

    def map_unordered(
        self, function: Task, shared: Any, tasks: Sequence[Any], label: str = "task"
    ) -> Iterator[tuple[int, Any]]:
        """See :meth:`Backend.map_unordered`. Tasks are keyed ``{label}-{token}-{index}``; if
        the caller stops early (an error, Ctrl-C, closing the iterator), every task still
        pending is cancelled on the cluster before the exception goes on.

        Raises
        ------
        ClusterError
            A task that killed the workers running it too often (``KilledWorker``), or a result
            from a worker whose :func:`worker_identity` is not this process's.
        """
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        client, token = self.client, uuid.uuid4().hex[:10]
        inputs = client.submit(_shared_inputs, shared, key=f"{label}-inputs-{token}")
        pending = {
            index: client.submit(
                _run_task, function, inputs, task, key=f"{label}-{token}-{index}", retries=0
            )
            for index, task in enumerate(tasks)
        }
        index_of = {future.key: index for index, future in pending.items()}
        mine = worker_identity()
        total, done = len(pending), 0
        try:
            for future in as_completed(list(pending.values()), loop=client.loop):
                try:
                    identity, worker, result = future.result()
                except KilledWorker:
                    raise ClusterError(
                        f"task {future.key} was running on every worker that died, too often "
                        "(distributed.scheduler.allowed-failures); the run was stopped. The "
                        "workers' logs say why (a memory limit?)"
                    ) from None
                if tuple(identity) != mine:
                    raise ClusterError(
                        f"worker {worker} runs {describe_identity(identity)}; this process runs "
                        f"{describe_identity(mine)}: results would not be identical; install "
                        "the same sim and packages on every worker (docs/cluster.md)"
                    )
                index = index_of[future.key]
                del pending[index]
                future.release()
                done += 1
                if self.on_piece is not None:
                    self.on_piece(done, total)
                yield index, result
        except BaseException:
            client.cancel([*pending.values(), inputs], force=True)
            raise
        finally:
            inputs.release()


#: A scheduler address: an optional protocol, a host (a name, IPv4, or [IPv6]) and a port.
_ADDRESS = re.compile(
    r"^(?:(?:tcp|tls|ucx|ws|wss)://)?(?:\[[0-9A-Fa-f:.]+\]|[^\s/:\[\]]+):\d{1,5}$"
)


def _address_problem(address: str) -> str | None:
    """Why ``address`` is not a scheduler address, or None."""
    if not _ADDRESS.match(address) or int(address.rsplit(":", 1)[1]) > 65535:
        return (
            f"{address}: not a scheduler address; allowed: [PROTOCOL://]HOST:PORT, e.g. "
            "tcp://10.0.0.5:8786 (PROTOCOL: tcp, tls, ucx, ws or wss)"
        )
    return None


async def _probe(address: str, timeout: float) -> None:
    """Connect to ``address`` and say hello as Dask's protocol does; raise if it cannot."""
    from distributed.comm import connect

    # connect's own timeout does not cover the handshake: a port that accepts and stays silent
    # would hold the run forever.
    comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
    await comm.close()


def _describe_unreachable(address: str, timeout: float, error: BaseException) -> InputError:
    if isinstance(error, (OSError, TimeoutError)):
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        reason = "" if "Timed out" in reason else f" ({reason})"
        problem = f"no Dask scheduler answered there within {timeout:g} s{reason}"
    else:  # something answered, in another protocol
        problem = "what answers there is not a Dask scheduler"
    return InputError(
        f"{address}: {problem}; allowed: the address of a running dask.distributed scheduler, "
        "e.g. tcp://10.0.0.5:8786 (docs/cluster.md)",
        field="scheduler",
    )


@dataclass(frozen=True)
class ClusterOptions:
    """How to reach a Dask cluster and what to tell the user (``sim run --backend dask``).

    Attributes
    ----------
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler (``tcp://host:8786``); None starts
        a ``LocalCluster``.
    timeout : float
        Seconds to try to reach ``scheduler``.
    on_ready : callable, optional
        Called with a line naming the scheduler, its workers and the dashboard link.
    on_piece : callable, optional
        ``on_piece(done, total)`` after each completed task.
    """

    scheduler: str | None = None
    timeout: float = SCHEDULER_TIMEOUT_SECONDS
    on_ready: Callable[[str], None] | None = None
    on_piece: PieceProgress | None = None


@contextlib.contextmanager
def open_backend(
    backend: str = "local",
    workers: int = 1,
    cluster: ClusterOptions | None = None,
) -> Iterator[Backend]:
    """Open a backend for the length of a run, and close it (a local cluster stopped, a client
    disconnected) however the run ends.

    Parameters
    ----------
    backend : {"local", "dask"}
    workers : int
        Local processes; with ``backend="dask"`` and no ``scheduler``, the size of the
        ``LocalCluster`` started (one thread each). Ignored with a ``scheduler``: the cluster's
        workers are its own.
    cluster : ClusterOptions, optional
        With ``backend="dask"``: the scheduler (default: start a ``LocalCluster``), the time
        allowed to reach it, and the callbacks.

    Yields
    ------
    Backend

    Raises
    ------
    InputError
        An unknown backend, a scheduler without ``backend="dask"``, or a scheduler that cannot
        be reached within its timeout (named by its address).
    """
    cluster = cluster or ClusterOptions()
    scheduler, timeout = cluster.scheduler, cluster.timeout
    problems = []
    if backend not in BACKENDS:
        problems.append(("backend", f"{backend!r}: allowed: {', '.join(BACKENDS)}"))
    if scheduler is not None and backend != "dask":
        problems.append(("scheduler", f"{scheduler}: allowed only with the dask backend"))
    elif scheduler is not None and (problem := _address_problem(scheduler)):
        problems.append(("scheduler", problem))
    if not workers >= 1:
        problems.append(("workers", f"{workers}: allowed: at least 1"))
    if problems:
        raise InputError("", problems=problems)
    if backend == "local":
        yield LocalBackend(workers)
        return
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is None:
            with warnings.catch_warnings():  # 8787 taken: another port, named in the link
                warnings.filterwarnings("ignore", "Port .* is already in use", UserWarning)
                local = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":8787",
                        silence_logs=logging.CRITICAL,
                    )
                )
            address = local.scheduler_address
        else:
            address = scheduler
        started = time.monotonic()
        try:
            if scheduler is not None:
                # A bare connection first: a Client that fails half-way complains again as it
                # is collected, and something else listening there can answer with garbage.
                asyncio.run(_probe(address, timeout))
            client = stack.enter_context(Client(address, timeout=timeout, set_as_default=False))
        except Exception as error:  # refused, timed out, or not a Dask scheduler
            raise _describe_unreachable(address, timeout, error) from None
        if scheduler is None:  # its workers are ours: wait until they are all up
            client.wait_for_workers(workers, timeout=max(timeout - time.monotonic() + started, 60))
        dask = DaskBackend(client, cluster.on_piece)
        if cluster.on_ready is not None:
            cluster.on_ready(dask.describe())
        yield dask
