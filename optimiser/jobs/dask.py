"""Independent solves on a Dask cluster: the same executor interface as the local process pool.

:class:`DaskExecutor` follows the executor protocol (:class:`optimiser.jobs.executors.Executor`), a
drop-in for :class:`~optimiser.jobs.executors.LocalPoolExecutor`: plain data in (an
:class:`~optimiser.data.Instance`, :class:`~optimiser.jobs.tasks.Job` s and
:class:`~optimiser.solver.options.SolveOptions`), plain result rows out, made by the very same
:func:`optimiser.jobs.tasks.run_task` on the workers (a job, or a group of jobs sharing one model). It either connects to a running scheduler
(``--scheduler tcp://host:8786``) or starts a :class:`distributed.LocalCluster` on this
machine. Dask is an optional extra (``pip install 'ev-line-optimiser[dask]'``); nothing here
imports it until an executor is made.

Workers must be able to import this package (same version as the client): see docs/cluster.md.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace
from typing import Any, Sequence

from ..data import Instance
from ..errors import InputError
from ..names import safe_key
from ..solver.options import SolveOptions
from .executors import PartialComparison, Progress
from .tasks import Task, run_task

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 30.0


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401, PLC0415
    except ModuleNotFoundError:
        raise InputError("a Dask scheduler needs the dask extra: pip install 'ev-line-optimiser[dask]'") from None


class DaskExecutor:
    """Runs jobs as Dask tasks; one client (and, without an address, one LocalCluster) per outermost
    ``with`` block — nested ``with`` blocks (``compare(…, executor=ex)`` inside ``with ex:``) reuse it.

    ``address`` — a scheduler (``tcp://10.0.0.5:8786``); ``None`` starts a LocalCluster of
    ``workers`` processes (default: CPU count) with one thread each. Every solve runs HiGHS with one
    thread (as in the local pool): parallelism comes from the number of workers.
    """

    def __init__(self, address: str | None = None, workers: int | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT, cluster_kwargs: dict[str, Any] | None = None) -> None:
        _require_dask()
        if workers is not None and workers < 1:
            raise InputError("--workers must be ≥ 1")
        self.address = address
        self.workers = workers
        self.connect_timeout = connect_timeout
        self.cluster_kwargs = cluster_kwargs or {}
        self._client: Any = None
        self._cluster: Any = None
        self._depth = 0

    # -------------------------------------------------------------- lifecycle
    def __enter__(self) -> "DaskExecutor":
        from distributed import Client, LocalCluster  # noqa: PLC0415

        self._depth += 1
        if self._client is not None:
            return self
        try:
            self._connect(Client, LocalCluster)
        except BaseException:
            self._depth -= 1
            self._close()
            raise
        return self

    def _connect(self, Client: Any, LocalCluster: Any) -> None:  # noqa: N803
        if self.address is None:
            import os  # noqa: PLC0415

            n = self.workers or (os.cpu_count() or 1)
            kw = {"n_workers": n, "threads_per_worker": 1, "processes": True, "dashboard_address": ":0",
                  "host": "127.0.0.1"} | self.cluster_kwargs
            self._cluster = LocalCluster(**kw)
            self._client = Client(self._cluster, timeout=self.connect_timeout)
        else:
            try:
                self._client = Client(self.address, timeout=self.connect_timeout)
            except (OSError, TimeoutError) as exc:
                raise InputError(f"--scheduler {self.address}: no Dask scheduler answered within "
                                 f"{self.connect_timeout:.0f} s ({exc})") from None

    def __exit__(self, *exc: object) -> None:
        self._depth = max(0, self._depth - 1)
        if self._depth == 0:
            self._close()

    def _close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
            self._cluster = None

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("DaskExecutor: use it in a `with` block")
        return self._client

    def worker_count(self) -> int:
        """Workers the scheduler knows now."""
        return len(self.client.scheduler_info().get("workers", {}))

    # -------------------------------------------------------------- running
    def run(self, instance: Instance, jobs: Sequence[Task], options: SolveOptions, progress: Progress) -> list[dict]:
        """Every job or group on ``instance``; rows in task order (progress is called as they finish)."""
        return self.run_many([(instance, job) for job in jobs], options, progress)

    def run_many(self, tasks: Sequence[tuple[Instance, Task]], options: SolveOptions,
                 progress: Progress) -> list[dict]:
        """Jobs or groups on possibly different instances (a sweep's variants); rows in task order
        (a group is one Dask task, so one worker keeps its model; its rows come in its job order).

        Each distinct instance is shipped to the cluster once (scattered), not once per job.
        """
        from distributed import as_completed  # noqa: PLC0415

        client = self.client
        opts = replace(options, threads=1, second_core="off")  # as every executor (executors.SerialExecutor)
        batch = uuid.uuid4().hex[:8]
        shipped: dict[int, Any] = {}
        for inst, _ in tasks:
            if id(inst) not in shipped:
                shipped[id(inst)] = client.scatter(inst, broadcast=False, hash=False)
        futures = []
        for i, (inst, task) in enumerate(tasks):
            futures.append(client.submit(run_task, shipped[id(inst)], task, opts, pure=False,
                                         key=f"optimiser-{batch}-{i}-{safe_key(task.key)}"))
        index = {f.key: i for i, f in enumerate(futures)}
        rows: list[list[dict] | None] = [None] * len(futures)
        try:
            for fut in as_completed(futures):
                got = fut.result()
                rows[index[fut.key]] = got
                for row in got:
                    progress(row)
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):
                client.cancel(futures)
            raise PartialComparison([r for got in rows if got is not None for r in got]) from None
        except BaseException:
            with contextlib.suppress(Exception):
                client.cancel(futures)
            raise
        finally:
            with contextlib.suppress(Exception):
                client.cancel(list(shipped.values()))
        return [r for got in rows if got is not None for r in got]


def make_dask_executor(address: str | None = None, workers: int | None = None) -> DaskExecutor:
    """The executor for ``--scheduler ADDRESS`` (``None``: a LocalCluster of ``workers`` processes).

    Raises :class:`~optimiser.errors.InputError` (exit code 1) when Dask is not installed.
    Use it as ``compare(instance, …, executor=make_dask_executor(address))``.
    """
    if address is not None:
        address = address.strip()
        if not address:
            raise InputError("--scheduler needs an address such as tcp://10.0.0.5:8786")
        if "://" not in address:
            address = f"tcp://{address}"
    return DaskExecutor(address, workers)
