"""Turn a solver outcome into tidy result tables (one row per fact, typed columns).

The only module that reads variable values. Works from the solver's column map
and the prepared model data; the report and the CLI use :class:`Results` alone.
:func:`extract` reads the values (here) and composes the tables built from them as plain dicts:
the plan and flow tables in :mod:`optimiser.results_plan`, the money in :mod:`optimiser.results_money`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from .data import Instance
from .model.sets import FirstStage, ModelData
from .numbers import snap
from .results_money import CASH_FLOW_COLUMNS, NPV_CATEGORIES, WEIGHT_CATEGORIES, money_tables
from .results_plan import (
    CAPACITY_RANGE_COLUMNS,
    PlanValues,
    build_tables,
    capacity_value_table,
    components_table,
    market_share_table,
    option_tables,
    production_tables,
    scenario_table,
    trade_tables,
)
from .solver.outcome import SolverOutcome

__all__ = [
    "CAPACITY_RANGE_COLUMNS", "CASH_FLOW_COLUMNS", "KINDS", "NPV_CATEGORIES", "UNIT_OF_KIND", "WEIGHT_CATEGORIES",
    "ZERO", "Results", "RunInfo", "cvar", "extract", "first_stage_of", "units_by_kind",
]

#: Values below this (units, money) are solver tolerance noise and reported as 0
#: (HiGHS's primal feasibility tolerance is 1e-7, its integrality tolerance 1e-6).
ZERO = 1e-6

#: Programme kinds in report order, and what one unit of each is. Units of different kinds are
#: never added (a vehicle, a 100-kWh pack unit and an e-drive are not the same thing).
KINDS = ("vehicle", "battery", "component")
UNIT_OF_KIND = {"vehicle": "vehicles", "battery": "battery units", "component": "component units"}


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


def _shadow_prices(out: SolverOutcome) -> dict[tuple, float]:
    """Row duals of each line-year-scenario's capacity: the capacity and ramp rows summed (both bound
    the same line-year's capacity); |y| < 1e-9 is 0."""
    shadow: dict[tuple, float] = {}
    if out.row_duals is not None:
        for (name, idx, _), y in zip(out.rows, out.row_duals.tolist()):
            if name in ("capacity", "ramp"):  # both bound the same line-year's capacity
                shadow[idx] = shadow.get(idx, 0.0) + (0.0 if abs(y) < 1e-9 else y)
    return shadow


def extract(instance: Instance, md: ModelData, out: SolverOutcome, run: RunInfo) -> Results:
    """All result tables from a solved model."""
    v = _values(out)
    _gate_production(v["make"], v["tool"], v["running"])
    pv = PlanValues(instance, md, v)
    options, option_years = option_tables(pv)
    lines_built, tooling = build_tables(pv)
    production, utilisation = production_tables(pv)
    capacity_value = capacity_value_table(pv, _shadow_prices(out), _capacity_ranges(md, out, v["build"], v["running"]))
    shipments, demand = trade_tables(pv)
    components = components_table(pv)
    money = money_tables(pv)
    run = replace(run, npv=snap(run.npv, money.tol), best_bound=snap(run.best_bound, money.tol))
    market_share = market_share_table(pv)
    scenarios = scenario_table(pv, utilisation, money.npv_by_scenario)
    return Results(run=run, options=options, lines_built=lines_built, tooling=tooling, production=production,
                   shipments=shipments, demand=demand, utilisation=utilisation, components=components,
                   npv_breakdown=money.npv_breakdown, npv_by_scenario=money.npv_by_scenario, market_share=market_share,
                   capacity_value=capacity_value, scenarios=scenarios, npv=money.npv,
                   unmet_penalty_cost=money.unmet_penalty_cost, target_penalty=money.target_penalty,
                   cash_flow=money.cash_flow, option_years=option_years)


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
