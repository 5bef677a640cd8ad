"""`optimiser decide`: a thin command over :mod:`optimiser.decide` (compare, tornado, break-evens) and
:mod:`optimiser.report.decide` (the decision workbook)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import JsonOpt, MipGapOpt, TimeLimitOpt, WorkersOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def decide(
        instance: Annotated[Path, typer.Argument(help="Instance: an .xlsx workbook or a folder of CSV tables.")],
        out: Annotated[Optional[Path], typer.Option(
            help="Decision workbook (.xlsx) \\[reports/<instance>-decision.xlsx].")] = None,
        no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the workbook.")] = False,
        workers: WorkersOpt = None,
        time_limit: TimeLimitOpt = None,
        mip_gap: MipGapOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """What to do and why: compare the strategies, find the break-evens that would flip the answer and
        the tornado, and write the decision workbook (first sheet: the recommendation in words)."""
        import time  # noqa: PLC0415

        from .common import run, solve_options  # noqa: PLC0415
        from ..decide import decide as _decide  # noqa: PLC0415
        from ..errors import InputError  # noqa: PLC0415
        from ..parameters import Base  # noqa: PLC0415
        from ..names import safe_stem  # noqa: PLC0415
        from ..report.decide import write_decision_workbook  # noqa: PLC0415
        from ..writers import check_output  # noqa: PLC0415

        def job() -> int:
            t0 = time.perf_counter()
            if workers is not None and workers < 1:
                raise InputError("--workers must be ≥ 1")
            if out is not None and out.suffix.lower() != ".xlsx":
                raise InputError(f"--out {out}: the decision workbook needs a name ending in .xlsx")
            opts = solve_options(time_limit, mip_gap, None, None, None, None)
            base = Base.load(instance)
            path = None if no_report else (out or Path("reports") / f"{safe_stem(base.instance.name + '-decision')}.xlsx")
            if path is not None:
                check_output(path, [instance])
            d = _decide(base, opts, workers=workers)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_decision_workbook(d, base.instance, path)
            if as_json:
                typer.echo(json.dumps(d.to_json() | {"workbook": str(path) if path else None}, indent=2,
                                      ensure_ascii=False))
            else:
                typer.echo(d.headline)
                for line in d.why + d.changes:
                    typer.echo(f"  {line}")
                if path is not None:
                    typer.echo(f"wrote {path}")
                typer.echo(f"({time.perf_counter() - t0:.1f} s)")
            return 0

        run(job, as_json)
