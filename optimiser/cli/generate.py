"""`optimiser generate`: synthetic instances for benchmarks and tests (see optimiser.generate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def generate(
        out: Annotated[Path, typer.Argument(help="Folder (or .xlsx with --xlsx) to write.")],
        lines: Annotated[int, typer.Option(help="Number of lines.")] = 20,
        programmes: Annotated[int, typer.Option(help="Number of programmes.")] = 30,
        years: Annotated[int, typer.Option(help="Planning years.")] = 5,
        markets: Annotated[int, typer.Option(help="Markets.")] = 4,
        scenarios: Annotated[int, typer.Option(help="Demand scenarios.")] = 3,
        seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 1,
        size: Annotated[Optional[str], typer.Option(help="A documented size: small, medium, large, xl "
                                                         "(overrides the counts).")] = None,
        xlsx: Annotated[bool, typer.Option("--xlsx", help="Write a workbook instead of a CSV folder.")] = False,
        economics: Annotated[bool, typer.Option("--economics", help="Add tax, a terminal value, a 50 % shared site, "
                                                                     "idle costs and a yearly outside price.")] = False,
        force: Annotated[bool, typer.Option("--force", help="Replace the target if it exists (default: refuse).")] = False,
    ) -> None:
        """Generate a synthetic instance that exercises every table, feasible by construction."""
        from .common import run  # noqa: PLC0415
        from ..errors import InputError  # noqa: PLC0415
        from ..generate import SIZE_ADVICE, SIZES, check_counts, generate_instance  # noqa: PLC0415
        from ..writers import check_output  # noqa: PLC0415

        def job() -> int:
            params = dict(lines=lines, programmes=programmes, years=years, markets=markets, scenarios=scenarios)
            if size is not None:
                if size not in SIZES:
                    raise InputError(f"--size {size!r}: choose one of {', '.join(SIZES)}")
                params.update({k: v for k, v in SIZES[size].items() if k in params})
            check_counts(params)
            target = out.with_suffix(".xlsx") if xlsx and out.suffix.lower() != ".xlsx" else out
            check_output(target, folder=target.suffix.lower() != ".xlsx", force=force)
            path = generate_instance(target, seed=seed, xlsx=xlsx, economics=economics, **params)
            typer.echo(f"wrote {path} ({', '.join(f'{k}={v}' for k, v in params.items())}, seed={seed})")
            if size is not None:
                typer.echo(f"{size}: {SIZE_ADVICE[size]}")
            return 0

        run(job)
