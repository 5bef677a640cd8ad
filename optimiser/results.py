"""Turn a solver outcome into tidy result tables (one row per fact, typed columns).

The only module that reads variable values. Works from the solver's column map
and the prepared model data; the report and the CLI use :class:`Results` alone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .data import Instance
from .model import coefficients
from .model.sets import FirstStage, ModelData
from .numbers import snap, tolerance
from .solver.outcome import SolverOutcome

#: Values below this (units, money) are solver tolerance noise and reported as 0
#: (HiGHS's primal feasibility tolerance is 1e-7, its integrality tolerance 1e-6).
ZERO = 1e-6

#: Programme kinds in report order, and what one unit of each is. Units of different kinds are
#: never added (a vehicle, a 100-kWh pack unit and an e-drive are not the same thing).
KINDS = ("vehicle", "battery", "component")
UNIT_OF_KIND = {"vehicle": "vehicles", "battery": "battery units", "component": "component units"}

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
class RunInfo:
    """Solver facts and run metadata of one solve."""

    instance: str
    instance_sha256: str
    strategy: str
    scenario: str | None
    scenarios: tuple[str, ...]
    termination: str
    status: str
    npv: float | None
    best_bound: float | None
    gap: float | None
    build_seconds: float
    handoff_seconds: float
    solve_seconds: float
    extract_seconds: float
    n_variables: int
    n_binaries: int
    n_constraints: int
    n_nonzeros: int
    highs_version: str
    currency: str
    options: dict[str, Any] = field(default_factory=dict)
    #: HiGHS ran past its time limit without stopping; its process was stopped and its last
    #: incumbent is this plan (gap from the bound it last reported).
    stopped_by_watchdog: bool = False
    #: The start plan HiGHS was given (optimiser.solver.local_search): npv, seconds, lp_solves, moves, kicks.
    start_plan: dict[str, Any] | None = None
    #: The linking rows HiGHS's MIP got when not all (optimiser.solver.row_generation).
    linking_rows: dict[str, Any] | None = None
    #: What the solver maximised (cash NPV − weights, + λ·CVaR with a risk term); ``npv`` is the cash NPV
    #: and ``best_bound`` bounds this objective.
    objective: float | None = None

    @property
    def status_words(self) -> str:
        """The solver status in plain words."""
        if self.status == "optimal":
            return "proven optimal" if not self.gap or self.gap < 1e-9 else f"optimal within {self.gap:.2%} (MIP gap tolerance)"
        if self.status == "feasible":
            gap = f"{self.gap:.2%}" if self.gap is not None else "unknown"
            why = {"time_limit": "time limit reached", "interrupted": "interrupted"}.get(self.termination, self.termination)
            if self.stopped_by_watchdog:
                why += "; HiGHS overran it and was stopped"
            return f"not proven optimal (gap {gap}; {why})"
        return {"infeasible": "infeasible: no plan meets every hard constraint",
                "no_solution": "no plan found within the limits"}.get(self.status, self.status)


@dataclass(frozen=True)
class Results:
    """Every result table of one solve (pandas DataFrames) plus the run facts."""

    run: RunInfo
    options: pd.DataFrame
    lines_built: pd.DataFrame
    tooling: pd.DataFrame
    production: pd.DataFrame
    shipments: pd.DataFrame
    demand: pd.DataFrame
    utilisation: pd.DataFrame
    components: pd.DataFrame
    npv_breakdown: pd.DataFrame
    npv_by_scenario: pd.DataFrame
    market_share: pd.DataFrame
    capacity_value: pd.DataFrame
    scenarios: pd.DataFrame
    #: Expected cash NPV (Σ of npv_breakdown), and the weights as positive amounts subtracted:
    #: objective = npv − unmet_penalty_cost − target_penalty (expected over the scenarios).
    npv: float = 0.0
    unmet_penalty_cost: float = 0.0
    target_penalty: float = 0.0
    #: Cash flow by scenario and year (undiscounted): revenue, costs, capex, tax, free cash flow.
    cash_flow: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Options decided later: the year each scenario takes it (``year_taken`` None: never).
    option_years: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def objective(self) -> float:
        """Expected objective of the plan: cash NPV − unmet-demand penalty − share-target penalty."""
        return self.npv - self.unmet_penalty_cost - self.target_penalty

    @property
    def options_taken(self) -> list[str]:
        if self.options.empty:
            return []
        return sorted(self.options.loc[self.options["taken"], "option_id"].tolist())

    def first_stage(self) -> FirstStage:
        """The plan's first-stage decisions (deals, builds, tooling), to evaluate it elsewhere."""
        shared_b = self.lines_built if "scenario" not in self.lines_built else self.lines_built[self.lines_built["scenario"] == ""]
        shared_t = self.tooling if "scenario" not in self.tooling else self.tooling[self.tooling["scenario"] == ""]
        return FirstStage(  # (what a later option and its lines do in each scenario is recourse: not in the plan)
            take={o: 1.0 for o in self.options_taken},
            build={(r.line_id, int(r.build_year)): 1.0 for r in shared_b.itertuples()},
            tool={(r.programme_id, r.line_id): 1.0 for r in shared_t.itertuples()},
        )

    @property
    def lines_built_ids(self) -> list[str]:
        return sorted(self.lines_built["line_id"].tolist()) if not self.lines_built.empty else []


def _values(out: SolverOutcome) -> dict[str, dict[tuple, float]]:
    vals: dict[str, dict[tuple, float]] = defaultdict(dict)
    x = out.x
    assert x is not None
    for key, v in zip(out.columns, x.tolist()):
        vals[key.var][key.index] = 0.0 if abs(v) < ZERO else v
    return vals


def variable_values(out: SolverOutcome) -> dict[str, dict[tuple, float]] | None:
    """Every variable's value in ``out``'s plan exactly as HiGHS gave it (nothing snapped to 0),
    by variable name and index (a name without columns reads as empty); None without a plan."""
    if out.x is None:
        return None
    vals: dict[str, dict[tuple, float]] = defaultdict(dict)
    for key, v in zip(out.columns, out.x.tolist()):
        vals[key.var][key.index] = v
    return vals


def _gate_production(make: dict[tuple, float], tool: dict[tuple, float], active: dict[tuple, float]) -> None:
    """make[p,l,t,s] = 0 where tool[p,l] or active[l,t,s] rounds to 0.

    HiGHS accepts a binary within its integrality tolerance (1e-6) of 0, so ``make ≤ U·tool``
    lets U·1e-6 units through on a line that is not tooled (seen: 5e-7 units on an unbuilt
    line). The plan reports the decisions as rounded, and production follows them."""
    for k, units in make.items():
        if units and not (tool.get((k[0], k[1]), 0.0) > 0.5 and active.get((k[1], k[2], k[3]), 0.0) > 0.5):
            make[k] = 0.0


#: Columns of ``capacity_value`` on the range of its shadow price: ``capacity`` is the line-year's
#: capacity the plan makes available (capacity units; ramp-up and running applied), and the
#: shadow price holds while that capacity stays within [``range_low``, ``range_high``].
CAPACITY_RANGE_COLUMNS = ("capacity", "range_low", "range_high")
_NO_RANGE = {"capacity": None, "range_low": None, "range_high": None}


def _capacity_ranges(md: ModelData, out: SolverOutcome, build: dict[tuple, float],
                     active: dict[tuple, float]) -> dict[tuple, dict[str, float | None]]:
    """Per line-year-scenario: the capacity the plan makes available and the interval of it over
    which the shadow price holds (ranging of that line-year's binding capacity row, see
    :func:`optimiser.solver.duals.rhs_ranges`).

    The capacity row reads Σ use·make − cap·running ≤ 0 and the ramp row Σ use·make −
    cap·ready ≤ 0, with running and builds fixed: available capacity = cap·running (cap·ready);
    moving the row's bound from 0 to b makes it cap·running + b, so the range of the capacity is
    the available capacity plus the bound's range."""
    if out.row_ranges is None:
        return {}
    res: dict[tuple, dict[str, float | None]] = {}
    for (name, idx, _), (lo, hi) in zip(out.rows, out.row_ranges.tolist()):
        if name not in ("capacity", "ramp") or lo != lo:  # NaN: not ranged (lifted)
            continue
        l, t, s = idx
        cap = md.capacity[(l, t)]
        if name == "capacity":
            avail = cap * (1.0 if active.get((l, t, s), 0.0) > 0.5 else 0.0)
        else:
            lead = md.lead_time[l]
            ready = sum(1.0 for tau in md.build_years[l] if tau + lead < t and build.get((l, tau), 0.0) > 0.5)
            if build.get((l, t - lead), 0.0) > 0.5:
                ready += md.ramp_up[l]
            avail = cap * ready
        res[(l, t, s)] = {"capacity": avail, "range_low": max(avail + lo, 0.0) if lo > -1e300 else 0.0,
                          "range_high": avail + hi if hi < 1e300 else None}
    return res


def first_stage_of(out: SolverOutcome) -> FirstStage:
    """The first-stage decisions in a solver outcome's plan (binaries rounded): what an
    alternative plan (optimiser.alternatives) commits to, read from its columns."""
    v = _values(out)
    return FirstStage(take={k[0]: 1.0 for k, x in v.get("take", {}).items() if x > 0.5},
                      build={k: 1.0 for k, x in v.get("build", {}).items() if x > 0.5},
                      tool={k: 1.0 for k, x in v.get("tool", {}).items() if x > 0.5})


def extract(instance: Instance, md: ModelData, out: SolverOutcome, run: RunInfo) -> Results:
    """All result tables from a solved model."""
    inst = instance
    v = _values(out)
    take, build, tool = v["take"], v["build"], v["tool"]
    active, make, ship, unmet = v["running"], v["make"], v["ship"], v["unmet"]
    _gate_production(make, tool, active)
    internal, extbuy, short = v["internal"], v["extbuy"], v["short"]
    prog = {p.id: p for p in inst.programmes}
    fac = {f.id: f for f in inst.factories}
    delta, pi = md.delta, md.probability

    def b(x: float) -> bool:
        return x > 0.5

    copy = md.line_copy
    origin = {l: copy[l][0] for l in copy}

    def line_id(l: str) -> str:
        return origin.get(l, l)

    takeyear = v["takeyear"]
    year_rows = []
    taken_in: dict[str, dict[str, int]] = defaultdict(dict)
    for (o, tau, s), val in sorted(takeyear.items()):
        if b(val):
            taken_in[o][s] = tau
    for o in md.later:
        for s in md.scenarios:
            year_rows.append({"option_id": o, "scenario": s, "year_taken": taken_in[o].get(s)})
    option_years = pd.DataFrame(year_rows, columns=["option_id", "scenario", "year_taken"])

    # ---- options
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

    # ---- lines built, tooling
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

    # ---- production and utilisation
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

    shadow: dict[tuple, float] = {}
    if out.row_duals is not None:
        for (name, idx, _), y in zip(out.rows, out.row_duals.tolist()):
            if name in ("capacity", "ramp"):  # both bound the same line-year's capacity
                shadow[idx] = shadow.get(idx, 0.0) + (0.0 if abs(y) < 1e-9 else y)
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

    # A row dual is d(expected NPV)/d(capacity): divide by π_s for the scenario's own value
    # (discounted to base_year) and by δ_t as well for money of year t.
    ranges = _capacity_ranges(md, out, build, active)
    cv_rows = [{"scenario": s, "line_id": line_id(l), "factory_id": md.line_factory[l], "year": t,
                "shadow_price": shadow[(l, t, s)] / (pi[s] * delta[t]) if pi[s] > 0 else 0.0,
                "shadow_price_npv": shadow[(l, t, s)] / pi[s] if pi[s] > 0 else 0.0,
                **ranges.get((l, t, s), _NO_RANGE)}
               for (l, t, s) in md.active_index if (l, t, s) in shadow]
    capacity_value = pd.DataFrame(cv_rows, columns=["scenario", "line_id", "factory_id", "year", "shadow_price",
                                                    "shadow_price_npv", *CAPACITY_RANGE_COLUMNS])
    capacity_value = capacity_value.sort_values(["shadow_price", "scenario", "line_id", "year"],
                                                ascending=[False, True, True, True], ignore_index=True)

    # ---- shipments and demand
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

    # ---- components: internal supply and outside purchases
    comp_rows = []
    for (c, t, s) in md.bom_index:
        need = sum(q * make.get((par, l, t, s), 0.0) for par, q in md.bom_parents[c] for l in md.make_lines.get((par, t, s), ()))
        inside = sum(internal.get((c, f, t, s), 0.0) for f in md.bom_internal[(c, t, s)])
        comp_rows.append({"scenario": s, "component_id": c, "component": prog[c].name, "year": t, "needed": need,
                          "made_inside": inside, "bought_outside": extbuy.get((c, t, s), 0.0)})
    components = pd.DataFrame(comp_rows, columns=["scenario", "component_id", "component", "year", "needed",
                                                  "made_inside", "bought_outside"])

    # ---- NPV by category, per scenario (second stage) and shared (first stage), from model/coefficients
    values = {"ship": ship, "make": make, "extbuy": extbuy, "unmet": unmet,
              "running": {k: (1.0 if b(x) else 0.0) for k, x in active.items()}}
    per, flows = _npv_by_scenario(md, values, short)
    chosen = {"take": {o: 1.0 for o in md.options if b(take.get((o,), 1.0 if md.option_fix.get(o) is True else 0.0))},
              "build": {k: 1.0 for k, x in build.items() if b(x)}, "tool": {k: 1.0 for k, x in tool.items() if b(x)}}
    chosen["takeyear"] = {k: 1.0 for k, x in takeyear.items() if b(x)}
    shared, own_s = _first_stage_npv(md, chosen)
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
    run = replace(run, npv=snap(run.npv, tol), best_bound=snap(run.best_bound, tol))
    npv_breakdown = pd.DataFrame(br_rows, columns=["category", "label", "value"])
    exp_npv = float(sum(r["value"] for r in br_rows))
    unmet_cost = 0.0 - float(sum(pi[s] * npv_by_scenario.loc[i, "unmet_penalty"] for i, s in enumerate(md.scenarios)))
    target_pen = 0.0 - float(sum(pi[s] * npv_by_scenario.loc[i, "share_penalty"] for i, s in enumerate(md.scenarios)))
    cash_flow = _cash_flow(md, flows, {s: coefficients.plan_flows(md, chosen, s) for s in md.scenarios})

    # ---- market share trajectory
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

    # ---- scenarios
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
    return Results(run=run, options=options, lines_built=lines_built, tooling=tooling, production=production,
                   shipments=shipments, demand=demand, utilisation=utilisation, components=components,
                   npv_breakdown=npv_breakdown, npv_by_scenario=npv_by_scenario, market_share=market_share,
                   capacity_value=capacity_value, scenarios=scenarios, npv=exp_npv, unmet_penalty_cost=unmet_cost,
                   target_penalty=target_pen, cash_flow=cash_flow, option_years=option_years)


def _npv_by_scenario(md: ModelData, values: dict[str, dict[tuple, float]], short: dict[tuple, float]
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


def _first_stage_npv(md: ModelData, chosen: dict[str, dict[Any, float]]
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


def _cash_flow(md: ModelData, flows: dict[tuple[str, int], dict[str, float]],
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


def cvar(npv_by_scenario: pd.DataFrame, alpha: float) -> float:
    """CVaR_α of NPV: the probability-weighted mean of the worst (1−α) tail of scenario NPVs."""
    rows = sorted(zip(npv_by_scenario["npv"], npv_by_scenario["probability"]))
    tail = 1.0 - alpha
    if tail <= 0:
        return float(rows[0][0])
    left, acc = tail, 0.0
    for value, prob in rows:
        w = min(prob, left)
        acc += w * value
        left -= w
        if left <= 1e-12:
            break
    return acc / tail


def units_by_kind(res: Results, by_scenario: bool = False) -> pd.DataFrame:
    """Units demanded, served, left unmet and made, per programme kind — never summed across kinds.

    Expected values over the scenarios, E[x] = Σ_s π_s · x_s (π from ``res.scenarios``), one row per
    kind k ∈ :data:`KINDS` that has demand or production; with ``by_scenario``, one row per (scenario s,
    kind k) with x_s itself. Columns: [scenario,] kind, unit (:data:`UNIT_OF_KIND`), demand, served,
    unmet, made (made counts every unit produced, components for internal use included).
    """
    prob = {str(s): float(p) for s, p in zip(res.scenarios["scenario"], res.scenarios["probability"])}
    keys = ["scenario", "kind"] if by_scenario else ["kind"]
    parts = []
    for df, values in ((res.demand, ["demand", "served", "unmet"]), (res.production, ["units"])):
        if df.empty:
            continue
        d = df[["scenario", "kind", *values]].copy()
        d["scenario"] = d["scenario"].astype(str)
        if not by_scenario:
            w = d["scenario"].map(prob).fillna(0.0).astype(float)
            for c in values:
                d[c] = d[c].astype(float) * w
        parts.append(d.groupby(keys, sort=False)[values].sum())
    cols = [*keys, "unit", "demand", "served", "unmet", "made"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, axis=1).fillna(0.0).reset_index().rename(columns={"units": "made"})
    for c in ("demand", "served", "unmet", "made"):
        if c not in out.columns:
            out[c] = 0.0
        out[c] = out[c].astype(float)
    out["unit"] = out["kind"].map(UNIT_OF_KIND).fillna("units")
    order = {k: i for i, k in enumerate(KINDS)}
    scen_order = {s: i for i, s in enumerate(prob)}
    out["_k"] = out["kind"].map(order).fillna(len(order))
    sort = ["_k"]
    if by_scenario:
        out["_s"] = out["scenario"].map(scen_order).fillna(len(scen_order))
        sort = ["_s", "_k"]
    return out.sort_values(sort, ignore_index=True)[cols]
