"""The money of one solve: NPV by category and scenario, the expected breakdown, the weights, cash flow.

Every coefficient comes from :mod:`optimiser.model.coefficients` (the objective's own), applied to
the plan's values (:class:`~optimiser.results_plan.PlanValues`): second-stage categories per
scenario, first-stage ones shared by every scenario (or owned by one, for a later option), and
the undiscounted cash by scenario and year. Categories within the solver's tolerance of 0 are 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .model import coefficients
from .model.sets import ModelData
from .numbers import snap, tolerance
from .results_plan import PlanValues

#: Cash categories of NPV (their sum is the cash NPV: what the plan is worth in money).
NPV_CATEGORIES = (
    ("revenue", "Revenue"),
    ("variable_cost", "Variable cost"),
    ("partner_fees", "Partner tolls (unit fees)"),
    ("logistics", "Logistics"),
    ("duties", "Duties"),
    ("external_purchases", "Components bought outside"),
    ("fixed_cost", "Line fixed costs"),
    ("idle_cost", "Idle lines (available, not running)"),
    ("capex", "Line builds (capex)"),
    ("tooling", "Tooling"),
    ("deal_costs", "Deal costs (upfront + annual)"),
    ("tax", "Tax (after depreciation)"),
    ("terminal_value", "Terminal value (after the horizon)"),
)
#: Weights the solver also maximises against (planner priorities, not cash): objective = NPV + these.
WEIGHT_CATEGORIES = (
    ("unmet_penalty", "Unmet-demand penalty (weight, not cash)"),
    ("share_penalty", "Share-target penalty (weight, not cash)"),
)


@dataclass(frozen=True)
class Money:
    """The money tables of one solve and the tolerance its figures were snapped to."""

    npv_by_scenario: pd.DataFrame
    npv_breakdown: pd.DataFrame
    #: Expected cash NPV (Σ of npv_breakdown), and the weights as positive amounts subtracted.
    npv: float
    unmet_penalty_cost: float
    target_penalty: float
    cash_flow: pd.DataFrame
    #: A figure within this of 0 is 0 (the solver's tolerance at the size of the breakdown).
    tol: float


def money_tables(pv: PlanValues) -> Money:
    """NPV by category, per scenario (second stage) and shared (first stage), from model/coefficients;
    expected over the scenarios: E[x] = Σ_s π_s · x_s."""
    md, b = pv.md, pv.b
    pi = md.probability
    take, build, tool, active, takeyear = pv["take"], pv["build"], pv["tool"], pv["running"], pv["takeyear"]
    ship, make, extbuy, unmet, short = pv["ship"], pv["make"], pv["extbuy"], pv["unmet"], pv["short"]
    values = {"ship": ship, "make": make, "extbuy": extbuy, "unmet": unmet,
              "running": {k: (1.0 if b(x) else 0.0) for k, x in active.items()}}
    per, flows = npv_by_category(md, values, short)
    chosen = {"take": {o: 1.0 for o in md.options if b(take.get((o,), 1.0 if md.option_fix.get(o) is True else 0.0))},
              "build": {k: 1.0 for k, x in build.items() if b(x)}, "tool": {k: 1.0 for k, x in tool.items() if b(x)}}
    chosen["takeyear"] = {k: 1.0 for k, x in takeyear.items() if b(x)}
    shared, own_s = first_stage_npv(md, chosen)
    cats = [c for c, _ in NPV_CATEGORIES]
    weights = [c for c, _ in WEIGHT_CATEGORIES]
    by_s_rows = []
    for s in md.scenarios:
        row = {"scenario": s, "probability": pi[s]}
        for cat in cats + weights:
            row[cat] = per[s].get(cat, 0.0) + shared.get(cat, 0.0) + own_s[s].get(cat, 0.0)
        row["npv"] = sum(row[c] for c in cats)
        row["objective"] = row["npv"] + sum(row[c] for c in weights)
        by_s_rows.append(row)
    npv_by_scenario = pd.DataFrame(by_s_rows, columns=["scenario", "probability", *cats, "npv", *weights, "objective"])
    br_rows = [{"category": cat, "label": label,
                "value": float(sum(pi[s] * npv_by_scenario.loc[i, cat] for i, s in enumerate(md.scenarios)))}
               for cat, label in NPV_CATEGORIES]
    # a category within the solver's tolerance of 0 is 0 (not −3e-09, shown as "-0")
    tol = tolerance(max((abs(r["value"]) for r in br_rows), default=0.0))
    for r in br_rows:
        r["value"] = snap(r["value"], tol)
    for col in ("npv", *(c for c, _ in NPV_CATEGORIES)):
        npv_by_scenario[col] = [snap(float(x), tol) for x in npv_by_scenario[col]]
    npv_breakdown = pd.DataFrame(br_rows, columns=["category", "label", "value"])
    exp_npv = float(sum(r["value"] for r in br_rows))
    unmet_cost = 0.0 - float(sum(pi[s] * npv_by_scenario.loc[i, "unmet_penalty"] for i, s in enumerate(md.scenarios)))
    target_pen = 0.0 - float(sum(pi[s] * npv_by_scenario.loc[i, "share_penalty"] for i, s in enumerate(md.scenarios)))
    cash_flow = cash_flow_table(md, flows, {s: coefficients.plan_flows(md, chosen, s) for s in md.scenarios})
    return Money(npv_by_scenario, npv_breakdown, exp_npv, unmet_cost, target_pen, cash_flow, tol)


def npv_by_category(md: ModelData, values: dict[str, dict[tuple, float]], short: dict[tuple, float]
                     ) -> tuple[dict[str, dict[str, float]], dict[tuple[str, int], dict[str, float]]]:
    """Second-stage NPV by scenario and category (discounted, tax and terminal value included), and the
    undiscounted before-tax cash by (scenario, year) and category — both from model/coefficients."""
    code = {s: i for i, s in enumerate(md.scenarios)}
    n_s, years = len(md.scenarios), md.years
    per: dict[str, dict[str, float]] = {s: defaultdict(float) for s in md.scenarios}
    flows: dict[tuple[str, int], dict[str, float]] = {(s, t): defaultdict(float) for s in md.scenarios for t in years}
    for fam in coefficients.second_stage(md):
        if not fam.index:
            continue
        vals = values[fam.var]
        x = np.fromiter((vals.get(k, 0.0) for k in fam.index), dtype=np.float64, count=len(fam.index))
        scen = np.fromiter((code[k[-1]] for k in fam.index), dtype=np.int64, count=len(fam.index))
        for cat, coef in fam.by_category.items():
            sums = np.bincount(scen, weights=coef * x, minlength=n_s)
            for s, i in code.items():
                per[s][cat] += float(sums[i])
        cell = scen * len(years) + (fam.years - years[0])
        for cat, amount in fam.amounts.items():
            if cat in ("unmet_penalty",):
                continue
            sums = np.bincount(cell, weights=amount * x, minlength=n_s * len(years))
            for s, i in code.items():
                for j, t in enumerate(years):
                    if sums[i * len(years) + j]:
                        flows[(s, t)][cat] += float(sums[i * len(years) + j])
    for (s,), units in short.items():
        per[s]["share_penalty"] += coefficients.share_penalty(md) * units
    return per, flows


def first_stage_npv(md: ModelData, chosen: dict[str, dict[Any, float]]
                     ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """NPV by category of the first-stage plan ``chosen`` (and the constant), shared by every scenario,
    and per scenario what is its own (later options taken there, builds and tooling of its line copies)."""
    fs = coefficients.first_stage(md)
    shared: dict[str, float] = defaultdict(float)
    own: dict[str, dict[str, float]] = {s: defaultdict(float) for s in md.scenarios}
    copy = md.line_copy
    for name, picked in chosen.items():
        if name == "takeyear":
            continue
        for k in picked:
            line = k[0] if name == "build" else (k[1] if name == "tool" else None)
            target = own[copy[line][1]] if line in copy else shared
            for cat, v in fs.by_category[name].get(k, {}).items():
                target[cat] += v
    if chosen.get("takeyear"):
        by, _ = coefficients.takeyear(md)
        for k in chosen["takeyear"]:
            for cat, v in by[k].items():
                own[k[2]][cat] += v
    for cat, v in fs.constant.items():
        shared[cat] += v
    return shared, own


CASH_FLOW_COLUMNS = ("scenario", "year", "revenue", "operating_costs", "operating_cash_flow", "capex", "depreciation",
                     "tax", "terminal_value", "free_cash_flow", "discount_factor")


def cash_flow_table(md: ModelData, flows: dict[tuple[str, int], dict[str, float]],
               plans: dict[str, dict[int, dict[str, float]]]) -> pd.DataFrame:
    """Cash by scenario and year, undiscounted: operating cash flow (before tax), capex when spent, tax on
    (operating − depreciation), the terminal value in the last year; Σ_t δ_t·free_cash_flow = cash NPV_s."""
    rate, last = md.tax_rate, md.years[-1]
    rows = []
    for s in md.scenarios:
        for t in md.years:
            f, pl = flows[(s, t)], plans[s][t]
            revenue = f.get("revenue", 0.0)
            op = sum(f.values()) + pl.get("deal_costs", 0.0) + pl.get("idle_cost", 0.0)
            dep = pl.get("depreciation", 0.0)
            tax = -rate * (op - dep) if rate else 0.0
            tv = 0.0
            if t == last:
                if md.terminal_value == "perpetuity":
                    tv = (op + tax) * md.perpetuity  # CF_after_tax[last] = CF_before − tax (§2–§3)
                elif md.terminal_value == "book":
                    tv = pl.get("book_value", 0.0)
            capex = pl.get("capex", 0.0)
            rows.append({"scenario": s, "year": t, "revenue": revenue, "operating_costs": op - revenue,
                         "operating_cash_flow": op, "capex": capex, "depreciation": dep, "tax": tax,
                         "terminal_value": tv, "free_cash_flow": op + capex + tax + tv, "discount_factor": md.delta[t]})
    return pd.DataFrame(rows, columns=list(CASH_FLOW_COLUMNS))
