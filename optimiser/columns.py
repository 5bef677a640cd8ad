"""What kind of figure each result column holds (money, money per unit, units, share, year, …) and
the header a planner reads for it: the one table the workbooks (:mod:`optimiser.report.xlsx`) and the
analysis that words its figures (:mod:`optimiser.decide`) share.
"""

from __future__ import annotations

#: Kind of the result columns the project writes (anything else is inferred: numbers → ``number``).
KINDS: dict[str, str] = {
    # money
    **{c: "money" for c in (
        "revenue", "variable_cost", "partner_fees", "logistics", "duties", "external_purchases", "fixed_cost",
        "capex", "tooling", "deal_costs", "unmet_penalty", "share_penalty", "npv", "value", "build_cost",
        "tooling_cost", "upfront_cost", "annual_cost", "freight", "duty", "best_bound", "start", "increase",
        "decrease", "total", "capex_limit")},
    # money per unit (rates, never scaled to millions)
    **{c: "price" for c in ("unit_price", "unit_fee", "cost_per_unit", "external_price", "shadow_price",
                            "shadow_price_npv")},
    # units (volumes and capacity)
    **{c: "units" for c in (
        "units", "demand", "served", "unmet", "committed", "needed", "made_inside", "bought_outside",
        "units_counting", "market_size", "capacity", "used", "capacity_used", "volume", "min_volume",
        "units_short")},
    # fractions
    **{c: "pct" for c in ("utilisation", "share", "target", "probability", "unmet_share", "gap", "discount_rate",
                          "tariff")},
    **{c: "factor" for c in ("demand_factor", "price_factor", "capacity_use", "quantity", "ramp_up")},
    **{c: "year" for c in ("year", "build_year", "ready_year", "tooling_year", "first_year", "last_year",
                           "available_from", "retire_after", "share_target_year", "base_year")},
    **{c: "int" for c in ("lead_time", "max_lines")},
    **{c: "seconds" for c in ("solve_seconds", "build_seconds", "seconds")},
    **{c: "bool" for c in ("taken", "active", "built", "must_serve", "counts_for_share")},
}

#: Friendlier headers for result columns (the key stays the column's identity).
HEADERS: dict[str, str] = {
    "option_id": "option", "programme_id": "programme id", "line_id": "line", "factory_id": "factory id",
    "market_id": "market", "component_id": "component id", "line_type": "line type",
    "exclusive_group": "exclusive group", "build_year": "build year", "ready_year": "ready year",
    "build_cost": "build cost", "tooling_cost": "tooling cost", "tooling_year": "tooling year",
    "upfront_cost": "upfront cost", "annual_cost": "annual cost", "capacity_used": "capacity used",
    "unit_price": "unit price", "made_inside": "made inside", "bought_outside": "bought outside",
    "units_counting": "units counting", "market_size": "world market", "shadow_price": "value of +1 capacity unit",
    "shadow_price_npv": "same, discounted to base year", "demand_factor": "demand factor",
    "price_factor": "price factor", "unmet_share": "unmet %", "variable_cost": "variable cost",
    "partner_fees": "partner fees", "external_purchases": "external purchases", "fixed_cost": "fixed cost",
    "deal_costs": "deal costs", "unmet_penalty": "unmet penalty", "share_penalty": "share penalty",
    "units_short": "units short",
}
