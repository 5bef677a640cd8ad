"""Break-even values: strategies' expected NPV as one input moves.

Strategies are compared as :mod:`optimiser.compare` compares them: the stochastic (two-stage)
plan of each strategy over every scenario, its expected NPV ``run.npv`` (probability-weighted);
the recommendation is the named strategy (not ``optimise``) with the highest expected NPV, ties
to the first in name order. Inputs move through :mod:`optimiser.parameters` (``Base.with_changes``:
the changed tables are validated again).

**Evaluating a point** (:func:`solve_point`): the instance with the parameter at value ``v`` is
built and compiled once and every strategy is solved on that one model in one HiGHS session
(:class:`~optimiser.jobs.reuse.SharedModel`: strategies differ only in column bounds). ``reuse=False``
builds a model for every strategy (the reference, and the benchmark's baseline).

**Break-even** of strategies A and B over ``[lo, hi]``: D(p) = NPV_A(p) − NPV_B(p) (a strategy
without a plan — infeasible — counts as −∞: never preferred). No sign change of D at the ends →
"no break-even in [lo, hi]". Otherwise, each round (:func:`bisect_root`):

1. **exact (linear)** when the parameter is an *objective coefficient* — the compiled models at
   lo, mid and hi have the same columns, rows, matrix and bounds, and their costs are linear in p
   (c(mid) = (c(lo)+c(hi))/2) — and the plan (every column value) of A and of B is the same at
   both ends of the bracket. Then each NPV is linear on the bracket — V(p) = max_x c(p)·x is
   convex in p, equals the line c(p)·x̄ at both ends where x̄ is optimal, and lies above that
   line, so it is the line — and the break-even is its root lo − D(lo)·(hi − lo)/(D(hi) − D(lo));
2. else the **secant** value r of D on the bracket is solved; |D(r)| within the solves'
   tolerance (:func:`optimiser.numbers.tolerance`: 1e-6 of the NPVs or the MIP gap) → r
   ("secant, checked by a solve"); else the bracket shrinks to r's side,
3. and is **halved** as well whenever the secant left more than half of it, until narrower than
   the tolerance: its midpoint ("bisection").

Right-hand-side parameters (capacity, demand, budget — and an option's upfront cost, which is
also in the budget rows) change the rows: never step 1. Every NPV is as exact as the MIP gap of
the solves (``SolveOptions.mip_gap``). ``search="bisection"`` runs step 3 alone (the reference).

**Recommendation change** over ``[lo, hi]``: where the strategy recommended at lo stops being
recommended — the same search on its margin over the best other strategy (step 1 when every
plan is constant on the bracket: the first crossing of the lines). Only the first change from lo
is reported. When the change is that a strategy has no plan past the value, ``note`` says so.

The tornado (:mod:`optimiser.tornado`) solves its points as :mod:`optimiser.compare` jobs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .errors import InfeasibleError, InputError, NoSolutionError
from .parameters import Base, Change, Parameter
from .schema import OPTIMISE
from .solver.options import SolveOptions

#: Default bisection tolerance, as a share of the bracket's width.
REL_TOLERANCE = 1e-4


@dataclass
class Point:
    """Every strategy's expected NPV with the parameter at ``value`` (None: no plan, see ``status``)."""

    value: float | None
    npv: dict[str, float | None]
    status: dict[str, str]
    options_taken: dict[str, list[str]]
    seconds: float
    #: column values of each strategy's plan, and the compiled model (for the exact step; not in JSON)
    x: dict[str, np.ndarray | None] = field(default_factory=dict, repr=False)
    gap: dict[str, float | None] = field(default_factory=dict)
    compiled: Any = field(default=None, repr=False)

    def best(self, strategies: Sequence[str]) -> str | None:
        """The recommended strategy: highest expected NPV, ties (within 1e-6 relative) to the first."""
        ok = [(k, self.npv[k]) for k in strategies if self.npv.get(k) is not None]
        if not ok:
            return None
        top = max(v for _, v in ok)
        return next(k for k, v in ok if v >= top - 1e-6 * max(1.0, abs(top)))

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "npv": dict(self.npv), "status": dict(self.status),
                "options_taken": {k: list(v) for k, v in self.options_taken.items()}}


def named_strategies(base: Base) -> list[str]:
    """The strategies a recommendation is chosen from: the named ones (``optimise`` if there are none)."""
    names = [k for k in base.instance.strategy_names if k != OPTIMISE]
    return names or [OPTIMISE]


def solve_point(base: Base, changes: Sequence[Change], strategies: Sequence[str], options: SolveOptions,
                reuse: bool = True, value: float | None = None) -> Point:
    """Solve every strategy's stochastic plan on the instance with ``changes`` (see the module)."""
    from .model import build_model, prepare  # noqa: PLC0415
    from .engine import finish_solve  # noqa: PLC0415
    from .jobs.reuse import SharedModel  # noqa: PLC0415
    from .model.compile import compile_model  # noqa: PLC0415
    from .solver.solve import solve_compiled  # noqa: PLC0415

    t0 = time.perf_counter()
    inst = base.with_changes(changes)
    opts = for_npv(options)
    npv: dict[str, float | None] = {}
    status: dict[str, str] = {}
    taken: dict[str, list[str]] = {}
    xs: dict[str, np.ndarray | None] = {}
    gaps: dict[str, float | None] = {}
    compiled = None
    shared = SharedModel(inst, None, None, opts) if reuse else None
    try:
        if shared is not None:
            compiled = shared.compiled
        for k in strategies:
            try:
                if shared is not None:
                    res, out = shared.solve_outcome(k)
                else:
                    b0 = time.perf_counter()
                    md = prepare(inst, k, None)
                    cm = compile_model(build_model(md))
                    compiled = compiled or cm
                    out = solve_compiled(cm, opts)
                    res = finish_solve(inst, md, out, opts, k, None, time.perf_counter() - b0)
                npv[k], status[k], taken[k], xs[k] = res.run.npv, res.run.status, list(res.options_taken), out.x
                gaps[k] = res.run.gap
            except (InfeasibleError, NoSolutionError) as exc:
                npv[k], status[k], taken[k], xs[k] = None, ("infeasible" if isinstance(exc, InfeasibleError)
                                                            else "no_solution"), [], None
    finally:
        if shared is not None:
            shared.close()
    return Point(value, npv, status, taken, time.perf_counter() - t0, xs, gaps, compiled)


def for_npv(options: SolveOptions) -> SolveOptions:
    """Only NPVs are needed: no capacity duals; one HiGHS thread unless said (as compare's executors)."""
    from dataclasses import replace  # noqa: PLC0415

    return replace(options, duals=False, threads=options.threads if options.threads is not None else 1)


# ------------------------------------------------------------------ the exact (linear) case

def objective_linear(a: Any, mid: Any, b: Any) -> bool:
    """True when three compiled models differ only in their costs, linearly: same columns, rows,
    matrix, bounds and integrality, and c(mid) = (c(a) + c(b))/2 (offsets too) to 1e-9 relative."""
    if a is None or mid is None or b is None:
        return False
    for m in (mid, b):
        if m.columns != a.columns or m.rows != a.rows:
            return False
        for name in ("row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
            if not np.array_equal(getattr(m, name), getattr(a, name)):
                return False
        if not (np.array_equal(m.a_csc.indptr, a.a_csc.indptr) and np.array_equal(m.a_csc.indices, a.a_csc.indices)
                and np.array_equal(m.a_csc.data, a.a_csc.data)):
            return False
    ca, cm, cb = (np.asarray(x.sense_min_cost, dtype=float) for x in (a, mid, b))
    scale = max(1.0, float(np.max(np.abs(np.concatenate([ca, cb])), initial=0.0)))
    if not np.allclose(cm, (ca + cb) / 2, rtol=1e-9, atol=1e-9 * scale):
        return False
    return math.isclose(mid.offset, (a.offset + b.offset) / 2, rel_tol=1e-9, abs_tol=1e-9 * scale)


def same_plan(p: Point, q: Point, strategy: str) -> bool:
    """The strategy's plan (every column value) is the same at both points (1e-7 relative)."""
    x, y = p.x.get(strategy), q.x.get(strategy)
    if x is None or y is None or x.shape != y.shape:
        return False
    return bool(np.allclose(x, y, rtol=1e-7, atol=1e-7))


# ------------------------------------------------------------------ break-even

@dataclass
class Crossing:
    """Where something changes over [lo, hi]: ``value`` (None if nothing changes), how it was found."""

    value: float | None
    method: str  # "exact (linear)" | "bisection" | "none"
    bracket: tuple[float, float] | None
    before: str | None = None
    after: str | None = None
    #: e.g. "buy has no plan (infeasible) above 4.5e+08": the change is a strategy becoming impossible
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "method": self.method,
                "bracket": list(self.bracket) if self.bracket else None, "before": self.before, "after": self.after,
                "note": self.note}


@dataclass
class BreakEven:
    """The break-even of strategies ``a`` and ``b`` in parameter ``parameter`` over ``[low, high]``."""

    instance: str
    currency: str
    parameter: str
    kind: str
    low: float
    high: float
    a: str
    b: str
    strategies: list[str]
    breakeven: Crossing
    recommendation: Crossing
    parameter_class: str  # "objective coefficient (linear)" | "objective coefficient" | "constraints" | "not needed"
    points: list[Point]
    solves: int
    seconds: float
    reuse: bool
    tolerance: float

    def sentence(self) -> str:
        from .numbers import money  # noqa: PLC0415

        lo, hi = format_value(self.low), format_value(self.high)
        if self.breakeven.value is None:
            first = next((p for p in self.points if p.value == self.low), None)
            lead = ""
            if first is not None and None not in (first.npv.get(self.a), first.npv.get(self.b)):
                ahead = self.a if first.npv[self.a] >= first.npv[self.b] else self.b
                lead = f": {ahead} is ahead over the whole range"
            return f"no break-even in [{lo}, {hi}] between {self.a} and {self.b}{lead}"
        at = self.breakeven.value
        npv = next((p.npv.get(self.a) for p in self.points if p.value == at), None)
        tail = f" (expected NPV {money(npv, self.currency)})" if npv is not None else ""
        if self.breakeven.note:
            return (f"{self.breakeven.before} is ahead of {self.breakeven.after} up to {self.parameter} "
                    f"{self._kind_word()}{format_value(at)}, where {self.breakeven.note} (found by {self.breakeven.method})")
        return (f"{self.a} and {self.b} break even at {self.parameter} {self._kind_word()}{format_value(at)}{tail}, "
                f"found by {self.breakeven.method}")

    def _kind_word(self) -> str:
        return "= " if self.kind == "absolute" else "× "

    def recommendation_sentence(self) -> str:
        r = self.recommendation
        if r.value is None:
            return f"the recommendation ({r.before}) does not change in [{format_value(self.low)}, {format_value(self.high)}]"
        why = f"; {r.note}" if r.note else ""
        return (f"the recommendation changes from {r.before} to {r.after} at {self.parameter} "
                f"{self._kind_word()}{format_value(r.value)} (found by {r.method}{why})")

    def as_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "currency": self.currency, "parameter": self.parameter, "kind": self.kind,
                "low": self.low, "high": self.high, "between": [self.a, self.b], "strategies": self.strategies,
                "breakeven": self.breakeven.as_dict(), "recommendation": self.recommendation.as_dict(),
                "parameter_class": self.parameter_class, "sentences": [self.sentence(), self.recommendation_sentence()],
                "points": [p.as_dict() for p in sorted(self.points, key=lambda p: p.value)],
                "solves": self.solves, "seconds": round(self.seconds, 3), "reuse": self.reuse,
                "tolerance": self.tolerance}


def format_value(x: float) -> str:
    return f"{x:.8g}"


class Evaluator:
    """Points of one parameter, cached by value; counts the solves."""

    def __init__(self, base: Base, parameter: Parameter, kind: str, strategies: Sequence[str], options: SolveOptions,
                 reuse: bool, progress: Callable[[Point], None] | None) -> None:
        self.base, self.parameter, self.kind = base, parameter, kind
        self.strategies, self.options, self.reuse = list(strategies), options, reuse
        self.points: dict[float, Point] = {}
        self.solves = 0
        self.progress = progress

    def at(self, value: float) -> Point:
        if value not in self.points:
            change = Change(self.parameter, self.kind, value)
            p = solve_point(self.base, [change], self.strategies, self.options, self.reuse, value)
            self.solves += len(self.strategies)
            self.points[value] = p
            if self.progress is not None:
                self.progress(p)
        return self.points[value]


def integer_mid(parameter: Parameter, kind: str, lo: float, hi: float) -> float | None:
    """The next value to try: the midpoint (a whole number for an absolute int column; None when
    lo and hi are neighbouring whole numbers)."""
    if parameter.is_integer and kind == "absolute":
        mid = math.floor((lo + hi) / 2)
        return None if mid <= lo or mid >= hi else float(mid)
    return (lo + hi) / 2


def breakeven(base: Base, parameter: Parameter, a: str, b: str, low: float, high: float, kind: str = "absolute",
              options: SolveOptions | None = None, reuse: bool = True, tolerance: float | None = None,
              progress: Callable[[Point], None] | None = None, search: str = "auto") -> BreakEven:
    """The value of ``parameter`` in [low, high] where strategies ``a`` and ``b`` have equal expected NPV,
    and where the recommendation changes (see the module for the method). ``search="bisection"``:
    plain bisection, without the exact and secant steps (the reference the benchmark compares with)."""
    if search not in ("auto", "bisection"):
        raise ValueError(f"search {search!r}: auto or bisection")
    t0 = time.perf_counter()
    opts = options or SolveOptions()
    names = list(base.instance.strategy_names)
    for k in (a, b):
        if k not in names:
            raise InputError(f"--between: unknown strategy {k!r}; this instance has: {', '.join(names)}")
    if a == b:
        raise InputError("--between: give two different strategies")
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise InputError(f"--range {format_value(low)},{format_value(high)}: low must not be above high")
    strategies = list(dict.fromkeys([*named_strategies(base), a, b]))
    rec_pool = named_strategies(base)
    tol = tolerance if tolerance is not None else REL_TOLERANCE * max(high - low, 1e-12)
    ev = Evaluator(base, parameter, kind, strategies, opts, reuse, progress)
    p_lo, p_hi = ev.at(low), ev.at(high)
    for p in (p_lo, p_hi):
        if p.npv.get(a) is None and p.npv.get(b) is None:
            raise InputError(f"neither {a} nor {b} has a plan with {Change(parameter, kind, p.value)} "
                             f"({p.status.get(a)}); narrow the range")
    klass = ["not needed"]

    def linear_class() -> bool:
        if klass[0] == "not needed":
            mid = integer_mid(parameter, kind, low, high)
            if mid is None:
                klass[0] = "constraints"
            else:
                lin = objective_linear(p_lo.compiled, ev.at(mid).compiled, p_hi.compiled)
                klass[0] = "objective coefficient (linear)" if lin else "objective coefficient or constraints"
        return klass[0] == "objective coefficient (linear)"

    def diff(p: Point) -> float | None:
        """NPV_A − NPV_B; a strategy without a plan is never preferred (−∞ for it), neither: None."""
        va, vb = p.npv.get(a), p.npv.get(b)
        if va is None and vb is None:
            return None
        if va is None or vb is None:
            return -math.inf if va is None else math.inf
        return va - vb

    if search == "bisection":
        klass[0] = "not examined (plain bisection)"
    crossing = bisect_root(ev, parameter, kind, low, high, tol, linear_class if search == "auto" else _never,
                       d=diff,
                       exact=lambda pl, ph: linear_root(diff(pl), diff(ph), pl.value, ph.value)
                       if same_plan(pl, ph, a) and same_plan(pl, ph, b) else None, secant=search == "auto")
    crossing.before, crossing.after = (_leader(p_lo, a, b), _leader(p_hi, a, b))
    crossing.note = _no_plan_note(ev, crossing, [a, b], parameter, kind)
    rec = _recommendation_change(ev, parameter, kind, low, high, tol, rec_pool,
                                 linear_class if search == "auto" else _never, secant=search == "auto")
    return BreakEven(base.instance.name, base.instance.currency, str(parameter), kind, low, high, a, b, strategies,
                     crossing, rec, klass[0], list(ev.points.values()), ev.solves, time.perf_counter() - t0, reuse, tol)


def _never() -> bool:
    return False


def _leader(p: Point, a: str, b: str) -> str | None:
    """The strategy ahead at ``p`` (one without a plan is never ahead; None when neither has one)."""
    va, vb = p.npv.get(a), p.npv.get(b)
    if va is None or vb is None:
        return a if vb is None and va is not None else (b if vb is not None else None)
    return a if va >= vb else b


def linear_root(d_lo: float, d_hi: float, lo: float, hi: float) -> float | None:
    if d_hi == d_lo:
        return None
    return lo - d_lo * (hi - lo) / (d_hi - d_lo)


def bisect_root(ev: Evaluator, parameter: Parameter, kind: str, low: float, high: float, tol: float,
            linear: Callable[[], bool], d: Callable[[Point], float | None],
            exact: Callable[[Point, Point], float | None], secant: bool = True) -> Crossing:
    """The value in [low, high] where ``d`` (a difference of expected NPVs) changes sign.

    Each round: the exact linear step when the parameter is a linear objective coefficient and
    ``exact`` gives a root (plans constant on the bracket); else the secant (false-position) value
    r of ``d`` on the bracket is solved, and if |d(r)| is within the solves' tolerance
    (:func:`optimiser.numbers.tolerance` with their MIP gap) r is the answer ("secant, checked by a
    solve"); else the bracket shrinks to r's side — and is halved as well whenever the secant step
    left more than half of it (so it shrinks at least as fast as bisection) — until narrower than
    ``tol``: then its midpoint ("bisection")."""
    from .numbers import tolerance  # noqa: PLC0415

    def sign(p: Point) -> int | None:
        v = d(p)
        if v is None:
            raise InputError(f"no plan for a strategy with {Change(parameter, kind, p.value)}; narrow the range")
        return 0 if math.isfinite(v) and abs(v) <= tie(p) else (1 if v > 0 else -1)

    def tie(p: Point) -> float:
        vals = [abs(v) for v in p.npv.values() if v is not None]
        gaps = [g for g in p.gap.values() if g is not None and math.isfinite(g)]
        return tolerance(max(vals, default=0.0), max(gaps, default=None))

    lo, hi = low, high
    s_lo, s_hi = sign(ev.at(lo)), sign(ev.at(hi))
    if s_lo == 0:
        return Crossing(lo, "at the end of the range", (lo, lo))
    if s_hi == 0:
        return Crossing(hi, "at the end of the range", (hi, hi))
    if s_lo == s_hi:
        return Crossing(None, "none", None)
    while True:
        if linear():
            root = exact(ev.at(lo), ev.at(hi))
            if root is not None and lo <= root <= hi:
                return Crossing(root, "exact (linear)", (lo, hi))
        if hi - lo <= tol:
            return Crossing((lo + hi) / 2, "bisection", (lo, hi))
        width = hi - lo
        steps = []
        d_lo, d_hi = d(ev.at(lo)), d(ev.at(hi))
        finite = d_lo is not None and d_hi is not None and math.isfinite(d_lo) and math.isfinite(d_hi)
        r = linear_root(d_lo, d_hi, lo, hi) if finite else None  # type: ignore[arg-type]
        if secant and r is not None and lo < r < hi and not (parameter.is_integer and kind == "absolute"):
            steps.append(("secant", r))
        steps.append(("bisection", None))
        for how, value in steps:
            if how == "bisection":
                if hi - lo <= width / 2 and len(steps) > 1:
                    break  # the secant step already halved the bracket
                value = integer_mid(parameter, kind, lo, hi)
                if value is None:
                    return Crossing(hi, "bisection", (lo, hi))
            s_mid = sign(ev.at(value))
            if s_mid == 0:
                return Crossing(value, "secant, checked by a solve" if how == "secant" else "bisection",
                                (value, value))
            if s_mid == s_lo:
                lo = value
            else:
                hi = value


def _recommendation_change(ev: Evaluator, parameter: Parameter, kind: str, low: float, high: float, tol: float,
                           pool: list[str], linear: Callable[[], bool], secant: bool = True) -> Crossing:
    first = ev.at(low).best(pool)
    last = ev.at(high).best(pool)
    if first is None or first == last:
        return Crossing(None, "none", None, first, first)

    def margin(p: Point) -> float | None:
        """How far ``first`` is ahead of the best other strategy (< 0: no longer recommended; a
        strategy without a plan counts as −∞)."""
        others = [p.npv[k] for k in pool if k != first and p.npv.get(k) is not None]
        mine = p.npv.get(first)
        if mine is None and not others:
            return None
        if mine is None or not others:
            return -math.inf if mine is None else math.inf
        return mine - max(others)

    def exact(pl: Point, ph: Point) -> float | None:
        if not all(same_plan(pl, ph, k) for k in pool):
            return None
        # every NPV is a line on the bracket: the first p where another line rises above `first`'s
        roots = []
        for k in pool:
            if k == first or None in (pl.npv.get(k), ph.npv.get(k)):
                continue
            r = linear_root(pl.npv[first] - pl.npv[k], ph.npv[first] - ph.npv[k], pl.value, ph.value)  # type: ignore
            if r is not None and pl.value <= r <= ph.value:
                roots.append(r)
        return min(roots) if roots else None

    c = bisect_root(ev, parameter, kind, low, high, tol, linear, margin, exact, secant)
    after = last
    if c.bracket is not None and c.bracket[1] in ev.points:  # the strategy that overtakes (or ties) first there
        at = ev.points[c.bracket[1]]
        after = max((k for k in pool if k != first and at.npv.get(k) is not None),
                    key=lambda k: at.npv[k], default=last)  # type: ignore[arg-type, return-value]
    c.before, c.after = first, after
    c.note = _no_plan_note(ev, c, pool, parameter, kind)
    return c


def _no_plan_note(ev: Evaluator, c: Crossing, strategies: Sequence[str], parameter: Parameter, kind: str) -> str | None:
    """When the change is that a strategy loses its plan (infeasible) past the value, say so."""
    if c.value is None or c.bracket is None:
        return None
    lo, hi = (ev.points.get(v) for v in c.bracket)
    gone = [k for k in strategies if lo is not None and hi is not None
            and (lo.npv.get(k) is None) != (hi.npv.get(k) is None)]
    if not gone:
        return None
    side = {k: "above" if hi is not None and hi.npv.get(k) is None else "below" for k in gone}
    return "; ".join(f"{k} has no plan (infeasible) {side[k]} {format_value(c.value)}" for k in gone)


def current_numbers(base: Any, param: Any) -> list[float]:
    """The distinct numbers the cells a parameter addresses hold today, sorted (a setting: its one value)."""
    from .parameters import current_values  # noqa: PLC0415

    if param.is_setting:
        v = base.settings().get(param.column)
        return [] if v is None else [float(v)]
    return sorted({float(v) for _, v in current_values(param, base.parsed(param.table)) if v is not None})
