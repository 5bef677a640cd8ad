"""Domain errors and the exit codes scripts can rely on.

| code | meaning |
|---|---|
| 0 | success (warnings allowed) |
| 1 | invalid input: the instance or an option is wrong |
| 2 | the model is infeasible |
| 3 | no solution within the limits (the time limit passed before any plan) |
| 4 | internal error (a bug: please report it) |
| 130 | interrupted by the user (Ctrl-C) with nothing to show |
| 143 | stopped by SIGTERM (handled as Ctrl-C) with nothing to show |
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_INFEASIBLE = 2
EXIT_NO_SOLUTION = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an instance, located as the planner sees it.

    ``row`` is the Excel row / CSV line (header = 1); ``None`` when the
    problem concerns a whole table or column.
    """

    table: str
    row: int | None
    column: str | None
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = self.table
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        prefix = "" if self.severity == "error" else "warning: "
        return f"{prefix}{where}: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


class OptimiserError(Exception):
    """Base of every error the CLI turns into one line and an exit code."""

    exit_code = EXIT_INTERNAL


class InputError(OptimiserError):
    """The input (a file, a table or an option) is wrong."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class InvalidInstance(InputError):
    """Validation found errors; ``problems`` lists all of them (and the warnings)."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"the instance has {len(errors)} error(s)", problems)


class InfeasibleError(OptimiserError):
    """No plan meets every hard constraint; ``details`` may carry the explanation lines."""

    exit_code = EXIT_INFEASIBLE

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.details = tuple(details)


class NoSolutionError(OptimiserError):
    exit_code = EXIT_NO_SOLUTION


class InterruptedError_(OptimiserError):
    exit_code = EXIT_INTERRUPTED


class OutputError(OptimiserError):
    """A report or converted instance could not be written (nothing was lost)."""

    exit_code = EXIT_INVALID
