"""Where per-item work runs: in this process, a local process pool, or a Dask cluster.

A :class:`Job` is a function mapped over picklable items, ``work(state, item)``, with a per-worker
``state = setup(spec)`` built once (a degradation pipeline, a model). :func:`open_engine` gives an
engine whose :meth:`~PoolEngine.map` yields the results in completion order; callers that need
plan order (or byte-identical output) must not depend on that order.

``pool`` (the default) runs serially for one worker or one item, else in a ``spawn`` process pool
started per :meth:`~PoolEngine.map` call. ``dask`` submits tasks of a few items each to a Dask
scheduler (a ``distributed.LocalCluster`` of ``workers`` one-thread worker processes when no address
is given). Both send items in batches of :func:`batch_size`. Dask reruns a task whose worker died,
so ``work`` must be idempotent: write files atomically, with bytes that depend on the item only.
Worker processes of both engines set glibc's malloc thresholds before building their state
(:func:`_keep_freed_memory`).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

ENGINES = ("pool", "dask")
INSTALL_HINT = "pip install 'oldphoto[dask]'"
CONNECT_TIMEOUT_S = 30
WAIT_FOR_WORKERS_S = 300
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, from glibc's malloc.h
MMAP_THRESHOLD = 32 << 20  # the highest mmap threshold glibc's own adaptive rule sets (64-bit)
MAX_BATCH = 8  # items sent to a worker at once, at most
BATCHES_PER_WORKER = 8  # batches per worker to aim for (smaller batches balance the load better)
# The local cluster skips Dask's statistical profiler (a stack sample of the task thread every 10 ms,
# on the worker's event loop: about half that loop's CPU time; no one sees its dashboard), and its
# event loops check that they are not blocked once a second instead of every 20 ms (the client's
# and scheduler's loop: 0.14 instead of 0.17-0.18 CPU s per 336-sample run, docs/cluster.md)
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s"}


class EngineError(RuntimeError):
    """An engine cannot start: Dask is missing, the scheduler is unreachable, no worker joined."""


@dataclass(frozen=True)
class Job:
    """``work(state, item)`` for each item, ``state = setup(spec)`` built once per worker.

    ``setup`` and ``work`` must be module-level functions and ``spec`` picklable (they travel to
    worker processes); ``name`` prefixes the Dask task keys; ``token`` tells workers a new job from
    the one whose state they hold.
    """

    name: str
    setup: Callable[[Any], Any]
    spec: Any
    work: Callable[[Any, Any], Any]
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def batch_size(items: int, workers: int) -> int:
    """Items per pool chunk or Dask task: 1 to :data:`MAX_BATCH`, leaving at least
    :data:`BATCHES_PER_WORKER` batches per worker where there are enough items."""
    return max(1, min(MAX_BATCH, items // (max(workers, 1) * BATCHES_PER_WORKER)))


# --- what every worker process of an engine does first -------------------------------------------

def _keep_freed_memory() -> None:
    """Have glibc's malloc serve blocks up to :data:`MMAP_THRESHOLD` from its heap, and keep up to
    twice that freed, in this process, whatever ``MALLOC_*`` variables it was started with.

    Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which turns glibc's
    adaptive thresholds off: every image-sized temporary is then mmapped, page-faulted in and
    unmapped again (about 70x the page faults, 1.2-1.4x the CPU per sample; docs/cluster.md). Pool
    workers inherit the variable too once a LocalCluster has set it in this process's environment.
    These are the highest values glibc's adaptive rule reaches by itself; no effect without glibc.
    """
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None) if sys.platform.startswith("linux") else None
    if mallopt is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD)


def _worker_state(job: Job) -> Any:
    """``job``'s state in a worker process (pool or Dask), after the process-wide settings."""
    _keep_freed_memory()
    return job.setup(job.spec)


# --- the local engine: serial or a process pool ----------------------------------------------------

_POOL_STATE: dict = {}


def _init_pool_worker(job: Job, barrier) -> None:
    _POOL_STATE["job"], _POOL_STATE["state"] = job, _worker_state(job)
    barrier.wait(timeout=300)


def _run_in_pool(item: Any) -> Any:
    return _POOL_STATE["job"].work(_POOL_STATE["state"], item)


class PoolEngine:
    """``workers`` processes on this machine (serial for one worker or one item)."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self.startup_s = 0.0  # seconds spent starting pools (and building serial state)
        self.shutdown_s = 0.0  # seconds spent stopping pools

    def map(self, job: Job, items: Sequence) -> Iterator[Any]:
        """Yield ``job.work(state, item)`` for every item, in completion order."""
        start = time.perf_counter()
        if self.workers <= 1 or len(items) <= 1:
            state = job.setup(job.spec)
            self.startup_s += time.perf_counter() - start
            for item in items:
                yield job.work(state, item)
            return
        context = multiprocessing.get_context("spawn")
        workers = min(self.workers, len(items))
        barrier = context.Barrier(workers + 1)
        with context.Pool(workers, initializer=_init_pool_worker, initargs=(job, barrier)) as pool:
            barrier.wait(timeout=300)
            self.startup_s += time.perf_counter() - start
            yield from pool.imap_unordered(_run_in_pool, items, chunksize=batch_size(len(items), workers))
            closing = time.perf_counter()
        self.shutdown_s += time.perf_counter() - closing


# --- the Dask engine ---------------------------------------------------------------------------------

_DASK_STATE = threading.local()  # per worker thread: (job token, state) of the last job it ran


def _dask_state(job: Job) -> Any:
    """This worker thread's state for ``job``, built on its first task."""
    held = getattr(_DASK_STATE, "held", None)
    if held is None or held[0] != job.token:
        _DASK_STATE.held = None  # free the previous job's state before building this one's
        _DASK_STATE.held = (job.token, _worker_state(job))
    return _DASK_STATE.held[1]


def _prepare_on_dask_worker(job: Job) -> None:
    _dask_state(job)


def _run_on_dask_worker(job: Job, batch: Sequence) -> list:
    state = _dask_state(job)
    return [job.work(state, item) for item in batch]


class DaskEngine:
    """Tasks of :func:`batch_size` items on the cluster behind ``client`` (a ``distributed.Client``)."""

    def __init__(self, client, startup_s: float) -> None:
        self.client = client
        self.startup_s = startup_s
        self.shutdown_s = 0.0  # seconds :func:`open_engine` spent closing the client (and its local cluster)

    def map(self, job: Job, items: Sequence) -> Iterator[Any]:
        """Yield ``job.work(state, item)`` for every item, in completion order of the tasks (items of
        one task in their order); a task lost with a worker is rerun whole by the scheduler, and its
        results come once. Leaving the loop early cancels the tasks not yet done.

        Each worker present builds the job's state first (counted in ``startup_s``, as the pool's
        initializer is); a failing ``setup`` fails the tasks instead."""
        from distributed import as_completed, wait

        start = time.perf_counter()
        workers = self.client.scheduler_info()["workers"]
        wait([self.client.submit(_prepare_on_dask_worker, job, key=f"{job.name}-setup-{uuid.uuid4().hex}",
                                 workers=[address], allow_other_workers=True, pure=False) for address in workers])
        self.startup_s += time.perf_counter() - start
        size = batch_size(len(items), len(workers))
        pending = {self.client.submit(_run_on_dask_worker, job, items[i:i + size],
                                      key=f"{job.name}-{uuid.uuid4().hex}", pure=False)
                   for i in range(0, len(items), size)}
        try:
            for future in as_completed(list(pending)):
                pending.discard(future)
                results = future.result()
                future.release()
                yield from results
        finally:
            if pending:
                self.client.cancel(list(pending))


def _distributed():
    try:
        import distributed
    except ImportError:
        raise EngineError(f"--engine dask needs Dask and distributed: {INSTALL_HINT}") from None
    return distributed


def check_engine(name: str, scheduler: str | None = None) -> None:
    """Raise :class:`EngineError` unless :func:`open_engine` can start ``name`` (checked before a run
    writes anything): a known engine, a scheduler only for Dask, Dask installed."""
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    if name == "pool" and scheduler is not None:
        raise EngineError("a scheduler address needs --engine dask")
    if name == "dask":
        _distributed()


@contextmanager
def open_engine(name: str = "pool", workers: int = 1,
                scheduler: str | None = None) -> Iterator[PoolEngine | DaskEngine]:
    """The engine ``name`` (see :data:`ENGINES`), closed (cluster and client too) on exit.

    ``workers``: processes of the pool, or one-thread workers of the local Dask cluster started
    when ``scheduler`` (a Dask scheduler address such as ``tcp://host:8786``) is None.
    """
    check_engine(name, scheduler)
    if name == "pool":
        yield PoolEngine(workers)
        return
    distributed = _distributed()
    import dask  # installed with distributed

    start = time.perf_counter()
    with ExitStack() as stack:
        if scheduler is None:
            with dask.config.set(LOCAL_WORKER_CONFIG):
                target = stack.enter_context(distributed.LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"))
        else:
            target = scheduler
        try:
            client = stack.enter_context(distributed.Client(target, timeout=CONNECT_TIMEOUT_S))
        except (OSError, TimeoutError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            client.wait_for_workers(workers if scheduler is None else 1, timeout=WAIT_FOR_WORKERS_S)
        except TimeoutError:
            raise EngineError(f"no Dask worker joined the scheduler at {scheduler} within {WAIT_FOR_WORKERS_S} s; "
                              "start some with `dask worker ADDRESS --nthreads 1`") from None
        engine = DaskEngine(client, time.perf_counter() - start)
        yield engine
        closing = time.perf_counter()
    engine.shutdown_s = time.perf_counter() - closing


__all__ = ["ENGINES", "DaskEngine", "EngineError", "INSTALL_HINT", "Job", "PoolEngine", "batch_size", "check_engine",
           "open_engine"]
