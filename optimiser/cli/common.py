"""What every ``optimiser`` command shares: running a job with errors mapped to exit codes, the
option types, the solver-option and list parsing, the error line.

:func:`run` calls a command's job and turns domain errors into one line (or, with ``--json``, one
JSON object) and the exit code of :mod:`optimiser.errors`; a traceback only with ``--debug``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from ..errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_TERMINATED,
    InvalidInstance,
    OptimiserError,
    Problem,
)


def one_line(text: str) -> str:
    return " ".join(str(text).split())


#: Set by the ``optimiser`` group: ``--debug`` given; stopped by SIGTERM (exit 143, not 130).
STATE: dict[str, bool] = {"debug": False, "terminated": False}


def interrupted_code() -> int:
    return EXIT_TERMINATED if STATE["terminated"] else EXIT_INTERRUPTED


def err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def print_problems(problems: tuple[Problem, ...], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps([p.as_dict() for p in problems], indent=2, ensure_ascii=False))
        return
    for p in problems:
        typer.echo(str(p), err=True)


#: Width rich lays text out at when stdout is not a terminal (a pipe, a file): wide enough that no
#: sentence is broken mid-phrase at 80 columns; tables take only the width they need.
PIPE_COLUMNS = 400


def run(fn: Callable[[], int | None], as_json: bool = False) -> None:
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
        print_problems(exc.problems, as_json)
        n = sum(1 for p in exc.problems if p.severity == "error")
        err(f"the instance is invalid: {n} error(s)")
        raise typer.Exit(exc.exit_code) from None
    except OptimiserError as exc:
        if STATE["debug"]:
            raise
        code = interrupted_code() if exc.exit_code == EXIT_INTERRUPTED else exc.exit_code
        details = list(getattr(exc, "details", ()))
        if as_json:
            typer.echo(json.dumps({"status": "error", "exit_code": code, "message": str(exc),
                                   "details": details}, ensure_ascii=False))
        err(str(exc))
        for line in details:
            typer.echo(line, err=True)
        raise typer.Exit(code) from None
    except KeyboardInterrupt as exc:
        if hasattr(exc, "rows"):  # a batch of solves (compare, sweep): say what had finished
            from .app import interrupted_message  # noqa: PLC0415

            err(interrupted_message(exc))
        else:
            err("interrupted; nothing written")
        raise typer.Exit(interrupted_code()) from None
    except typer.Exit:
        raise
    except OSError as exc:  # the environment (a path, a permission, a full disk): one located line
        if STATE["debug"]:
            raise
        from ..writers import shown  # noqa: PLC0415

        where = f"{shown(exc.filename)}: " if getattr(exc, "filename", None) else ""
        err(f"{where}{exc.strerror or exc}")
        raise typer.Exit(EXIT_INVALID) from None
    except Exception as exc:  # a bug: one line unless --debug
        if STATE["debug"]:
            raise
        err(f"internal error: {type(exc).__name__}: {_short(str(exc))} (run with --debug for details; "
             "please report it)")
        raise typer.Exit(EXIT_INTERNAL) from None
    raise typer.Exit(code)


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


InstanceArg = Annotated[Path, typer.Argument(help="Instance: an .xlsx workbook or a folder of CSV tables.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
WorkersOpt = Annotated[Optional[int], typer.Option(help="Parallel solver processes (default: CPU count); 1 = serial.")]
TimeLimitOpt = Annotated[Optional[float], typer.Option(help="Seconds per solve.")]
MipGapOpt = Annotated[Optional[float], typer.Option(help="Relative MIP gap per solve.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the target if it exists (default: refuse).")]


ProblemsJsonOpt = Annotated[bool, typer.Option("--json", help="Print the problems (warnings, and errors if any) as "
                                               "one JSON array of objects with table, row, column, severity and "
                                               "message on stdout; [] when there are none.")]


def solve_options(time_limit: float | None, mip_gap: float | None, threads: int | None, seed: int | None,
                  highs_option: list[str] | None, write_model: Path | None, log: bool = False,
                  local_search: str = "auto", linking_rows: str = "auto", second_core: str = "auto") -> Any:
    """The solver options as parsed (:meth:`optimiser.solver.options.SolveOptions.from_flags`, which checks
    them: InputError)."""
    from ..solver.options import SolveOptions  # noqa: PLC0415

    return SolveOptions.from_flags(time_limit, mip_gap, threads, seed, highs_option, write_model, log, local_search,
                                   linking_rows, second_core)


def split(text: str | None) -> list[str] | None:
    """A comma-separated option as a list (blanks dropped); None when not given."""
    if not text:
        return None
    return [x.strip() for x in text.split(",") if x.strip()]
