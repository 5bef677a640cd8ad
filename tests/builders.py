"""Test helpers shared by the test modules (no test module imports another).

Write an instance from Python dicts, solve it, check invariants; hand-solved cases used by several
modules (``deal_case``, ``facility_tables``); hand-written workbooks for the reader attacks
(``make_xlsx``, ``refused``). Hypothesis strategies live in ``strategies.py``, fixtures in
``conftest.py``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.data import Instance
from optimiser.errors import InputError, InvalidInstance
from optimiser.engine import solve_instance
from optimiser.results import Results
from optimiser.solver.options import SolveOptions
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


# ------------------------------------------------------------------ hand-solved cases

def deal_case():
    """One year, price 10, cost 0. Buy (upfront 500) runs LB (cap 200); partner (upfront 100) runs LP
    (cap 200, toll 3). Exclusive. Demand 100 × factor: low ½ (50), high 1½ (150), p = ½ each.

    Deterministic NPVs (scenario known):
      buy:     low 50×10 − 500 = 0;        high 150×10 − 500 = 1000
      partner: low 50×7 − 100 = 250;       high 150×7 − 100 = 950
      neither: 0, 0
      optimise: low max(0, 250, 0) = 250; high max(1000, 950) = 1000
    Stochastic plans (deal chosen first): buy ½·0 + ½·1000 = 500; partner ½·250 + ½·950 = 600;
      neither 0; optimise = partner 600.
    WS = ½·250 + ½·1000 = 625, RP = 600 → EVPI = 25.
    EV problem: demand 100: buy 1000 − 500 = 500, partner 700 − 100 = 600 → partner; EEV = 600 → VSS = 0.
    Regret of partner's plan: low 250 − 250 = 0, high 1000 − 950 = 50 → max 50; buy: 250, 0 → 250;
      neither: 250, 1000 → 1000.
    """
    return {
        "settings": settings(),
        "factories": [{"factory_id": "F", "country": "VN"}],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": "LB", "factory_id": "F", "line_type": "VA", "capacity": 200, "status": "existing",
                   "requires_option": "buy"},
                  {"line_id": "LP", "factory_id": "F", "line_type": "VA", "capacity": 200, "status": "existing",
                   "requires_option": "partner", "unit_fee": 3}],
        "programmes": [{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 2}],
        "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1}],
        "demand": [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100}],
        "options": [{"option_id": "buy", "upfront_cost": 500, "exclusive_group": "vf"},
                    {"option_id": "partner", "upfront_cost": 100, "exclusive_group": "vf"}],
        "strategies": [{"strategy_id": "buy", "option_id": "buy", "decision": "take"},
                       {"strategy_id": "partner", "option_id": "partner", "decision": "take"},
                       {"strategy_id": "neither", "option_id": "buy", "decision": "forbid"},
                       {"strategy_id": "neither", "option_id": "partner", "decision": "forbid"}],
        "scenarios": [{"scenario_id": "low", "probability": 0.5, "demand_factor": 0.5},
                      {"scenario_id": "high", "probability": 0.5, "demand_factor": 1.5}],
    }


def two_site_tables(candidate_only: bool = False) -> dict:
    """One programme P (must_serve: every unit of demand made), markets M1 (40 units) and M2 (50).
    Line LA (existing, capacity 100, fixed cost 50 a year) in FA; line LB (candidate, build cost
    500, capacity 100, fixed cost 60) in FB. Unit costs FA→M1 1, FA→M2 3, FB→M1 2, FB→M2 1.

    Construction: doing nothing breaks must_serve; existing lines only: LA makes all 90 units,
    cost 50 + 40·1 + 50·3 = 240, NPV −240 (also the optimum: LB would cost 500 + 60 + 80 + 50).
    ``candidate_only``: LA is a candidate too (build cost 700): existing lines serve nothing, so
    the plan must build; the cheapest is LB alone: 500 + 60 + 40·2 + 50·1 = 690. (The network of
    :func:`facility_tables` with LB, and LA if ``candidate_only``, a candidate.)"""
    tables = facility_tables()
    la, lb = tables["lines"]
    lb.update(status="candidate", build_cost=500, lead_time=0)
    if candidate_only:
        la.update(status="candidate", build_cost=700, lead_time=0)
    return tables


def facility_tables() -> dict:
    """Capacitated facility location, one year, no discounting (the CFLP mapping of the spec).

    Warehouses A (capacity 100, fixed cost 50) and B (100, 60); customers M1 (40 units) and M2
    (50). Unit costs A→M1 1, A→M2 3, B→M1 2, B→M2 1.
    Open A only: 50 + 40 + 150 = 240; B only: 60 + 80 + 50 = 190; both: 110 + 40 + 50 = 200.
    Optimum: B only, NPV −190. The weak LP opens both a little, so rounding opens both (200) and
    closing A is the improving move.
    """
    cost = {("FA", "M1"): 1, ("FA", "M2"): 3, ("FB", "M1"): 2, ("FB", "M2"): 1}
    return {
        "settings": settings(),
        "factories": [{"factory_id": f, "country": "X"} for f in ("FA", "FB")],
        "markets": [{"market_id": m} for m in ("M1", "M2")],
        "lines": [{"line_id": "LA", "factory_id": "FA", "line_type": "W", "capacity": 100, "status": "existing",
                   "fixed_cost": 50},
                  {"line_id": "LB", "factory_id": "FB", "line_type": "W", "capacity": 100, "status": "existing",
                   "fixed_cost": 60}],
        "programmes": [{"programme_id": "P", "kind": "component", "unit_price": 0, "must_serve": True,
                        "max_lines": 2}],
        "routings": [{"programme_id": "P", "line_type": "W", "capacity_use": 1}],
        "logistics": [{"factory_id": f, "market_id": m, "cost_per_unit": c} for (f, m), c in cost.items()],
        "demand": [{"programme_id": "P", "market_id": "M1", "year": 2025, "volume": 40},
                   {"programme_id": "P", "market_id": "M2", "year": 2025, "volume": 50}],
    }


# ------------------------------------------------------------------ hand-written workbooks
# Crafted with zipfile where openpyxl would not write the attack (test_readers, test_input_limits).

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 '<Default Extension="xml" ContentType="application/xml"/>'
                 '<Override PartName="/xl/workbook.xml" '
                 'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{parts}</Types>')
_ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
              '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
              'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_SST_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"

SheetData = str | bytes | Callable[[object], None]


def make_xlsx(path: Path, sheets: dict[str, SheetData], shared_strings: str | None = None,
              workbook_prolog: str = "", compresslevel: int | None = None) -> Path:
    """A minimal workbook written by hand: sheets as XML text, or a function streaming into the member."""
    names = list(sheets)
    parts = "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="{_SHEET_CT}"/>'
                    for i in range(len(names)))
    if shared_strings is not None:
        parts += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_CT}"/>'
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{workbook_prolog}'
                f'<workbook {NS} xmlns:r="{_REL}"><sheets>'
                + "".join(f'<sheet name="{n}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
                + "</sheets></workbook>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i + 1}" Type="{_REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                      for i in range(len(names)))
            + (f'<Relationship Id="rId{len(names) + 1}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
               if shared_strings is not None else "")
            + "</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES.format(parts=parts))
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        for i, n in enumerate(names):
            data = sheets[n]
            member = f"xl/worksheets/sheet{i + 1}.xml"
            if callable(data):
                with z.open(member, "w", force_zip64=True) as fh:
                    data(fh)
            else:
                z.writestr(member, data)
        if shared_strings is not None:
            z.writestr("xl/sharedStrings.xml", shared_strings)
    return path


def sheet_xml(rows: list[list[str]], dimension: str | None = None, prolog: str = "", extra: str = "") -> str:
    body = "".join(f'<row r="{i + 1}">{"".join(r)}</row>' for i, r in enumerate(rows))
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet {NS}>{dim}'
            f"<sheetData>{body}</sheetData>{extra}</worksheet>")


def s(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


SETTINGS_ROWS = [[s("A1", "key"), s("B1", "value")], [s("A2", "name"), s("B2", "x")]]


def snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    return {str(f): (f.read_bytes(), f.stat().st_mtime_ns) for f in files if f.is_file()}


def refused(path: Path, *phrases: str) -> str:
    """load_instance raises InputError (not a traceback); the CLI exits 1 with one clear stderr line.

    The input is not modified. Returns the message.
    """
    before = snapshot(path)
    with pytest.raises(InputError) as caught:
        load_instance(path)
    assert not isinstance(caught.value, InvalidInstance)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    for phrase in phrases:
        assert phrase in message
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {message}"]
    assert "Traceback" not in result.stderr
    assert snapshot(path) == before
    return message


#: Solve to a proven optimum (gap 0): what hand-solved tests compare against.
EXACT = SolveOptions(mip_gap=0)


def tables_folder(tmp_path: Path, tables: dict | None = None, name: str = "inst") -> Path:
    """``tables`` (default: :func:`deal_case`) written as a CSV folder under ``tmp_path``."""
    folder = tmp_path / name
    write_tables(dict_tables(tables or deal_case()), folder)
    return folder


def npv_of(instance: Instance, strategy: str) -> float:
    """Expected cash NPV of ``strategy``'s stochastic plan, solved to optimality."""
    return solve_instance(instance, strategy, None, EXACT).run.npv


def economics_case(first: int = 2025, last: int = 2025, rate: float = 0.0, demand: dict[int, float] | None = None,
                   set_extra: dict | None = None, **over: Any) -> dict:
    """One factory F, one market M, one line L1 (100 units), programme P (price 10, unit cost 4: 6 a
    unit), demand 100 in ``first`` unless given; tables in ``over`` replace the defaults."""
    demand = demand if demand is not None else {first: 100}
    t = {
        "settings": settings(first, last, rate, **(set_extra or {})),
        "factories": [{"factory_id": "F", "country": "VN"}],
        "markets": [{"market_id": "M"}],
        "lines": [{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"}],
        "programmes": [{"programme_id": "P", "kind": "vehicle", "unit_price": 10}],
        "routings": [{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 4}],
        "demand": [{"programme_id": "P", "market_id": "M", "year": y, "volume": v} for y, v in demand.items()],
    }
    t.update(over)
    return t


def npv_category(res: Any, name: str) -> float:
    """One category of a result's NPV breakdown."""
    return float(res.npv_breakdown.set_index("category").loc[name, "value"])
