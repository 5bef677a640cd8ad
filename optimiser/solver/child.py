"""The MIP in a child process (:mod:`optimiser.isolation`), with the start-plan search first.

What to do before HiGHS's MIP (:func:`search_settings` → :class:`SearchSettings`), what the child
does (:func:`mip_child`: the start plan of :mod:`.local_search` or :mod:`.construct` when asked,
the linking rows of :mod:`.row_generation`, then HiGHS with every improving plan copied to the
shared incumbent) and how the parent reads the end of it (:func:`mip_in_child`: HiGHS's own
answer, or after a stop the last plan copied out).
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import isolation
from . import construct, count_cut, fix_optimise, highs, local_search, lp_bound, row_generation
from .arrays import INF, Compiled, ModelArrays, satisfies, without_rows
from .beside import Beside
from .highs import configured_highs, new_highs, pass_arrays
from .options import SolveOptions
from .outcome import Read, Status, Termination
from .start import plan_objective, run_mip, warn_start_discarded


@dataclass(frozen=True)
class SearchSettings:
    """What to do before HiGHS's MIP, and with which budgets (seconds):

    * ``weak``: rows the start-plan search (:mod:`.local_search`) leaves out; None: no search;
    * ``lazy``: rows HiGHS gets only where its LP needs them (:mod:`.row_generation`); None: all;
    * ``construct``: column kinds for the construction heuristic (:mod:`.construct`), with
      ``construct_weak`` its rows left out of the guiding LP; None: no construction;
    * ``highs_defaults``: HiGHS options set unless the planner set them;
    * ``keep`` / ``keep_info``: the rows an earlier solve of the same model found (a Session's
      later jobs skip the row generation), with its facts;
    * ``count``: rows whose binaries get the open-count cut (:mod:`.count_cut`), its LP without
      the rows ``count_relaxed``; None: no cut.
    * ``neighbourhoods``: integer columns freed together by fix-and-optimise (:mod:`.fix_optimise`)
      after the construction, within ``improve_submips`` sub-MIPs (safety stop ``improve_budget``
      seconds); None: no improvement.
    * ``lp_bound``: the LP relaxation is solved on the second core meanwhile (:mod:`.lp_bound`),
      its optimum the reported bound where HiGHS's is weaker;
    * ``plan_beside``: the start-plan search runs on the second core beside the open-count cut and
      the row generation (:mod:`.beside`), its plan waited for before HiGHS's MIP.
    """

    weak: np.ndarray | None
    lazy: np.ndarray | None
    construct: np.ndarray | None
    highs_defaults: dict[str, Any] | None
    construct_weak: np.ndarray | None
    budget: float
    construct_budget: float
    rows_budget: float
    max_rounds: int
    threads: int | None
    keep: np.ndarray | None = None
    keep_info: dict[str, Any] | None = None
    count: np.ndarray | None = None
    count_relaxed: np.ndarray | None = None
    neighbourhoods: list[np.ndarray] | None = None
    improve_submips: int = 0
    improve_budget: float = 0.0
    lp_bound: bool = False
    plan_beside: bool = False


@dataclass(frozen=True)
class FoundStart:
    """A start plan for HiGHS (one value per column) and what the run record says of it (``facts``:
    npv, seconds, lp_solves, …)."""

    x: np.ndarray
    facts: dict[str, Any]


@dataclass(frozen=True)
class ChildRun:
    """How the MIP's child process ended: what HiGHS holds (``read``), whether Ctrl-C stopped it,
    its seconds (the start-plan search included) and the hand-off's, whether the watchdog stopped
    it, and the run record's facts of the start plan and the linking rows (``keep``: the rows
    HiGHS got, as a mask, or None)."""

    read: Read
    interrupted: bool
    solve_seconds: float
    handoff_seconds: float
    stopped: bool
    start_plan: dict[str, Any] | None
    linking_rows: dict[str, Any] | None
    keep: np.ndarray | None


#: ``auto`` (``--local-search``, ``--linking-rows``) acts on MIPs with at least this many rows
#: (below it HiGHS's root LP is quick and its own heuristics get their turn) …
LOCAL_SEARCH_MIN_ROWS = 50_000
#: … of which at least this share are linking rows: the facility-location shape (OR-Library
#: capa–c: 98.7 %) whose strong LP is slow for HiGHS while the LP without them is small.
#: (Generated medium case: 47 %, its weak LP takes a minute and no rounding is feasible.)
LOCAL_SEARCH_MIN_LINKING_SHARE = 2 / 3
#: ``auto`` (``--local-search``) runs the construction heuristic (optimiser.solver.construct) on MIPs
#: with at least this many rows that are not of the facility-location shape (generated medium:
#: 68,328 rows; small: 3,423, where HiGHS finds plans itself within seconds).
CONSTRUCT_MIN_ROWS = 50_000
#: … where HiGHS's root LP is then solved by its interior point solver (``mip_lp_solver=ipm``:
#: HiGHS uses it only for an LP without a basis, i.e. the root; nodes stay on dual simplex).
#: Generated medium, seed 1, 120 s on a shared machine: with it HiGHS has its root bound at
#: 119 s (gap 18.2 % to the constructed plan); without, still in the root LP at 120 s (no bound).
CONSTRUCT_HIGHS_DEFAULTS = {"mip_lp_solver": "ipm"}
#: The same for the MIP over the needed linking rows on the facility-location shape (its root LP
#: and every restart's: 7,000–13,000 rows, 100,000 columns). CPU seconds of HiGHS's MIP from the
#: optimal start, same load: capa-8000 76.3 → 59.4 (56,838 simplex iterations → 36,565 plus the
#: IPM's), capb-5000 13.6 → 10.3; the LP alone (capa-8000 without the cut): 19.0 s → 9.4 s.
FACILITY_HIGHS_DEFAULTS = {"mip_lp_solver": "ipm"}
#: Share of the time limit, and most seconds, the construction may take (a safety stop, its work
#: is counted in LPs: medium needs 5–15 s; large seed 1 37 s and xl 115–141 s since the
#: fixed-binary LPs are solved block by block, optimiser.solver.blocks — before, large took 224 s
#: alone on the machine and more than 360 s beside two other jobs, xl more than 1,200 s) …
CONSTRUCT_SHARE = 0.85
CONSTRUCT_MAX_SECONDS = 1200.0
#: … and at least this (medium takes 5–15 s on a busy machine: at ``--time-limit 30`` a 9 s budget
#: left it without a plan; a plan found past the limit still stands, the watchdog allowing the
#: limit × 1.1 + 10 s).
CONSTRUCT_MIN_SECONDS = 30.0
#: Share of the time limit, and most seconds, the start-plan search may take …
LOCAL_SEARCH_SHARE = 0.3
LOCAL_SEARCH_MAX_SECONDS = 120.0
#: … and for finding the linking rows HiGHS's MIP needs (optimiser.solver.row_generation): a loop
#: stopped short gives HiGHS every row (minutes of root LP on capa–c), so it gets the larger share
#: (with the open-count cut the loop takes 13–25 rounds on capa–c; the start plan 10–13 s of its 30 %).
ROW_GENERATION_SHARE = 0.6
ROW_GENERATION_MAX_SECONDS = 120.0


def search_settings(cm: Compiled, opts: SolveOptions) -> SearchSettings | None:
    """What to do before HiGHS's MIP of ``cm`` under ``opts`` (see :class:`SearchSettings`), or
    None for nothing: ``auto`` acts on MIPs of :data:`LOCAL_SEARCH_MIN_ROWS` rows or more, the
    start-plan search and row generation where linking rows (:attr:`Roles.linking`) are at least
    :data:`LOCAL_SEARCH_MIN_LINKING_SHARE` of them, the construction elsewhere."""
    plan_mode, rows_mode = opts.local_search, opts.linking_rows
    if plan_mode == "off" and rows_mode == "all":
        return None
    big = len(cm.row_lower) >= LOCAL_SEARCH_MIN_ROWS
    if not big and plan_mode != "on" and rows_mode != "needed" and len(cm.row_lower) < CONSTRUCT_MIN_ROWS:
        return None
    weak = np.asarray(cm.roles.linking, dtype=bool)
    shaped = big and weak.mean() >= LOCAL_SEARCH_MIN_LINKING_SHARE
    plan = plan_mode == "on" or (plan_mode == "auto" and shaped)
    lazy = np.asarray(cm.roles.implied_linking, dtype=bool)
    rows = (rows_mode == "needed" or (rows_mode == "auto" and shaped)) and bool(lazy.any())
    kinds = _construct_kinds(cm, plan_mode, shaped)
    if not plan and not rows and kinds is None:
        return None
    limit = opts.time_limit if opts.time_limit is not None and math.isfinite(opts.time_limit) else None
    root_ipm = kinds is not None and len(cm.row_lower) >= CONSTRUCT_MIN_ROWS
    second = opts.second_core == "auto" and (os.cpu_count() or 1) >= 2  # (wanted() checks the CPUs too)
    beside = second and kinds is not None and lp_bound.wanted(len(cm.row_lower), os.cpu_count())
    submips, improve_seconds = fix_optimise.improve_budget(len(cm.row_lower), limit, beside)
    return SearchSettings(
        weak=weak if plan else None, lazy=lazy if rows else None, construct=kinds,
        highs_defaults=(CONSTRUCT_HIGHS_DEFAULTS if root_ipm else FACILITY_HIGHS_DEFAULTS if rows and shaped else None),
        construct_weak=weak if kinds is not None else None,
        budget=_budget(limit, LOCAL_SEARCH_SHARE, LOCAL_SEARCH_MAX_SECONDS),
        construct_budget=max(_budget(limit, CONSTRUCT_SHARE, CONSTRUCT_MAX_SECONDS), CONSTRUCT_MIN_SECONDS),
        rows_budget=_budget(limit, ROW_GENERATION_SHARE, ROW_GENERATION_MAX_SECONDS),
        max_rounds=row_generation.MAX_ROUNDS, threads=opts.highs_settings().get("threads"),
        count=lazy if shaped and bool(lazy.any()) else None, count_relaxed=weak,  # the open-count cut
        neighbourhoods=fix_optimise.neighbourhoods(cm) if kinds is not None and submips > 0 else None,
        improve_submips=submips, improve_budget=improve_seconds,
        lp_bound=beside,
        plan_beside=second and plan and rows and kinds is None)


def _construct_kinds(cm: Compiled, plan_mode: str, shaped: bool) -> np.ndarray | None:
    """Column kinds for the construction heuristic (:attr:`Roles.column_kind`), or None when it
    does not run: ``auto`` on MIPs of CONSTRUCT_MIN_ROWS rows or more *not* of the
    facility-location shape (there the local search runs, unchanged); ``on``: always (after the
    local search, if that finds nothing); ``off``: never."""
    if plan_mode == "off" or (plan_mode == "auto" and (len(cm.row_lower) < CONSTRUCT_MIN_ROWS or shaped)):
        return None
    return np.asarray(cm.roles.column_kind, dtype=np.int8)


def mip_child(conn: Any, incumbent: Any, arrays: ModelArrays, settings: dict[str, Any], log: bool,
              start: np.ndarray | None = None, search: SearchSettings | None = None) -> None:
    """Child process: solve the MIP, report every improving plan to ``incumbent``, send
    ``("ok", Read, interrupted, solve_seconds, start_plan, linking_rows)`` or ``("error", text)``.

    With ``search`` (:func:`search_settings`) first, within the time limit: the start plan of
    :mod:`.local_search` (``weak``, unless a ``start`` is given) or of :mod:`.construct` (then
    improved by :mod:`.fix_optimise`, ``neighbourhoods``), then
    the linking rows HiGHS's MIP needs (:mod:`.row_generation`, ``lazy``); HiGHS then gets the
    plan, the model with those rows and the time left."""
    try:
        try:
            t0 = time.perf_counter()
            plan_info = rows_info = cut_info = None
            found = bound_job = None
            if search is not None and search.lp_bound:  # on the second core, beside what follows
                bound_job = lp_bound.start(arrays, lambda: search_highs(search), settings.get("time_limit"))
                incumbent = lp_bound.BoundedOffers(incumbent, bound_job)
            plan_job = None
            if search is not None and start is None and search.weak is not None:
                if search.plan_beside:  # on the second core, beside the count cut and the rows below
                    plan_job = Beside(lambda: local_search_plan(arrays, search, incumbent, log), "start-plan")
                else:
                    found = local_search_plan(arrays, search, incumbent, log)
            if search is not None and start is None and found is None and search.construct is not None:
                found = constructed_plan(arrays, search, incumbent, log)
                if found is not None and search.neighbourhoods:  # improved by sub-MIPs (.fix_optimise)
                    found = FoundStart(*fix_optimise.improved_plan(
                        arrays, found.x, found.facts, search.neighbourhoods, lambda: search_highs(search),
                        lambda x, cost: incumbent.offer(x, cost, -INF),
                        improve_seconds(search, settings.get("time_limit"), time.perf_counter() - t0),
                        search.improve_submips, _say, log))
            if found is not None:
                start, plan_info = found.x, found.facts
            mip_arrays = arrays  # + the open-count cut (.count_cut) as its last row, if any
            if search is not None and search.count is not None:
                mip_arrays, lazy, cut_info = count_cut.count_cut_phase(
                    arrays, search.count, search.count_relaxed, search.lazy, lambda: search_highs(search),
                    search.budget, log)
                search = replace(search, lazy=lazy)
            if search is not None and search.lazy is not None:
                if search.keep is not None:  # found by an earlier solve of this model (Session)
                    mip_arrays = _with_rows(mip_arrays, count_cut.padded(search.keep, mip_arrays), search.lazy)
                    rows_info = {**(search.keep_info or {}), "reused": True, "keep": search.keep}
                else:
                    mip_arrays, rows_info = _needed_rows(mip_arrays, search, log)
                    if rows_info is not None:  # the model's own rows (a later solve's cut may differ)
                        rows_info["keep"] = rows_info["keep"][:len(arrays.row_lower)]
            rows_info = count_cut.cut_facts(rows_info, cut_info)
            if plan_job is not None and (found := plan_job.result()) is not None:
                start, plan_info = found.x, found.facts
            proven = count_cut.proven_by_lp(arrays, start, plan_info, rows_info, settings)
            if proven is not None:  # the strong LP's bound meets our plan: nothing left for HiGHS
                _say(log, f"Start plan proven optimal by the LP bound {proven.best_bound:.10g} (no MIP run)")
                conn.send(("ok", proven, False, time.perf_counter() - t0, plan_info, {**rows_info, "lp_proof": True}))
                return
            settings = dict(settings)
            for name, value in ((search.highs_defaults if search is not None else None) or {}).items():
                settings.setdefault(name, value)  # what the planner set wins
            if search is not None and "time_limit" in settings:
                settings["time_limit"] = max(settings["time_limit"] - (time.perf_counter() - t0), 1e-3)
            h = configured_highs(log, settings)
            pass_arrays(h, mip_arrays)

            offered = incumbent.read()
            best = [INF if offered is None else offered[1]]

            def improving(e: Any) -> None:
                # c·x of the plan, not HiGHS's word for it, and only a better one: HiGHS may run
                # twice (start.run_mip), its second run starting from worse plans
                out = e.data_out
                x = np.asarray(out.mip_solution, dtype=float)
                cost = plan_objective(mip_arrays, x)
                if cost < best[0]:
                    best[0] = cost
                    incumbent.offer(x, cost, out.mip_dual_bound)

            h.cbMipImprovingSolution.subscribe(improving)
            # the parent keeps the deadline, and warns of a discarded start
            read, interrupted, discarded = run_mip(h, mip_arrays, start, None, True, warn=False)
            solve_seconds = time.perf_counter() - t0  # the start-plan search included
            if discarded is not None:
                plan_info = {**(plan_info or {}), **discarded}
        except KeyboardInterrupt:
            conn.send(("interrupted",))
            return
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late Ctrl-C must not lose the answer
        if read.x is None and plan_info is not None and start is not None:  # HiGHS kept none: ours stands
            read = _start_read(h, read, start, plan_info["npv"])
        if mip_arrays is not arrays and read.x is not None:
            read = polished(arrays, read, search)
        if bound_job is not None:
            read, used = lp_bound.tighter(read, lp := bound_job.stop())
            if plan_info is not None and lp is not None:
                plan_info = {**plan_info, "lp_bound": lp.facts(used)}
        conn.send(("ok", read, interrupted, solve_seconds, plan_info, rows_info))
    except BaseException:  # noqa: BLE001 — everything goes back to the parent as text
        try:
            conn.send(("error", traceback.format_exc()))
        except Exception:  # noqa: BLE001
            pass
    finally:
        conn.close()


def _read_incumbent(incumbent: Any, interrupted: bool) -> Read | None:
    """What the shared incumbent holds (None if nothing)."""
    best = incumbent.read()
    if best is None:
        return None
    x, min_obj, min_bound = best  # HiGHS's sense: minimise −NPV
    bound = -min_bound if math.isfinite(min_bound) else None
    gap = abs(min_obj - min_bound) / abs(min_obj) if bound is not None and min_obj != 0 else None
    return Read(Termination.INTERRUPTED if interrupted else Termination.TIME_LIMIT, Status.FEASIBLE, x, -min_obj,
                bound, gap, 0)


def constructed_plan(arrays: ModelArrays, search: SearchSettings, incumbent: Any, log: bool) -> FoundStart | None:
    """A start for HiGHS from :mod:`.construct`, or None; every better plan it finds, when it meets
    every row, is also the incumbent at once (so a stopped run still leaves it)."""
    try:
        plan = construct.construct(arrays, search.construct, search.construct_weak,
                                   lambda: search_highs(search), search.construct_budget,
                                   on_plan=lambda x, cost: incumbent.offer(x, cost, -INF))
    except Exception as exc:  # noqa: BLE001 — an optional heuristic must not cost the solve
        _say(True, f"Warning: the construction heuristic failed ({type(exc).__name__}: {exc}); "
                   "HiGHS starts without a plan")
        return None
    if plan is None or not construct.check(arrays, plan.x):
        _say(log, "Constructed plan: none found")
        return None
    incumbent.offer(plan.x, plan.cost, -INF)
    info = construct.plan_facts(plan)
    _say(log, f"Constructed plan ({plan.method}): cost {plan.cost:.10g} after {plan.evaluations} LP solves, "
              f"{plan.seconds:.1f} s")
    return FoundStart(plan.x, info)


def _start_read(h: Any, read: Read, start: np.ndarray, npv: float) -> Read:
    """HiGHS's outcome with our start plan as the plan (HiGHS stopped before taking any); the
    bound is HiGHS's dual bound where it has one (never the plan's own NPV; the LP relaxation's, of
    :mod:`.lp_bound`, is weighed after), else none."""
    min_bound = float(h.getInfo().mip_dual_bound)
    bound = -min_bound if math.isfinite(min_bound) else None
    gap = abs(npv - bound) / abs(npv) if bound is not None and npv != 0 else None
    return replace(read, status=Status.FEASIBLE, x=start, objective=npv, best_bound=bound, gap=gap)


#: Share of the time limit fix-and-optimise leaves for the hand-over to HiGHS and the way back
#: (its safety stop never runs past the limit less this).
IMPROVE_RESERVE = 0.05


def improve_seconds(search: SearchSettings, limit: float | None, elapsed: float) -> float:
    """Fix-and-optimise's safety stop: its own (:func:`.fix_optimise.improve_budget`), never past
    the time limit less :data:`IMPROVE_RESERVE` of it (``elapsed``: seconds the child has run), so
    a slow sub-MIP on a large model ends with the limit, not with the watchdog."""
    if limit is None or not math.isfinite(limit):
        return search.improve_budget
    return max(min(search.improve_budget, (1 - IMPROVE_RESERVE) * limit - elapsed), 1e-3)


def _budget(limit: float | None, share: float, most: float) -> float:
    return most if limit is None else min(most, share * limit)


def search_highs(search: SearchSettings) -> Any:
    """A fresh HiGHS object with the MIP's thread count (HiGHS takes one per process)."""
    h = new_highs()
    if search.threads is not None:
        h.setOptionValue("threads", search.threads)
    return h


def local_search_plan(arrays: ModelArrays, search: SearchSettings, incumbent: Any, log: bool) -> FoundStart | None:
    """A start for HiGHS from :mod:`.local_search`, or None; the plan, when it meets every row, is
    also the first incumbent (so a stopped HiGHS still leaves it)."""
    try:
        plan = local_search.find_start(arrays, search.weak, lambda: search_highs(search), search.budget)
    except Exception as exc:  # noqa: BLE001 — an optional heuristic must not cost the solve
        _say(True, f"Warning: the start-plan search failed ({type(exc).__name__}: {exc}); HiGHS starts without one")
        return None
    if plan is None or not satisfies(arrays, plan.x):
        _say(log, "Start plan: none found")
        return None
    incumbent.offer(plan.x, plan.cost, -INF)
    info = {"npv": -plan.cost, "seconds": round(plan.seconds, 3), "lp_solves": plan.evaluations,
            "moves": plan.moves, "kicks": plan.kicks}
    _say(log, f"Start plan: cost {plan.cost:.10g} after {plan.moves} moves, {plan.kicks} kicks, "
              f"{plan.evaluations} LP solves, "
              f"{plan.seconds:.1f} s")
    return FoundStart(plan.x, info)


def _needed_rows(arrays: ModelArrays, search: SearchSettings, log: bool) -> tuple[ModelArrays, dict | None]:
    """(the model HiGHS's MIP gets: without the implied linking rows its LP never needed,
    facts for the run record); the whole model and None if the first LP fails."""
    sel = row_generation.needed_rows(arrays, search.lazy, lambda: search_highs(search), search.rows_budget,
                                     max_rounds=search.max_rounds)
    if sel is None:
        _say(log, "Linking rows: LP relaxation not solved; HiGHS gets them all")
        return arrays, None
    # A loop stopped short leaves a model that is exact but whose LP is weaker than the whole
    # model's, in the branch and bound too (see benchmarks/README.md): HiGHS gets them all.
    keep = sel.keep if sel.converged else np.ones_like(sel.keep)
    info = {"optional": sel.optional, "used": int((keep & search.lazy).sum()), "found": sel.added,
            "rounds": sel.rounds, "converged": sel.converged, "stopped_by": sel.stopped_by,
            "lp_bound": None if sel.lp_objective is None or not sel.converged else -(sel.lp_objective),
            "seconds": round(sel.seconds, 3)}
    _say(log, f"Linking rows: {sel.added:,} of {sel.optional:,} needed by the LP ({sel.rounds} rounds, "
              f"stopped by {sel.stopped_by}, {sel.seconds:.1f} s)"
              + ("" if sel.converged else "; not converged, so HiGHS gets them all"))
    return _with_rows(arrays, keep, search.lazy), {**info, "keep": keep}


def _with_rows(arrays: ModelArrays, keep: np.ndarray, lazy: np.ndarray) -> ModelArrays:
    """``arrays`` without the ``lazy`` rows not in ``keep``; ``arrays`` itself when that is none
    (so the caller knows no plan needs checking against left-out rows)."""
    drop = ~keep & lazy
    return without_rows(arrays, drop) if drop.any() else arrays


#: Seconds the LP that polishes HiGHS's plan (integers fixed, so it is easy) may take.
POLISH_TIME_LIMIT = 120.0


def polished(arrays: ModelArrays, read: Read, search: SearchSettings) -> Read:
    """HiGHS's plan from the model without some implied rows, checked against them all: where
    tolerances left one a little off (an integer at 1 − 1e-6 makes ``ship ≤ d·active`` off by
    d·1e-6), the LP with the integers fixed (rounded) on the whole model gives the plan instead
    (its NPV then differs from HiGHS's by what the tolerance had let through)."""
    x = read.x
    if satisfies(arrays, x):
        return read
    ints = np.flatnonzero(arrays.integrality).astype(np.int32)
    h = search_highs(search)
    h.setOptionValue("time_limit", POLISH_TIME_LIMIT)
    lp = arrays._replace(integrality=np.zeros_like(arrays.integrality))
    pass_arrays(h, lp)
    vals = np.round(x[ints])
    h.changeColsBounds(len(ints), ints, vals, vals)
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return read
    new_npv = -h.getInfo().objective_function_value
    x = np.asarray(h.getSolution().col_value)
    x[ints] = vals
    bound = read.best_bound
    gap = abs(new_npv - bound) / abs(new_npv) if bound is not None and new_npv != 0 else read.gap
    return replace(read, x=x, objective=new_npv, gap=gap)



def _say(log: bool, text: str) -> None:
    if log:
        print(text, file=sys.stderr, flush=True)


def mip_in_child(arrays: ModelArrays, settings: dict[str, Any], log: bool, time_limit: float | None,
                 start: np.ndarray | None = None, search: SearchSettings | None = None,
                 ) -> ChildRun:
    """Solve the MIP ``arrays`` in a child process (see :class:`ChildRun` for what comes back).

    ``search.keep`` (with ``search.keep_info``) hands the rows an earlier solve of the same
    model found to this one: every subset of the implied rows is a valid model, so a Session's
    later jobs (other bounds) skip the loop."""
    deadline = None
    if time_limit is not None and math.isfinite(time_limit):
        deadline = time_limit * highs.TIME_LIMIT_GRACE_FACTOR + highs.TIME_LIMIT_GRACE_SECONDS
    incumbent = isolation.Incumbent(len(arrays.col_lower))
    run = isolation.run_in_child(mip_child, (arrays, settings, log, start, search), incumbent, deadline)
    result = run.result
    if result is not None and result[0] == "error":
        raise RuntimeError(f"HiGHS failed in its process:\n{result[1]}")
    if result is not None and result[0] == "interrupted":  # Ctrl-C before HiGHS started
        if incumbent.read() is None:
            raise KeyboardInterrupt
        result = None  # the start plan already offered is the answer
    if result is not None:
        _, read, child_interrupted, solve_seconds, plan_info, rows_info = result
        if plan_info is not None and "discarded" in plan_info:
            warn_start_discarded(plan_info["why"], plan_info["discarded"])
        interrupted = run.interrupted or (child_interrupted and not run.stopped)
        if read.termination == Termination.INTERRUPTED and not interrupted:  # the watchdog's stop, not the user's
            read = replace(read, termination=Termination.TIME_LIMIT)
        elif interrupted and read.termination != Termination.OPTIMAL:
            read = replace(read, termination=Termination.INTERRUPTED)
    else:  # stopped or died without a word: its last improving plan is the answer
        plan_info = rows_info = None
        interrupted = run.interrupted
        solve_seconds = run.seconds
        read = _read_incumbent(incumbent, interrupted)
        if read is None:
            if interrupted:
                raise KeyboardInterrupt
            if not run.stopped:
                raise RuntimeError(f"HiGHS's process ended without an answer (exit code {run.exitcode})")
            read = Read.no_solution(Termination.TIME_LIMIT)
        elif search is not None and search.lazy is not None:  # a plan of HiGHS's smaller model
            read = polished(arrays, read, search)
    keep = rows_info.pop("keep", None) if rows_info is not None else None
    return ChildRun(read, interrupted, solve_seconds, max(run.seconds - solve_seconds, 0.0), run.stopped, plan_info,
                    rows_info, keep)
