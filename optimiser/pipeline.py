"""One function per job: files → tables → instance → model → solve → results (→ report)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .data import Instance
from .errors import InfeasibleError, InputError, NoSolutionError, Problem
from .model import build_model, prepare
from .model.compile import compile_model
from .model.sets import FirstStage, Risk
from .results import Results, RunInfo, extract
from .schema import OPTIMISE
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

    Shared by :func:`solve_instance` and the re-used models of a comparison (:mod:`optimiser.reuse`).
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


def default_report_path(instance: Instance, strategy: str, scenario: str | None) -> Path:
    """reports/<instance>-<strategy>[-<scenario>].xlsx"""
    stem = f"{instance.name}-{strategy}" + (f"-{scenario}" if scenario else "")
    return Path("reports") / f"{_safe(stem)}.xlsx"


def run_solve(path: str | Path, strategy: str = OPTIMISE, scenario: str | None = None,
              options: SolveOptions | None = None, out: Path | None = None, write_report: bool = True,
              command: str = "", notify: Any = None, save_plan: Path | None = None, fix: Path | None = None,
              start: Path | None = None) -> tuple[Solved, Path | None]:
    """The `solve` job: read, validate, solve, write the report (atomically, never over the input).

    ``fix``: a plan file whose first-stage decisions are fixed (operations re-optimised; when no
    operations fit, the error carries ``explain``'s findings with the plan fixed). ``start``: a
    plan file HiGHS starts from (dropped with a warning when it does not fit). ``save_plan``:
    where to write this solve's plan file. Plan files are checked against the instance first
    (unknown ids: error, exit 1; other data: a warning through ``notify``)."""
    from .plan import check_plan, plan_conflicts, plan_of, read_plan, write_plan  # noqa: PLC0415
    from .writers import check_output  # noqa: PLC0415

    if fix is not None and start is not None:
        raise InputError("--fix and --start exclude each other: a fixed plan needs no start")
    instance, warnings = load_instance(path)
    fixed_plan = start_plan = None
    for given in (fix, start):
        if given is None:
            continue
        plan = read_plan(given)
        for w in check_plan(plan, instance):
            if notify is not None:
                notify(w)
        if given is fix:
            fixed_plan = plan
        else:
            start_plan = plan
    target = None
    inputs = [Path(path)] + [Path(p) for p in (fix, start) if p is not None]
    if write_report:
        target = Path(out) if out is not None else default_report_path(instance, strategy, scenario)
        check_output(target, inputs)
    if save_plan is not None:
        check_output(Path(save_plan), inputs)
        if target is not None and Path(save_plan).resolve() == target.resolve():
            raise InputError(f"{save_plan}: the plan file and the report must be different files")
    fixed = fixed_plan.first_stage() if fixed_plan is not None else None
    head = ""
    if fixed_plan is not None:
        head = (f"the plan {fix} can no longer be carried out: with its deals, builds and tooling fixed, "
                f"no operations meet every hard constraint (strategy {strategy}"
                + (f", scenario {scenario}" if scenario else "") + ")")
        conflicts = plan_conflicts(fixed_plan, instance)
        if conflicts:  # contradictions the model would reject (or, a build it cannot place, ignore)
            raise InfeasibleError(head, tuple(conflicts))
    if start_plan is not None and plan_conflicts(start_plan, instance):
        if notify is not None:
            notify(f"the start plan {start} contradicts itself or the instance ("
                   f"{plan_conflicts(start_plan, instance)[0]}): HiGHS starts without it")
        start_plan = None
    if options is not None and options.write_model is not None:
        check_output(Path(options.write_model), inputs + ([target] if target is not None else []))
    try:
        results = solve_instance(instance, strategy, scenario, options, notify=notify, fixed=fixed,
                                 start=start_plan.first_stage() if start_plan is not None else None)
    except InfeasibleError as exc:
        from .explain import explain  # noqa: PLC0415

        why = explain(instance, strategy, scenario, _explain_options(options), fixed=fixed)
        raise InfeasibleError(head or str(exc).split("; run `optimiser explain`")[0], tuple(why.lines())) from None
    if save_plan is not None:
        write_plan(plan_of(results, instance), save_plan)
    if target is not None:
        from .report.workbook import write_report as _write  # noqa: PLC0415

        _write(instance, results, target, command=command)
    return Solved(instance, results, warnings), target


def convert_instance(source: str | Path, target: str | Path, force: bool = True) -> int:
    """Convert between workbook and CSV folder; the instance must be readable (not necessarily valid).

    ``force=False`` refuses an existing target (the CLI's default; ``--force`` replaces it)."""
    from .readers import read_instance_tables  # noqa: PLC0415
    from .writers import check_output, raw_to_rows, write_tables  # noqa: PLC0415

    src, dst = Path(source), Path(target)
    check_output(dst, [src], folder=dst.suffix.lower() not in (".xlsx", ".xlsm"), force=force)
    raw = read_instance_tables(src)
    tables = raw_to_rows(raw)
    write_tables(tables, dst)
    return len(tables)


def run_compare(path: str | Path, strategies: list[str] | None = None, scenarios: list[str] | None = None,
                options: SolveOptions | None = None, workers: int | None = None,
                risk: tuple[float, float] | None = None, out: Path | None = None, write_report: bool = True,
                command: str = "", show_progress: bool = True, scheduler: str | None = None,
                reuse: bool = True) -> tuple[Any, Path | None]:
    """The `compare` job: every strategy in every scenario, stochastic plans, EVPI/VSS, workbook.

    ``reuse``: jobs sharing a model structure run on one compiled model (see :func:`optimiser.compare.compare`)."""
    from .compare import PartialComparison, compare, plan_jobs  # noqa: PLC0415
    from .errors import InterruptedError_  # noqa: PLC0415
    from .writers import check_output  # noqa: PLC0415

    instance, _ = load_instance(path)
    target = None
    if write_report:
        target = Path(out) if out is not None else Path("reports") / f"{_safe(instance.name)}-compare.xlsx"
        check_output(target, [Path(path)])
    risk_obj = Risk(alpha=risk[0], weight=risk[1]) if risk else None
    n_jobs = len(plan_jobs(instance, strategies or list(instance.strategy_names), scenarios or
                           [s.id for s in instance.scenarios], risk_obj)) + (len(instance.scenarios) if len(instance.scenarios) > 1 else 0)
    progress_cm, tick = _progress(n_jobs, show_progress)
    with progress_cm:
        try:
            executor = None
            if scheduler:
                from .distributed import make_dask_executor  # noqa: PLC0415

                executor = make_dask_executor(scheduler, workers)
            comp = compare(instance, strategies, scenarios, options, workers, risk_obj, progress=tick, executor=executor,
                           reuse=reuse)
        except PartialComparison as exc:
            raise InterruptedError_(interrupted_message(exc, n_jobs)) from None
    if target is not None:
        from .report.comparison import write_comparison  # noqa: PLC0415

        write_comparison(instance, comp, target, command=command)
    return comp, target


def interrupted_message(exc: Any, n_jobs: int | None = None) -> str:
    """What a Ctrl-C'd batch of solves says: how many finished, which were running, nothing written."""
    rows = getattr(exc, "rows", [])
    of = f" of {n_jobs}" if n_jobs is not None else ""
    running = list(getattr(exc, "interrupted", []))
    what = f"; interrupted: {', '.join(running[:4])}{', …' if len(running) > 4 else ''}" if running else ""
    return f"interrupted: {len(rows)}{of} solves had finished{what}; nothing written"


#: Longest default report stem; a longer instance name is cut and told apart by a hash.
SAFE_STEM_CHARS = 120


def _safe(name: str) -> str:
    """``name`` as a default file name: letters, digits, ``-_.``; at most SAFE_STEM_CHARS characters
    (a longer name is cut and ends in a short hash of the whole, so two long names stay apart)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    if len(safe) > SAFE_STEM_CHARS:
        import hashlib  # noqa: PLC0415

        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        safe = f"{safe[:SAFE_STEM_CHARS - 11]}-{digest}"
    return safe


def _progress(total: int, show: bool) -> tuple[Any, Any]:
    """A rich progress bar on stderr (solves done / total, elapsed)."""
    import contextlib  # noqa: PLC0415

    if not show:
        return contextlib.nullcontext(), (lambda _row: None)
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    prog = Progress(TextColumn("solving"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.description}"), console=Console(stderr=True), transient=True)
    task = prog.add_task("", total=total)

    def tick(row: dict) -> None:
        prog.update(task, advance=1, description=f"{row.get('strategy')}/{row.get('scenario') or 'all'}")

    return prog, tick


def _explain_options(options: SolveOptions | None) -> SolveOptions:
    o = options or SolveOptions()
    return SolveOptions(time_limit=o.time_limit, mip_gap=o.mip_gap, threads=o.threads, seed=o.seed,
                        highs_options=o.highs_options, duals=False)


def run_explain(path: str | Path, strategy: str = OPTIMISE, scenario: str | None = None,
                options: SolveOptions | None = None, iis: bool = False) -> Any:
    """The `explain` job: the elastic model's findings, largest violation first (and, with ``iis``,
    HiGHS's irreducible infeasible subset in planner terms)."""
    from . import isolation  # noqa: PLC0415
    from .explain import explain  # noqa: PLC0415

    instance, _ = load_instance(path)
    isolation.clear_interrupt()
    why = explain(instance, strategy, scenario, _explain_options(options), iis=iis)
    if isolation.interrupt_requested():  # Ctrl-C cut the elastic solve short: its findings are not the answer
        raise KeyboardInterrupt
    return why


def model_size(path: str | Path, strategy: str = OPTIMISE, scenario: str | None = None) -> Any:
    """Size of the model (from the index sets, nothing built) — for `solve --dry-run`."""
    from .sizing import estimate  # noqa: PLC0415

    instance, _ = load_instance(path)
    return estimate(prepare(instance, strategy, scenario))
