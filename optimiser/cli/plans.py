"""`optimiser diff` and `optimiser alternatives`: thin commands over optimiser.diff and
optimiser.alternatives. `solve --save-plan/--fix/--start` live in
the `solve` command itself."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import JsonOpt, MipGapOpt, TimeLimitOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def diff(
        a: Annotated[Path, typer.Argument(help="First instance (.xlsx or CSV folder), plan file (.json) or solve "
                                                   "report (.xlsx with a Plan sheet).")],
        b: Annotated[Path, typer.Argument(help="Second one, of the same kind.")],
        as_json: JsonOpt = False,
        out: Annotated[Optional[Path], typer.Option(help="Also write the differences as a workbook (.xlsx): "
                                                         "one sheet per table, changed cells highlighted.")] = None,
    ) -> None:
        """What changed from A to B: added/removed rows and changed cells of two instances (matched by key
        columns), or the decisions and KPIs of two plan files."""
        from .common import run  # noqa: PLC0415
        from .output import check_workbook_out, emit  # noqa: PLC0415
        from ..diff import diff as _diff  # noqa: PLC0415
        from ..report.diff import write_diff_workbook  # noqa: PLC0415

        def job() -> int:
            check_workbook_out(out, [a, b], "diff workbook")
            d = _diff(a, b)
            if out is not None:
                write_diff_workbook(d, out)
            emit(d.as_dict(), d.lines(), out, as_json)
            return 0

        run(job, as_json)

    @app.command()
    def alternatives(
        instance: Annotated[Path, typer.Argument(help="Instance: an .xlsx workbook or a folder of CSV tables.")],
        within: Annotated[str, typer.Option(help="How far below the optimum an alternative may be: 2% or 0.02 "
                                                 "(objective ≥ opt − within·|opt|).")] = "2%",
        count: Annotated[int, typer.Option(help="Most alternatives to look for.")] = 5,
        strategy: Annotated[str, typer.Option(help="Strategy whose fixings hold for every alternative.")] = "optimise",
        scenario: Annotated[Optional[str], typer.Option(help="One scenario (default: all, stochastic).")] = None,
        time_limit: TimeLimitOpt = None,
        mip_gap: MipGapOpt = None,
        as_json: JsonOpt = False,
        out: Annotated[Optional[Path], typer.Option(help="Workbook (.xlsx): a summary sheet and a plan sheet per "
                                                         "plan.")] = None,
    ) -> None:
        """Near-optimal plans as different as possible from the optimum and each other (modelling to
        generate alternatives): each with its NPV and how it differs, in planner terms."""
        from ..alternatives import find_alternatives, parse_within  # noqa: PLC0415
        from ..report.alternatives import write_alternatives_workbook  # noqa: PLC0415
        from .common import run, solve_options  # noqa: PLC0415
        from .output import check_workbook_out, emit  # noqa: PLC0415
        from ..errors import InputError  # noqa: PLC0415
        from ..validate import load_instance  # noqa: PLC0415

        def job() -> int:
            share = parse_within(within)
            if count < 1:
                raise InputError("--count must be ≥ 1")
            check_workbook_out(out, [instance], "workbook")
            opts = solve_options(time_limit, mip_gap, None, None, None, None)
            inst, warnings = load_instance(instance)
            found = find_alternatives(inst, share, count, strategy, scenario, opts)
            if out is not None:
                write_alternatives_workbook(inst, found, out)
            if not as_json:
                for w in warnings:
                    typer.echo(str(w), err=True)
            emit(found.as_dict(), found.lines(), out, as_json)
            return 0

        run(job, as_json)

