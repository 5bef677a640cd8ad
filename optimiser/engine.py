"""Solve one instance: prepare → build → compile → solve → results (the core every job calls).

:func:`solve_instance` builds the model of one (strategy, scenario selection) — optionally with a
first-stage plan fixed (``take[o]``, ``build[l,τ]``, ``tool[p,l]`` pinned) or started from, or a CVaR
term — hands it to the solver and turns the outcome into :class:`~optimiser.results.Results`
(:func:`finish_solve`, shared with the re-used models of :mod:`optimiser.jobs.reuse`).
:func:`solve_path` reads and validates the instance first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .data import Instance
from .errors import InfeasibleError, NoSolutionError, Problem
from .model import build_model, prepare
from .model.sets import FirstStage, Risk
from .results import Results, RunInfo, extract
from .schema import OPTIMISE
from .model.compile import compile_model
from .solver.options import SolveOptions
from .solver.solve import solve_compiled, start_from_fixed
from .validate import load_instance


@dataclass(frozen=True)
class Solved:
    """A solve's results and the warnings the instance carried."""

    instance: Instance
    results: Results
    warnings: tuple[Problem, ...]


#: The first-stage variables a plan fixes or starts (take[o], build[l,τ], tool[p,l]).
FIRST_STAGE_VARS = ("take", "build", "tool")
#: Share of the time limit (and most seconds) checking a start plan may take.
START_CHECK_SHARE = 0.25
START_CHECK_MAX_SECONDS = 120.0


def solve_instance(instance: Instance, strategy: str = OPTIMISE, scenario: str | None = None,
                   options: SolveOptions | None = None, fixed: FirstStage | None = None,
                   risk: Risk | None = None, notify: Any = None, start: FirstStage | None = None) -> Results:
    """Build and solve one model; raise InfeasibleError / NoSolutionError when there is no plan.

    ``fixed`` evaluates a given first-stage plan; ``risk`` adds a CVaR term (the reported NPV
    stays the expected NPV; the objective then differs from it). ``start``: a first-stage plan
    HiGHS starts from, once the model with it fixed has a plan (checked first, within
    START_CHECK_SHARE of the time limit); a start without one is dropped with a warning
    through ``notify``, never an error.
    """
    opts = options or SolveOptions()
    t0 = time.perf_counter()
    md = prepare(instance, strategy, scenario, fixed=fixed, risk=risk)
    if notify is not None:
        from .sizing import WARN_VARIABLES, estimate, variable_counts  # noqa: PLC0415

        if sum(variable_counts(md)) > WARN_VARIABLES:  # the full estimate (rows too) only to say so
            notify(f"building a large model: {estimate(md).describe()}")
    model = build_model(md)
    compiled = compile_model(model)
    build_seconds = time.perf_counter() - t0
    x0, start_facts = None, None
    if start is not None:
        x0, start_facts = _start_solution(compiled, opts, start, notify)
    out = solve_compiled(compiled, opts, start=x0)
    if start_facts is not None:
        out = replace(out, start_plan={**start_facts, **(out.start_plan or {})})  # + solve's "discarded"
    return finish_solve(instance, md, out, opts, strategy, scenario, build_seconds)


def _start_solution(compiled: Any, opts: SolveOptions, start: FirstStage, notify: Any) -> tuple[Any, dict]:
    """(column values of the start plan's best operations, facts for the run record) or
    (None, facts) when the model with the plan fixed has no plan: then HiGHS starts without it."""

    values = {("take", (o,)): v for o, v in start.take.items()}
    values.update({("build", k): v for k, v in start.build.items()})
    values.update({("tool", k): v for k, v in start.tool.items()})
    limit = START_CHECK_MAX_SECONDS
    if opts.time_limit is not None:
        limit = min(limit, START_CHECK_SHARE * opts.time_limit)
    t0 = time.perf_counter()
    x0, npv = start_from_fixed(compiled, opts, values, FIRST_STAGE_VARS, time_limit=limit)
    facts = {"source": "plan", "feasible": x0 is not None, "npv": npv,
             "seconds": round(time.perf_counter() - t0, 3)}
    if x0 is None and notify is not None:
        notify("the start plan has no feasible operations in this instance (or none found within "
               f"{limit:g} s): HiGHS starts without it")
    return x0, facts


def finish_solve(instance: Instance, md: Any, out: Any, opts: SolveOptions, strategy: str, scenario: str | None,
                 build_seconds: float) -> Results:
    """A solver outcome of ``md``'s model → Results; raise InfeasibleError / NoSolutionError without a plan.

    Shared by :func:`solve_instance` and the re-used models of a comparison (:mod:`optimiser.jobs.reuse`).
    """
    if out.status == "infeasible" or out.status in ("unbounded", "infeasible_or_unbounded"):
        what = "infeasible" if out.status == "infeasible" else out.status.replace("_", " ")
        raise InfeasibleError(
            f"the model is {what} for strategy {strategy}"
            + (f", scenario {scenario}" if scenario else "")
            + ": no plan meets every hard constraint (committed volumes, must_serve demand, "
              "budget, hard share target, strategy fixings); run `optimiser explain` to see why")
    if not out.has_solution:
        if out.interrupted:  # Ctrl-C (or SIGTERM): the user's stop, not the limits
            from .errors import InterruptedError_  # noqa: PLC0415

            raise InterruptedError_("interrupted before HiGHS found any plan; nothing written")
        raise NoSolutionError(f"HiGHS stopped ({out.termination}) before finding any plan; allow more time "
                              "(--time-limit)")
    run = RunInfo(
        instance=instance.name, instance_sha256=instance.fingerprint, strategy=strategy, scenario=scenario,
        scenarios=md.scenarios, termination=out.termination, status=out.status, npv=out.objective,
        best_bound=out.best_bound, gap=out.gap, build_seconds=build_seconds, handoff_seconds=out.handoff_seconds,
        solve_seconds=out.solve_seconds, extract_seconds=0.0, n_variables=out.n_variables,
        n_binaries=out.n_binaries, n_constraints=out.n_constraints, n_nonzeros=out.n_nonzeros,
        highs_version=out.highs_version, currency=instance.currency, options=_opts_record(opts),
        stopped_by_watchdog=out.stopped_by_watchdog, start_plan=out.start_plan,
        linking_rows=out.linking_rows,
    )
    t1 = time.perf_counter()
    res = extract(instance, md, out, run)
    run = replace(run, extract_seconds=time.perf_counter() - t1)
    # "NPV" is the plan's cash NPV; the objective is what HiGHS maximised (cash NPV − weights)
    run = replace(run, npv=res.npv, objective=out.objective)
    if md.risk is not None:  # the objective holds the CVaR term: report the expected objective and no bound
        run = replace(run, objective=res.objective, best_bound=None)
    return replace(res, run=run)


def _opts_record(opts: SolveOptions) -> dict[str, Any]:
    return {"time_limit": opts.time_limit, "mip_gap": opts.mip_gap, "threads": opts.threads, "seed": opts.seed,
            **{f"highs.{k}": v for k, v in opts.highs_options.items()}}


def solve_path(path: str | Path, strategy: str = OPTIMISE, scenario: str | None = None,
               options: SolveOptions | None = None) -> Solved:
    """Read, validate and solve the instance at ``path``."""
    instance, warnings = load_instance(path)
    return Solved(instance, solve_instance(instance, strategy, scenario, options), warnings)
