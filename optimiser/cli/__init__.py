"""The ``optimiser`` command line (typer): ``app`` and the console-script entry point ``main``.

:mod:`optimiser.cli.main` (the group, entry point), :mod:`optimiser.cli.common` (shared helpers),
:mod:`optimiser.cli.commands` (validate, convert, template, solve, explain, compare), one module per
further group of commands (``cluster``: sweep, solve-ph; ``generate``; ``plans``: diff,
alternatives; ``sensitivity``: breakeven, tornado; ``decide``), :mod:`optimiser.cli.output` and
:mod:`optimiser.cli.summary` (what the commands print).
"""

from ..errors import EXIT_INVALID
from .main import app, main

__all__ = ["app", "main", "EXIT_INVALID"]
