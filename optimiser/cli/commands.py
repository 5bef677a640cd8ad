"""The core commands: ``validate``, ``convert``, ``template``, ``solve``, ``explain``, ``compare``.

Each parses its options, calls one job of :mod:`optimiser.app`, prints (the terminal summary of
:mod:`optimiser.cli.summary`, or ``--json``) and leaves errors to :func:`optimiser.cli.common.run`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError
from .common import (
    ForceOpt,
    InstanceArg,
    JsonOpt,
    MipGapOpt,
    ProblemsJsonOpt,
    TimeLimitOpt,
    WorkersOpt,
    print_problems,
    run,
    solve_options,
    split,
)


def validate(instance: InstanceArg, as_json: ProblemsJsonOpt = False) -> None:
    """Check an instance; list every problem with table, row and column. Exit 0 if valid, 1 if not."""
    from ..validate import load_instance  # noqa: PLC0415

    def job() -> int:
        inst, warnings = load_instance(instance)
        if as_json:
            print_problems(warnings, True)
        else:
            for w in warnings:
                typer.echo(str(w), err=True)
            typer.echo(f"{instance}: valid — {len(inst.factories)} factories, {len(inst.lines)} lines, "
                       f"{len(inst.programmes)} programmes, {len(inst.markets)} markets, {len(inst.years)} years "
                       f"({inst.first_year}–{inst.last_year}), {len(inst.options)} options, "
                       f"{len(inst.scenarios)} scenario(s); {len(warnings)} warning(s)")
        return 0

    run(job, as_json)


def convert(
    source: Annotated[Path, typer.Argument(help="Instance to read (.xlsx or CSV folder).")],
    target: Annotated[Path, typer.Argument(help="Where to write: .xlsx for a workbook, otherwise a CSV folder.")],
    force: ForceOpt = False,
) -> None:
    """Convert an instance between a workbook and a CSV folder (lossless, atomic)."""
    from ..app import convert_instance  # noqa: PLC0415

    def job() -> int:
        n = convert_instance(source, target, force=force)
        typer.echo(f"wrote {n} tables to {target}")
        return 0

    run(job)


def template(out: Annotated[Path, typer.Argument(help="Workbook to create (.xlsx).")], force: ForceOpt = False) -> None:
    """Write an empty instance workbook: every table, described headers, drop-downs, a README sheet."""
    from ..template import write_template  # noqa: PLC0415
    from ..writers import check_output, shown  # noqa: PLC0415

    def job() -> int:
        if out.suffix.lower() != ".xlsx":
            raise InputError(f"{shown(out)}: the template is a workbook; give a name ending in .xlsx")
        check_output(out, force=force)
        write_template(out)
        typer.echo(f"wrote {out}")
        return 0

    run(job)


def solve(
    instance: InstanceArg,
    scenario: Annotated[Optional[str], typer.Option(help="Solve this one scenario (deterministic). Default: all "
                                                         "scenarios as a two-stage stochastic plan.")] = None,
    strategy: Annotated[str, typer.Option(help="Strategy: fixes the options it takes or forbids. "
                                               "'optimise' leaves every option free.")] = "optimise",
    time_limit: Annotated[Optional[float], typer.Option(help="Seconds; the best plan found so far is kept.")] = None,
    mip_gap: Annotated[Optional[float], typer.Option(help="Relative MIP gap to stop at (HiGHS default 1e-4).")] = None,
    threads: Annotated[Optional[int], typer.Option(help="HiGHS threads.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="HiGHS random seed.")] = None,
    highs_option: Annotated[Optional[list[str]], typer.Option(help="Any HiGHS option as NAME=VALUE (checked).")] = None,
    as_json: JsonOpt = False,
    write_model: Annotated[Optional[Path], typer.Option(help="Write the exact model handed to HiGHS (.mps/.lp).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Excel report (default: reports/<instance>-<strategy>.xlsx).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the Excel report.")] = False,
    log: Annotated[bool, typer.Option("--log", help="Show the HiGHS log on stderr.")] = False,
    local_search: Annotated[str, typer.Option(
        help="Start plan for HiGHS from LP rounding and open/close/swap moves: auto (50,000+ rows, 2/3 linking rows), "
             "on, off.")] = "auto",
    linking_rows: Annotated[str, typer.Option(
        help="Linking rows HiGHS's MIP gets: all, or only those its LP relaxation needs (same optimum, smaller "
             "LP); auto: needed on the same shape as --local-search auto.")] = "auto",
    second_core: Annotated[str, typer.Option(
        help="Use a second core beside the start-plan search: auto (2+ CPUs: the LP relaxation's bound while the "
             "plan is built; the start plan beside the linking rows on the facility-location shape), off.")] = "auto",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and print the model size; solve nothing.")] = False,
    save_plan: Annotated[Optional[Path], typer.Option(help="Write the plan (deals, builds, tooling, KPIs) as a JSON "
                                                           "plan file.")] = None,
    fix: Annotated[Optional[Path], typer.Option(help="Evaluate a plan file: its deals, builds and tooling fixed, "
                                                     "operations re-optimised.")] = None,
    start: Annotated[Optional[Path], typer.Option(help="Start HiGHS from a plan file (checked first; dropped with "
                                                       "a warning if it does not fit).")] = None,
) -> None:
    """Solve an instance: build the MILP, run HiGHS, print the plan and write the report."""
    from ..app import model_size, run_solve  # noqa: PLC0415
    from .summary import print_summary, solve_json  # noqa: PLC0415

    def job() -> int:
        opts = solve_options(time_limit, mip_gap, threads, seed, highs_option, write_model, log, local_search,
                              linking_rows, second_core)
        if dry_run:
            size = model_size(instance, strategy, scenario)
            if as_json:
                typer.echo(json.dumps({"status": "dry_run", "n_variables": size.variables, "n_binaries": size.binaries,
                                       "n_constraints": size.constraints, "scenarios": size.scenarios,
                                       "memory_bytes": size.memory_bytes}, indent=2))
            else:
                typer.echo(f"{instance}: {size.describe()}")
            return 0
        command = " ".join(["optimiser", *sys.argv[1:]])
        solved, report_path = run_solve(instance, strategy=strategy, scenario=scenario, options=opts,
                                        out=None if no_report else out, write_report=not no_report, command=command,
                                        notify=lambda msg: typer.echo(f"note: {msg}", err=True),
                                        save_plan=save_plan, fix=fix, start=start)
        if as_json:
            typer.echo(json.dumps(solve_json(solved.results, report_path), indent=2, ensure_ascii=False))
        else:
            for w in solved.warnings:
                typer.echo(str(w), err=True)
            print_summary(solved.instance, solved.results, report_path)
        return 0

    run(job, as_json)


def explain(
    instance: InstanceArg,
    strategy: Annotated[str, typer.Option(help="Strategy to explain.")] = "optimise",
    scenario: Annotated[Optional[str], typer.Option(help="One scenario (default: all, stochastic).")] = None,
    time_limit: Annotated[Optional[float], typer.Option(help="Seconds for the elastic solve (and for the IIS).")] = None,
    iis: Annotated[bool, typer.Option("--iis", help="Also print HiGHS's irreducible infeasible subset (of the LP "
                                                    "relaxation): constraints and bounds that cannot all hold, "
                                                    "named by table and ids.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Explain why a model is infeasible: each broken promise in planner terms, with fixes, largest first."""
    from ..app import run_explain  # noqa: PLC0415

    def job() -> int:
        opts = solve_options(time_limit, None, None, None, None, None)
        why = run_explain(instance, strategy, scenario, opts, iis=iis)
        if as_json:
            typer.echo(json.dumps(why.as_dict(), indent=2, ensure_ascii=False))
        else:
            for line in why.lines():
                typer.echo(line)
        return 0 if why.feasible else 2

    run(job, as_json)


def compare(
    instance: InstanceArg,
    strategies: Annotated[Optional[str], typer.Option(help="Comma-separated strategies (default: all + optimise).")] = None,
    scenarios: Annotated[Optional[str], typer.Option(help="Comma-separated scenarios (default: all).")] = None,
    workers: WorkersOpt = None,
    time_limit: TimeLimitOpt = None,
    mip_gap: MipGapOpt = None,
    risk: Annotated[Optional[str], typer.Option(help="'cvar' adds a CVaR term to the stochastic plans.")] = None,
    alpha: Annotated[float, typer.Option(help="CVaR level: protect the worst (1−alpha) of outcomes.")] = 0.9,
    weight: Annotated[float, typer.Option(help="CVaR weight λ in E[NPV] + λ·CVaR.")] = 1.0,
    as_json: JsonOpt = False,
    out: Annotated[Optional[Path], typer.Option(help="Comparison workbook (default: reports/<instance>-compare.xlsx).")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the workbook.")] = False,
    scheduler: Annotated[Optional[str], typer.Option(help="Dask scheduler address (host:port) to run the solves "
                                                          "on a cluster (needs the dask extra).")] = None,
    reuse: Annotated[bool, typer.Option("--reuse/--no-reuse", help="Solve the jobs that share a model (the "
                                        "strategies of a scenario, the stochastic plans) on one compiled model; "
                                        "--no-reuse builds a model for every solve.")] = True,
) -> None:
    """Compare strategies across scenarios: NPV matrix, regret, EVPI/VSS, recommendation."""
    from ..app import run_compare  # noqa: PLC0415
    from .summary import print_comparison  # noqa: PLC0415

    def job() -> int:
        if risk not in (None, "cvar"):
            raise InputError(f"--risk {risk!r}: only 'cvar' is supported")
        if workers is not None and workers < 1:
            raise InputError("--workers must be ≥ 1")
        opts = solve_options(time_limit, mip_gap, None, None, None, None)
        command = " ".join(["optimiser", *sys.argv[1:]])
        comp, path = run_compare(
            instance, strategies=split(strategies), scenarios=split(scenarios), options=opts, workers=workers,
            risk=(alpha, weight) if risk == "cvar" else None, out=out, write_report=not no_report,
            command=command, show_progress=not as_json, scheduler=scheduler, reuse=reuse)
        if as_json:
            typer.echo(json.dumps(comp.to_json() | {"report": str(path) if path else None}, indent=2, ensure_ascii=False))
        else:
            print_comparison(comp, path)
        return 0

    run(job, as_json)



def register(app: typer.Typer) -> None:
    """Add the core commands to ``app``, in the order ``--help`` lists them."""
    for command in (validate, convert, template, solve, explain, compare):
        app.command()(command)
