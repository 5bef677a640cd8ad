"""Jobs, groups and tasks: one independent solve as plain data, and the function that runs it.

A :class:`Job` is one solve (a strategy in a scenario, a stochastic plan, a plan evaluation, the
expected-value problem, a CVaR plan); a :class:`Group` is jobs sharing one model structure, run in
order on one compiled model (:class:`~optimiser.jobs.reuse.SharedModel`). :func:`run_task` runs
either on any executor (:mod:`optimiser.jobs.executors`, :mod:`optimiser.jobs.dask`) and returns
plain result rows — NPV, objective, status, gap, per-scenario NPV — never raising for a model
without a plan (the row's status says why).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from ..data import Instance, Scenario
from ..engine import solve_instance
from ..errors import InfeasibleError, NoSolutionError
from ..finance import finance
from ..model.sets import FirstStage, Risk
from ..results import Results
from ..solver.options import SolveOptions
from .reuse import SharedModel

EXPECTED = "expected-value"


@dataclass(frozen=True)
class Job:
    """One independent solve, as plain data (ships to worker processes)."""

    key: str
    kind: str  # "deterministic" | "stochastic" | "expected" | "evaluate" | "cvar"
    strategy: str
    scenario: str | None = None
    fixed: FirstStage | None = None
    risk: Risk | None = None
    keep_results: bool = False


def expected_value_instance(inst: Instance) -> Instance:
    """The mean-value problem: one scenario with probability-weighted demand and price factor."""
    keys = sorted(set(inst.demand) | {(p, m, t) for (_, p, m, t) in inst.scenario_demand})
    mean = {(EXPECTED, p, m, t): sum(s.probability * inst.demand_volume(p, m, t, s) for s in inst.scenarios)
            for (p, m, t) in keys}
    pf = sum(s.probability * s.price_factor for s in inst.scenarios)
    scen = Scenario(EXPECTED, 1.0, 1.0, pf, "probability-weighted mean of every scenario")
    return replace(inst, scenarios=(scen,), scenario_demand=mean)


@dataclass(frozen=True)
class Group:
    """Jobs that share one model structure (same instance, scenario selection and risk term), run in
    order on one compiled model kept in HiGHS (:mod:`optimiser.jobs.reuse`); plain data like a Job.

    ``warm_start``: start each MIP from the best earlier plan of the group that fits its bounds.
    """

    jobs: tuple[Job, ...]
    warm_start: bool = False

    @property
    def key(self) -> str:
        return "+".join(j.key for j in self.jobs)


Task = Job | Group


def run_job(instance: Instance, job: Job, options: SolveOptions) -> dict[str, Any]:
    """Solve one job on a model built for it; never raises for a model without a plan (the row says why)."""
    inst = expected_value_instance(instance) if job.kind == "expected" else instance
    return _solve_row(job, lambda: solve_instance(inst, job.strategy, job.scenario, options, fixed=job.fixed,
                                                  risk=job.risk), lambda: "fresh")


def run_group(instance: Instance, group: Group, options: SolveOptions) -> list[dict[str, Any]]:
    """Solve a group's jobs in order on one shared model (a plan that does not fit it, and the
    expected-value job, get a fresh build); rows in job order."""
    from .. import isolation  # noqa: PLC0415

    rows: list[dict[str, Any]] = []
    shared: SharedModel | None = None
    try:
        for job in group.jobs:
            if isolation.interrupt_requested():  # Ctrl-C reached the last solve: run no more
                raise KeyboardInterrupt
            if job.kind == "expected":
                rows.append(run_job(instance, job, options))
                continue
            if shared is None:
                shared = SharedModel(instance, job.scenario, job.risk, options, warm_start=group.warm_start)
            if not shared.fits(job.fixed):
                rows.append(run_job(instance, job, options))
                continue
            model = shared
            rows.append(_solve_row(job, lambda: model.solve(job.strategy, job.fixed), lambda: model.last))
    finally:
        if shared is not None:
            shared.close()
    return rows


def run_task(instance: Instance, task: Task, options: SolveOptions) -> list[dict[str, Any]]:
    """One unit of work for an executor: a job (one row) or a group (one row per job)."""
    if isinstance(task, Group):
        return run_group(instance, task, options)
    return [run_job(instance, task, options)]


def _solve_row(job: Job, solve: Callable[[], Results], how: Callable[[], str]) -> dict[str, Any]:
    """The plain result row of one job; ``how`` says how it was answered (fresh build, or on a shared
    model: solved, warm-started, or dominated — the answer of an earlier run under looser bounds)."""
    row: dict[str, Any] = {"key": job.key, "kind": job.kind, "strategy": job.strategy, "scenario": job.scenario}
    t0 = time.perf_counter()
    try:
        res = solve()
    except InfeasibleError:
        return row | {"status": "infeasible", "npv": None, "objective": None, "gap": None, "how": how(),
                      "job_seconds": time.perf_counter() - t0}
    except NoSolutionError:
        return row | {"status": "no_solution", "npv": None, "objective": None, "gap": None, "how": how(),
                      "job_seconds": time.perf_counter() - t0}
    fin = finance(res.cash_flow, {r.scenario: r.probability for r in res.npv_by_scenario.itertuples()})
    row |= {"status": res.run.status, "npv": res.npv, "objective": res.objective, "gap": res.run.gap,
            "irr": fin.irr, "payback_year": fin.payback_year, "peak_funding": fin.peak_funding,
            "solve_seconds": res.run.solve_seconds,
            "scenario_npv": {r.scenario: r.npv for r in res.npv_by_scenario.itertuples()},
            "probability": {r.scenario: r.probability for r in res.npv_by_scenario.itertuples()},
            "options_taken": res.options_taken, "lines_built": res.lines_built_ids,
            "first_stage": res.first_stage() if job.kind in ("expected",) else None,
            "results": res if job.keep_results else None,
            "how": how(), "build_seconds": res.run.build_seconds, "handoff_seconds": res.run.handoff_seconds,
            "job_seconds": time.perf_counter() - t0}
    return row


def group_tasks(pairs: Sequence[tuple[Instance, Job]], warm_start: bool = False
                ) -> tuple[list[tuple[Instance, Task]], list[int]]:
    """Jobs that share a model structure — same instance object, scenario selection and risk term —
    become one :class:`Group` (looser bounds first — ``optimise``, then strategies fixing fewer
    options, then evaluations of a plan — so tighter jobs can re-use an earlier answer; ties in
    the given order); the expected-value job and singletons stay jobs.

    Returns the tasks (in order of each structure's first job) and, for the rows the executor
    hands back (tasks in order, a group's rows in its job order), the index of each row's pair.
    The grouping depends on the jobs alone, never on the executor or the number of workers, so
    every executor runs the same sequence of solves on each model (same answers).
    """
    buckets: dict[tuple, list[int]] = {}
    order: list[tuple] = []
    for i, (inst, job) in enumerate(pairs):
        key = ("job", i) if job.kind == "expected" else (id(inst), job.scenario, job.risk)
        if key not in buckets:
            buckets[key] = []
            order.append(key)
        buckets[key].append(i)
    tasks: list[tuple[Instance, Task]] = []
    index: list[int] = []
    for key in order:
        idx = buckets[key]
        idx = sorted(idx, key=lambda i: _looser_first(*pairs[i]))
        if len(idx) == 1:
            tasks.append(pairs[idx[0]])
        else:
            tasks.append((pairs[idx[0]][0], Group(tuple(pairs[i][1] for i in idx), warm_start=warm_start)))
        index.extend(idx)
    return tasks, index


def _looser_first(instance: Instance, job: Job) -> tuple[bool, int]:
    """Order within a group: jobs without a fixed plan first, then by how many options the strategy
    fixes (``optimise`` none) — an answer can only be re-used by a job with tighter bounds."""
    return job.fixed is not None, len(instance.strategies.get(job.strategy, {}))
