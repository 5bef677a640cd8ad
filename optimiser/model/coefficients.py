"""NPV coefficients: what one unit of every decision is worth, split by category.

The one place money enters the model. The objective (:mod:`.objective`), the result tables
(``results.extract``) and PH's ρ (``ph.first_stage_costs``) all read their coefficients here,
so they cannot drift apart.

A **yearly cash amount** ``a`` arising in year ``t`` (revenue, variable cost, tolls, logistics,
duties, outside purchases, fixed and idle cost, an option's annual cost) is worth, in NPV::

    own category        δ_t · a
    tax                 − tax_rate · δ_t · a
    terminal_value      [t = last_year] · (1 − tax_rate) · a · δ_last · (1+g)/(r−g)   (perpetuity only)

A **capex** ``K`` spent in year ``τ`` with life ``n`` (build, tooling, option upfront) is worth::

    own category        − δ_τ · K
    tax                 + tax_rate · Σ_{t=τ}^{min(τ+n−1, last_year)} δ_t · K/n      (depreciation shield)
    terminal_value      + δ_last · K · max(0, 1 − (last_year − τ + 1)/n)          (book only)
                        + [last_year ≤ τ+n−1] · δ_last · (1+g)/(r−g) · tax_rate · K/n
                          (perpetuity only: the last year's shield is in CF_after_tax[last], §2–§3)

Weights (not cash): ``unmet_penalty`` at ``δ_t``, untaxed; the share-target penalty undiscounted.
Cash amounts that arise at a factory are multiplied by its ``equity_share`` (§4).

Every term is linear in the decisions, so the objective coefficient of a variable is the sum of
its categories. The objective uses :attr:`Family.total` (the same floating-point operations as
before the economics columns existed when they are at their defaults: an unchanged optimum).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .sets import ModelData

#: NPV categories: cash first (their sum is the cash NPV), then the weights.
CASH = ("revenue", "variable_cost", "partner_fees", "logistics", "duties", "external_purchases", "fixed_cost",
        "idle_cost", "capex", "tooling", "deal_costs", "tax", "terminal_value")
WEIGHTS = ("unmet_penalty", "share_penalty")
#: Yearly cash categories (their sum in a year, before tax, is the operating cash flow).
OPERATING = ("revenue", "variable_cost", "partner_fees", "logistics", "duties", "external_purchases", "fixed_cost",
             "idle_cost")


@dataclass(frozen=True)
class Family:
    """The objective coefficients of one second-stage variable over its index (not probability-weighted).

    ``amounts[cat][k]`` is the undiscounted, before-tax money of one unit of ``index[k]`` in its year;
    ``by_category[cat][k]`` is its NPV part in ``cat`` (``tax`` and ``terminal_value`` included);
    ``total[k]`` is the objective coefficient (Σ of ``by_category``).
    """

    var: str
    index: tuple
    years: np.ndarray
    amounts: dict[str, np.ndarray]
    by_category: dict[str, np.ndarray]
    total: np.ndarray


@dataclass
class FirstStage:
    """Objective coefficients of ``take``, ``build``, ``tool`` (by key, by category) and the constant term
    (idle cost of existing lines, the same in every scenario)."""

    by_category: dict[str, dict[Any, dict[str, float]]] = field(default_factory=dict)
    total: dict[str, dict[Any, float]] = field(default_factory=dict)
    constant: dict[str, float] = field(default_factory=dict)

    @property
    def constant_total(self) -> float:
        return float(sum(self.constant.values()))


def last_year(md: ModelData) -> int:
    return md.years[-1]


def yearly(md: ModelData) -> dict[str, dict[int, float]]:
    """Multipliers of a before-tax yearly cash amount, by year: ``own``, ``tax``, ``terminal_value``, ``total``."""
    rate, last = md.tax_rate, last_year(md)
    own = dict(md.delta)
    tax = {t: -rate * d for t, d in own.items()}
    tv = {t: ((1.0 - rate) * own[last] * md.perpetuity if (t == last and md.perpetuity) else 0.0) for t in own}
    total = {t: own[t] * (1.0 - rate) + tv[t] for t in own}
    return {"own": own, "tax": tax, "terminal_value": tv, "total": total}


def capex(md: ModelData, year: int, life: int) -> dict[str, float]:
    """NPV of spending 1 in ``year`` on an asset of ``life`` years: ``own`` (−δ), ``tax``, ``terminal_value``, ``total``."""
    last = last_year(md)
    own = -md.delta[year]
    tax = md.tax_rate * sum(md.delta[t] for t in range(year, min(year + life - 1, last) + 1)) / life \
        if md.tax_rate else 0.0
    tv = md.delta[last] * max(0.0, 1.0 - (last - year + 1) / life) if md.terminal_value == "book" else 0.0
    if md.perpetuity and md.tax_rate and last - year + 1 <= life:
        # CF_after_tax[last] (§2) = CF_before − rate·(CF_before − depreciation[last]) (§3): the last year's
        # depreciation shield is part of the cash flow that continues for ever
        tv = md.delta[last] * md.perpetuity * md.tax_rate / life
    return {"own": own, "tax": tax, "terminal_value": tv, "total": own + tax + tv}


def tooling_year(md: ModelData, p: str, l: str | None = None) -> int:
    """Tooling is paid in the programme's first year (clipped to the horizon); on a line gated by a
    later option, not before the option can be taken: max(first_year(p), decide_from(o))."""
    if l is not None and (p, l) in md.tool_year:
        return md.tool_year[(p, l)]
    return min(max(md.tooling_year[p], md.first_year), md.years[-1])


def _family(md: ModelData, var: str, index: tuple, t_at: int, amounts: dict[str, Any],
            total_amount: Any, mult: dict[str, dict[int, float]] | None) -> Family:
    """``mult`` None: a weight discounted at δ_t only (no tax, no terminal value)."""
    years = np.fromiter((k[t_at] for k in index), dtype=np.int64, count=len(index))
    am = {c: np.asarray(v, dtype=np.float64) for c, v in amounts.items()}
    tot = np.asarray(total_amount, dtype=np.float64)
    first = md.years[0]

    def lookup(table: dict[int, float]) -> np.ndarray:
        arr = np.array([table[t] for t in md.years], dtype=np.float64)
        return arr[years - first] if len(years) else np.empty(0)

    if mult is None:
        d = lookup(md.delta)
        return Family(var, index, years, am, {c: a * d for c, a in am.items()}, tot * d)
    own, tax, tv, total = (lookup(mult[k]) for k in ("own", "tax", "terminal_value", "total"))
    by = {c: a * own for c, a in am.items()}
    if md.tax_rate:
        by["tax"] = tot * tax
    if md.perpetuity:
        by["terminal_value"] = tot * tv
    return Family(var, index, years, am, by, tot * total)


def second_stage(md: ModelData) -> list[Family]:
    """Coefficients of ``ship``, ``make``, ``extbuy``, ``unmet``, ``running`` (in that order)."""
    mult = yearly(md)
    share = md.equity_share
    fac = md.line_factory
    out = []
    # ship[p,f,m,t,s]: revenue − freight − duty, at the shipping factory's share
    idx = md.ship_index
    n = len(idx)
    value, pf, price, route = md.ship_value, md.price_factor, md.price, md.route
    e = np.fromiter((share.get(k[1], 1.0) for k in idx), dtype=np.float64, count=n)
    pr = np.fromiter((price[(k[0], k[3])] * pf[k[4]] for k in idx), dtype=np.float64, count=n)
    cost = np.fromiter((route.get((k[1], k[2]), (0.0, 0.0))[0] for k in idx), dtype=np.float64, count=n)
    tariff = np.fromiter((route.get((k[1], k[2]), (0.0, 0.0))[1] for k in idx), dtype=np.float64, count=n)
    tot = e * np.fromiter((value[k] for k in idx), dtype=np.float64, count=n)
    out.append(_family(md, "ship", idx, 3, {"revenue": e * pr, "logistics": -e * cost, "duties": -e * tariff * pr},
                       tot, mult))
    # make[p,l,t,s]: unit cost and toll, at the line's factory's share
    idx = md.make_index
    n = len(idx)
    cost_of, fee, unit_cost = md.make_cost, md.unit_fee, md.unit_cost
    line_share = {l: share.get(f, 1.0) for l, f in fac.items()}
    e = np.fromiter((line_share[k[1]] for k in idx), dtype=np.float64, count=n)
    uc = np.fromiter((unit_cost[(k[0], k[1])] for k in idx), dtype=np.float64, count=n)
    fees = np.fromiter((fee.get(k[1], 0.0) for k in idx), dtype=np.float64, count=n)
    tot = -(e * np.fromiter((cost_of[(k[0], k[1])] for k in idx), dtype=np.float64, count=n))
    out.append(_family(md, "make", idx, 2, {"variable_cost": -(e * uc), "partner_fees": -(e * fees)}, tot, mult))
    # extbuy[c,t,s]: the outside price of the year (the planner's own money: not scaled)
    idx = md.extbuy_index
    ext = [-md.external_price_year.get((k[0], k[1]), md.external_price[k[0]]) for k in idx]
    out.append(_family(md, "extbuy", idx, 1, {"external_purchases": ext}, ext, mult))
    # unmet[p,m,t,s]: a weight
    idx = md.demand_index
    pen = [-md.unmet_penalty[k[0]] for k in idx]
    out.append(_family(md, "unmet", idx, 2, {"unmet_penalty": pen}, pen, None))
    # running[l,t,s]: fixed cost when it runs; an available line that runs does not pay idle cost
    idx = md.active_index
    fc, idle, tot = [], [], []
    for k in idx:
        l = k[0]
        e = share.get(fac[l], 1.0)
        fc.append(-e * md.fixed_cost[l])
        idle.append(e * md.idle_cost.get(l, 0.0))
        tot.append(-(e * md.fixed_cost[l]) + e * md.idle_cost.get(l, 0.0))
    amounts = {"fixed_cost": fc}
    if md.idle_cost:
        amounts["idle_cost"] = idle
    out.append(_family(md, "running", idx, 1, amounts, tot, mult))
    return out


def share_penalty(md: ModelData) -> float:
    """Coefficient of ``short[s]`` (a weight, undiscounted): −share_penalty."""
    return -(md.share_penalty or 0.0)


def _add(target: dict[str, float], parts: dict[str, float], scale: float, own_category: str) -> None:
    for k, v in parts.items():
        if k == "total" or not v:
            continue
        cat = own_category if k == "own" else k
        target[cat] = target.get(cat, 0.0) + scale * v


def first_stage(md: ModelData) -> FirstStage:
    """Coefficients of ``take[o]``, ``build[l,τ]``, ``tool[p,l]`` and the constant (idle cost of
    existing lines that need no deal): capex, annual option costs and idle cost of the years a line is
    available (economics.md §7: avail = 1 for an existing line, ``take[o]`` for a gated one,
    Σ_{τ+lead≤t} build[l,τ] for a candidate)."""
    mult = yearly(md)
    years_total = mult["total"]
    share = md.equity_share
    fac = md.line_factory
    out = FirstStage(by_category={"take": {}, "build": {}, "tool": {}}, total={"take": {}, "build": {}, "tool": {}})

    def idle_parts(l: str, years: Any) -> dict[str, float]:
        """NPV parts of paying line l's idle cost in ``years`` (at its share)."""
        a = share.get(fac[l], 1.0) * md.idle_cost[l]
        parts: dict[str, float] = {}
        for t in years:
            for k in ("own", "tax", "terminal_value"):
                if mult[k][t]:
                    cat = "idle_cost" if k == "own" else k
                    parts[cat] = parts.get(cat, 0.0) - a * mult[k][t]
        return parts

    first = md.first_year
    annuity_total = sum(years_total.values())
    gated_idle: dict[str, list[str]] = {}
    for l in md.idle_cost:
        if l in md.candidates or l in md.line_copy:  # (a copy's idle cost is in takeyear: see takeyear())
            continue
        if l in md.requires_option:
            gated_idle.setdefault(md.requires_option[l], []).append(l)
        else:
            for cat, v in idle_parts(l, md.live_years.get(l, ())).items():
                out.constant[cat] = out.constant.get(cat, 0.0) + v
    for o in md.options:
        parts: dict[str, float] = {}
        if o in md.later:  # paid per scenario, through takeyear
            out.by_category["take"][o] = parts
            out.total["take"][o] = 0.0
            continue
        up = capex(md, first, md.option_life.get(o, 10))
        _add(parts, up, md.upfront_cost[o], "deal_costs")
        if md.annual_cost[o]:
            for t in md.years:
                _add(parts, {k: mult[k][t] for k in ("own", "tax", "terminal_value")}, -md.annual_cost[o], "deal_costs")
        for l in gated_idle.get(o, ()):
            for cat, v in idle_parts(l, md.live_years.get(l, ())).items():
                parts[cat] = parts.get(cat, 0.0) + v
        out.by_category["take"][o] = parts
        total = -(annuity_total * md.annual_cost[o] + (-up["total"]) * md.upfront_cost[o])
        for l in gated_idle.get(o, ()):
            total += -(share.get(fac[l], 1.0) * md.idle_cost[l]) * sum(years_total[t] for t in md.live_years.get(l, ()))
        out.total["take"][o] = total
    for (l, tau) in md.build_index:
        parts = {}
        e = share.get(fac[l], 1.0)
        cx = capex(md, tau, md.line_life.get(l, 10))
        _add(parts, cx, e * md.build_cost[l], "capex")
        total = cx["total"] * (e * md.build_cost[l])
        if l in md.idle_cost:
            ready = [t for t in md.live_years.get(l, ()) if t >= tau + md.lead_time[l]]
            idle = idle_parts(l, ready)
            for cat, v in idle.items():
                parts[cat] = parts.get(cat, 0.0) + v
            total += -(e * md.idle_cost[l]) * sum(years_total[t] for t in ready)
        out.by_category["build"][(l, tau)] = parts
        out.total["build"][(l, tau)] = total
    for (p, l) in md.tool_index:
        e = share.get(fac[l], 1.0)
        cx = capex(md, tooling_year(md, p, l), md.line_life.get(l, 10))
        parts = {}
        _add(parts, cx, e * md.tooling_cost[(p, l)], "tooling")
        out.by_category["tool"][(p, l)] = parts
        out.total["tool"][(p, l)] = cx["total"] * (e * md.tooling_cost[(p, l)])
    return out


def takeyear(md: ModelData) -> tuple[dict[tuple[str, int, str], dict[str, float]], dict[tuple[str, int, str], float]]:
    """Coefficients of takeyear[o,τ,s] (a later option taken in τ in scenario s; not probability-weighted),
    by category and in total: upfront as capex at τ (the option's life), the annual cost in every year it
    is held (t ≥ τ), and the idle cost of its existing lines' copies in s in the years they are held."""
    mult = yearly(md)
    share, fac = md.equity_share, md.line_factory
    idle_lines: dict[tuple[str, str], list[str]] = {}
    for c, (_, s) in md.line_copy.items():
        if c in md.idle_cost and c not in md.candidates:
            idle_lines.setdefault((md.requires_option[c], s), []).append(c)
    by: dict[tuple[str, int, str], dict[str, float]] = {}
    total: dict[tuple[str, int, str], float] = {}
    for (o, tau, s) in md.takeyear_index:
        parts: dict[str, float] = {}
        up = capex(md, tau, md.option_life.get(o, 10))
        _add(parts, up, md.upfront_cost[o], "deal_costs")
        tot = up["total"] * md.upfront_cost[o]
        held = [t for t in md.years if t >= tau]
        for t in held:
            _add(parts, {k: mult[k][t] for k in ("own", "tax", "terminal_value")}, -md.annual_cost[o], "deal_costs")
            tot += -md.annual_cost[o] * mult["total"][t]
        for c in idle_lines.get((o, s), ()):
            a = share.get(fac[c], 1.0) * md.idle_cost[c]
            for t in md.live_years.get(c, ()):
                if t >= tau:
                    _add(parts, {k: mult[k][t] for k in ("own", "tax", "terminal_value")}, -a, "idle_cost")
                    tot += -a * mult["total"][t]
        by[(o, tau, s)] = parts
        total[(o, tau, s)] = tot
    return by, total


def depreciation(md: ModelData, year: int, life: int) -> dict[int, float]:
    """Straight-line depreciation of 1 spent in ``year``: 1/life in each of ``year … year+life−1`` inside the horizon."""
    return {t: 1.0 / life for t in range(year, min(year + life - 1, last_year(md)) + 1)}


def book_residual(md: ModelData, year: int, life: int) -> float:
    """What is left at the end of the horizon of 1 spent in ``year``: max(0, 1 − (last − year + 1)/life)."""
    return max(0.0, 1.0 - (last_year(md) - year + 1) / life)


def plan_flows(md: ModelData, chosen: dict[str, dict[Any, float]], scenario: str | None = None
               ) -> dict[int, dict[str, float]]:
    """Undiscounted money of a first-stage plan by year (``chosen``: ``take``/``build``/``tool``/``takeyear`` → 1
    where taken; with a ``scenario``, its own later options and line copies count too):
    operating ``deal_costs`` (annual option costs) and ``idle_cost`` (negative), ``capex`` (spend, negative:
    builds, tooling, option upfront), ``depreciation`` (positive) and ``book_value`` (at last_year)."""
    share, fac = md.equity_share, md.line_factory
    out: dict[int, dict[str, float]] = {t: {} for t in md.years}
    last = last_year(md)

    def add(t: int, key: str, v: float) -> None:
        if v:
            out[t][key] = out[t].get(key, 0.0) + v

    def spend(year: int, life: int, amount: float) -> None:
        add(year, "capex", -amount)
        for t, d in depreciation(md, year, life).items():
            add(t, "depreciation", amount * d)
        add(last, "book_value", amount * book_residual(md, year, life))

    def idle(l: str, years: Any) -> None:
        for t in years:
            add(t, "idle_cost", -share.get(fac[l], 1.0) * md.idle_cost[l])

    def mine(l: str) -> bool:
        return l not in md.line_copy or md.line_copy[l][1] == scenario

    taken = {o for o, x in chosen.get("take", {}).items() if x > 0.5 and o not in md.later}
    held: dict[str, int] = {}
    for (o, tau, s), x in chosen.get("takeyear", {}).items():
        if x > 0.5 and s == scenario:
            held[o] = tau
            spend(tau, md.option_life.get(o, 10), md.upfront_cost[o])
            for t in md.years:
                if t >= tau:
                    add(t, "deal_costs", -md.annual_cost[o])
    for o in md.options:
        if o in taken:
            spend(md.first_year, md.option_life.get(o, 10), md.upfront_cost[o])
            for t in md.years:
                add(t, "deal_costs", -md.annual_cost[o])
    built = {k for k, x in chosen.get("build", {}).items() if x > 0.5 and mine(k[0])}
    for (l, tau) in sorted(built):
        spend(tau, md.line_life.get(l, 10), share.get(fac[l], 1.0) * md.build_cost[l])
    for (p, l), x in sorted(chosen.get("tool", {}).items()):
        if x > 0.5 and mine(l):
            spend(tooling_year(md, p, l), md.line_life.get(l, 10), share.get(fac[l], 1.0) * md.tooling_cost[(p, l)])
    for l in md.idle_cost:
        live = md.live_years.get(l, ())
        if not mine(l):
            continue
        if l in md.candidates:
            for (bl, tau) in built:
                if bl == l:
                    idle(l, [t for t in live if t >= tau + md.lead_time[l]])
        elif l in md.line_copy:
            o = md.requires_option[l]
            if o in held:
                idle(l, [t for t in live if t >= held[o]])
        elif l in md.requires_option:
            if md.requires_option[l] in taken:
                idle(l, live)
        else:
            idle(l, live)
    return out
