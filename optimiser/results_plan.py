"""The plan and flow tables of one solve: options, builds, tooling, production, utilisation,
capacity value, shipments, demand, components, market share and the scenario summary.

Built from :class:`PlanValues` — the variable values :mod:`optimiser.results` read from the
solver outcome, as plain dicts (binaries rounded with :meth:`PlanValues.b`). Nothing here reads
the solver; each function returns DataFrames with typed columns, one row per fact.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .data import Instance
from .model.sets import ModelData

#: Columns of ``capacity_value`` on the range of its shadow price: ``capacity`` is the line-year's
#: capacity the plan makes available (capacity units; ramp-up and running applied), and the
#: shadow price holds while that capacity stays within [``range_low``, ``range_high``].
CAPACITY_RANGE_COLUMNS = ("capacity", "range_low", "range_high")
NO_RANGE: dict[str, float | None] = {"capacity": None, "range_low": None, "range_high": None}


@dataclass
class PlanValues:
    """The values of one solve by variable name and index (noise below ZERO already 0, production
    gated by tooling and running), with the instance and model data they index."""

    instance: Instance
    md: ModelData
    v: dict[str, dict[tuple, float]]
    prog: dict[str, Any] = field(init=False)
    fac: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.prog = {p.id: p for p in self.instance.programmes}
        self.fac = {f.id: f for f in self.instance.factories}

    @staticmethod
    def b(x: float) -> bool:
        """A binary's value as taken (above one half)."""
        return x > 0.5

    def line_id(self, l: str) -> str:
        """The instance line of a model line (a line copied per scenario for a later option: its original)."""
        copy = self.md.line_copy
        return copy[l][0] if l in copy else l

    def __getitem__(self, var: str) -> dict[tuple, float]:
        return self.v[var]


def option_tables(pv: PlanValues) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``options`` (taken or not; a later option counts as taken when every scenario takes it) and
    ``option_years`` (the year each scenario takes a later option, None: never)."""
    inst, md, b = pv.instance, pv.md, pv.b
    take = pv["take"]
    takeyear = pv["takeyear"]
    year_rows = []
    taken_in: dict[str, dict[str, int]] = defaultdict(dict)
    for (o, tau, s), val in sorted(takeyear.items()):
        if b(val):
            taken_in[o][s] = tau
    for o in md.later:
        for s in md.scenarios:
            year_rows.append({"option_id": o, "scenario": s, "year_taken": taken_in[o].get(s)})
    option_years = pd.DataFrame(year_rows, columns=["option_id", "scenario", "year_taken"])
    opt_rows = []
    for o in inst.options:
        fixed = md.option_fix.get(o.id)
        if o.id in md.later:  # decided per scenario: "taken" = taken (in some year) in every scenario
            opt_rows.append({"option_id": o.id, "name": o.name, "counterparty": o.counterparty, "kind": o.kind,
                             "exclusive_group": o.exclusive_group or "",
                             "strategy": "take" if fixed is True else ("forbid" if fixed is False else "free"),
                             "taken": all(s in taken_in[o.id] for s in md.scenarios), "upfront_cost": o.upfront_cost,
                             "annual_cost": o.annual_cost})
            continue
        opt_rows.append({
            "option_id": o.id, "name": o.name, "counterparty": o.counterparty, "kind": o.kind,
            "exclusive_group": o.exclusive_group or "",
            "strategy": "take" if fixed is True else ("forbid" if fixed is False else "free"),
            # a column in no row and without cost is dropped by the compiler: its value is its bound
            "taken": b(take.get((o.id,), 1.0 if fixed is True else 0.0)), "upfront_cost": o.upfront_cost, "annual_cost": o.annual_cost,
        })
    options = pd.DataFrame(opt_rows, columns=["option_id", "name", "counterparty", "kind", "exclusive_group",
                                              "strategy", "taken", "upfront_cost", "annual_cost"])
    return options, option_years


def build_tables(pv: PlanValues) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``lines_built`` (build year, ready year, cost) and ``tooling`` (programme × line, its year);
    a line copied per scenario carries its own id and the scenario it was built or tooled in."""
    inst, md, b, line_id, fac, prog = pv.instance, pv.md, pv.b, pv.line_id, pv.fac, pv.prog
    build, tool = pv["build"], pv["tool"]
    copy = md.line_copy
    # (a line copied per scenario for a later option: its own line id, and the scenario it was built/tooled in)
    per_s = ["scenario"] if copy else []
    built_rows = []
    for (l, tau), val in sorted(build.items()):
        if b(val):
            ln = inst.line(line_id(l))
            built_rows.append({"line_id": ln.id, "factory_id": ln.factory, "factory": fac[ln.factory].name,
                               "line_type": ln.line_type, "build_year": tau, "ready_year": tau + ln.lead_time,
                               "build_cost": ln.build_cost, "capacity": ln.capacity,
                               **({"scenario": copy[l][1] if l in copy else ""} if copy else {})})
    lines_built = pd.DataFrame(built_rows, columns=["line_id", "factory_id", "factory", "line_type", "build_year",
                                                    "ready_year", "build_cost", "capacity", *per_s])
    tool_rows = []
    for (p, l), val in sorted(tool.items()):
        if b(val):
            tool_rows.append({"programme_id": p, "programme": prog[p].name, "line_id": line_id(l),
                              "factory_id": md.line_factory[l], "tooling_cost": md.tooling_cost[(p, l)],
                              "tooling_year": md.tool_year.get((p, l), md.tooling_year[p]),
                              **({"scenario": copy[l][1] if l in copy else ""} if copy else {})})
    tooling = pd.DataFrame(tool_rows, columns=["programme_id", "programme", "line_id", "factory_id", "tooling_cost",
                                               "tooling_year", *per_s])
    return lines_built, tooling


def production_tables(pv: PlanValues) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``production`` (units and capacity used by programme, line, year, scenario) and
    ``utilisation`` of every line-year-scenario: used / available, available = capacity × ramp-up
    (in the year a build is ready) × running."""
    inst, md, b, line_id, fac, prog = pv.instance, pv.md, pv.b, pv.line_id, pv.fac, pv.prog
    build, active, make = pv["build"], pv["running"], pv["make"]
    prod_rows = []
    used: dict[tuple[str, int, str], float] = defaultdict(float)
    for (p, l, t, s), units in make.items():
        if units <= 0:
            continue
        f = md.line_factory[l]
        use = md.capacity_use[(p, l)]
        used[(l, t, s)] += use * units
        prod_rows.append({"scenario": s, "programme_id": p, "programme": prog[p].name, "kind": prog[p].kind,
                          "line_id": line_id(l), "factory_id": f, "factory": fac[f].name, "year": t, "units": units,
                          "capacity_used": use * units})
    production = pd.DataFrame(prod_rows, columns=["scenario", "programme_id", "programme", "kind", "line_id", "factory_id",
                                                  "factory", "year", "units", "capacity_used"])
    production = production.sort_values(["scenario", "programme_id", "line_id", "year"], ignore_index=True)
    util_rows = []
    for (l, t, s) in md.active_index:
        cap = md.capacity[(l, t)]
        ramp = 1.0
        if l in md.ramp_up and (t - md.lead_time[l]) in md.build_years.get(l, ()) and b(build.get((l, t - md.lead_time[l]), 0.0)):
            ramp = md.ramp_up[l]
        is_active = b(active.get((l, t, s), 0.0))
        avail = cap * ramp if is_active else 0.0
        u = used.get((l, t, s), 0.0)
        ln = inst.line(line_id(l))
        util_rows.append({"scenario": s, "line_id": ln.id, "factory_id": ln.factory, "factory": fac[ln.factory].name,
                          "line_type": ln.line_type, "year": t, "active": is_active, "capacity": avail,
                          "used": u, "utilisation": (u / avail) if avail > 0 else 0.0})
    utilisation = pd.DataFrame(util_rows, columns=["scenario", "line_id", "factory_id", "factory", "line_type", "year",
                                                   "active", "capacity", "used", "utilisation"])
    utilisation = utilisation.sort_values(["scenario", "line_id", "year"], ignore_index=True)
    return production, utilisation


def capacity_value_table(pv: PlanValues, shadow: dict[tuple, float],
                         ranges: dict[tuple, dict[str, float | None]]) -> pd.DataFrame:
    """``capacity_value``: the shadow price of each line-year-scenario's capacity (row duals
    ``shadow``), per unit of capacity in money of year t and in NPV, with the range it holds over."""
    md, line_id = pv.md, pv.line_id
    pi, delta = md.probability, md.delta
    # A row dual is d(expected NPV)/d(capacity): divide by π_s for the scenario's own value
    # (discounted to base_year) and by δ_t as well for money of year t.
    cv_rows = [{"scenario": s, "line_id": line_id(l), "factory_id": md.line_factory[l], "year": t,
                "shadow_price": shadow[(l, t, s)] / (pi[s] * delta[t]) if pi[s] > 0 else 0.0,
                "shadow_price_npv": shadow[(l, t, s)] / pi[s] if pi[s] > 0 else 0.0,
                **ranges.get((l, t, s), NO_RANGE)}
               for (l, t, s) in md.active_index if (l, t, s) in shadow]
    capacity_value = pd.DataFrame(cv_rows, columns=["scenario", "line_id", "factory_id", "year", "shadow_price",
                                                    "shadow_price_npv", *CAPACITY_RANGE_COLUMNS])
    capacity_value = capacity_value.sort_values(["shadow_price", "scenario", "line_id", "year"],
                                                ascending=[False, True, True, True], ignore_index=True)
    return capacity_value


def trade_tables(pv: PlanValues) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``shipments`` (units, price, revenue, freight, duty by route) and ``demand`` (demand,
    committed, served, unmet by programme, market, year, scenario)."""
    inst, md, prog = pv.instance, pv.md, pv.prog
    ship, unmet = pv["ship"], pv["unmet"]
    ship_rows = []
    for (p, f, m, t, s), units in ship.items():
        if units <= 0:
            continue
        price = inst.price(p, t) * md.price_factor[s]
        cost, tariff = (0.0, 0.0) if inst.logistics is None else inst.logistics[(f, m)]
        ship_rows.append({"scenario": s, "programme_id": p, "programme": prog[p].name, "factory_id": f, "market_id": m,
                          "year": t, "units": units, "unit_price": price, "revenue": price * units,
                          "freight": cost * units, "duty": tariff * price * units})
    shipments = pd.DataFrame(ship_rows, columns=["scenario", "programme_id", "programme", "factory_id", "market_id", "year",
                                                 "units", "unit_price", "revenue", "freight", "duty"])
    shipments = shipments.sort_values(["scenario", "programme_id", "factory_id", "market_id", "year"], ignore_index=True)
    served: dict[tuple, float] = defaultdict(float)
    for (p, f, m, t, s), units in ship.items():
        served[(p, m, t, s)] += units
    scen = {s.id: s for s in inst.scenarios}
    dem_rows = []
    for (p, m, t, s) in md.demand_index:
        d = md.demand[(p, m, t, s)]
        dem_rows.append({"scenario": s, "programme_id": p, "programme": prog[p].name, "kind": prog[p].kind,
                         "market_id": m, "year": t,
                         "demand": d, "committed": inst.committed_volume(p, m, t, scen[s]),
                         "served": served.get((p, m, t, s), 0.0), "unmet": unmet.get((p, m, t, s), 0.0)})
    demand = pd.DataFrame(dem_rows, columns=["scenario", "programme_id", "programme", "kind", "market_id", "year",
                                             "demand", "committed", "served", "unmet"])
    return shipments, demand


def components_table(pv: PlanValues) -> pd.DataFrame:
    """``components``: what parents need of each component, made inside and bought outside."""
    md, prog = pv.md, pv.prog
    make, internal, extbuy = pv["make"], pv["internal"], pv["extbuy"]
    comp_rows = []
    for (c, t, s) in md.bom_index:
        need = sum(q * make.get((par, l, t, s), 0.0) for par, q in md.bom_parents[c] for l in md.make_lines.get((par, t, s), ()))
        inside = sum(internal.get((c, f, t, s), 0.0) for f in md.bom_internal[(c, t, s)])
        comp_rows.append({"scenario": s, "component_id": c, "component": prog[c].name, "year": t, "needed": need,
                          "made_inside": inside, "bought_outside": extbuy.get((c, t, s), 0.0)})
    components = pd.DataFrame(comp_rows, columns=["scenario", "component_id", "component", "year", "needed",
                                                  "made_inside", "bought_outside"])
    return components


def market_share_table(pv: PlanValues) -> pd.DataFrame:
    """``market_share``: units of the programmes that count for share against the market size."""
    inst, md = pv.instance, pv.md
    make = pv["make"]
    share_rows = []
    counted = {p.id for p in inst.programmes if p.counts_for_share}
    made_by: dict[tuple[int, str], float] = defaultdict(float)
    for (p, l, t, s), units in make.items():
        if p in counted:
            made_by[(t, s)] += units
    for s in md.scenarios:
        for t in md.years:
            size = inst.market_size.get(t)
            units = made_by.get((t, s), 0.0)
            share_rows.append({"scenario": s, "year": t, "units_counting": units, "market_size": size,
                               "share": (units / size) if size else None,
                               "target": inst.share_target if (inst.share_target is not None and t == inst.share_target_year) else None})
    market_share = pd.DataFrame(share_rows, columns=["scenario", "year", "units_counting", "market_size", "share", "target"])
    return market_share


def scenario_table(pv: PlanValues, utilisation: pd.DataFrame, npv_by_scenario: pd.DataFrame) -> pd.DataFrame:
    """``scenarios``: probability, factors, cash NPV and utilisation of each scenario."""
    md, pi = pv.md, pv.md.probability
    scen = {s.id: s for s in pv.instance.scenarios}
    sc_rows = []
    for s in md.scenarios:
        u = utilisation[(utilisation["scenario"] == s) & utilisation["active"]]
        cap_sum = float(u["capacity"].sum())
        sc_rows.append({"scenario": s, "probability": pi[s], "demand_factor": scen[s].demand_factor,
                        "price_factor": scen[s].price_factor,
                        "npv": float(npv_by_scenario.loc[npv_by_scenario["scenario"] == s, "npv"].iloc[0]),
                        "utilisation": float(u["used"].sum()) / cap_sum if cap_sum > 0 else 0.0})
    # no demand/unmet totals here: they would add units of different kinds (see units_by_kind)
    scenarios = pd.DataFrame(sc_rows, columns=["scenario", "probability", "demand_factor", "price_factor", "npv",
                                               "utilisation"])
    return scenarios
