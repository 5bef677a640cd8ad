"""Better plans by fix-and-optimise: sub-MIPs over one factory's lines or a few programmes' tooling
at a time, the rest fixed.

Part of the solver layer (it drives HiGHS on sub-models; the MIP itself stays HiGHS's). Why: on
the generated ``medium`` case the constructed plan (:mod:`.construct`) serves what the existing
lines can and builds nothing; HiGHS's own search does not improve it within minutes (its root LP
alone takes one to two minutes on one core). A sub-MIP in which only the binaries of a few lines
are free and every other integer column is fixed at the plan is small after HiGHS's presolve (the
fixed lines' ``make``/``ship`` columns go with them) and solves in seconds.

The method (fix-and-optimise, a large-neighbourhood search over the model's own structure):

* a **neighbourhood** is a set of integer columns: every ``running``, ``tool`` and ``build``
  column of the lines of one factory (:func:`factory_neighbourhoods`, from the roles the model
  hands over: the column kinds, :attr:`~.arrays.Roles.column_kind`, and the factory of each
  column's line, :attr:`~.arrays.Roles.column_site`), plus the option columns (``take``), free in
  every neighbourhood; or the ``tool`` columns of a group of programmes that compete for the same
  lines (:func:`programme_neighbourhoods`: a programme moves to a line the plan runs in another
  factory, a move no factory neighbourhood makes);
* for each neighbourhood in turn, HiGHS solves the whole model with every other integer column
  fixed at the plan's value (column bounds), the plan as its start (:func:`sub_mip_solver` goes
  through :func:`.start.run_mip`, which guards against HiGHS 1.16's start bug) and at most
  :data:`MAX_NODES` branch-and-bound nodes; its plan replaces ours when it meets every row and
  bound of the whole model (:func:`.arrays.satisfies`) and costs less by more than
  :data:`REL_IMPROVEMENT`;
* passes over all neighbourhoods repeat until one pass improves nothing or the work budget
  (:func:`improve_budget`, at most :data:`MAX_SUBMIPS` sub-MIPs) is spent; :func:`neighbourhoods`
  lists single factories and programme groups in turn first, then pairs of factories
  (:func:`with_pairs`), so a short budget goes to the cheap moves of both kinds.

Every plan a sub-MIP returns is feasible for the whole model (only bounds were tightened), so the
cost never rises and the plan stays feasible. Deterministic: work is counted in sub-MIPs and
nodes (HiGHS with one thread and a node limit gives the same answer every run); the time budget
is only a safety stop, hit only when the machine is far slower than measured (a sub-MIP stopped
by it is still used when it improves, which can make a slow run differ from a fast one).
:func:`improved_plan` is the step the MIP's child process (:mod:`.child`) runs after the
construction.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .arrays import BUILD, RUNNING, TAKE, TOOL, Compiled, ModelArrays, Roles, satisfies
from .highs import pass_arrays
from .start import plan_objective, run_mip

#: ``sub_mip(lower, upper, start, seconds)`` → the sub-MIP's plan or None (see :func:`improve`).
SubMip = Callable[[np.ndarray, np.ndarray, np.ndarray, float], "np.ndarray | None"]

#: Branch-and-bound nodes one sub-MIP may explore (HiGHS ``mip_max_nodes``; :func:`sub_mip_solver`
#: sets it, with :data:`SUBMIP_OPTIONS`).
MAX_NODES = 50
#: Most sub-MIPs one improvement run may solve.
MAX_SUBMIPS = 60
#: A sub-MIP's plan replaces ours only when it costs less by this share of |cost|.
REL_IMPROVEMENT = 1e-6
#: Row tolerance of the plan checks (HiGHS's primal feasibility tolerance is 1e-7).
TOL = 1e-6
#: HiGHS options of every sub-MIP: its RINS and RENS sub-MIP heuristics off (on the generated
#: medium case they took 24 of a sub-MIP's 33 s and found the same plan as without them, 12 s).
SUBMIP_OPTIONS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}
#: Pairs of factory neighbourhoods tried after the single ones (:func:`with_pairs`): each factory
#: with the next and the third next. Generated medium, seed 1 (shared box, load 5–10): three
#: passes of single factories took the constructed 195.50 bn to 211.09 bn (30 sub-MIPs, the last
#: 20 adding 0.9 %); pairs then took it to 213.18 bn in 432 s (+1.0 %).
PAIR_STEPS = (1, 3)
#: Programmes whose tooling one programme neighbourhood frees (:func:`programme_neighbourhoods`).
#: Generated medium, seed 1, from the 600 s plan (215.25 bn; every line's running fixed): groups
#: of 10 in this numbering took it to 217.62 bn in one pass (10 sub-MIPs, 72 s on the shared box;
#: grouped by programme kind instead, 218.50 bn after 30), where HiGHS's MIP over every tool
#: column at once (the rest fixed) had 217.83 bn after 300 s.
PROGRAMMES_PER_NEIGHBOURHOOD = 10
#: Column kinds (:attr:`~.arrays.Roles.column_kind`) of one line's decisions: free in the
#: neighbourhood of the line's factory (:attr:`~.arrays.Roles.column_site`).
LINE_KINDS = (RUNNING, BUILD, TOOL)
#: Column kinds free in every neighbourhood (the options: few, and they gate whole lines).
SHARED_KINDS = (TAKE,)
#: After the construction, fix-and-optimise improves its plan: at most this share of the time
#: limit (the rest is HiGHS's, whose root bound on medium comes at 60–120 s) …
IMPROVE_SHARE = 0.35
#: … counted as work, not seconds: sub-MIPs = IMPROVE_SHARE × limit / (rows × this), at least one
#: and at most :data:`MAX_SUBMIPS` (generated medium, 68 k rows: a sub-MIP took 4–12 s on the
#: shared 2-core box; 1e-4 s a row puts 6 sub-MIPs into the 42 s of a 120 s limit). The seconds
#: are only a safety stop (twice the share's estimate, never past IMPROVE_SHARE × limit × 1.5): a
#: slower machine does less of the same work.
IMPROVE_SECONDS_PER_ROW = 1e-4
#: From this many rows HiGHS's root LP does not end within a 600 s limit on one core (generated
#: large, 1.04 M rows, and xl, 2.6 M: no root bound in any run; medium, 68 k rows: its root bound
#: at 60–120 s), so HiGHS's time after the construction buys neither a bound nor a plan (large,
#: seed 1: ~500 s of HiGHS from the improved plan, nothing found). There fix-and-optimise gets …
BIG_MODEL_ROWS = 500_000
#: … this share of the limit instead, its sub-MIPs estimated at this many seconds a row (large,
#: seed 1: the first six 19–81 s, mean 46 s = 4.4e-5 s a row, later ones up to 252 s beside
#: another job; xl: 148–234 s = 5.7–9e-5): 8 sub-MIPs at 600 s on large (3 on xl), where 1e-4 s
#: a row and 35 % gave 2 (and 1); the 95 % stop (:func:`.child.improve_seconds`) ends the rest.
#: The same share goes to smaller models whose bound the LP beside the search gives
#: (:mod:`.lp_bound`): `optimiser solve` on medium at 120 s, 35 % → 70 % (6 → 10–12 sub-MIPs),
#: seed 1 210.33 → 212.91 bn, seed 2 119.99 → 123.42 bn (HiGHS then still adds ~2.7 bn in the
#: seconds left, as it did after 35 %).
BIG_IMPROVE_SHARE = 0.7
BIG_SECONDS_PER_ROW = 5e-5


@dataclass(frozen=True)
class ImprovedPlan:
    """The plan after fix-and-optimise: every column, its cost (HiGHS's sense: −NPV, offset
    included), the sub-MIPs solved, how many improved the plan, passes and seconds."""

    x: np.ndarray
    cost: float
    submips: int
    improvements: int
    passes: int
    seconds: float


def factory_neighbourhoods(roles: Roles) -> list[np.ndarray]:
    """One array of integer column numbers (ascending) per factory, in factory number order
    (:attr:`~.arrays.Roles.column_site`): the columns of kind ``running``, ``tool`` and ``build``
    (:data:`LINE_KINDS`) whose site is that factory, and every ``take`` column
    (:data:`SHARED_KINDS`). A column of those kinds with site −1 is in no neighbourhood; a factory
    with no such column has none."""
    kinds = np.asarray(roles.column_kind)
    site = np.asarray(roles.column_site)
    shared = np.isin(kinds, SHARED_KINDS)
    line = np.isin(kinds, LINE_KINDS) & (site >= 0)
    return [np.flatnonzero(shared | (line & (site == f))).astype(np.int32) for f in np.unique(site[line])]


def programme_neighbourhoods(roles: Roles, size: int | None = None) -> list[np.ndarray]:
    """One array of integer column numbers (ascending) per run of ``size`` (default
    :data:`PROGRAMMES_PER_NEIGHBOURHOOD`) consecutive programme numbers
    (:attr:`~.arrays.Roles.column_programme`, which puts programmes competing for the same lines
    next to each other): the ``tool`` columns of those programmes. Every line's running and build
    columns stay fixed: the move is a programme changing lines among the lines the plan runs, which
    no factory neighbourhood can do when the lines stand in different factories."""
    size = PROGRAMMES_PER_NEIGHBOURHOOD if size is None else size
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    programme = np.asarray(roles.column_programme)
    tool = (np.asarray(roles.column_kind) == TOOL) & (programme >= 0)
    numbers = np.unique(programme[tool])
    return [np.flatnonzero(tool & np.isin(programme, numbers[i:i + size])).astype(np.int32)
            for i in range(0, len(numbers), size)]


def interleaved(*lists: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The neighbourhoods of ``lists`` taken in turn (first of each, then second of each, …), so a
    short budget tries every kind of move."""
    out: list[np.ndarray] = []
    for i in range(max((len(x) for x in lists), default=0)):
        out.extend(x[i] for x in lists if i < len(x))
    return out


def with_pairs(neighbourhoods: Sequence[np.ndarray], steps: Sequence[int] = PAIR_STEPS) -> list[np.ndarray]:
    """``neighbourhoods`` followed by their pairs: for each step ``k`` in ``steps``, neighbourhood
    ``i`` with neighbourhood ``(i + k) mod n``, for every ``i`` (the union of their columns; no pair
    twice). Pairs let a plan move between two factories (close lines at one, open at another),
    which no single neighbourhood can."""
    n = len(neighbourhoods)
    out = list(neighbourhoods)
    seen: set[tuple[int, int]] = set()
    for k in steps:
        for i in range(n):
            pair = (min(i, (i + k) % n), max(i, (i + k) % n))
            if pair[0] == pair[1] or pair in seen:
                continue
            seen.add(pair)
            out.append(np.union1d(neighbourhoods[pair[0]], neighbourhoods[pair[1]]).astype(np.int32))
    return out


def neighbourhoods(cm: Compiled) -> list[np.ndarray]:
    """The neighbourhoods of :func:`improved_plan` for ``cm``: single factories and programme
    groups in turn, then pairs of factories."""
    factories = factory_neighbourhoods(cm.roles)
    pairs = with_pairs(factories)[len(factories):]
    return interleaved(factories, programme_neighbourhoods(cm.roles)) + pairs


def improve_budget(rows: int, limit: float | None, bound_beside: bool = False) -> tuple[int, float]:
    """(sub-MIPs, safety-stop seconds) of fix-and-optimise for a model of ``rows`` rows under the
    time limit ``limit`` (None: none): sub-MIPs = share × limit / (rows × seconds a row), at least
    one, at most :data:`MAX_SUBMIPS`, with :data:`IMPROVE_SHARE` and :data:`IMPROVE_SECONDS_PER_ROW`
    below :data:`BIG_MODEL_ROWS` rows, :data:`BIG_IMPROVE_SHARE` and :data:`BIG_SECONDS_PER_ROW`
    from there; with ``bound_beside`` (the LP bound solved on the second core, :mod:`.lp_bound`)
    the share is :data:`BIG_IMPROVE_SHARE` below :data:`BIG_MODEL_ROWS` too (HiGHS's time after
    the improvement no longer has to buy the bound); the seconds are 1.5 × share × limit (the
    caller also stops it at the limit)."""
    if limit is None:
        return MAX_SUBMIPS, math.inf
    big = rows >= BIG_MODEL_ROWS
    share = BIG_IMPROVE_SHARE if big or bound_beside else IMPROVE_SHARE
    per = max(rows * (BIG_SECONDS_PER_ROW if big else IMPROVE_SECONDS_PER_ROW), 1e-3)
    submips = int(min(max(share * limit / per, 1), MAX_SUBMIPS))
    return submips, 1.5 * share * limit


def improve(arrays: ModelArrays, x: np.ndarray, neighbourhoods: Sequence[np.ndarray], sub_mip: SubMip,
            feasible: Callable[[np.ndarray], bool], time_budget: float = float("inf"),
            max_submips: int = MAX_SUBMIPS, on_better: Callable[[np.ndarray, float], None] | None = None
            ) -> ImprovedPlan:
    """Fix-and-optimise from the feasible plan ``x`` of ``arrays`` over ``neighbourhoods`` (integer
    column numbers; :func:`factory_neighbourhoods`), by the steps of the module docstring.

    ``sub_mip(lower, upper, start, seconds)``: the plan HiGHS finds for the model with these
    column bounds from ``start`` within its node limit (or ``seconds``), or None
    (:func:`sub_mip_solver`); ``feasible(x)``: whether ``x`` meets every row and bound of
    ``arrays``; ``on_better(x, cost)`` is called with every improved plan."""
    t0 = time.perf_counter()
    deadline = t0 + max(time_budget, 0.0)
    x = np.asarray(x, dtype=float).copy()
    cost = plan_objective(arrays, x)
    ints = np.flatnonzero(arrays.integrality).astype(np.int32)
    submips = improvements = passes = 0
    while submips < max_submips and time.perf_counter() < deadline:
        passes += 1
        improved_this_pass = False
        for free in neighbourhoods:
            if submips >= max_submips or time.perf_counter() >= deadline:
                break
            submips += 1
            lo, hi = arrays.col_lower.copy(), arrays.col_upper.copy()
            fixed = np.ones(len(lo), dtype=bool)
            fixed[free] = False
            pin = ints[fixed[ints]]
            lo[pin] = hi[pin] = np.round(x[pin])
            got = sub_mip(lo, hi, x, max(deadline - time.perf_counter(), 1e-3))
            if got is None:
                continue
            got = np.asarray(got, dtype=float).copy()
            got[ints] = np.round(got[ints])
            new_cost = plan_objective(arrays, got)
            if new_cost < cost - REL_IMPROVEMENT * max(1.0, abs(cost)) and feasible(got):
                x, cost = got, new_cost
                improvements += 1
                improved_this_pass = True
                if on_better is not None:
                    on_better(x, cost)
        if not improved_this_pass:
            break
    return ImprovedPlan(x, cost, submips, improvements, passes, time.perf_counter() - t0)


def sub_mip_solver(arrays: ModelArrays, new_highs: Callable[[], Any], max_nodes: int | None = None) -> SubMip:
    """The sub-MIP runner of :func:`improve`: one HiGHS object (from ``new_highs``) holding
    ``arrays`` with the sub-MIP options (``mip_max_nodes``: ``max_nodes``, default
    :data:`MAX_NODES`; :data:`SUBMIP_OPTIONS`); each call ``(lower, upper, start, seconds)`` sets
    the integer columns' bounds and runs from ``start`` through :func:`.start.run_mip` (its start
    check), giving the plan found or None; a Ctrl-C during it raises KeyboardInterrupt (the plans
    found so far are in the incumbent)."""
    ints = np.flatnonzero(arrays.integrality).astype(np.int32)
    h = new_highs()
    h.setOptionValue("mip_max_nodes", int(MAX_NODES if max_nodes is None else max_nodes))
    for name, value in SUBMIP_OPTIONS.items():
        h.setOptionValue(name, value)
    pass_arrays(h, arrays)

    def run(lower: np.ndarray, upper: np.ndarray, start: np.ndarray, seconds: float) -> np.ndarray | None:
        h.clearSolver()
        h.changeColsBounds(len(ints), ints, lower[ints], upper[ints])
        h.setOptionValue("time_limit", float(seconds))
        read, interrupted, _ = run_mip(h, arrays._replace(col_lower=lower, col_upper=upper), start, None, True,
                                       warn=False)
        if interrupted:  # Ctrl-C (highs.run cancelled HiGHS): stop the whole improvement, not one sub-MIP
            raise KeyboardInterrupt
        return read.x

    return run


def plan_facts(plan: ImprovedPlan) -> dict[str, Any]:
    """What the run record says about the improvement of the start plan."""
    return {"npv": -plan.cost, "submips": plan.submips, "improvements": plan.improvements,
            "passes": plan.passes, "seconds": round(plan.seconds, 3)}


def improved_plan(arrays: ModelArrays, start: np.ndarray, facts: dict[str, Any], hoods: Sequence[np.ndarray],
                  new_highs: Callable[[], Any], offer: Callable[[np.ndarray, float], None], budget: float,
                  max_submips: int, say: Callable[[bool, str], None], log: bool
                  ) -> tuple[np.ndarray, dict[str, Any]]:
    """(start for HiGHS, facts for the run record): the constructed plan ``start`` (its run-record
    ``facts``) improved by :func:`improve` over ``hoods`` within ``max_submips`` sub-MIPs (safety
    stop ``budget`` seconds), each on a HiGHS object of ``new_highs``; every better plan goes to
    ``offer(x, cost)`` at once (a stopped run keeps it). ``say(show, text)`` writes a line when
    ``show`` (the outcome when ``log``, a failure always). A failure keeps the constructed plan."""
    try:
        plan = improve(arrays, start, hoods, sub_mip_solver(arrays, new_highs),
                       lambda x: satisfies(arrays, x, TOL), budget, max_submips=max_submips, on_better=offer)
    except Exception as exc:  # noqa: BLE001 — an optional heuristic must not cost the solve
        say(True, f"Warning: fix-and-optimise failed ({type(exc).__name__}: {exc}); HiGHS starts from the "
                  "constructed plan")
        return start, facts
    say(log, f"Fix-and-optimise: cost {plan.cost:.10g} after {plan.submips} sub-MIPs ({plan.improvements} "
             f"improved), {plan.seconds:.1f} s")
    if plan.improvements == 0:
        return start, {**facts, "improvement": plan_facts(plan)}
    return plan.x, {**facts, "npv": -plan.cost, "method": facts["method"] + " + fix-and-optimise",
                    "improvement": plan_facts(plan)}
