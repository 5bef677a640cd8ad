"""`optimiser decide`: the decision in one object — compare, then what would change it.

Pure (no files written): :func:`decide` runs, in order,

1. :func:`optimiser.compare.compare` — every strategy's stochastic plan (deals, builds and tooling
   decided before demand is known) over all scenarios; the **recommended** strategy is compare's
   (highest expected *cash* NPV among the named strategies), the **runner-up** the named strategy
   with the next highest expected cash NPV;
2. the **tornado** (:func:`optimiser.tornado.tornado`) over the instance's ``sensitivity`` rows
   (none: no tornado, and the Decision says so);
3. **break-evens** (:func:`optimiser.sensitivity.breakeven`) between the recommended strategy and
   the runner-up, on an instance holding those two strategies only (the others are not re-solved):

   * every cost term of every deal option taken by exactly one of the two stochastic plans —
     ``options.upfront_cost[o]`` and ``options.annual_cost[o]``: taken by the recommended plan, over
     [v, v + 2·margin] (v its value, margin = NPV_rec − NPV_runner: only a dearer deal can cost it the
     lead, and a rise of 2·margin does unless tax and discounting shrink its effect below half);
     taken by the runner-up, over [0, v] (only a cheaper deal lifts it; a term already 0 cannot).
     An option both plans take moves both NPVs alike while both keep it, and a runner-up term already 0
     cannot fall: both listed, not searched. A dearer deal the runner-up does not take leaves its plan
     and NPV as they are: that search re-solves the recommended strategy alone (:func:`one_sided`);
   * every ``sensitivity`` row that can flip the answer: D = NPV_rec − NPV_runner changes sign between
     the row's low and high in the tornado → searched over [low, high]; negative at both ends → over
     [low, base] and [base, high] (base: 1 for a multiplier, else the cells' one current value).

   The searches are independent: with ``workers`` > 1 they run in a process pool (spawned; one
   HiGHS thread each), one compiled model per parameter value shared by the two strategies.

The :class:`Decision` holds everything the decision workbook (:mod:`optimiser.report.decide`)
shows and ``--json`` prints; it holds no timings, so two runs give identical JSON.

NPV bridge from the runner-up to the recommended strategy: for every cash category c of
:data:`optimiser.model.coefficients.CASH`, Δ_c = E[NPV_c](rec) − E[NPV_c](runner); Σ_c Δ_c =
NPV(rec) − NPV(runner) (both NPVs are Σ_c of their breakdown). Penalties (unmet demand, share
target) are weights, not cash: shown apart, never in the bridge.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from typing import Any, Sequence

from .columns import KINDS
from .compare import Comparison, compare
from .errors import InputError
from .model.coefficients import CASH
from .numbers import money
from .parameters import Base, Range, parse_parameter, sensitivity_ranges
from .readers import RawTables
from .results import Results, cvar
from .schema import OPTIMISE
from .sensitivity import format_value, breakeven
from .solver.options import SolveOptions

#: CVaR level of the strategy table: the mean of the worst (1 − α) of outcomes.
ALPHA = 0.9
#: Deal cost terms searched for a break-even.
COST_TERMS = ("upfront_cost", "annual_cost")


@dataclass
class Decision:
    """Everything the decision workbook shows (money in the instance's currency, full units)."""

    instance: str
    currency: str
    recommended: str
    runner_up: str | None
    headline: str
    why: list[str]
    changes: list[str]
    caveats: list[str]
    strategies: list[dict[str, Any]]
    bridge: list[dict[str, Any]]
    penalties: list[dict[str, Any]]
    breakevens: list[dict[str, Any]]
    tornado: dict[str, Any] | None
    flexibility: list[dict[str, Any]]
    evpi: float | None
    vss: float | None
    value_sentences: list[str]
    comparison: Comparison = field(repr=False)

    @property
    def margin(self) -> float | None:
        rec, run = self.npv(self.recommended), self.npv(self.runner_up)
        return None if rec is None or run is None else rec - run

    def npv(self, strategy: str | None) -> float | None:
        row = next((r for r in self.strategies if r["strategy"] == strategy), None)
        return None if row is None else row["expected_npv"]

    @property
    def plan(self) -> Results | None:
        return self.comparison.plans.get(self.recommended)

    def to_json(self) -> dict[str, Any]:
        return {"instance": self.instance, "currency": self.currency, "recommended": self.recommended,
                "runner_up": self.runner_up, "margin": self.margin, "headline": self.headline, "why": self.why,
                "changes": self.changes, "caveats": self.caveats, "strategies": self.strategies,
                "bridge": {"from": self.runner_up, "to": self.recommended, "rows": self.bridge,
                           "total": sum(r["delta"] for r in self.bridge), "penalties": self.penalties},
                "breakevens": self.breakevens, "tornado": self.tornado, "flexibility": self.flexibility,
                "evpi": self.evpi, "vss": self.vss, "value_sentences": self.value_sentences,
                "recommendation": self.comparison.recommendation}


def _m(x: float | None, cur: str) -> str:
    return money(x, cur, missing="n/a")


def is_money(parameter: str, kind: str) -> bool:
    """An absolute value of a money column (:data:`optimiser.columns.KINDS`): shown in currency (M in tables)."""
    return kind == "absolute" and KINDS.get(parse_parameter(parameter).column) == "money"


def value_words(parameter: str, kind: str, v: float | None, cur: str) -> str:
    """A parameter value in words: money compactly (``601.91 m USD``), a multiplier as ``1.1 ×``."""
    if v is None:
        return "n/a"
    if is_money(parameter, kind):
        return _m(v, cur)
    return format_value(v) + (" ×" if kind == "multiplier" else "")


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v


# ------------------------------------------------------------------ pieces

def strategy_table(comp: Comparison) -> list[dict[str, Any]]:
    """One row per named strategy (``optimise`` last): expected cash NPV, worst scenario, max regret,
    CVaR_α, IRR, payback year, peak funding, deals taken, and the objective (with the weights)."""
    rows = []
    for r in comp.stochastic.to_dict("records"):
        plan = comp.plans.get(r["strategy"])
        c = cvar(plan.npv_by_scenario, ALPHA) if plan is not None and not plan.npv_by_scenario.empty else None
        rows.append({"strategy": r["strategy"], "expected_npv": _plain(r["expected_npv"]),
                     "worst_case": _plain(r["worst_case"]), "max_regret": _plain(r["max_regret"]), "cvar": _plain(c),
                     "irr": _plain(r.get("irr")), "payback_year": _plain(r.get("payback_year")),
                     "peak_funding": _plain(r.get("peak_funding")), "options_taken": r["options_taken"],
                     "objective": _plain(r["objective"]), "status": r["status"]})
    return sorted(rows, key=lambda x: x["strategy"] == OPTIMISE)


def runner_up(strategies: list[dict[str, Any]], recommended: str) -> str | None:
    """The named strategy with the next highest expected cash NPV (ties: name order)."""
    others = [r for r in strategies if r["strategy"] not in (recommended, OPTIMISE) and r["expected_npv"] is not None]
    return max(others, key=lambda r: r["expected_npv"])["strategy"] if others else None


def bridge(rec: Results, run: Results) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per cash category: runner-up, recommended, Δ (see the module); and the two penalties apart."""
    a = dict(zip(rec.npv_breakdown["category"], rec.npv_breakdown["value"]))
    b = dict(zip(run.npv_breakdown["category"], run.npv_breakdown["value"]))
    labels = dict(zip(rec.npv_breakdown["category"], rec.npv_breakdown["label"]))
    rows = [{"category": c, "label": labels.get(c, c), "runner_up": float(b.get(c, 0.0)),
             "recommended": float(a.get(c, 0.0)), "delta": float(a.get(c, 0.0)) - float(b.get(c, 0.0))}
            for c in CASH if c in a or c in b]
    pen = [{"penalty": "unmet demand", "runner_up": run.unmet_penalty_cost, "recommended": rec.unmet_penalty_cost},
           {"penalty": "share target", "runner_up": run.target_penalty, "recommended": rec.target_penalty}]
    return rows, pen


def two_strategy_base(base: Base, keep: Sequence[str]) -> Base:
    """The base with only the strategies ``keep`` (their rows of ``strategies``): break-evens then
    re-solve those two alone."""
    rt = base.raw.tables.get("strategies")
    if rt is None:
        return base
    col = rt.header.index("strategy_id") if "strategy_id" in rt.header else 0
    wanted = {k.strip().lower() for k in keep}
    rows = tuple((n, v) for n, v in rt.rows if str(v[col] if col < len(v) else "").strip().lower() in wanted)
    raw = RawTables(base.raw.source, base.raw.kind, {**base.raw.tables, "strategies": replace(rt, rows=rows)},
                    base.raw.problems)
    inst = replace(base.instance, strategies={k: v for k, v in base.instance.strategies.items() if k in keep})
    return Base(raw, inst)


@dataclass(frozen=True)
class Search:
    """One break-even search: a parameter over [low, high] (kind absolute or multiplier)."""

    parameter: str
    low: float
    high: float
    kind: str
    source: str  # "deal option" | "sensitivity row N"
    current: float | None
    note: str = ""
    #: The runner-up's expected NPV when it cannot move over the range (a dearer deal it does not take):
    #: then only the recommended strategy is re-solved (:func:`one_sided`).
    runner_npv: float | None = None


def deal_searches(base: Base, comp: Comparison, rec: str, run: str, margin: float,
                  runner_npv: float) -> tuple[list[Search], list[dict]]:
    """The cost terms of the deals taken by exactly one of the two plans; rows for the ones taken by both."""
    taken = {k: set(filter(None, (x.strip() for x in str(comp.stochastic.set_index("strategy").loc[k, "options_taken"]
                                                          ).split(",")))) for k in (rec, run)}
    skipped = []
    searches = []
    for o in sorted(taken[rec] | taken[run]):
        opt = next(x for x in base.instance.options if x.id == o)
        for term in COST_TERMS:
            p = f"options.{term}[{o}]"
            v = float(getattr(opt, term))
            why = None
            if o in taken[rec] and o in taken[run]:
                why = (f"{o} is taken by both {rec} and {run}: its {term.replace('_', ' ')} moves both alike while "
                       f"both keep it (not searched)")
            elif o in taken[rec]:  # only a dearer deal can cost the recommended strategy its lead
                searches.append(Search(p, v, v + 2 * max(margin, 1.0), "absolute", "deal option", v,
                                       runner_npv=runner_npv))
            elif v > 0:  # only a cheaper deal can lift the runner-up
                searches.append(Search(p, 0.0, v, "absolute", "deal option", v))
            else:
                why = f"{o} is taken by {run} only and its {term.replace('_', ' ')} is already 0 (not searched)"
            if why is not None:
                skipped.append({"parameter": p, "kind": "absolute", "low": None, "high": None, "current": v,
                                "source": "deal option", "note": "", "runner_up": run, "value": None,
                                "method": "not searched", "before": None, "after": None, "flips": False,
                                "sentence": why, "solves": 0})
    return searches, skipped


def sensitivity_searches(base: Base, tornado: Any, rec: str, run: str) -> list[Search]:
    """The sensitivity rows whose range can flip rec and runner-up (see the module)."""
    from .sensitivity import current_numbers  # noqa: PLC0415

    out = []
    for row in tornado.rows:
        def d(point: Any) -> float:
            a, b = point.npv.get(rec), point.npv.get(run)
            if a is None:
                return -math.inf
            return math.inf if b is None else a - b

        r: Range = row.range
        lo_d, hi_d = d(row.low), d(row.high)
        src = f"sensitivity row {r.row}" if r.row is not None else "sensitivity"
        vals = [1.0] if r.kind == "multiplier" else current_numbers(base, r.parameter)
        now = vals[0] if len(vals) == 1 else None
        if (lo_d > 0) != (hi_d > 0):
            out.append(Search(str(r.parameter), r.low, r.high, r.kind, src, now, r.note))
        elif lo_d <= 0 and hi_d <= 0:
            if len(vals) == 1 and r.low < vals[0] < r.high:
                out += [Search(str(r.parameter), r.low, vals[0], r.kind, src, vals[0], r.note),
                        Search(str(r.parameter), vals[0], r.high, r.kind, src, vals[0], r.note)]
    return out


def run_search(base: Base, s: Search, rec: str, run: str, options: SolveOptions) -> dict[str, Any]:
    """One break-even search as a plain row (what a worker process hands back)."""
    row = {"parameter": s.parameter, "kind": s.kind, "low": s.low, "high": s.high, "current": s.current,
           "source": s.source, "note": s.note, "runner_up": run}
    cur = base.instance.currency
    if s.runner_npv is not None:
        return row | one_sided(base, s, rec, run, options)
    be = breakeven(base, parse_parameter(s.parameter), rec, run, s.low, s.high, s.kind, options)
    c = be.breakeven
    return row | {"value": c.value, "method": c.method, "before": c.before, "after": c.after,
                  "flips": c.value is not None, "sentence": _search_sentence(s, c.value, c.method, rec, run, cur,
                                                                              c.before, None),
                  "solves": be.solves}


def _search_sentence(s: Search, value: float | None, method: str, rec: str, run: str, cur: str, before: str | None,
                     const: float | None) -> str:
    w = (lambda v: value_words(s.parameter, s.kind, v, cur))  # noqa: E731
    if value is None:
        return f"no break-even in [{w(s.low)}, {w(s.high)}] between {rec} and {run}: {before} is ahead over the " \
               f"whole range"
    tail = f" ({run} does not take the deal: its NPV stays {_m(const, cur)})" if const is not None else ""
    return f"{rec} and {run} break even at {s.parameter} = {w(value)}, found by {method}{tail}"


def one_sided(base: Base, s: Search, rec: str, run: str, options: SolveOptions) -> dict[str, Any]:
    """The break-even when the runner-up's NPV is the constant ``s.runner_npv`` over the range (a deal
    the runner-up does not take, only made dearer: its plan and NPV stay): D(p) = NPV_rec(p) − C,
    searched as :func:`optimiser.sensitivity.breakeven` searches (exact where linear, else secant and
    bisection), re-solving the recommended strategy alone — half the solves of a two-strategy search."""
    from .sensitivity import (bisect_root, Evaluator, for_npv, integer_mid, linear_root,  # noqa: PLC0415
                              REL_TOLERANCE, objective_linear, same_plan)

    param = parse_parameter(s.parameter)
    const = float(s.runner_npv)  # type: ignore[arg-type]
    ev = Evaluator(two_strategy_base(base, [rec]), param, s.kind, [rec], for_npv(options), True, None)
    klass: list[bool | None] = [None]

    def linear() -> bool:
        if klass[0] is None:
            mid = integer_mid(param, s.kind, s.low, s.high)
            klass[0] = mid is not None and objective_linear(ev.at(s.low).compiled, ev.at(mid).compiled,
                                                            ev.at(s.high).compiled)
        return bool(klass[0])

    def d(p: Any) -> float:
        v = p.npv.get(rec)
        return -math.inf if v is None else v - const

    c = bisect_root(ev, param, s.kind, s.low, s.high, REL_TOLERANCE * max(s.high - s.low, 1e-12), linear, d,
                lambda pl, ph: linear_root(d(pl), d(ph), pl.value, ph.value) if same_plan(pl, ph, rec) else None)
    lead = {p.value: (rec if d(p) >= 0 else run) for p in ev.points.values()}
    before, after = lead[s.low], lead[s.high]
    sentence = _search_sentence(s, c.value, c.method, rec, run, base.instance.currency, before, const)
    return {"value": c.value, "method": c.method, "before": before, "after": after, "flips": c.value is not None,
            "sentence": sentence, "solves": ev.solves}


def _search_worker(args: tuple[Base, Search, str, str, SolveOptions]) -> dict[str, Any]:
    return run_search(*args)


def run_searches(base: Base, searches: Sequence[Search], rec: str, run: str, options: SolveOptions,
                 workers: int) -> list[dict[str, Any]]:
    """Every search, in order; in a spawned process pool when ``workers`` > 1 and there are several."""
    args = [(base, s, rec, run, options) for s in searches]
    if workers <= 1 or len(args) <= 1:
        return [_search_worker(a) for a in args]
    from .isolation import deaf_to_ctrl_c, pool_worker_init  # noqa: PLC0415

    with deaf_to_ctrl_c():
        pool = ProcessPoolExecutor(max_workers=min(workers, len(args)), mp_context=get_context("spawn"),
                                   initializer=pool_worker_init)
    with pool:
        return list(pool.map(_search_worker, args))


# ------------------------------------------------------------------ words

def _deal_words(base: Base, options_taken: str) -> str:
    names = {o.id: o.name or o.id for o in base.instance.options}
    ids = [x.strip() for x in options_taken.split(",") if x.strip()]
    return "; ".join(f"{names[o]} ({o})" if names.get(o, o).lower() != o.lower() else o for o in ids) or "no deal"


_TERMS = {"upfront_cost": "the upfront cost", "annual_cost": "the annual cost"}


def _change_sentence(base: Base, b: dict[str, Any], rec: str, cur: str) -> str | None:
    """E.g. "buy wins only if the upfront cost of Buy the lines (buy) falls below 400 USD (now 500 USD)."."""
    if b["value"] is None:
        return None
    p = parse_parameter(b["parameter"])
    deal = p.table == "options" and p.column in _TERMS and b["kind"] == "absolute" and p.selector
    rises = b["before"] == rec  # rec leads at the low end: it loses above the value
    if deal:
        oid = p.selector[0]
        name = next((o.name for o in base.instance.options if o.id.lower() == oid.lower()
                     and o.name and o.name.lower() != oid.lower()), None)
        what = f"{_TERMS[p.column]} of {name} ({oid})" if name else f"{_TERMS[p.column]} of {oid}"
        at, now = _m(b["value"], cur), f" (now {_m(b['current'], cur)})" if b.get("current") is not None else ""
    else:
        what = b["parameter"] + (f" ({b['note']})" if b.get("note") else "")
        at = value_words(b["parameter"], b["kind"], b["value"], cur) + (" today's values" if b["kind"] == "multiplier"
                                                                         else "")
        now = (f" (now {value_words(b['parameter'], b['kind'], b['current'], cur)})"
               if b.get("current") is not None and b["kind"] == "absolute" else "")
    return f"{b['runner_up']} wins only if {what} {'rises above' if rises else 'falls below'} {at}{now}."


def caveats(base: Base, comp: Comparison) -> list[str]:
    inst = base.instance
    tv = {"none": "no terminal value: cash after the last year counts for nothing (a long-lived asset is "
                  "undervalued)"}.get(inst.terminal_value, f"terminal value after {inst.last_year}: "
                                                            f"{inst.terminal_value} method, growth "
                                                            f"{inst.terminal_growth:.1%}")
    out = [f"Horizon {inst.first_year}–{inst.last_year} ({len(inst.years)} years), discounted at "
           f"{inst.discount_rate:.1%} a year; money in {inst.currency}, millions (M) in the tables.",
           tv[0].upper() + tv[1:] + ".",
           f"Tax on profit at {inst.tax_rate:.0%}." if inst.tax_rate else "No tax on profit (tax rate 0).",
           f"{len(comp.scenarios)} demand scenarios with the given probabilities; deals, builds and tooling are "
           "decided before demand is known, production after.",
           "Not modelled: financing and interest, exchange-rate moves, competitors' reactions, scenarios beyond "
           "those listed; penalties (unmet demand, share target) steer the plans but are not cash and are "
           "not in the NPVs."]
    if comp.scenario_note:
        out.append(comp.scenario_note)
    return out


# ------------------------------------------------------------------ the decision

def decide(base: Base, options: SolveOptions | None = None, workers: int | None = 1,
           progress: Any = None) -> Decision:
    """Compare, tornado, break-evens (see the module) → :class:`Decision`."""
    import os  # noqa: PLC0415

    from .tornado import tornado as _tornado  # noqa: PLC0415

    opts = options or SolveOptions()
    n = workers if workers is not None else (os.cpu_count() or 1)
    ranges = sensitivity_ranges(base)
    for r in ranges:  # a range that breaks the instance fails before any solve
        base.check(r.change(r.low))
        base.with_changes([r.change(r.low)])
        base.with_changes([r.change(r.high)])
    comp = compare(base.instance, options=opts, workers=n, progress=progress)
    cur = comp.currency
    table = strategy_table(comp)
    rec = comp.recommendation.get("expected")
    if rec is None:
        raise InputError("no strategy has a plan: nothing to recommend (see `optimiser compare`)")
    run = runner_up(table, rec)
    by = {r["strategy"]: r for r in table}
    rows, pen = ([], [])
    if run is not None and rec in comp.plans and run in comp.plans:
        rows, pen = bridge(comp.plans[rec], comp.plans[run])
    margin = by[rec]["expected_npv"] - by[run]["expected_npv"] if run is not None else None

    torn = None
    if ranges:
        torn = _tornado(base, ranges, opts, workers=n)
    breakevens: list[dict[str, Any]] = []
    if run is not None:
        searches, skipped = deal_searches(base, comp, rec, run, margin or 0.0, by[run]["expected_npv"])
        if torn is not None:
            searches += sensitivity_searches(base, torn, rec, run)
        two = two_strategy_base(base, [rec, run])
        breakevens = run_searches(two, searches, rec, run, opts, n) + skipped

    headline = f"Recommended: {rec} — {_deal_words(base, by[rec]['options_taken'])}."
    why = [f"Expected cash NPV {_m(by[rec]['expected_npv'], cur)}"
           + (f", {_m(margin, cur)} ahead of the runner-up {run} ({_m(by[run]['expected_npv'], cur)})." if run
              else " (no other strategy has a plan).")]
    for key, col, words in (("worst_case", "worst_case", "the best worst case"),
                            ("minimax_regret", "max_regret", "the smallest maximum regret")):
        who = comp.recommendation.get(key)
        if who == rec:
            why.append(f"It also has {words} ({_m(by[rec][col], cur)}).")
        elif who:
            why.append(f"{who} has {words} instead ({_m(by[who][col], cur)}).")
    if rows:
        top = sorted(rows, key=lambda r: -abs(r["delta"]))[:2]
        parts = [f"{r['label']} {'+' if r['delta'] >= 0 else '−'}{_m(abs(r['delta']), cur)}" for r in top]
        why.append(f"Biggest differences from {run}: " + "; ".join(parts) + ".")
    flex = []
    for f in comp.flexibility:
        taken = ", ".join(f"{s} in {y}" for s, y in f["year_taken"].items() if y is not None) or "in no scenario"
        flex.append({**f, "taken": taken})
        if f["value"] is not None:
            why.append(f"Keeping {f['option_id']} open (decided later) is worth {_m(f['value'], cur)}; the optimum "
                       f"takes it: {taken}.")
    changes = [s for s in (_change_sentence(base, b, rec, cur) for b in breakevens) if s]
    if not changes:
        searched = [b for b in breakevens if b["method"] != "not searched"]
        changes = [f"No deal cost or sensitivity range searched ({len(searched)}) flips the answer to {run}."
                   if run else "No runner-up: nothing to flip to."]
    value_sentences = []
    if comp.evpi is not None:
        value_sentences.append(f"EVPI {_m(comp.evpi, cur)}: the most that knowing demand in advance would be worth.")
    if comp.vss is not None:
        value_sentences.append(f"VSS {_m(comp.vss, cur)}: what planning for the range of scenarios earns over "
                               f"planning for average demand.")
    return Decision(instance=comp.instance, currency=cur, recommended=rec, runner_up=run, headline=headline, why=why,
                    changes=changes, caveats=caveats(base, comp), strategies=table, bridge=rows, penalties=pen,
                    breakevens=breakevens, tornado=None if torn is None else _tornado_json(torn),
                    flexibility=flex, evpi=comp.evpi, vss=comp.vss, value_sentences=value_sentences, comparison=comp)


def _tornado_json(t: Any) -> dict[str, Any]:
    d = t.as_dict()
    d.pop("seconds", None)
    return d
