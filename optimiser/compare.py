"""Strategy × scenario comparison: regret, the value of planning for uncertainty, CVaR.

Every solve is an independent :class:`Job` of plain data; an executor (serial,
a local process pool, or later a cluster) runs them and hands back plain rows.
The planning arithmetic below never knows which executor ran the jobs.

Definitions (π_s scenario probabilities). "NPV" is the plan's cash NPV; the solver maximises the
objective = cash NPV − unmet-demand penalty − share-target penalty (weights, not cash). The matrix,
regret, worst case, CVaR and the recommendation read cash NPV (a board ranks by cash; a hard target
is a constraint, not a weight); WS, RP, EEV, EVPI and VSS are optima, so they read the objective.

* matrix: NPV of strategy k when scenario s is known in advance (deterministic solve);
* stochastic plan of k: the two-stage extensive form with k's fixings (first stage chosen
  before demand is known); its expected NPV and its NPV in every scenario;
* regret of k in s = best deterministic NPV in s (over all strategies) − NPV of k's
  stochastic plan in s (≥ 0 when the instance has no weights: with them a plan optimised with its
  weights can have less cash than another plan); max regret over s;
* WS (wait-and-see) = Σ π_s · best objective in s knowing s; RP = stochastic optimum (objective);
  EEV = expected objective of the expected-value plan (first stage of the mean-scenario
  solve, fixed, re-optimised in every scenario); EVPI = WS − RP; VSS = RP − EEV.
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from .data import Instance, Scenario
from .errors import InfeasibleError, InputError, InterruptedError_, NoSolutionError
from .finance import finance
from .model.sets import FirstStage, Risk
from .numbers import money, snap, tolerance
from .results import Results, cvar
from .schema import OPTIMISE
from .solver.options import SolveOptions

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


def restrict_scenarios(inst: Instance, chosen: Sequence[str]) -> tuple[Instance, str | None]:
    """The instance over the ``chosen`` scenarios alone, their probabilities renormalised, and a note saying so.

    π'_s = π_s / Σ_{c ∈ chosen} π_c for s ∈ chosen (so Σ π' = 1); every figure of a comparison —
    stochastic plans, expected NPV, regret, WS, EEV, EVPI, VSS, the recommendation — is then over the
    chosen scenarios only. All scenarios chosen: the instance unchanged and no note.
    """
    ids = [s.id for s in inst.scenarios]
    if list(chosen) == ids or set(chosen) == set(ids):
        return inst, None
    total = sum(inst.scenario(s).probability for s in chosen)
    if total <= 0:
        raise InputError(f"--scenarios {','.join(chosen)}: their probabilities sum to 0; nothing to weight them by")
    scen = tuple(replace(inst.scenario(s), probability=inst.scenario(s).probability / total) for s in chosen)
    keep = set(chosen)
    restricted = replace(inst, scenarios=scen,
                         scenario_demand={k: v for k, v in inst.scenario_demand.items() if k[0] in keep})
    shares = ", ".join(f"{s.id} {inst.scenario(s.id).probability:g} → {s.probability:.4g}" for s in scen)
    note = (f"{len(chosen)} of {len(ids)} scenarios ({', '.join(chosen)}): probabilities renormalised to sum to 1 "
            f"({shares}); every expected figure, regret and the recommendation are over these scenarios only")
    return restricted, note


@dataclass(frozen=True)
class Group:
    """Jobs that share one model structure (same instance, scenario selection and risk term), run in
    order on one compiled model kept in HiGHS (:mod:`optimiser.reuse`); plain data like a Job.

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
    from .pipeline import solve_instance  # noqa: PLC0415

    inst = expected_value_instance(instance) if job.kind == "expected" else instance
    return _solve_row(job, lambda: solve_instance(inst, job.strategy, job.scenario, options, fixed=job.fixed,
                                                  risk=job.risk), lambda: "fresh")


def run_group(instance: Instance, group: Group, options: SolveOptions) -> list[dict[str, Any]]:
    """Solve a group's jobs in order on one shared model (a plan that does not fit it, and the
    expected-value job, get a fresh build); rows in job order."""
    from .reuse import SharedModel  # noqa: PLC0415

    from . import isolation  # noqa: PLC0415

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


def _worker(args: tuple[Instance, Task, SolveOptions]) -> list[dict[str, Any]]:
    instance, task, options = args
    return run_task(instance, task, options)


# ------------------------------------------------------------------ executors

Progress = Callable[[dict[str, Any]], None]


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
        thread count)."""
        from . import isolation  # noqa: PLC0415

        opts = options if options.threads is not None else replace(options, threads=1)
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
        opts = replace(options, threads=1)
        from .isolation import deaf_to_ctrl_c, pool_worker_init  # noqa: PLC0415

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


# ------------------------------------------------------------------ comparison

@dataclass
class Comparison:
    """Every table of a comparison, plus the headline numbers."""

    instance: str
    currency: str
    strategies: list[str]
    scenarios: list[str]
    probability: dict[str, float]
    matrix: pd.DataFrame
    stochastic: pd.DataFrame
    regret: pd.DataFrame
    value: pd.DataFrame
    evpi: float | None
    vss: float | None
    wait_and_see: float | None
    stochastic_optimum: float | None
    eev: float | None
    recommendation: dict[str, str | None]
    sentences: list[str]
    plans: dict[str, Results] = field(default_factory=dict)
    risk: dict[str, Any] | None = None
    #: Set when only some scenarios were compared: which, and that their probabilities were renormalised.
    scenario_note: str | None = None
    #: Value of flexibility of each later option: stochastic optimum (objective) as specified − with the
    #: option forced to decide = now; and the year each scenario takes it in the optimum (None: never).
    flexibility: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def rows(df: pd.DataFrame, cols: list[str]) -> list[dict]:
            return [{c: _plain(r[c]) for c in cols} for _, r in df.iterrows()]

        return {
            "instance": self.instance,
            "scenarios": list(self.scenarios), "probability": dict(self.probability),
            "scenario_note": self.scenario_note,
            "matrix": rows(self.matrix, ["strategy", "scenario", "npv", "objective", "status", "gap"]),
            "stochastic": rows(self.stochastic, ["strategy", "expected_npv", "objective", "status", "gap", "worst_case",
                                                 "max_regret", "options_taken", "irr", "payback_year",
                                                 "peak_funding"]),
            "regret": rows(self.regret, ["strategy", "scenario", "npv", "best_npv", "regret"]),
            "wait_and_see": self.wait_and_see, "stochastic_optimum": self.stochastic_optimum, "eev": self.eev,
            "evpi": self.evpi, "vss": self.vss,
            "recommendation": self.recommendation, "sentences": self.sentences, "risk": self.risk,
            "flexibility": [{k: _plain(v) if not isinstance(v, dict) else {a: _plain(b) for a, b in v.items()}
                             for k, v in row.items()} for row in self.flexibility],
        }


def _plain(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def plan_jobs(instance: Instance, strategies: Sequence[str], scenarios: Sequence[str],
              risk: Risk | None) -> list[Job]:
    jobs = [Job(f"det:{k}:{s}", "deterministic", k, s) for k in strategies for s in scenarios]
    jobs += [Job(f"sto:{k}", "stochastic", k, None, keep_results=True) for k in strategies]
    if len(instance.scenarios) > 1:
        jobs.append(Job("ev", "expected", OPTIMISE))
    if risk is not None:
        jobs += [Job(f"cvar:{k}", "cvar", k, None, risk=risk) for k in strategies]
    return jobs


def compare(instance: Instance, strategies: Sequence[str] | None = None, scenarios: Sequence[str] | None = None,
            options: SolveOptions | None = None, workers: int | None = None, risk: Risk | None = None,
            progress: Progress | None = None, executor: Any = None, reuse: bool = True,
            warm_start: bool = False) -> Comparison:
    """Solve the strategy × scenario matrix, the stochastic plans and the value measures.

    ``reuse`` (default): jobs sharing a model structure run as one :class:`Group` on one compiled
    model — every strategy (and the expected-value plan's evaluation) of a scenario, every
    stochastic plan, every CVaR plan; the expected-value job runs first so its evaluations can join
    their scenario's group. ``reuse=False`` builds a model for every job (the reference).
    ``warm_start`` (with ``reuse``): start each MIP from an earlier plan of its group that fits.
    """
    opts = options or SolveOptions()
    all_strats = list(instance.strategy_names)
    strats = list(strategies) if strategies else all_strats
    for k in strats:
        if k not in all_strats:
            raise InputError(f"unknown strategy {k!r}; this instance has: {', '.join(all_strats)}")
    if OPTIMISE not in strats:
        strats = [OPTIMISE, *strats]
    scen_ids = [s.id for s in instance.scenarios]
    chosen = list(scenarios) if scenarios else scen_ids
    for s in chosen:
        if s not in scen_ids:
            raise InputError(f"unknown scenario {s!r}; this instance has: {', '.join(scen_ids)}")
    if risk is not None and not 0 < risk.alpha < 1:
        raise InputError("--alpha must be strictly between 0 and 1")
    instance, scenario_note = restrict_scenarios(instance, chosen)
    scen_ids = [s.id for s in instance.scenarios]
    ex = executor or make_executor(workers)
    tick = progress or (lambda _row: None)
    jobs = plan_jobs(instance, strats, chosen, risk)
    with ex:
        if not reuse:
            rows = ex.run(instance, jobs, opts, tick)
            by_key = {r["key"]: r for r in rows}
            ev = by_key.get("ev")
            if ev is not None and ev.get("first_stage") is not None:
                eval_jobs = [Job(f"eval:{s}", "evaluate", OPTIMISE, s, fixed=ev["first_stage"]) for s in scen_ids]
                for r in ex.run(instance, eval_jobs, opts, tick):
                    by_key[r["key"]] = r
        else:
            by_key = {r["key"]: r for r in ex.run(instance, [j for j in jobs if j.kind == "expected"], opts, tick)}
            ev = by_key.get("ev")
            rest = [j for j in jobs if j.kind in ("stochastic", "cvar")] + \
                   [j for j in jobs if j.kind not in ("stochastic", "cvar", "expected")]
            if ev is not None and ev.get("first_stage") is not None:
                rest += [Job(f"eval:{s}", "evaluate", OPTIMISE, s, fixed=ev["first_stage"]) for s in scen_ids]
            tasks, _ = group_tasks([(instance, j) for j in rest], warm_start=warm_start)
            for r in ex.run(instance, [t for _, t in tasks], opts, tick):
                by_key[r["key"]] = r
        later = instance.later_options()
        if later:  # value of flexibility: the stochastic optimum with each later option decided now instead
            pairs = [(decided_now(instance, o), Job(f"flex:{o}", "stochastic", OPTIMISE, None)) for o in later]
            for r in ex.run_many(pairs, opts, tick):
                by_key[r["key"]] = r
    comp = _assemble(instance, strats, chosen, by_key, risk, scenario_note)
    comp.flexibility = _flexibility(instance, by_key, comp)
    for row in comp.flexibility:
        if row["value"] is not None:
            taken = ", ".join(f"{s} in {y}" for s, y in row["year_taken"].items() if y is not None) or "no scenario"
            comp.sentences.append(f"Waiting to decide {row['option_id']} is worth {_m(row['value'], comp.currency)} "
                                  f"(optimum {_m(row['optimum'], comp.currency)} vs {_m(row['optimum_now'], comp.currency)} "
                                  f"deciding now); the optimum takes it: {taken}.")
    return comp


def decided_now(instance: Instance, option: str) -> Instance:
    """The instance with ``option`` decided now, for every scenario alike (all else equal)."""
    return replace(instance, options=tuple(replace(o, decide="now", decide_from=None) if o.id == option else o
                                           for o in instance.options))


def _flexibility(instance: Instance, by_key: dict[str, dict], comp: "Comparison") -> list[dict[str, Any]]:
    """Per later option: optimum as specified (RP, objective), optimum with it decided now, their difference,
    and the year each scenario takes it in the stochastic optimum."""
    out = []
    plan = comp.plans.get(OPTIMISE)
    for o in instance.later_options():
        rp = by_key.get(f"sto:{OPTIMISE}", {}).get("objective")
        now = by_key.get(f"flex:{o}", {}).get("objective")
        years: dict[str, int | None] = {s.id: None for s in instance.scenarios}
        if plan is not None and not plan.option_years.empty:
            for r in plan.option_years[plan.option_years["option_id"] == o].itertuples():
                y = r.year_taken
                years[r.scenario] = None if y is None or y != y else int(y)
        out.append({"option_id": o, "optimum": rp, "optimum_now": now,
                    "value": None if rp is None or now is None else rp - now, "year_taken": years})
    return out


def _assemble(instance: Instance, strats: list[str], chosen: list[str], by_key: dict[str, dict],
              risk: Risk | None, scenario_note: str | None = None) -> Comparison:
    prob = {s.id: s.probability for s in instance.scenarios}
    matrix = pd.DataFrame([{"strategy": k, "scenario": s, "npv": by_key[f"det:{k}:{s}"]["npv"],
                            "objective": by_key[f"det:{k}:{s}"]["objective"],
                            "status": by_key[f"det:{k}:{s}"]["status"], "gap": by_key[f"det:{k}:{s}"]["gap"]}
                           for k in strats for s in chosen])
    best = {s: _max(matrix.loc[matrix["scenario"] == s, "npv"]) for s in chosen}
    # differences of NPVs (regret, EVPI, VSS) within the solves' tolerance are 0, not −5.6e-07
    npvs = [abs(r["npv"]) for r in by_key.values() if r.get("npv") is not None]
    gaps = [r["gap"] for r in by_key.values() if r.get("gap") is not None and math.isfinite(r["gap"])]
    tol = tolerance(max(npvs, default=0.0), max(gaps, default=None))
    sto_rows, reg_rows, plans = [], [], {}
    for k in strats:
        r = by_key[f"sto:{k}"]
        per = r.get("scenario_npv") or {}
        regrets = []
        for s in chosen:
            v = per.get(s)
            rg = None if (v is None or best[s] is None) else snap(best[s] - v, tol)
            regrets.append(rg)
            reg_rows.append({"strategy": k, "scenario": s, "npv": v, "best_npv": best[s], "regret": rg})
        worst = min(per[s] for s in chosen) if per and all(s in per for s in chosen) else None
        sto_rows.append({"strategy": k, "expected_npv": r["npv"], "objective": r["objective"], "status": r["status"],
                         "gap": r["gap"],
                         "worst_case": worst,
                         "max_regret": max(regrets) if regrets and all(x is not None for x in regrets) else None,
                         "options_taken": ", ".join(r.get("options_taken") or []),
                         "lines_built": ", ".join(r.get("lines_built") or []),
                         "irr": r.get("irr"), "payback_year": r.get("payback_year"),
                         "peak_funding": r.get("peak_funding"),
                         **{f"npv[{s}]": per.get(s) for s in chosen}})
        if r.get("results") is not None:
            plans[k] = r["results"]
    stochastic = pd.DataFrame(sto_rows)
    regret = pd.DataFrame(reg_rows)

    # value of the stochastic solution: over every scenario of the instance
    full = [s.id for s in instance.scenarios]
    # (on the objective: WS, RP and EEV are optima of what the solver maximises, weights included)
    ws = _expect([by_key.get(f"det:{OPTIMISE}:{s}", {}).get("objective") for s in full], [prob[s] for s in full]) \
        if set(full) <= set(chosen) else None
    rp = by_key[f"sto:{OPTIMISE}"]["objective"]
    eev = None
    if "ev" in by_key:
        eev = _expect([by_key.get(f"eval:{s}", {}).get("objective") for s in full], [prob[s] for s in full])
    evpi = None if ws is None or rp is None else snap(ws - rp, tol)
    vss = None if eev is None or rp is None else snap(rp - eev, tol)
    value = pd.DataFrame([
        {"measure": "Wait-and-see (WS)", "value": ws,
         "meaning": "expected objective if the future were known before any decision"},
        {"measure": "Stochastic optimum (RP)", "value": rp,
         "meaning": "expected objective of the best plan made before demand is known"},
        {"measure": "Expected-value plan (EEV)", "value": eev,
         "meaning": "expected objective of the plan built for average demand, then run in every scenario"},
        {"measure": "EVPI = WS − RP", "value": evpi, "meaning": "most it is worth paying for perfect demand foresight"},
        {"measure": "VSS = RP − EEV", "value": vss, "meaning": "what planning for uncertainty earns over planning for the average"},
    ])
    rec = _recommend(stochastic)
    cur = instance.currency
    sentences = _sentences(stochastic, rec, evpi, vss, eev, cur, by_key)
    risk_info = None
    if risk is not None:
        rrows = []
        for k in strats:
            r = by_key[f"cvar:{k}"]
            neutral = by_key[f"sto:{k}"]
            pr = r.get("probability") or {}
            c_neutral = _cvar(neutral, risk.alpha)
            c_risk = _cvar(r, risk.alpha)
            rrows.append({"strategy": k, "expected_npv_neutral": neutral["npv"], "expected_npv_cvar": r["npv"],
                          "premium": None if r["npv"] is None or neutral["npv"] is None
                          else snap(neutral["npv"] - r["npv"], tol),
                          "cvar_neutral": c_neutral, "cvar_protected": c_risk, "status": r["status"],
                          "options_taken": ", ".join(r.get("options_taken") or []), "scenarios": len(pr)})
        risk_info = {"alpha": risk.alpha, "weight": risk.weight, "rows": rrows}
        opt = next(x for x in rrows if x["strategy"] == OPTIMISE)
        if opt["premium"] is not None:
            sentences.append(
                f"Protecting the worst {1 - risk.alpha:.0%} of outcomes (CVaR weight {risk.weight:g}) costs "
                f"{_m(opt['premium'], cur)} of expected NPV and lifts the tail average from "
                f"{_m(opt['cvar_neutral'], cur)} to {_m(opt['cvar_protected'], cur)}.")
    return Comparison(instance=instance.name, currency=cur, strategies=strats, scenarios=chosen, probability=prob,
                      matrix=matrix, stochastic=stochastic, regret=regret, value=value, evpi=evpi, vss=vss,
                      wait_and_see=ws, stochastic_optimum=rp, eev=eev, recommendation=rec, sentences=sentences,
                      plans=plans, risk=risk_info, scenario_note=scenario_note)


def _cvar(row: dict, alpha: float) -> float | None:
    per, pr = row.get("scenario_npv"), row.get("probability")
    if not per:
        return None
    df = pd.DataFrame({"npv": list(per.values()), "probability": [pr[s] for s in per]})
    return cvar(df, alpha)


def _max(values: Iterable[Any]) -> float | None:
    vals = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return max(vals) if vals else None


def _expect(values: list[Any], probs: list[float]) -> float | None:
    if any(v is None for v in values):
        return None
    return float(sum(v * p for v, p in zip(values, probs)))


def _pick(df: pd.DataFrame, col: str, best: Callable) -> str | None:
    ok = df[df[col].notna()]
    if ok.empty:
        return None
    target = best(ok[col])
    # ties: the first strategy in the table's order (optimise first, then alphabetical)
    return str(ok.loc[ok[col] >= target - 1e-6 * max(1.0, abs(target)), "strategy"].iloc[0]) if best is max else \
        str(ok.loc[ok[col] <= target + 1e-6 * max(1.0, abs(target)), "strategy"].iloc[0])


def _recommend(sto: pd.DataFrame) -> dict[str, str | None]:
    named = sto[sto["strategy"] != OPTIMISE]
    pool = named if not named.empty else sto
    return {"expected": _pick(pool, "expected_npv", max), "worst_case": _pick(pool, "worst_case", max),
            "minimax_regret": _pick(pool, "max_regret", min)}


def _m(x: float | None, cur: str) -> str:
    return money(x, cur, missing="n/a")


def _sentences(sto: pd.DataFrame, rec: dict, evpi: float | None, vss: float | None, eev: float | None,
               cur: str, by_key: dict) -> list[str]:
    out = []
    idx = sto.set_index("strategy")
    if rec["expected"]:
        k = rec["expected"]
        out.append(f"Highest expected NPV: {k} ({_m(idx.loc[k, 'expected_npv'], cur)}), deciding deals and builds "
                   f"before demand is known.")
    if rec["worst_case"]:
        k = rec["worst_case"]
        out.append(f"Best worst case: {k} (NPV at least {_m(idx.loc[k, 'worst_case'], cur)} in every scenario).")
    if rec["minimax_regret"]:
        k = rec["minimax_regret"]
        out.append(f"Smallest maximum regret: {k} (never more than {_m(idx.loc[k, 'max_regret'], cur)} behind "
                   f"the best strategy with hindsight).")
    if evpi is not None:
        out.append(f"EVPI {_m(evpi, cur)}: the most that perfect knowledge of demand would be worth.")
    if vss is not None:
        out.append(f"VSS {_m(vss, cur)}: what planning for the range of scenarios earns over planning for "
                   f"average demand.")
    elif "ev" in by_key and eev is None:
        out.append("VSS cannot be computed: the plan made for average demand is infeasible in at least one "
                   "scenario (planning for the average would break a commitment).")
    return out
