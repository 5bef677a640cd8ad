"""Test helpers: write an instance from Python dicts, solve it, check invariants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optimiser.data import Instance
from optimiser.pipeline import solve_instance
from optimiser.results import Results
from optimiser.solve import SolveOptions
from optimiser.validate import load_instance
from optimiser.writers import dict_tables, write_tables

Tables = dict[str, list[dict[str, Any]]]


def settings(first: int = 2025, last: int = 2025, rate: float = 0.0, **extra: Any) -> list[dict[str, Any]]:
    rows = [{"key": "name", "value": "test"}, {"key": "first_year", "value": first},
            {"key": "last_year", "value": last}, {"key": "discount_rate", "value": rate}]
    rows += [{"key": k, "value": v} for k, v in extra.items()]
    return rows


def load(tmp_path: Path, tables: Tables, name: str = "inst") -> Instance:
    folder = tmp_path / name
    write_tables(dict_tables(tables), folder)
    instance, _ = load_instance(folder)
    return instance


def solve(tmp_path: Path, tables: Tables, strategy: str = "optimise", scenario: str | None = None,
          check: bool = True) -> Results:
    instance = load(tmp_path, tables)
    res = solve_instance(instance, strategy, scenario, SolveOptions(mip_gap=0))
    if check:
        check_invariants(instance, res)
    return res


TOL = 1e-6


def check_invariants(inst: Instance, res: Results) -> None:
    """Re-check the plan against the data, independently of the model code."""
    taken = set(res.options_taken)
    built_in = {(r.line_id, getattr(r, "scenario", "") or None): r.build_year for r in res.lines_built.itertuples()}

    def built_year(line: str, scenario: str) -> int | None:  # (a later option's line copy is built per scenario)
        return built_in.get((line, None), built_in.get((line, scenario)))
    tooled = {(r.programme_id, r.line_id) for r in res.tooling.itertuples()}
    # exclusive groups
    groups: dict[str, int] = {}
    for o in inst.options:
        if o.exclusive_group and o.id in taken:
            groups[o.exclusive_group] = groups.get(o.exclusive_group, 0) + 1
    assert all(n <= 1 for n in groups.values()), groups
    # strategy fixings
    fix = inst.strategies.get(res.run.strategy, {})
    for o, take in fix.items():
        if o not in inst.later_options():
            assert (o in taken) == take, (o, take)
    # sourcing
    per_prog: dict[str, int] = {}
    for p, _ in tooled:
        per_prog[p] = per_prog.get(p, 0) + 1
    for p, n in per_prog.items():
        assert n <= inst.programme(p).max_lines
    # later options: taken at most once per scenario, in a year from decide_from; a strategy's take = every scenario
    later: dict[str, dict[str, int]] = {o: {} for o in inst.later_options()}
    for r in res.option_years.itertuples():
        if r.year_taken is not None and r.year_taken == r.year_taken:
            later[r.option_id][r.scenario] = int(r.year_taken)
            assert r.year_taken >= next(o.decide_from for o in inst.options if o.id == r.option_id)
    for o, take in fix.items():
        if o in later:
            assert (len(later[o]) == len(res.run.scenarios)) if take else not later[o], (o, take)
    # production: tooled, gated, available, within capacity
    used: dict[tuple, float] = {}
    for r in res.production.itertuples():
        ln = inst.line(r.line_id)
        pr = inst.programme(r.programme_id)
        assert (r.programme_id, r.line_id) in tooled
        assert (r.programme_id, r.line_id) in inst.routings
        assert pr.first_year <= r.year <= pr.last_year
        if ln.requires_option in later:  # decided per scenario: held in this scenario and year
            year = later[ln.requires_option].get(r.scenario)
            assert year is not None and r.year >= year, (r.line_id, ln.requires_option, r.scenario, r.year)
        elif ln.requires_option:
            assert ln.requires_option in taken, (r.line_id, ln.requires_option)
        if ln.is_candidate:
            by = built_year(r.line_id, r.scenario)
            assert by is not None and r.year >= by + ln.lead_time
        else:
            assert ln.available_from <= r.year and (ln.retire_after is None or r.year <= ln.retire_after)
        key = (r.scenario, r.line_id, r.year)
        used[key] = used.get(key, 0.0) + r.units * inst.routings[(r.programme_id, r.line_id)].capacity_use
    for (s, l, t), u in used.items():
        ln = inst.line(l)
        cap = inst.capacity(l, t)
        if ln.is_candidate and t == built_year(l, s) + ln.lead_time:
            cap *= ln.ramp_up
        assert u <= cap * (1 + 1e-7) + TOL, (s, l, t, u, cap)
    # demand balance and commitments
    scen = {s.id: s for s in inst.scenarios}
    for r in res.demand.itertuples():
        assert abs(r.served + r.unmet - r.demand) <= 1e-6 * max(1, r.demand)
        assert r.unmet <= r.demand - min(r.committed, r.demand) + 1e-6
        if inst.programme(r.programme_id).must_serve:
            assert r.unmet <= 1e-6
        assert abs(r.demand - inst.demand_volume(r.programme_id, r.market_id, r.year, scen[r.scenario])) < 1e-6
    # shipments only on routes
    for r in res.shipments.itertuples():
        if inst.logistics is not None:
            assert (r.factory_id, r.market_id) in inst.logistics
    # BOM cover
    made: dict[tuple, float] = {}
    for r in res.production.itertuples():
        k = (r.scenario, r.programme_id, r.year)
        made[k] = made.get(k, 0.0) + r.units
    for r in res.components.itertuples():
        need = sum(q * made.get((r.scenario, par, r.year), 0.0) for (par, c), q in inst.bom.items() if c == r.component_id)
        assert abs(need - r.needed) <= 1e-6 * max(1.0, need)
        assert r.made_inside + r.bought_outside >= need - 1e-6 * max(1.0, need)
    # the NPV breakdown adds up to the cash NPV; objective = NPV − weights (exactly), and it is what HiGHS found
    total = float(res.npv_breakdown["value"].sum())
    assert abs(total - res.run.npv) <= 1e-6 * max(1.0, abs(res.run.npv)), (total, res.run.npv)
    assert res.npv == res.run.npv and res.unmet_penalty_cost >= 0 and res.target_penalty >= 0
    assert res.objective == res.npv - res.unmet_penalty_cost - res.target_penalty
    if res.run.objective is not None and res.run.best_bound is not None:
        assert abs(res.objective - res.run.objective) <= 1e-6 * max(1.0, abs(res.run.objective))
    # Σ_t δ_t · free cash flow = cash NPV in every scenario
    cf = res.cash_flow
    for row in res.npv_by_scenario.itertuples():
        own = cf[cf["scenario"] == row.scenario]
        pv = float((own["free_cash_flow"] * own["discount_factor"]).sum())
        assert abs(pv - row.npv) <= 1e-6 * max(1.0, abs(row.npv)), (row.scenario, pv, row.npv)


def hard_gap_tables(agents: int = 10, jobs: int = 80, seed: int = 7) -> Tables:
    """A type-D generalized assignment problem (Chu & Beasley): hard for branch-and-bound, so a
    short time limit stops HiGHS with an incumbent but no proof. Feasible: capacity 0.8·Σa/m."""
    import random

    rnd = random.Random(seed)
    a = [[rnd.randint(1, 100) for _ in range(jobs)] for _ in range(agents)]
    c = [[111 - a[i][j] + rnd.randint(-10, 10) for j in range(jobs)] for i in range(agents)]
    cap = [int(0.8 * sum(a[i]) / agents) for i in range(agents)]
    return {
        "settings": settings(),
        "factories": [{"factory_id": f"F{i}", "country": "X"} for i in range(agents)],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": f"L{i}", "factory_id": f"F{i}", "line_type": f"T{i}", "capacity": cap[i],
                   "status": "existing"} for i in range(agents)],
        "programmes": [{"programme_id": f"J{j}", "kind": "component", "must_serve": True, "max_lines": 1}
                       for j in range(jobs)],
        "routings": [{"programme_id": f"J{j}", "line_id": f"L{i}", "capacity_use": a[i][j], "unit_cost": c[i][j]}
                     for j in range(jobs) for i in range(agents)],
        "demand": [{"programme_id": f"J{j}", "market_id": "M", "year": 2025, "volume": 1} for j in range(jobs)],
    }
