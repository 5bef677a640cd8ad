"""The MIP in a child process (:mod:`optimiser.isolation`), with the start-plan search first.

Part of the solve stage, split from :mod:`optimiser.solve` (which calls it): what the child
does (:func:`_mip_child`: the start plan of :mod:`optimiser.local_search` when asked, then HiGHS
with every improving plan copied to the shared incumbent) and how the parent reads the end of it
(:func:`_mip_in_child`: HiGHS's own answer, or after a stop the last plan copied out).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from . import solve as _solve
from .solve import (INF, LINKING_ROWS, Compiled, ModelArrays, SolveOptions, _configured_highs, _new_highs,
                    _options_dict, _pass_arrays, _read_outcome, _run, _set_start)


def _mip_child(conn: Any, incumbent: Any, arrays: ModelArrays, settings: dict[str, Any], log: bool,
               start: np.ndarray | None = None, search: dict[str, Any] | None = None) -> None:
    """Child process: solve the MIP, report every improving plan to ``incumbent``, send
    ``("ok", read_outcome_tuple, interrupted, solve_seconds, start_plan)`` or ``("error", text)``.

    With ``search`` (and no ``start``) the start plan of :mod:`optimiser.local_search` is looked
    for first, within the time limit; HiGHS then gets it and the time left."""
    import signal  # noqa: PLC0415
    import traceback  # noqa: PLC0415

    try:
        try:
            t0 = time.perf_counter()
            plan_info = None
            if search is not None and start is None:
                start, plan_info = _start_plan(arrays, search, incumbent, log)
            settings = dict(settings)
            if plan_info is not None and "time_limit" in settings:
                settings["time_limit"] = max(settings["time_limit"] - (time.perf_counter() - t0), 1e-3)
            h = _configured_highs(SolveOptions(log=log), settings)
            _pass_arrays(h, arrays)

            def improving(e: Any) -> None:
                out = e.data_out
                incumbent.offer(out.mip_solution, out.objective_function_value, out.mip_dual_bound)

            h.cbMipImprovingSolution.subscribe(improving)
            if start is not None:
                _set_start(h, start)
            interrupted = _run(h, None)  # the parent keeps the deadline
            solve_seconds = time.perf_counter() - t0  # the start-plan search included
        except KeyboardInterrupt:
            conn.send(("interrupted",))
            return
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late Ctrl-C must not lose the answer
        read = _read_outcome(h, len(arrays.col_lower), interrupted, True)
        conn.send(("ok", read, interrupted, solve_seconds, plan_info))
    except BaseException:  # noqa: BLE001 — everything goes back to the parent as text
        try:
            conn.send(("error", traceback.format_exc()))
        except Exception:  # noqa: BLE001
            pass
    finally:
        conn.close()


def _read_incumbent(incumbent: Any, interrupted: bool) -> tuple | None:
    """The outcome tuple of :func:`_read_outcome` from the shared incumbent (None if none)."""
    best = incumbent.read()
    if best is None:
        return None
    x, min_obj, min_bound = best  # HiGHS's sense: minimise −NPV
    bound = -min_bound if math.isfinite(min_bound) else None
    gap = abs(min_obj - min_bound) / abs(min_obj) if bound is not None and min_obj != 0 else None
    return ("interrupted" if interrupted else "time_limit", "feasible", x, -min_obj, bound, gap, 0)


#: ``--local-search auto`` looks for a start plan (optimiser.local_search) on MIPs with at least
#: this many rows (below it HiGHS's root LP is quick and its own heuristics get their turn) …
LOCAL_SEARCH_MIN_ROWS = 50_000
#: … of which at least this share are linking rows: the facility-location shape (OR-Library
#: capa–c: 98.7 %) whose strong LP is slow for HiGHS while the search's LP, without them, is
#: small. (Generated medium case: 47 %, its weak LP takes a minute and no rounding is feasible.)
LOCAL_SEARCH_MIN_LINKING_SHARE = 2 / 3
#: Share of the time limit, and most seconds, the start-plan search may take.
LOCAL_SEARCH_SHARE = 0.3
LOCAL_SEARCH_MAX_SECONDS = 120.0


def _search_settings(cm: Compiled, opts: SolveOptions) -> dict[str, Any] | None:
    """Whether (and with which budget) to look for a start plan before HiGHS's MIP."""
    mode = opts.local_search
    if mode == "off" or (mode == "auto" and len(cm.row_lower) < LOCAL_SEARCH_MIN_ROWS):
        return None
    weak = np.fromiter((name in LINKING_ROWS for name, _, _ in cm.rows), dtype=bool, count=len(cm.rows))
    if mode == "auto" and weak.mean() < LOCAL_SEARCH_MIN_LINKING_SHARE:
        return None
    budget = LOCAL_SEARCH_MAX_SECONDS
    if opts.time_limit is not None and math.isfinite(opts.time_limit):
        budget = min(budget, LOCAL_SEARCH_SHARE * opts.time_limit)
    return {"weak": weak, "budget": budget, "threads": _options_dict(opts).get("threads")}


def _start_plan(arrays: ModelArrays, search: dict[str, Any], incumbent: Any, log: bool) -> tuple:
    """(start for HiGHS or None, facts for the run record or None); the plan, when it meets every
    row, is also the first incumbent (so a stopped HiGHS still leaves it)."""
    import sys  # noqa: PLC0415

    from . import local_search  # noqa: PLC0415

    threads = search.get("threads")

    def new_highs() -> Any:
        h = _new_highs()
        if threads is not None:  # as the MIP will (HiGHS takes one thread count per process)
            h.setOptionValue("threads", threads)
        return h

    plan = local_search.find_start(arrays, search["weak"], new_highs, search["budget"])
    if plan is None or not local_search.satisfies(arrays, plan.x):
        if log:
            print("Start plan: none found", file=sys.stderr, flush=True)
        return None, None
    incumbent.offer(plan.x, plan.cost, -INF)
    info = {"npv": -plan.cost, "seconds": round(plan.seconds, 3), "lp_solves": plan.evaluations,
            "moves": plan.moves}
    if log:
        print(f"Start plan: cost {plan.cost:.10g} after {plan.moves} moves, {plan.evaluations} LP solves, "
              f"{plan.seconds:.1f} s", file=sys.stderr, flush=True)
    return plan.x, info


def _mip_in_child(arrays: ModelArrays, settings: dict[str, Any], log: bool, time_limit: float | None,
                  start: np.ndarray | None = None, search: dict[str, Any] | None = None,
                  ) -> tuple[tuple, bool, float, float, bool, dict[str, Any] | None]:
    """Solve the MIP ``arrays`` in a child process: ``(outcome as _read_outcome gives it,
    interrupted, solve_seconds, handoff_seconds, stopped_by_watchdog, start_plan)``."""
    from . import isolation  # noqa: PLC0415

    deadline = None
    if time_limit is not None and math.isfinite(time_limit):
        deadline = time_limit * _solve.TIME_LIMIT_GRACE_FACTOR + _solve.TIME_LIMIT_GRACE_SECONDS
    incumbent = isolation.Incumbent(len(arrays.col_lower))
    run = isolation.run_in_child(_mip_child, (arrays, settings, log, start, search), incumbent, deadline)
    result = run.result
    if result is not None and result[0] == "error":
        raise RuntimeError(f"HiGHS failed in its process:\n{result[1]}")
    if result is not None and result[0] == "interrupted":  # Ctrl-C before HiGHS started
        raise KeyboardInterrupt
    if result is not None:
        _, read, child_interrupted, solve_seconds, plan_info = result
        interrupted = run.interrupted or (child_interrupted and not run.stopped)
        if read[0] == "interrupted" and not interrupted:  # the watchdog's stop, not the user's
            read = ("time_limit", *read[1:])
        elif interrupted and read[0] != "optimal":
            read = ("interrupted", *read[1:])
    else:  # stopped or died without a word: its last improving plan is the answer
        plan_info = None
        interrupted = run.interrupted
        solve_seconds = run.seconds
        read = _read_incumbent(incumbent, interrupted)
        if read is None:
            if interrupted:
                raise KeyboardInterrupt
            if not run.stopped:
                raise RuntimeError(f"HiGHS's process ended without an answer (exit code {run.exitcode})")
            read = ("time_limit", "no_solution", None, None, None, None, 0)
    return read, interrupted, solve_seconds, max(run.seconds - solve_seconds, 0.0), run.stopped, plan_info
