"""`optimiser breakeven` and `optimiser tornado`: thin commands over :mod:`optimiser.sensitivity`
(parameters addressed as in :mod:`optimiser.parameters`), and the tornado workbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import JsonOpt, MipGapOpt, TimeLimitOpt, WorkersOpt


def register(app: typer.Typer) -> None:
    @app.command()
    def breakeven(
        instance: Annotated[Path, typer.Argument(help="Instance: an .xlsx workbook or a folder of CSV tables.")],
        parameter: Annotated[str, typer.Option(help="Parameter path, e.g. options.upfront_cost\\[buy_vinfast], "
                                                    "programmes.unit_price\\[*], settings.discount_rate.")],
        between: Annotated[str, typer.Option(help="Two strategies A,B whose expected NPVs are compared.")],
        range_: Annotated[Optional[str], typer.Option("--range", help="LO,HI to search \\[the parameter's sensitivity "
                                                                      "row; else 0 to twice its value].")] = None,
        kind: Annotated[str, typer.Option(help="absolute (LO,HI are values) or multiplier (they multiply the "
                                               "current values) \\[the sensitivity row's kind, else absolute].")] = "",
        tolerance: Annotated[Optional[float], typer.Option(help="Bisection stops when the bracket is narrower "
                                                                "\\[1e-4 × (HI − LO)].")] = None,
        rebuild: Annotated[bool, typer.Option("--rebuild", help="Build a model for every solve (no re-use; "
                                                                "the reference).")] = False,
        time_limit: TimeLimitOpt = None,
        mip_gap: MipGapOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """The value of a parameter at which strategies A and B have equal expected NPV (stochastic plans over
        all scenarios), and where the recommendation changes: exactly from the linear NPV where the plans do
        not change, else by bisection."""
        from .common import run, solve_options  # noqa: PLC0415
        from ..errors import InputError  # noqa: PLC0415
        from ..parameters import Base, number, parse_parameter  # noqa: PLC0415
        from ..sensitivity import breakeven as _breakeven  # noqa: PLC0415

        def job() -> int:
            pair = [x.strip() for x in between.split(",") if x.strip()]
            if len(pair) != 2:
                raise InputError(f"--between {between!r}: give two strategies, A,B")
            if kind not in ("", "absolute", "multiplier"):
                raise InputError(f"--kind {kind!r}: use absolute or multiplier")
            if tolerance is not None and not tolerance > 0:
                raise InputError("--tolerance must be > 0")
            param = parse_parameter(parameter)
            opts = solve_options(time_limit, mip_gap, None, None, None, None)
            base = Base.load(instance)
            lo, hi, k = _range_for(base, param, range_, kind, number)
            result = _breakeven(base, param, pair[0], pair[1], lo, hi, k, opts, reuse=not rebuild,
                                tolerance=tolerance)
            if as_json:
                typer.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
            else:
                typer.echo(result.sentence())
                typer.echo(result.recommendation_sentence())
                typer.echo(f"({result.solves} solves in {result.seconds:.1f} s; parameter: {result.parameter_class}; "
                           f"{'one model per value, shared by the strategies' if result.reuse else 'a model per solve'})")
            return 0

        run(job, as_json)

    @app.command()
    def tornado(
        instance: Annotated[Path, typer.Argument(help="Instance: an .xlsx workbook or a folder of CSV tables.")],
        parameter: Annotated[Optional[list[str]], typer.Option(
            help="P=LO,HI (absolute) or P*LO,HI (multipliers); repeat for more \\[the instance's sensitivity table].")] = None,
        out: Annotated[Optional[Path], typer.Option(help="Workbook (.xlsx) with the table and a bar chart.")] = None,
        rebuild: Annotated[bool, typer.Option("--rebuild", help="Build a model for every solve (the reference).")] = False,
        workers: WorkersOpt = None,
        time_limit: TimeLimitOpt = None,
        mip_gap: MipGapOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Each parameter at its low and high value: expected NPV of the recommended strategy and the runner-up,
        sorted by swing, and whether the recommendation flips."""
        from .common import run, solve_options  # noqa: PLC0415
        from .output import check_workbook_out, emit  # noqa: PLC0415
        from ..errors import InputError  # noqa: PLC0415
        from ..parameters import Base, parse_range, sensitivity_ranges  # noqa: PLC0415
        from ..report.tornado import write_tornado_workbook  # noqa: PLC0415
        from ..tornado import tornado as _tornado  # noqa: PLC0415

        def job() -> int:
            if workers is not None and workers < 1:
                raise InputError("--workers must be ≥ 1")
            check_workbook_out(out, [instance], "tornado workbook")
            ranges = [parse_range(p) for p in parameter or []]
            opts = solve_options(time_limit, mip_gap, None, None, None, None)
            base = Base.load(instance)
            ranges = ranges or sensitivity_ranges(base)
            t = _tornado(base, ranges, opts, reuse=not rebuild, workers=workers)
            if out is not None:
                write_tornado_workbook(t, out)
            emit(t.as_dict(), t.lines(), out, as_json)
            return 0

        run(job, as_json)


def _range_for(base: Any, param: Any, text: str | None, kind: str, number: Any) -> tuple[float, float, str]:
    """LO, HI and kind of a break-even search: --range, else the sensitivity row, else 0 to twice the value
    (one value for every selected cell) — or 0 to 2 for a multiplier."""
    from ..errors import InputError  # noqa: PLC0415
    from ..parameters import Change, sensitivity_ranges  # noqa: PLC0415

    if text is not None:
        lo_t, sep, hi_t = text.partition(",")
        if not sep:
            raise InputError(f"--range {text!r}: write LO,HI")
        lo, hi = number(lo_t, "--range low"), number(hi_t, "--range high")
        if lo > hi:
            raise InputError(f"--range {text}: low {lo:g} is above high {hi:g}")
        k = kind or "absolute"
        base.check(Change(param, k, lo))
        return lo, hi, k
    row = next((r for r in sensitivity_ranges(base) if str(r.parameter) == str(param)
                and (not kind or r.kind == kind)), None)
    if row is not None:
        return row.low, row.high, row.kind
    k = kind or "absolute"
    if k == "multiplier":
        return 0.0, 2.0, k
    base.check(Change(param, k, 0.0))
    from ..sensitivity import current_numbers  # noqa: PLC0415

    values = current_numbers(base, param)
    if len(values) != 1 or not values[0]:
        raise InputError(f"--parameter {param}: give --range LO,HI (no sensitivity row, and the selected cells do "
                         "not share one non-zero value to range around)")
    v = values[0]
    return (0.0, 2 * v, k) if v > 0 else (2 * v, 0.0, k)
