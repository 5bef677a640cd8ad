"""CLI commands for the scale-out engines: `sweep` (local pool or Dask) and `solve-ph` (mpi-sppy).

Registered by :func:`optimiser.cli.main.register_commands`; Dask and MPI are imported
only when a command needs them, so the core install (no extras) keeps every other command.
"""

# no `from __future__ import annotations`: typer reads the annotations of the commands defined
# inside register(), which name objects imported there.

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .common import MipGapOpt, TimeLimitOpt


def register(app: typer.Typer) -> None:
    """Add `sweep` and `solve-ph` to ``app``."""
    from .common import InstanceArg, JsonOpt, run, solve_options, split  # noqa: PLC0415
    from ..errors import InputError  # noqa: PLC0415

    @app.command()
    def sweep(
        instance: InstanceArg,
        grid: Annotated[Optional[str], typer.Option(
            help="Parameter grid, e.g. \"demand_factor=0.8,1,1.2;price_factor=0.9,1\" (Cartesian product). "
                 "Parameters: demand_factor, price_factor, tariff_addon, option_cost; NAME:ID for one "
                 "programme/market/option; or any numeric input by its path: "
                 "\"options.upfront_cost\\[buy_vinfast]=4e8,8e8\" sets, \"programmes.unit_price\\[*]*=0.9,1.1\" "
                 "multiplies.")] = None,
        variants: Annotated[Optional[Path], typer.Option(
            help="CSV of variants: one row each, parameter columns (blank = default), optional 'variant' "
                 "name column.")] = None,
        strategies: Annotated[Optional[str], typer.Option(help="Comma-separated strategies (default: optimise).")] = None,
        scenario: Annotated[Optional[str], typer.Option(
            help="Solve this one scenario per variant. Default: the two-stage plan over all scenarios.")] = None,
        scheduler: Annotated[Optional[str], typer.Option(
            help="Dask scheduler address (tcp://host:8786), or 'local' for a Dask LocalCluster on this "
                 "machine. Default: the local process pool (no Dask needed).")] = None,
        workers: Annotated[Optional[int], typer.Option(
            help="Local solver processes (default: CPU count); with --scheduler local, the LocalCluster's workers.")] = None,
        time_limit: TimeLimitOpt = None,
        mip_gap: MipGapOpt = None,
        out: Annotated[Optional[Path], typer.Option(help="Workbook (default: reports/<instance>-sweep.xlsx).")] = None,
        csv: Annotated[Optional[Path], typer.Option("--csv", help="Also write the tidy table as CSV.")] = None,
        no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the workbook.")] = False,
        as_json: JsonOpt = False,
        reuse: Annotated[bool, typer.Option("--reuse/--no-reuse", help="Solve a variant's strategies on one "
                                            "compiled model; --no-reuse builds a model for every solve.")] = True,
    ) -> None:
        """Solve a grid or a CSV of parameter variants × strategies; one tidy table (CSV) and a workbook.

        Parameters: demand_factor, price_factor, tariff_addon, option_cost (NAME:ID for one
        programme, market or option). Runs on the local process pool, or on Dask with --scheduler.
        """
        from ..app import run_sweep  # noqa: PLC0415
        from ..sweep import sweep_json  # noqa: PLC0415

        def job() -> int:
            if workers is not None and workers < 1:
                raise InputError("--workers must be ≥ 1")
            opts = solve_options(time_limit, mip_gap, None, None, None, None)
            command = " ".join(["optimiser", *sys.argv[1:]])
            df, targets = run_sweep(
                instance, grid=grid, variants_file=variants, strategies=split(strategies), scenario=scenario,
                options=opts, scheduler=scheduler, workers=workers, out=out, csv_out=csv,
                write_report=not no_report, command=command, show_progress=not as_json, reuse=reuse)
            if as_json:
                typer.echo(json.dumps(sweep_json(df, targets), indent=2, ensure_ascii=False))
            else:
                _print_sweep(df, targets)
            return 0

        run(job, as_json)

    @app.command("solve-ph")
    def solve_ph(
        instance: InstanceArg,
        strategy: Annotated[str, typer.Option(help="Strategy: fixes the options it takes or forbids.")] = "optimise",
        iterations: Annotated[int, typer.Option(help="PH iterations at most.")] = 50,
        ranks: Annotated[Optional[int], typer.Option(
            help="MPI ranks to launch: a multiple of the cylinders, hub + spokes (default: 3). Ignored under mpiexec.")] = None,
        spokes: Annotated[str, typer.Option(help="Spokes: xhatshuffle (plans, inner bound), lagrangian "
                                                 "(outer bound).")] = "xhatshuffle,lagrangian",
        rel_gap: Annotated[float, typer.Option(help="Stop when (outer − inner)/|inner| is at most this.")] = 1e-4,
        rho_factor: Annotated[float, typer.Option(help="PH ρ = factor × each first-stage decision's cost.")] = 0.1,
        time_limit: Annotated[Optional[float], typer.Option(help="Seconds for the whole PH run.")] = None,
        mip_gap: Annotated[Optional[float], typer.Option(help="Relative MIP gap of every subproblem.")] = None,
        highs_option: Annotated[Optional[list[str]], typer.Option(
            help="HiGHS option NAME=VALUE for every subproblem (checked).")] = None,
        evaluate: Annotated[bool, typer.Option(
            "--evaluate/--no-evaluate",
            help="Re-solve the extensive form with PH's first stage fixed: exact NPV and a full report.")] = True,
        out: Annotated[Optional[Path], typer.Option(help="Excel report (default: reports/<instance>-<strategy>-ph.xlsx).")] = None,
        no_report: Annotated[bool, typer.Option("--no-report", help="Do not write the Excel report.")] = False,
        log: Annotated[Optional[Path], typer.Option(help="Write mpiexec's output (mpi-sppy's log) here.")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Solve the two-stage plan by progressive hedging (mpi-sppy: PH hub, xhat and Lagrangian spokes).

        Launches `mpiexec -n RANKS python -m mpi4py -m optimiser.ph` itself, or runs in place when
        started under mpiexec. Needs the optional 'mpi' extra (see docs/cluster.md).
        """
        from ..ph import run_ph  # noqa: PLC0415

        def job() -> int:
            from ..errors import EXIT_NO_SOLUTION  # noqa: PLC0415

            from ..writers import check_output  # noqa: PLC0415

            opts = solve_options(time_limit, mip_gap, None, None, highs_option, None)
            want_report = evaluate and not no_report
            for path in (out if want_report else None, log):  # before any solving
                if path is not None:
                    check_output(Path(path), [Path(instance)])
            res = run_ph(instance, strategy, opts, iterations=iterations, ranks=ranks, rel_gap=rel_gap,
                         rho_factor=rho_factor, spokes=[s.strip() for s in spokes.split(",") if s.strip()],
                         evaluate=evaluate, keep_results=want_report, log=log)
            if "status" not in res:  # a rank other than 0 under mpiexec: rank 0 reports
                return 0
            results = res.pop("results", None)
            report = None
            if want_report and results is not None:
                report = _write_ph_report(instance, strategy, results, out)
            res["report"] = str(report) if report else None
            if as_json:
                typer.echo(json.dumps(res, indent=2, ensure_ascii=False))
            else:
                _print_ph(res)
            return EXIT_NO_SOLUTION if res["status"] == "no_solution" else 0

        run(job, as_json)


def _write_ph_report(instance_path: Path, strategy: str, results: Any, out: Path | None) -> Path:
    from ..names import safe_stem  # noqa: PLC0415
    from ..report import write_report  # noqa: PLC0415
    from ..validate import load_instance  # noqa: PLC0415
    from ..writers import check_output  # noqa: PLC0415

    inst, _ = load_instance(instance_path)
    target = Path(out) if out is not None else Path("reports") / f"{safe_stem(inst.name)}-{safe_stem(strategy)}-ph.xlsx"
    check_output(target, [Path(instance_path)])
    command = " ".join(["optimiser", *sys.argv[1:]])
    write_report(inst, results, target, command=command)
    return target


def _money(x: float | None) -> str:
    from ..numbers import money as m  # noqa: PLC0415

    return m(x, "").strip()


def _print_ph(res: dict[str, Any]) -> None:
    from rich.console import Console  # noqa: PLC0415

    con = Console()
    gap = "—" if res.get("gap") is None else f"{res['gap']:.3%}"
    con.print(f"[bold]{res['instance']}[/bold] — strategy [bold]{res['strategy']}[/bold], "
              f"{len(res['scenarios'])} scenarios, progressive hedging on {res['ranks']} MPI ranks")
    con.print(f"Status: [bold]{res['status']}[/bold]   plan objective (inner bound): [bold]{_money(res.get('npv'))}[/bold]   "
              f"outer bound {_money(res.get('outer_bound'))}   gap {gap}")
    if res.get("evaluated_npv") is not None:
        con.print(f"Plan re-evaluated on the extensive form: NPV (cash) {_money(res['evaluated_npv'])}, "
                  f"objective {_money(res.get('evaluated_objective'))}")
    con.print(f"{res.get('iterations')} PH iterations, {res.get('seconds', 0):.1f} s")
    con.print(f"Deals taken: {', '.join(res.get('options_taken') or []) or 'none'}")
    con.print(f"Lines built: {', '.join(res.get('lines_built') or []) or 'none'}")
    if res.get("report"):
        con.print(f"Report: {res['report']}")


def _print_sweep(df: Any, targets: dict[str, Any]) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    con = Console()
    shown = [c for c in df.columns if c not in ("gap", "solve_seconds", "scenario") and not str(c).startswith("npv[")]
    t = Table(show_edge=False)
    for c in shown:
        t.add_column(str(c), justify="right" if c in ("npv", "worst_case") else "left")
    for rec in df.head(60).to_dict("records"):
        t.add_row(*[_money(rec[c]) if c in ("npv", "worst_case") else
                    ("✓" if rec[c] is True else "" if rec[c] is False else f"{rec[c]:g}" if isinstance(rec[c], float)
                     else str(rec[c])) for c in shown])
    con.print(t)
    if len(df) > 60:
        con.print(f"… {len(df) - 60} more rows in the table")
    for k in ("workbook", "csv"):
        if targets.get(k):
            con.print(f"{k}: {targets[k]}")
