"""Executors: run tasks (:mod:`optimiser.jobs.tasks`) and hand back their plain result rows.

Every executor follows one protocol, :class:`Executor`: a context manager (``with ex:`` keeps its
workers for every batch inside) with ``run(instance, tasks, options, progress)`` and
``run_many([(instance, task), …], options, progress)``; rows come in task order (a group's rows in
its job order), ``progress`` is called with each row as it finishes, and a Ctrl-C raises
:class:`PartialComparison` with the rows that finished. Here: :class:`SerialExecutor` (this
process) and :class:`LocalPoolExecutor` (spawned processes on this machine); the Dask executor is
:class:`optimiser.jobs.dask.DaskExecutor`.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from multiprocessing import get_context
from typing import Any, Callable, Protocol, Sequence

from ..data import Instance
from ..errors import InterruptedError_
from ..solver.options import SolveOptions
from .tasks import Group, Task, run_task

Progress = Callable[[dict[str, Any]], None]


class Executor(Protocol):
    """What every executor offers (serial, local pool, Dask): see the module docstring."""

    def __enter__(self) -> "Executor": ...

    def __exit__(self, *exc: object) -> None: ...

    def run(self, instance: Instance, jobs: Sequence[Task], options: SolveOptions,
            progress: Progress) -> list[dict]: ...

    def run_many(self, tasks: Sequence[tuple[Instance, Task]], options: SolveOptions,
                 progress: Progress) -> list[dict]: ...


def _worker(args: tuple[Instance, Task, SolveOptions]) -> list[dict[str, Any]]:
    instance, task, options = args
    return run_task(instance, task, options)



class SerialExecutor:
    """Runs jobs one after another in this process."""

    def __enter__(self) -> "SerialExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, instance: Instance, jobs: Sequence[Task], options: SolveOptions, progress: Progress) -> list[dict]:
        return self.run_many([(instance, job) for job in jobs], options, progress)

    def run_many(self, tasks: Sequence[tuple[Instance, Task]], options: SolveOptions,
                 progress: Progress) -> list[dict]:
        """Jobs or groups on possibly different instances (a sweep's variants); rows in task order
        (a group's rows in its job order). HiGHS runs with one thread unless ``options.threads`` says
        otherwise, as in the process pool and on Dask: the same answers with any number of workers
        (HiGHS' search, and so a plan among equals or a gap within the tolerance, depends on its
        thread count). The second core beside the search (``second_core``) is off in every executor:
        the same answers, bounds included, with any number of workers."""
        from .. import isolation  # noqa: PLC0415

        opts = replace(options, second_core="off", threads=1 if options.threads is None else options.threads)
        rows: list[dict] = []
        isolation.clear_interrupt()
        for instance, task in tasks:
            try:
                got = run_task(instance, task, opts)
            except (KeyboardInterrupt, InterruptedError_):
                raise PartialComparison(rows, [_short_key(task)]) from None
            if isolation.interrupt_requested():  # Ctrl-C reached HiGHS: its plan is not an answer
                raise PartialComparison(rows, [_short_key(task)])
            for row in got:
                progress(row)
                rows.append(row)
        return rows


class LocalPoolExecutor:
    """A process pool on this machine, kept for every batch of one comparison.

    Workers are spawned (HiGHS deadlocks in forked children of a process that used it),
    get plain data, build their own model and run HiGHS with one thread.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalPoolExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, instance: Instance, jobs: Sequence[Task], options: SolveOptions, progress: Progress) -> list[dict]:
        return self.run_many([(instance, job) for job in jobs], options, progress)

    def run_many(self, tasks: Sequence[tuple[Instance, Task]], options: SolveOptions,
                 progress: Progress) -> list[dict]:
        """Jobs or groups on possibly different instances (a sweep's variants); rows in task order
        (a group runs in one worker, which keeps its model; its rows come in its job order)."""
        opts = replace(options, threads=1, second_core="off")
        from ..isolation import deaf_to_ctrl_c, pool_worker_init  # noqa: PLC0415

        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"),
                                             initializer=pool_worker_init)
        pool = self._pool
        results: dict[int, list[dict]] = {}
        pending: dict[Future, int] = {}
        try:
            with deaf_to_ctrl_c():  # workers start with SIGINT ignored: no traceback from their imports
                pending = {pool.submit(_worker, (instance, task, opts)): i for i, (instance, task) in enumerate(tasks)}
            while pending:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    rows = fut.result()
                    results[i] = rows
                    for row in rows:
                        progress(row)
        except (KeyboardInterrupt, InterruptedError_):
            running = [_short_key(tasks[i][1]) for f, i in pending.items() if f.running()]
            _stop_pool(pool)
            self._pool = None
            raise PartialComparison([r for i in range(len(tasks)) if i in results for r in results[i]],
                                    running) from None
        return [r for i in range(len(tasks)) for r in results[i]]


def _short_key(task: Task) -> str:
    """A task as an interrupt message names it: a job's key, or a group's first key and how many more."""
    if isinstance(task, Group) and len(task.jobs) > 1:
        return f"{task.jobs[0].key} (+{len(task.jobs) - 1} more)"
    return task.key


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: queued jobs cancelled, running workers ended (SIGTERM; their HiGHS children
    die with them, see :func:`optimiser.isolation.die_with_parent`) — not after their solves."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        try:
            proc.terminate()
        except (OSError, AttributeError):
            pass
    for proc in procs:
        try:
            proc.join(timeout=5)
        except (OSError, AttributeError, AssertionError):
            pass
    pool.shutdown(wait=True, cancel_futures=True)  # its queues closed now: no leaked semaphores at exit


class PartialComparison(KeyboardInterrupt):
    """Ctrl-C during a comparison: the rows that finished, and the keys of the jobs interrupted."""

    def __init__(self, rows: list[dict], interrupted: Sequence[str] = ()) -> None:
        super().__init__(f"{len(rows)} solves finished before the interrupt")
        self.rows = rows
        self.interrupted = list(interrupted)


def make_executor(workers: int | None) -> SerialExecutor | LocalPoolExecutor:
    n = workers if workers is not None else (os.cpu_count() or 1)
    return SerialExecutor() if n <= 1 else LocalPoolExecutor(n)
