"""What a HiGHS run gives back, typed: termination and status words, one run's read, the outcome.

:class:`Termination` (why HiGHS stopped) and :class:`Status` (what the run holds) are string
enums: each member equals, prints and serialises as its word (``"optimal"``, ``"time_limit"`` …),
so JSON, reports and comparisons with plain strings read as before. :class:`Read` is one run as
read from HiGHS (NPV maximised); :class:`SolverOutcome` is what the solver layer returns, made by
one constructor (:meth:`SolverOutcome.of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from .arrays import ColumnKey, Compiled


class Termination(StrEnum):
    """Why HiGHS stopped: its model status in the project's words, plus the project's own
    ``interrupted`` (Ctrl-C) and ``inconsistent_optimum`` (HiGHS's optimum failed the check of
    :func:`optimiser.solver.start.answer_problem`)."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    SOLUTION_LIMIT = "solution_limit"
    INTERRUPTED = "interrupted"
    OBJECTIVE_BOUND = "objective_bound"
    OBJECTIVE_TARGET = "objective_target"
    MEMORY_LIMIT = "memory_limit"
    INCONSISTENT_OPTIMUM = "inconsistent_optimum"
    NOTSET = "notset"
    LOAD_ERROR = "loaderror"
    MODEL_ERROR = "modelerror"
    PRESOLVE_ERROR = "presolveerror"
    SOLVE_ERROR = "solveerror"
    POSTSOLVE_ERROR = "postsolveerror"
    UNKNOWN = "unknown"
    HIGHS_INTERRUPT = "highsinterrupt"


#: HiGHS's model status names (``HighsModelStatus``) → :class:`Termination`; any other name
#: becomes its lower-case word without the ``k`` (see :func:`termination_of`).
STATUS_WORDS = {
    "kOptimal": Termination.OPTIMAL,
    "kInfeasible": Termination.INFEASIBLE,
    "kUnboundedOrInfeasible": Termination.INFEASIBLE_OR_UNBOUNDED,
    "kUnbounded": Termination.UNBOUNDED,
    "kTimeLimit": Termination.TIME_LIMIT,
    "kIterationLimit": Termination.ITERATION_LIMIT,
    "kSolutionLimit": Termination.SOLUTION_LIMIT,
    "kInterrupt": Termination.INTERRUPTED,
    "kObjectiveBound": Termination.OBJECTIVE_BOUND,
    "kObjectiveTarget": Termination.OBJECTIVE_TARGET,
    "kModelEmpty": Termination.OPTIMAL,
    "kMemoryLimit": Termination.MEMORY_LIMIT,
}


def termination_of(model_status_name: str) -> Termination:
    """The termination for HiGHS's model status name (``kOptimal`` → ``optimal``; ``kLoadError``
    → ``loaderror``)."""
    got = STATUS_WORDS.get(model_status_name)
    return got if got is not None else Termination(model_status_name.removeprefix("k").lower())


class Status(StrEnum):
    """What a run holds: a proven ``optimal`` plan, a ``feasible`` one, or why there is none."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    NO_SOLUTION = "no_solution"


@dataclass(frozen=True)
class Read:
    """One HiGHS run as read back, NPV maximised: the plan ``x`` (None: none), its ``objective``
    (NPV), HiGHS's ``best_bound`` on it and relative ``gap``, and the MIP's node count."""

    termination: Termination
    status: Status
    x: np.ndarray | None
    objective: float | None
    best_bound: float | None
    gap: float | None
    nodes: int

    @classmethod
    def no_solution(cls, termination: Termination) -> "Read":
        """A run that stopped without any plan."""
        return cls(termination, Status.NO_SOLUTION, None, None, None, None, 0)


@dataclass(frozen=True)
class SolverOutcome:
    """What HiGHS said, in the model's own sense (objective = NPV, maximised)."""

    termination: Termination
    status: Status
    objective: float | None
    best_bound: float | None
    gap: float | None
    x: np.ndarray | None
    row_duals: np.ndarray | None
    columns: tuple[ColumnKey, ...]
    rows: tuple[tuple[str, tuple, int], ...]
    handoff_seconds: float
    solve_seconds: float
    duals_seconds: float
    n_variables: int
    n_binaries: int
    n_constraints: int
    n_nonzeros: int
    highs_version: str
    interrupted: bool = False
    mip_nodes: int = 0
    #: HiGHS overran its time limit and its process was stopped (the plan is its last incumbent).
    stopped_by_watchdog: bool = False
    #: The start plan handed to HiGHS (optimiser.solver.local_search / construct): npv, seconds,
    #: lp_solves, moves, kicks; or why HiGHS's answer with a start was discarded.
    start_plan: dict[str, Any] | None = None
    #: The linking rows HiGHS's MIP got (optimiser.solver.row_generation): optional, used, rounds,
    #: converged, lp_bound, seconds; None when it got them all.
    linking_rows: dict[str, Any] | None = None
    #: Right-hand-side ranging of the duals LP (HiGHS ``getRanging``), one row per model row:
    #: the row's upper bound may move within [col 0, col 1] with every row dual unchanged
    #: (NaN for rows not ranged: see :attr:`Roles.ranged`); None when there are no duals.
    row_ranges: np.ndarray | None = None

    @property
    def has_solution(self) -> bool:
        return self.x is not None

    @classmethod
    def of(cls, cm: Compiled, read: Read, *, duals: np.ndarray | None, ranges: np.ndarray | None,
           handoff: float, solve_seconds: float, duals_seconds: float, interrupted: bool, version: str,
           watchdog: bool = False, start_plan: dict[str, Any] | None = None,
           linking_rows: dict[str, Any] | None = None) -> "SolverOutcome":
        """The outcome of ``read`` on ``cm``, with the run record's ``start_plan`` and
        ``linking_rows`` facts (None: none)."""
        return cls(
            termination=read.termination, status=read.status, objective=read.objective,
            best_bound=read.best_bound, gap=read.gap, x=read.x, row_duals=duals, columns=cm.columns, rows=cm.rows,
            handoff_seconds=handoff, solve_seconds=solve_seconds, duals_seconds=duals_seconds,
            n_variables=len(cm.col_lower), n_binaries=int(cm.integrality.sum()), n_constraints=len(cm.row_lower),
            n_nonzeros=int(cm.a_csc.nnz), highs_version=version, interrupted=interrupted, mip_nodes=read.nodes,
            stopped_by_watchdog=watchdog, start_plan=start_plan, linking_rows=linking_rows, row_ranges=ranges,
        )
