"""The jobs the command line runs: read → validate → solve or analyse → write the report.

One function per command: :func:`run_solve`, :func:`run_compare`, :func:`run_sweep`,
:func:`run_explain`, :func:`convert_instance`, :func:`model_size`; each checks its output paths
before any solving (never over an input), calls :mod:`optimiser.engine` or an analysis
(:mod:`optimiser.compare`, :mod:`optimiser.sweep`, :mod:`optimiser.explain`) and writes the
workbook. Also the shared pieces of those jobs:
:func:`progress` (the progress bar of a batch of solves) and :func:`interrupted_message`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import Instance
from .engine import Solved, solve_instance
from .errors import InfeasibleError, InputError
from .model import prepare
from .model.sets import Risk
from .schema import OPTIMISE
from .names import safe_stem
from .solver.options import SolveOptions
from .validate import load_instance

if TYPE_CHECKING:
    import pandas as pd



def default_report_path(instance: Instance, strategy: str, scenario: str | None) -> Path:
    """reports/<instance>-<strategy>[-<scenario>].xlsx"""
    stem = f"{instance.name}-{strategy}" + (f"-{scenario}" if scenario else "")
    return Path("reports") / f"{safe_stem(stem)}.xlsx"


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
        from .report import write_report as _write  # noqa: PLC0415

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
    from .compare import compare, plan_jobs  # noqa: PLC0415
    from .jobs.executors import PartialComparison  # noqa: PLC0415
    from .errors import InterruptedError_  # noqa: PLC0415
    from .writers import check_output  # noqa: PLC0415

    instance, _ = load_instance(path)
    target = None
    if write_report:
        target = Path(out) if out is not None else Path("reports") / f"{safe_stem(instance.name)}-compare.xlsx"
        check_output(target, [Path(path)])
    risk_obj = Risk(alpha=risk[0], weight=risk[1]) if risk else None
    n_jobs = len(plan_jobs(instance, strategies or list(instance.strategy_names), scenarios or
                           [s.id for s in instance.scenarios], risk_obj)) + (len(instance.scenarios) if len(instance.scenarios) > 1 else 0)
    progress_cm, tick = progress(n_jobs, show_progress)
    with progress_cm:
        try:
            executor = None
            if scheduler:
                from .jobs.dask import make_dask_executor  # noqa: PLC0415

                executor = make_dask_executor(scheduler, workers)
            comp = compare(instance, strategies, scenarios, options, workers, risk_obj, progress=tick, executor=executor,
                           reuse=reuse)
        except PartialComparison as exc:
            raise InterruptedError_(interrupted_message(exc, n_jobs)) from None
    if target is not None:
        from .report import write_comparison  # noqa: PLC0415

        write_comparison(instance, comp, target, command=command)
    return comp, target


def interrupted_message(exc: Any, n_jobs: int | None = None) -> str:
    """What a Ctrl-C'd batch of solves says: how many finished, which were running, nothing written."""
    rows = getattr(exc, "rows", [])
    of = f" of {n_jobs}" if n_jobs is not None else ""
    running = list(getattr(exc, "interrupted", []))
    what = f"; interrupted: {', '.join(running[:4])}{', …' if len(running) > 4 else ''}" if running else ""
    return f"interrupted: {len(rows)}{of} solves had finished{what}; nothing written"


def progress(total: int, show: bool) -> tuple[Any, Any]:
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


def run_sweep(path: str | Path, grid: str | None = None, variants_file: Path | None = None,
              strategies: list[str] | None = None, scenario: str | None = None,
              options: SolveOptions | None = None, scheduler: str | None = None, workers: int | None = None,
              out: Path | None = None, csv_out: Path | None = None, write_report: bool = True,
              command: str = "", show_progress: bool = True,
              reuse: bool = True) -> tuple[pd.DataFrame, dict[str, Path | None]]:
    """The `sweep` job: read and validate, make the variants, solve, write the workbook and the CSV."""
    from .jobs.executors import make_executor  # noqa: PLC0415
    from .report.sweep import write_sweep_files  # noqa: PLC0415
    from .sweep import parse_grid, read_variants, sweep  # noqa: PLC0415
    from .writers import check_output  # noqa: PLC0415

    if (grid is None) == (variants_file is None):
        raise InputError("give exactly one of --grid and --variants")
    from .parameters import Base  # noqa: PLC0415

    tables = Base.load(path)
    instance = tables.instance
    variants = parse_grid(grid, instance) if grid is not None else read_variants(Path(variants_file), instance)
    targets: dict[str, Path | None] = {"workbook": None, "csv": None}
    if write_report:
        targets["workbook"] = Path(out) if out is not None else Path("reports") / f"{safe_stem(instance.name)}-sweep.xlsx"
    if csv_out is not None:
        targets["csv"] = Path(csv_out)
    for t in targets.values():
        if t is not None:
            check_output(t, [Path(path)] + ([Path(variants_file)] if variants_file else []))
    n = len(variants) * len(strategies or [OPTIMISE])
    if scheduler is not None:  # "local": a Dask LocalCluster of `workers` processes
        from .jobs.dask import make_dask_executor  # noqa: PLC0415

        ex: Any = make_dask_executor(None if scheduler == "local" else scheduler, workers)
    else:
        ex = make_executor(workers)
    progress_cm, tick = progress(n, show_progress)
    with progress_cm:
        df = sweep(instance, variants, strategies, scenario, options, executor=ex, progress=tick, reuse=reuse,
                   tables=tables)
    write_sweep_files(df, targets, instance, variants, command)
    return df, targets
