"""Re-use of one compiled model for many solves that differ only in column bounds (:class:`Session`).

The model is handed to HiGHS once; each solve changes the bounds that differ, answers from an
earlier optimum where that is exact, or warm-starts HiGHS from an earlier plan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import isolation
from .arrays import INF, Compiled, check_magnitudes, model_arrays
from .child import mip_in_child, search_settings
from .duals import fixed_lp_duals, rhs_ranges
from .highs import check_highs_options, configured_highs, pass_compiled, version_of
from .options import SolveOptions
from .outcome import SolverOutcome, Termination
from .solve import BOUND_TOL
from .start import run_mip


@dataclass
class SessionStats:
    """How a session's solves were answered."""

    runs: int = 0
    solved: int = 0     # HiGHS ran (cold or warm)
    warm: int = 0       # … starting from an earlier plan that fits the new bounds
    dominated: int = 0  # answered by an earlier optimum under looser bounds (HiGHS not run)
    handoff_seconds: float = 0.0
    solve_seconds: float = 0.0
    duals_seconds: float = 0.0


@dataclass
class _Past:
    """An earlier solve: the bounds of the columns changed so far, and its outcome."""

    cols: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    outcome: SolverOutcome


class Session:
    """One compiled model kept in one HiGHS object for runs that differ only in column bounds.

    The model is handed to HiGHS once; :meth:`set_bounds` changes the columns that differ
    (``changeColsBounds``) and :meth:`solve` runs HiGHS again on the same object, with its solver
    state cleared (``clearSolver``) so a run depends only on the model, the bounds and the start.

    Two kinds of re-use, both exact:

    * **answers** (``reuse_answers``): if an earlier run had bounds at least as loose on every
      column and ended ``optimal`` (within the MIP gap), and its plan lies inside the new bounds,
      that plan is optimal (within the same gap) for the new bounds too — the rows and objective
      are unchanged and the feasible set only shrank — so it is returned without running HiGHS
      (``solve_seconds`` 0). An earlier ``infeasible`` under looser bounds answers ``infeasible``.
    * **warm starts** (``warm_start``): otherwise HiGHS gets, through ``setSolution``, the plan set
      by :meth:`set_start` or, failing that, the best earlier plan that lies inside the new bounds
      (rows unchanged, so it is feasible). Plans outside the bounds are never passed: HiGHS 1.16
      warns, tries a sub-MIP over the in-bound integer values and, if that fails, starts cold.

    A MIP runs, as in :func:`solve_compiled`, in a child process (fresh HiGHS, the same arrays with
    the current bounds, the start if any) so the time limit always holds; the session's own HiGHS
    object then only serves the duals LP. Capacity duals come from the fixed-integer LP as in
    :func:`solve_compiled`; the session then puts integrality, column and row bounds and the time
    limit back. No HiGHS object leaves here.
    """

    def __init__(self, compiled: Compiled, opts: SolveOptions, reuse_answers: bool = True,
                 warm_start: bool = True) -> None:
        settings = opts.highs_settings()
        check_highs_options(settings)
        check_magnitudes(compiled)
        self._cm = compiled
        self._opts = opts
        self._settings = settings
        self.reuse_answers = reuse_answers
        self.warm_start = warm_start
        h = configured_highs(opts.log, settings)
        t0 = time.perf_counter()
        pass_compiled(h, compiled)
        self._pending_handoff = time.perf_counter() - t0
        self._h: Any = h
        self._version = version_of(h)
        self._lo = np.array(compiled.col_lower, dtype=float)
        self._hi = np.array(compiled.col_upper, dtype=float)
        self._touched = np.empty(0, dtype=np.int64)  # columns whose bounds ever left the compiled ones
        self._start: np.ndarray | None = None
        self._past: list[_Past] = []
        self._is_mip = bool(compiled.integrality.any())
        #: MIPs run in a child process given the current bounds (as :func:`solve_compiled`);
        #: this object keeps the model for the duals LP and the bookkeeping.
        self._isolated = self._is_mip and opts.isolate and isolation.available()
        self._search = search_settings(compiled, opts) if self._isolated else None
        self.stats = SessionStats(handoff_seconds=self._pending_handoff)
        #: how the last :meth:`solve` was answered: ``solved``, ``warm`` or ``dominated``
        self.last = ""

    # -------------------------------------------------------------- inputs
    @property
    def n_columns(self) -> int:
        return len(self._lo)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Current column bounds (copies)."""
        return self._lo.copy(), self._hi.copy()

    def set_bounds(self, lower: np.ndarray, upper: np.ndarray) -> int:
        """Set every column's bounds (arrays over :attr:`Compiled.columns`); HiGHS gets only the
        columns that changed. Returns how many changed."""
        lower = np.asarray(lower, dtype=float)
        upper = np.asarray(upper, dtype=float)
        if lower.shape != self._lo.shape or upper.shape != self._hi.shape:
            raise ValueError("set_bounds: one lower and one upper bound per column")
        changed = np.flatnonzero((lower != self._lo) | (upper != self._hi))
        if len(changed):
            idx = changed.astype(np.int32)
            self._h.changeColsBounds(len(idx), idx, lower[changed], upper[changed])
            self._lo[changed] = lower[changed]
            self._hi[changed] = upper[changed]
            self._touched = np.union1d(self._touched, changed)
        return len(changed)

    def set_start(self, x: np.ndarray | None) -> None:
        """A plan (one value per column) to start the next MIP from, or ``None``."""
        self._start = None if x is None else np.array(x, dtype=float)

    # -------------------------------------------------------------- solving
    def solve(self) -> SolverOutcome:
        """Run HiGHS under the current bounds (or answer from an earlier run, see the class)."""
        self.stats.runs += 1
        if self.reuse_answers:
            hit = self._dominating()
            if hit is not None:
                self.stats.dominated += 1
                self.last = "dominated"
                return replace(hit, handoff_seconds=0.0, solve_seconds=0.0, duals_seconds=0.0, mip_nodes=0,
                               interrupted=False)
        h, cm = self._h, self._cm
        start = self._pick_start() if self.warm_start else None
        stopped, start_plan, linking_rows = False, None, None
        h.clearSolver()  # a run (MIP here, or only the duals LP below) depends on nothing before it
        if self._isolated:
            child = mip_in_child(model_arrays(cm, self._lo, self._hi), self._settings, self._opts.log,
                                 self._settings.get("time_limit"), start, self._search)
            read, interrupted, stopped = child.read, child.interrupted, child.stopped
            solve_seconds = child.solve_seconds
            start_plan, linking_rows = child.start_plan, child.linking_rows
            if child.keep is not None and self._search is not None and self._search.keep is None:
                # the linking rows found hold for every job of this model (any subset is valid)
                self._search = replace(self._search, keep=child.keep, keep_info=child.linking_rows)
            self._pending_handoff += child.handoff_seconds
            self.stats.handoff_seconds += child.handoff_seconds
        else:
            t1 = time.perf_counter()
            read, interrupted, start_plan = run_mip(h, model_arrays(cm, self._lo, self._hi), start,
                                                    self._settings.get("time_limit"), self._is_mip)
            solve_seconds = time.perf_counter() - t1
        x = read.x
        duals = ranges = None
        duals_seconds = 0.0
        if x is not None and self._opts.duals and len(cm.row_lower) and not interrupted:  # a batch stops at Ctrl-C
            t2 = time.perf_counter()
            duals = fixed_lp_duals(h, cm, x, self._is_mip)
            ranges = rhs_ranges(h, cm) if duals is not None else None
            self._restore()
            duals_seconds = time.perf_counter() - t2
        handoff, self._pending_handoff = self._pending_handoff, 0.0
        out = SolverOutcome.of(cm, read, duals=duals, ranges=ranges, handoff=handoff, solve_seconds=solve_seconds,
                               duals_seconds=duals_seconds, interrupted=interrupted, version=self._version,
                               watchdog=stopped, start_plan=start_plan, linking_rows=linking_rows)
        self.stats.solved += 1
        self.stats.warm += start is not None
        self.stats.solve_seconds += solve_seconds
        self.stats.duals_seconds += duals_seconds
        self.last = "warm" if start is not None else "solved"
        if (x is not None or read.termination == Termination.INFEASIBLE) and not interrupted:
            cols = self._touched.copy()
            self._past.append(_Past(cols, self._lo[cols].copy(), self._hi[cols].copy(), out))
        return out

    def close(self) -> None:
        """Free the HiGHS object (the session cannot solve afterwards)."""
        self._h = None
        self._past.clear()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------- helpers
    def _past_bounds(self, past: _Past) -> tuple[np.ndarray, np.ndarray]:
        """An earlier run's bounds on the columns changed so far (the others had the compiled ones)."""
        cols = self._touched
        lo = np.asarray(self._cm.col_lower, dtype=float)[cols]
        hi = np.asarray(self._cm.col_upper, dtype=float)[cols]
        if len(past.cols):
            pos = np.searchsorted(cols, past.cols)
            lo[pos] = past.lower
            hi[pos] = past.upper
        return lo, hi

    def _inside(self, x: np.ndarray) -> bool:
        """Is ``x`` inside the current bounds? (It met the compiled bounds of untouched columns.)"""
        cols = self._touched
        v = x[cols]
        return bool(np.all(v >= self._lo[cols] - BOUND_TOL) and np.all(v <= self._hi[cols] + BOUND_TOL))

    def _dominating(self) -> SolverOutcome | None:
        """An earlier outcome that answers the current bounds exactly (see the class docstring)."""
        cols = self._touched
        lo, hi = self._lo[cols], self._hi[cols]
        for past in self._past:
            out = past.outcome
            if out.termination not in (Termination.OPTIMAL, Termination.INFEASIBLE):
                continue
            plo, phi = self._past_bounds(past)
            if not (np.all(plo <= lo) and np.all(hi <= phi)):
                continue  # that run's feasible set does not contain this one's
            if out.termination == Termination.INFEASIBLE or (out.x is not None and self._inside(out.x)):
                return out
        return None

    def _pick_start(self) -> np.ndarray | None:
        if self._start is not None and self._inside(self._start):
            return self._start
        best: SolverOutcome | None = None
        for past in self._past:
            out = past.outcome
            if out.x is not None and out.objective is not None and self._inside(out.x):
                if best is None or out.objective > best.objective:  # type: ignore[operator]
                    best = out
        return None if best is None else best.x

    def _restore(self) -> None:
        """Undo what the duals LP changed: integrality, column and row bounds, the time limit."""
        h, cm = self._h, self._cm
        n, m = len(cm.col_lower), len(cm.row_lower)
        if self._is_mip:
            idx = np.flatnonzero(cm.integrality).astype(np.int32)
            h.changeColsIntegrality(len(idx), idx, np.asarray(cm.integrality, dtype=np.int32)[idx])
        if n:
            h.changeColsBounds(n, np.arange(n, dtype=np.int32), self._lo, self._hi)
        if m:
            h.changeRowsBounds(m, np.arange(m, dtype=np.int32), np.asarray(cm.row_lower, dtype=float),
                               np.asarray(cm.row_upper, dtype=float))
        h.setOptionValue("time_limit", float(self._settings.get("time_limit", INF)))
