"""The ``optimiser`` command: thin typer commands over :mod:`optimiser.pipeline`.

Each command parses options, calls one pipeline function, prints, and maps
domain errors to exit codes (see :mod:`optimiser.errors`). A traceback is shown
only with ``--debug`` (anywhere on the command line). A usage error (unknown
option, missing argument, a value of the wrong type) is one line and exit 1
(:class:`_Group`); Ctrl-C exits 130 and SIGTERM, handled the same way, 143.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Optional, Sequence

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_TERMINATED,
    InputError,
    InvalidInstance,
    OptimiserError,
    Problem,
)


def _hoist_debug(args: Sequence[str]) -> list[str]:
    """``--debug`` anywhere before a ``--`` separator moves to the front, where the group reads it."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    n = sum(1 for a in args[:end] if a == "--debug")
    if not n:
        return args
    return ["--debug"] + [a for a in args[:end] if a != "--debug"] + args[end:]


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


#: click's exceptions as typer raises them (typer ≥ 0.23 vendors click as ``typer._click``; older
#: versions use click itself): found from the class typer exports.
_CLICK = sys.modules[typer.BadParameter.__module__]
_UsageError = _CLICK.UsageError
_ClickException = _CLICK.ClickException
_NoArgsIsHelp = getattr(_CLICK, "NoArgsIsHelpError", ())
_Abort = tuple({typer.Abort, getattr(_CLICK, "Abort", typer.Abort)})


class _Group(TyperGroup):
    """The ``optimiser`` group: click's usage errors become one line and exit 1 (exit 2 means
    "infeasible" here); ``--debug`` may stand anywhere."""

    def invoke(self, ctx: Any) -> Any:
        """A Ctrl-C while a command's options are parsed or its modules imported: one line too."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _err("interrupted; nothing written")
            raise typer.Exit(_interrupted_code()) from None

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        argv = _hoist_debug(sys.argv[1:] if args is None else args)
        code: Any
        try:
            code = super().main(args=argv, prog_name=prog_name or "optimiser", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except _NoArgsIsHelp as exc:  # type: ignore[misc]
            typer.echo(exc.ctx.get_help())
            code = 0
        except _UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "optimiser"
            typer.echo(f"error: {_one_line(exc.format_message())} (see `{where} --help`)", err=True)
            code = EXIT_INVALID
        except _ClickException as exc:
            typer.echo(f"error: {_one_line(exc.format_message())}", err=True)
            code = EXIT_INVALID
        except _Abort:
            _err("interrupted")
            code = _interrupted_code()
        if not isinstance(code, int):
            code = 0
        if code == EXIT_INTERRUPTED:
            code = _interrupted_code()
        if standalone_mode:
            sys.exit(code)
        return code


app = typer.Typer(
    name="optimiser",
    cls=_Group,
    help="EV production-line capacity optimiser: which programmes on which lines, which lines to build, "
         "which deals to take.\n\nExit codes: 0 ok, 1 invalid input, 2 infeasible, 3 no solution within "
         "limits, 4 internal error, 130 interrupted (Ctrl-C), 143 stopped (SIGTERM).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE: dict[str, bool] = {"debug": False, "terminated": False}


def _interrupted_code() -> int:
    return EXIT_TERMINATED if _STATE["terminated"] else EXIT_INTERRUPTED


def _version(value: bool) -> None:
    if value:
        typer.echo(f"optimiser {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show Python tracebacks for errors.")] = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
) -> None:
    _STATE["debug"] = debug


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _print_problems(problems: tuple[Problem, ...], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([p.as_dict() for p in problems], indent=2, ensure_ascii=False))
        return
    for p in problems:
        typer.echo(str(p), err=True)


#: Width rich lays text out at when stdout is not a terminal (a pipe, a file): wide enough that no
#: sentence is broken mid-phrase at 80 columns; tables take only the width they need.
PIPE_COLUMNS = 400


def _run(fn: Callable[[], int | None], as_json: bool = False) -> None:
    """Call ``fn``; turn domain errors into one line and an exit code."""
    wide = "COLUMNS" not in os.environ and not sys.stdout.isatty()
    if wide:
        os.environ["COLUMNS"] = str(PIPE_COLUMNS)
    try:
        _run_job(fn, as_json)
    finally:
        if wide:
            os.environ.pop("COLUMNS", None)


def _run_job(fn: Callable[[], int | None], as_json: bool) -> None:
    try:
        code = fn() or 0
    except InvalidInstance as exc:
        _print_problems(exc.problems, as_json)
        n = sum(1 for p in exc.problems if p.severity == "error")
        _err(f"the instance is invalid: {n} error(s)")
        raise typer.Exit(exc.exit_code) from None
    except OptimiserError as exc:
        if _STATE["debug"]:
            raise
        code = _interrupted_code() if exc.exit_code == EXIT_INTERRUPTED else exc.exit_code
        details = list(getattr(exc, "details", ()))
        if as_json:
            typer.echo(json.dumps({"status": "error", "exit_code": code, "message": str(exc),
                                   "details": details}, ensure_ascii=False))
        _err(str(exc))
        for line in details:
            typer.echo(line, err=True)
        raise typer.Exit(code) from None
    except KeyboardInterrupt as exc:
        if hasattr(exc, "rows"):  # a batch of solves (compare, sweep): say what had finished
            from .app import interrupted_message  # noqa: PLC0415

            _err(interrupted_message(exc))
        else:
            _err("interrupted; nothing written")
        raise typer.Exit(_interrupted_code()) from None
    except typer.Exit:
        raise
    except OSError as exc:  # the environment (a path, a permission, a full disk): one located line
        if _STATE["debug"]:
            raise
        from .writers import shown  # noqa: PLC0415

        where = f"{shown(exc.filename)}: " if getattr(exc, "filename", None) else ""
        _err(f"{where}{exc.strerror or exc}")
        raise typer.Exit(EXIT_INVALID) from None
    except Exception as exc:  # a bug: one line unless --debug
        if _STATE["debug"]:
            raise
        _err(f"internal error: {type(exc).__name__}: {_short(str(exc))} (run with --debug for details; "
             "please report it)")
        raise typer.Exit(EXIT_INTERNAL) from None
    raise typer.Exit(code)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


InstanceArg = Annotated[Path, typer.Argument(help="Instance: an .xlsx workbook or a folder of CSV tables.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the target if it exists (default: refuse).")]


ProblemsJsonOpt = Annotated[bool, typer.Option("--json", help="Print the problems (warnings, and errors if any) as "
                                               "one JSON array of objects with table, row, column, severity and "
                                               "message on stdout; [] when there are none.")]


@app.command()
def validate(instance: InstanceArg, as_json: ProblemsJsonOpt = False) -> None:
    """Check an instance; list every problem with table, row and column. Exit 0 if valid, 1 if not."""
    from .validate import load_instance  # noqa: PLC0415

    def job() -> int:
        inst, warnings = load_instance(instance)
        if as_json:
            _print_problems(warnings, True)
        else:
            for w in warnings:
                typer.echo(str(w), err=True)
            typer.echo(f"{instance}: valid — {len(inst.factories)} factories, {len(inst.lines)} lines, "
                       f"{len(inst.programmes)} programmes, {len(inst.markets)} markets, {len(inst.years)} years "
                       f"({inst.first_year}–{inst.last_year}), {len(inst.options)} options, "
                       f"{len(inst.scenarios)} scenario(s); {len(warnings)} warning(s)")
        return 0

    _run(job, as_json)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Instance to read (.xlsx or CSV folder).")],
    target: Annotated[Path, typer.Argument(help="Where to write: .xlsx for a workbook, otherwise a CSV folder.")],
    force: ForceOpt = False,
) -> None:
    """Convert an instance between a workbook and a CSV folder (lossless, atomic)."""
    from .app import convert_instance  # noqa: PLC0415

    def job() -> int:
        n = convert_instance(source, target, force=force)
        typer.echo(f"wrote {n} tables to {target}")
        return 0

    _run(job)


@app.command()
def template(out: Annotated[Path, typer.Argument(help="Workbook to create (.xlsx).")], force: ForceOpt = False) -> None:
    """Write an empty instance workbook: every table, described headers, drop-downs, a README sheet."""
    from .template import write_template  # noqa: PLC0415
    from .writers import check_output, shown  # noqa: PLC0415

    def job() -> int:
        if out.suffix.lower() != ".xlsx":
            raise InputError(f"{shown(out)}: the template is a workbook; give a name ending in .xlsx")
        check_output(out, force=force)
        write_template(out)
        typer.echo(f"wrote {out}")
        return 0

    _run(job)


def _solve_options(time_limit: float | None, mip_gap: float | None, threads: int | None, seed: int | None,
                   highs_option: list[str] | None, write_model: Path | None, log: bool = False,
                   local_search: str = "auto", linking_rows: str = "auto") -> Any:
    """The options as parsed; :class:`~optimiser.solve.SolveOptions` checks them (InputError)."""
    from .engine import options_from_flags  # noqa: PLC0415

    return options_from_flags(time_limit, mip_gap, threads, seed, highs_option, write_model, log, local_search,
                              linking_rows)


@app.command()
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
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and print the model size; solve nothing.")] = False,
    save_plan: Annotated[Optional[Path], typer.Option(help="Write the plan (deals, builds, tooling, KPIs) as a JSON "
                                                           "plan file.")] = None,
    fix: Annotated[Optional[Path], typer.Option(help="Evaluate a plan file: its deals, builds and tooling fixed, "
                                                     "operations re-optimised.")] = None,
    start: Annotated[Optional[Path], typer.Option(help="Start HiGHS from a plan file (checked first; dropped with "
                                                       "a warning if it does not fit).")] = None,
) -> None:
    """Solve an instance: build the MILP, run HiGHS, print the plan and write the report."""
    from .app import model_size, run_solve  # noqa: PLC0415
    from .summary import print_summary, solve_json  # noqa: PLC0415

    def job() -> int:
        opts = _solve_options(time_limit, mip_gap, threads, seed, highs_option, write_model, log, local_search,
                              linking_rows)
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

    _run(job, as_json)


@app.command()
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
    from .app import run_explain  # noqa: PLC0415

    def job() -> int:
        opts = _solve_options(time_limit, None, None, None, None, None)
        why = run_explain(instance, strategy, scenario, opts, iis=iis)
        if as_json:
            typer.echo(json.dumps(why.as_dict(), indent=2, ensure_ascii=False))
        else:
            for line in why.lines():
                typer.echo(line)
        return 0 if why.feasible else 2

    _run(job, as_json)


@app.command()
def compare(
    instance: InstanceArg,
    strategies: Annotated[Optional[str], typer.Option(help="Comma-separated strategies (default: all + optimise).")] = None,
    scenarios: Annotated[Optional[str], typer.Option(help="Comma-separated scenarios (default: all).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Parallel solver processes (default: CPU count); 1 = serial.")] = None,
    time_limit: Annotated[Optional[float], typer.Option(help="Seconds per solve.")] = None,
    mip_gap: Annotated[Optional[float], typer.Option(help="Relative MIP gap per solve.")] = None,
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
    from .app import run_compare  # noqa: PLC0415
    from .summary import print_comparison  # noqa: PLC0415

    def job() -> int:
        if risk not in (None, "cvar"):
            raise InputError(f"--risk {risk!r}: only 'cvar' is supported")
        if workers is not None and workers < 1:
            raise InputError("--workers must be ≥ 1")
        opts = _solve_options(time_limit, mip_gap, None, None, None, None)
        command = " ".join(["optimiser", *sys.argv[1:]])
        comp, path = run_compare(
            instance, strategies=_split(strategies), scenarios=_split(scenarios), options=opts, workers=workers,
            risk=(alpha, weight) if risk == "cvar" else None, out=out, write_report=not no_report,
            command=command, show_progress=not as_json, scheduler=scheduler, reuse=reuse)
        if as_json:
            typer.echo(json.dumps(comp.to_json() | {"report": str(path) if path else None}, indent=2, ensure_ascii=False))
        else:
            print_comparison(comp, path)
        return 0

    _run(job, as_json)


def _split(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [x.strip() for x in text.split(",") if x.strip()]


def _register_optional_commands() -> None:
    """Commands that live in their own modules (cluster engines, generator)."""
    import importlib  # noqa: PLC0415

    for name in ("optimiser.cli_cluster", "optimiser.cli_generate", "optimiser.cli_plans", "optimiser.cli_sensitivity",
                 "optimiser.cli_decide"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_optional_commands()


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM is handled as Ctrl-C (a solve keeps its plan, a batch stops), then exit 143."""
    _STATE["terminated"] = True
    raise KeyboardInterrupt


def _safe_streams() -> None:
    """stdout/stderr that cannot fail on a character the terminal's encoding lacks (cp1252, ascii):
    such characters are written as backslash escapes instead of raising UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


def main() -> None:
    """Console-script entry point."""
    _safe_streams()
    # multiprocessing's resource tracker (a process of its own, started with these warning options)
    # unlinks what a stopped solver pool left; after a Ctrl-C its count of them is only noise
    sys.warnoptions.append("ignore::UserWarning:multiprocessing.resource_tracker")
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # not the main thread
        pass
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(_interrupted_code())


if __name__ == "__main__":
    main()

__all__ = ["app", "main", "EXIT_INVALID"]
