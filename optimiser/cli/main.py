"""The ``optimiser`` command: the typer group, its ``--debug``/``--version`` options and the entry point.

Commands are thin (:mod:`optimiser.cli.commands` and one module per group of commands): each parses
options, calls one job (:mod:`optimiser.app`), prints, and maps domain errors to exit codes (see
:mod:`optimiser.errors`) through :func:`optimiser.cli.common.run`. A traceback is shown only with
``--debug`` (anywhere on the command line). A usage error (unknown option, missing argument, a
value of the wrong type) is one line and exit 1 (:class:`_Group`); Ctrl-C exits 130 and SIGTERM,
handled the same way, 143.
"""

from __future__ import annotations

import signal
import sys
from typing import Annotated, Any, Optional, Sequence

import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import EXIT_INTERRUPTED, EXIT_INVALID
from .common import STATE, err, interrupted_code, one_line


def _hoist_debug(args: Sequence[str]) -> list[str]:
    """``--debug`` anywhere before a ``--`` separator moves to the front, where the group reads it."""
    args = list(args)
    end = args.index("--") if "--" in args else len(args)
    n = sum(1 for a in args[:end] if a == "--debug")
    if not n:
        return args
    return ["--debug"] + [a for a in args[:end] if a != "--debug"] + args[end:]


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
            err("interrupted; nothing written")
            raise typer.Exit(interrupted_code()) from None

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
            typer.echo(f"error: {one_line(exc.format_message())} (see `{where} --help`)", err=True)
            code = EXIT_INVALID
        except _ClickException as exc:
            typer.echo(f"error: {one_line(exc.format_message())}", err=True)
            code = EXIT_INVALID
        except _Abort:
            err("interrupted")
            code = interrupted_code()
        if not isinstance(code, int):
            code = 0
        if code == EXIT_INTERRUPTED:
            code = interrupted_code()
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
    STATE["debug"] = debug


def register_commands() -> None:
    """The core commands, then those of the other modules (cluster engines, generator, plans,
    sensitivity, decide)."""
    import importlib  # noqa: PLC0415

    from . import commands  # noqa: PLC0415

    commands.register(app)
    for name in ("optimiser.cli.cluster", "optimiser.cli.generate", "optimiser.cli.plans", "optimiser.cli.sensitivity",
                 "optimiser.cli.decide"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


register_commands()


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM is handled as Ctrl-C (a solve keeps its plan, a batch stops), then exit 143."""
    STATE["terminated"] = True
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
        err("interrupted")
        sys.exit(interrupted_code())
