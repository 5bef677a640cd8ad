"""A bound beside the search: the LP relaxation on the machine's other core, while the plan is made.

Part of the solver layer (it drives HiGHS's LP solver; the MIP and its own bound stay HiGHS's).
Why: on the generated ``medium`` case the child spends the first part of the limit on the
construction and fix-and-optimise (:mod:`.construct`, :mod:`.fix_optimise`), so HiGHS's MIP starts
late and at ``--time-limit 120`` has no root bound of its own: the run reported its trivial bound
(a gap of 1,112 %) although the plan was within about 10 % of the LP relaxation. HiGHS's interior
point solver (IPX, no crossover) solves that LP in about a minute on one core, and the child's
main thread does not need the second core while it builds the plan (HiGHS releases Python's lock
while it runs, so the two proceed side by side).

The bound is the LP relaxation's optimum (every integer column continuous, every row) as HiGHS
reports it when its model status is optimal — the same kind of number, under the same tolerances,
as HiGHS's own MIP bound at its root, and never above a plan's NPV by more than those tolerances
(every plan is a point of that LP). :func:`tighter` reports it only where it is tighter than
HiGHS's bound; an LP that has not ended by the time limit gives nothing.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np

from .arrays import ModelArrays
from .highs import pass_arrays
from .outcome import Read, Status

#: HiGHS options of the bound's LP: the interior point solver without crossover (a basis is not
#: needed for a bound; medium seed 1 on one core: 59.9 s, dual simplex 143 s, HiPO 67.7 s — HiPO
#: measured with highspy 1.15.1 and highspy-extras 1.15.1, there is no extras wheel for 1.16). IPX is
#: serial; the thread count stays the MIP's (HiGHS takes one per process).
LP_OPTIONS = {"solver": "ipm", "run_crossover": "off", "presolve": "on"}
#: Rows from which the bound does not run under ``auto``: medium has 68,328 (its LP ~60 s); on large
#: (1,037,280 rows) IPX took 20–30 s an iteration (13 in 375 s; medium needs 67), so from here the
#: second core would only carry memory and never a bound within the documented limits.
MAX_ROWS = 500_000
#: Relative slack for "a plan's NPV above the bound": beyond it the bound is not used (HiGHS's
#: feasibility tolerances are 1e-7 relative; a plan clearly above its own relaxation means the
#: LP was not solved as claimed).
PLAN_SLACK = 1e-6

#: Seconds :meth:`BoundJob.stop` waits for the LP to see the stop (IPX looks once an iteration).
STOP_WAIT = 5.0


@dataclass(frozen=True)
class LPBound:
    """The LP relaxation's optimum in HiGHS's sense (``min_cost``: a lower bound on −NPV), or
    None where it was not solved, with its seconds and HiGHS's model status name."""

    min_cost: float | None
    seconds: float
    status: str

    def facts(self, used: bool) -> dict[str, Any]:
        """What the run record says of it (NPV: an upper bound on every plan's)."""
        return {"npv": None if self.min_cost is None else -self.min_cost, "seconds": round(self.seconds, 3),
                "status": self.status, "method": "LP relaxation (interior point, second core)", "used": used}


class BoundJob:
    """The LP relaxation of ``arrays`` solved in a thread (:func:`start`); :meth:`result` reads it."""

    def __init__(self, arrays: ModelArrays, new_highs: Callable[[], Any], time_limit: float | None) -> None:
        self._h = new_highs()
        for name, value in LP_OPTIONS.items():
            self._h.setOptionValue(name, value)
        if time_limit is not None and math.isfinite(time_limit):
            self._h.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
        self._h.HandleUserInterrupt = True  # cancelSolve() stops it when the child is done
        self._lp = arrays._replace(integrality=np.zeros_like(arrays.integrality))
        self._result: LPBound | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lp-bound", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            pass_arrays(self._h, self._lp)
            if self._stopping.is_set():
                self._result = LPBound(None, time.perf_counter() - t0, "kInterrupt")
                return
            self._h.run()
            status = self._h.getModelStatus().name
            value = float(self._h.getInfo().objective_function_value)
            ok = status == "kOptimal" and math.isfinite(value)
            self._result = LPBound(value if ok else None, time.perf_counter() - t0, status)
        except Exception as exc:  # noqa: BLE001 — an optional bound must not cost the solve
            self._result = LPBound(None, time.perf_counter() - t0, f"error: {type(exc).__name__}")

    def done(self) -> bool:
        """Whether the LP has ended (solved or not)."""
        return not self._thread.is_alive()

    def result(self, wait: float = 0.0) -> LPBound | None:
        """The bound once the LP has ended (waiting at most ``wait`` seconds); None while it runs."""
        self._thread.join(timeout=max(wait, 0.0))
        return None if self._thread.is_alive() else self._result

    def stop(self) -> LPBound | None:
        """Stop the LP if it still runs (its work is then lost) and return what it ended with."""
        self._stopping.set()
        waited = 0.0
        while self._thread.is_alive() and waited < STOP_WAIT:  # again until HiGHS has seen it
            self._h.cancelSolve()
            self._thread.join(timeout=0.05)
            waited += 0.05
        return self.result()


class BoundedOffers:
    """The shared incumbent, each plan offered with the LP bound once it is known (so a run the
    watchdog stops still reports it), unless HiGHS's own is tighter."""

    def __init__(self, incumbent: Any, job: BoundJob) -> None:
        self._incumbent, self._job = incumbent, job

    def offer(self, x: np.ndarray, cost: float, bound: float) -> None:
        """Offer ``x`` (cost ``cost``, HiGHS's sense) with the tighter of ``bound`` and the LP's."""
        lp = self._job.result()
        if lp is not None and lp.min_cost is not None and lp.min_cost <= cost:
            bound = max(bound, lp.min_cost)
        self._incumbent.offer(x, cost, bound)

    def read(self) -> Any:
        """What the shared incumbent holds."""
        return self._incumbent.read()


def start(arrays: ModelArrays, new_highs: Callable[[], Any], time_limit: float | None) -> BoundJob:
    """Start solving the LP relaxation of ``arrays`` beside the caller (see :class:`BoundJob`)."""
    return BoundJob(arrays, new_highs, time_limit)


def wanted(n_rows: int, cpus: int | None) -> bool:
    """``auto``'s rule: a model of fewer than :data:`MAX_ROWS` rows on a machine with a second CPU."""
    return n_rows < MAX_ROWS and (cpus or 1) >= 2


def tighter(read: Read, bound: LPBound | None) -> tuple[Read, bool]:
    """``read`` (NPV maximised) with the LP bound as its best bound where that is tighter than
    HiGHS's, and whether it was used. Not used: no plan, no bound, a plan HiGHS proved optimal
    (its bound stands), or a plan's NPV above it by more than :data:`PLAN_SLACK` (the LP then was
    not what it claims)."""
    if bound is None or bound.min_cost is None or read.x is None or read.objective is None:
        return read, False
    if read.status == Status.OPTIMAL:
        return read, False
    npv_bound = -bound.min_cost
    if read.objective > npv_bound + PLAN_SLACK * max(1.0, abs(npv_bound)):
        return read, False
    if read.best_bound is not None and read.best_bound <= npv_bound:
        return read, False
    gap = abs(npv_bound - read.objective) / abs(read.objective) if read.objective != 0 else None
    return replace(read, best_bound=npv_bound, gap=gap), True
