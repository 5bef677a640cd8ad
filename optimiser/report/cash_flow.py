"""The Cash flow sheet: undiscounted money of each year, expected over the scenarios and by scenario."""

from __future__ import annotations

from ..finance import expected_cash_flow
from .context import Ctx
from .sheet import Sheet


def cash_flow_sheet(sh: Sheet, ctx: Ctx) -> None:
    res, cur = ctx.results, ctx.cur
    sh.title("Cash flow by year",
             "Undiscounted money of each year: operating cash flow before tax, capex when spent, tax on "
             "(operating cash flow − straight-line depreciation; negative = a credit against the group's other "
             "profits), the terminal value in the last year. Σ discount factor × free cash flow = NPV. "
             "Penalty weights are not cash and are not here. " + ctx.scen_note())
    cols = ["year", "revenue", "operating_costs", "operating_cash_flow", "capex", "depreciation", "tax",
            "terminal_value", "free_cash_flow", "discount_factor"]
    heads = {c: f"{c.replace('_', ' ')} ({cur})" for c in cols if c not in ("year", "discount_factor")}
    kinds = {c: "money" for c in heads} | {"discount_factor": "factor"}
    if ctx.multi:
        sh.heading("Expected over the scenarios")
        sh.frame(expected_cash_flow(res.cash_flow, ctx.prob), ctx.name("Cash_flow_expected"), cur, columns=cols,
                 headers=heads, kinds=kinds, empty_note="none")
    sh.heading("By scenario")
    sh.frame(res.cash_flow, ctx.name("Cash_flow"), cur, columns=["scenario", *cols], headers=heads, kinds=kinds,
             empty_note="none")
