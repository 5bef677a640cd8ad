"""Decision-grade economics (../shared/spec/economics.md), hand-solved on tiny instances.

Every case: one factory F, one market M, programme P (price 10, unit cost 4, so 6 a unit),
capacity 100, discount rate 0 unless said otherwise. The derivation of each expected number
is in the test's docstring; every plan also passes the independent invariant checker, which
checks objective = NPV − weights and Σ_t δ_t·free cash flow = NPV in every scenario.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import load, settings, solve
from builders import economics_case as base, npv_category as cat
from optimiser.errors import InvalidInstance
from optimiser.generate import generate_tables
from optimiser.model import build_model
from optimiser.model.objective import npv_segments, objective_constant
from optimiser.model.sets import prepare
from optimiser.validate import load_instance

ROOT = Path(__file__).resolve().parents[1] / "instances"




# ------------------------------------------------------------------ §7 idle cost

def _idle(idle: float) -> dict:
    """2025–2026; L1 fixed 100, idle ``idle``; demand 50 (2025), 10 (2026); L2 (type VB, nothing
    routable, retired after 2025) idle 7."""
    return base(last=2026, demand={2025: 50, 2026: 10},
                lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                        "fixed_cost": 100, "idle_cost": idle},
                       {"line_id": "L2", "factory_id": "F", "line_type": "VB", "capacity": 100, "status": "existing",
                        "retire_after": 2025, "idle_cost": 7}])


def test_idle_cost_existing_lines(tmp_path):
    """idle 30: 2025 runs (50×6 − 100 = 200 > −30); 2026 running earns 10×6 − 100 = −40 < −30 idle,
    so L1 stays idle. L2 is available in 2025 only (retired after): idle −7, a constant.
    NPV = 200 − 30 − 7 = 163 (idle_cost −37, fixed −100).
    idle 50: 2026 running (−40) beats idle (−50): NPV = 200 − 40 − 7 = 153, L1 active in 2026.
    idle 0 (today's model, but for L2): 2026 idle is free: NPV = 200 − 7 = 193."""
    res = solve(tmp_path, _idle(30))
    assert res.npv == pytest.approx(163) and cat(res, "idle_cost") == pytest.approx(-37)
    assert cat(res, "fixed_cost") == pytest.approx(-100)
    u = res.utilisation.set_index(["line_id", "year"])["active"]
    assert not u.get(("L1", 2026), False)
    res = solve(tmp_path, _idle(50))
    assert res.npv == pytest.approx(153) and cat(res, "idle_cost") == pytest.approx(-7)
    assert res.utilisation.set_index(["line_id", "year"])["active"][("L1", 2026)]
    assert solve(tmp_path, _idle(0)).npv == pytest.approx(193)


def test_idle_cost_gated_and_candidate_lines(tmp_path):
    """Gated: LG needs option o (upfront 100), idle 20; demand 100 in 2025 only, 2025–2026.
    Take o, run LG in 2025: 600 − 100, idle in 2026 (held, not running): −20 → 480.
    Candidate: C (build 100, lead 0, idle 20), demand 100 in 2025 and 2027, none in 2026:
    build in 2025: 600 + 600 − 100 − 20 (2026 idle) = 1080."""
    gated = base(last=2026, demand={2025: 100},
                 lines=[{"line_id": "LG", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                         "requires_option": "o", "idle_cost": 20}],
                 options=[{"option_id": "o", "upfront_cost": 100}])
    res = solve(tmp_path, gated)
    assert res.options_taken == ["o"] and res.npv == pytest.approx(480)
    assert cat(res, "idle_cost") == pytest.approx(-20) and cat(res, "deal_costs") == pytest.approx(-100)
    cand = base(last=2027, demand={2025: 100, 2027: 100},
                lines=[{"line_id": "C", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                        "build_cost": 100, "lead_time": 0, "idle_cost": 20}])
    res = solve(tmp_path, cand)
    assert res.npv == pytest.approx(1080) and res.lines_built_ids == ["C"]
    assert int(res.lines_built["build_year"].iloc[0]) == 2025 and cat(res, "idle_cost") == pytest.approx(-20)


# ------------------------------------------------------------------ §4 shared ownership

def test_equity_share_of_a_loss_making_partnership(tmp_path):
    """Factory J is 50 % ours; its line LJ (fixed 200, requires option jv, upfront 50) makes P at
    unit cost 12 > price 10, must_serve demand 100, tooling 40. Our share of every cash term at J:
    0.5 × (100×(10 − 12) − 200 − 40) = −220; the option's 50 is ours alone: NPV −270.
    Volumes stay whole (100 units made). Wholly owned: −440 − 50 = −490."""
    def case(share):
        return base(factories=[{"factory_id": "J", "country": "VN", "equity_share": share}],
                    lines=[{"line_id": "LJ", "factory_id": "J", "line_type": "VA", "capacity": 100,
                            "status": "existing", "fixed_cost": 200, "requires_option": "jv"}],
                    programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "must_serve": True}],
                    routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 12,
                               "tooling_cost": 40}],
                    options=[{"option_id": "jv", "upfront_cost": 50}])
    res = solve(tmp_path, case(0.5))
    assert res.npv == pytest.approx(-270)
    assert cat(res, "revenue") == pytest.approx(500) and cat(res, "variable_cost") == pytest.approx(-600)
    assert cat(res, "tooling") == pytest.approx(-20) and cat(res, "deal_costs") == pytest.approx(-50)
    assert float(res.production["units"].sum()) == pytest.approx(100)
    assert solve(tmp_path, case(1.0)).npv == pytest.approx(-490)


# ------------------------------------------------------------------ §3 tax

def test_tax_with_straight_line_depreciation_and_a_loss_year(tmp_path):
    """tax 25 %, asset_life 2; no existing line: candidate C (build 400, lead 0) is the only way to make P.
    Demand 100 in 2025–2026: operating cash 600 a year, depreciation 200 a year,
    tax 0.25×(600 − 200) = 100 a year: NPV = 1200 − 400 − 200 = 600.
    Demand 100 in 2025 only: tax 100 in 2025 and 0.25×(0 − 200) = −50 (a credit) in 2026:
    NPV = 600 − 400 − 50 = 150 (> 0: still built)."""
    def case(demand):
        return base(last=2026, demand=demand, set_extra={"tax_rate": 0.25, "asset_life": 2},
                    lines=[{"line_id": "C", "factory_id": "F", "line_type": "VA", "capacity": 100,
                            "status": "candidate", "build_cost": 400, "lead_time": 0}])
    res = solve(tmp_path, case({2025: 100, 2026: 100}))
    assert res.npv == pytest.approx(600) and cat(res, "tax") == pytest.approx(-200)
    res = solve(tmp_path, case({2025: 100}))
    assert res.npv == pytest.approx(150) and cat(res, "tax") == pytest.approx(-50)
    cf = res.cash_flow.set_index("year")
    assert cf.loc[2025, "tax"] == pytest.approx(-100) and cf.loc[2026, "tax"] == pytest.approx(50)
    assert cf.loc[2025, "free_cash_flow"] == pytest.approx(100) and cf.loc[2026, "free_cash_flow"] == pytest.approx(50)


# ------------------------------------------------------------------ §2 terminal value

def test_terminal_value_perpetuity(tmp_path):
    """2025 only, r = 10 %, base year 2025 (δ = 1); operating cash 600.
    g = 0: TV = 600/0.1 = 6000, NPV 6600.  g = 2 %: TV = 600×1.02/0.08 = 7650, NPV 8250.
    With tax 25 %: after-tax cash 450, TV = 450/0.1 = 4500, NPV 450 + 4500 = 4950."""
    res = solve(tmp_path, base(rate=0.1, set_extra={"terminal_value": "perpetuity"}))
    assert res.npv == pytest.approx(6600) and cat(res, "terminal_value") == pytest.approx(6000)
    res = solve(tmp_path, base(rate=0.1, set_extra={"terminal_value": "perpetuity", "terminal_growth": 0.02}))
    assert res.npv == pytest.approx(8250)
    res = solve(tmp_path, base(rate=0.1, set_extra={"terminal_value": "perpetuity", "tax_rate": 0.25}))
    assert res.npv == pytest.approx(4950) and cat(res, "tax") == pytest.approx(-150)


def test_terminal_value_book(tmp_path):
    """2025–2026, book value. Candidate C (build 400 in 2025, lead 0, life 4) requires option o
    (upfront 100, life 5), tooling 40 on C (the line's life, 4). Operating cash 2×600 = 1200.
    Residual at the end of 2026: build 400×(1 − 2/4) = 200, tooling 40×(1 − 2/4) = 20,
    option 100×(1 − 2/5) = 60. NPV = 1200 − 400 − 40 − 100 + 280 = 940."""
    t = base(last=2026, demand={2025: 100, 2026: 100}, set_extra={"terminal_value": "book"},
             lines=[{"line_id": "C", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                     "build_cost": 400, "lead_time": 0, "life": 4, "requires_option": "o"}],
             routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 4, "tooling_cost": 40}],
             options=[{"option_id": "o", "upfront_cost": 100, "life": 5}])
    res = solve(tmp_path, t)
    assert res.npv == pytest.approx(940) and cat(res, "terminal_value") == pytest.approx(280)
    assert res.cash_flow.set_index("year").loc[2026, "terminal_value"] == pytest.approx(280)


# ------------------------------------------------------------------ §6 yearly outside price

def test_external_price_by_year(tmp_path):
    """P needs one pack per car; packs only bought outside at 2 (programmes) but 3 in 2026 (prices).
    2025: 100×(6 − 2) = 400; 2026: 100×(6 − 3) = 300; NPV 700."""
    t = base(last=2026, demand={2025: 100, 2026: 100},
             programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10},
                         {"programme_id": "pack", "kind": "component", "external_price": 2}],
             bom=[{"parent_id": "P", "component_id": "pack", "quantity": 1}],
             prices=[{"programme_id": "pack", "year": 2026, "external_price": 3}])
    res = solve(tmp_path, t)
    assert res.npv == pytest.approx(700) and cat(res, "external_purchases") == pytest.approx(-500)


# ------------------------------------------------------------------ §1 cash vs weights

def test_weights_are_not_cash(tmp_path):
    """P makes a loss of 2 a unit (cost 12), penalty 4 per unit unmet, demand 150,
    capacity 100: making 100 costs 200 in cash and saves 400 of penalty; 50 stay unmet (200 of penalty).
    Cash NPV −200, unmet_penalty_cost 200, objective −400."""
    t = base(demand={2025: 150},
             programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "unmet_penalty": 4}],
             routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 12}])
    res = solve(tmp_path, t)
    assert res.npv == pytest.approx(-200) and res.unmet_penalty_cost == pytest.approx(200)
    assert res.objective == pytest.approx(-400) and res.run.objective == pytest.approx(-400)
    assert res.target_penalty == 0


# ------------------------------------------------------------------ defaults change nothing

def _old_objective(md) -> dict[str, dict]:
    """Today's objective coefficients written out independently (model.md's formula), per variable and key."""
    d, first = md.delta, md.first_year
    out: dict[str, dict] = {"ship": {}, "make": {}, "extbuy": {}, "unmet": {}, "running": {}, "take": {}, "build": {},
                            "tool": {}}
    for k in md.ship_index:
        out["ship"][k] = d[k[3]] * md.ship_value[k]
    for k in md.make_index:
        out["make"][k] = -d[k[2]] * md.make_cost[(k[0], k[1])]
    for k in md.extbuy_index:
        out["extbuy"][k] = -d[k[1]] * md.external_price[k[0]]
    for k in md.demand_index:
        out["unmet"][k] = -d[k[2]] * md.unmet_penalty[k[0]]
    for k in md.active_index:
        out["running"][k] = -d[k[1]] * md.fixed_cost[k[0]]
    annuity = sum(d.values())
    for o in md.options:
        out["take"][o] = -(annuity * md.annual_cost[o] + d[first] * md.upfront_cost[o])
    for (l, tau) in md.build_index:
        out["build"][(l, tau)] = -d[tau] * md.build_cost[l]
    for (p, l) in md.tool_index:
        year = min(max(md.tooling_year[p], first), md.years[-1])
        out["tool"][(p, l)] = -d[year] * md.tooling_cost[(p, l)]
    return out


def _new_objective(m, md) -> dict[str, dict]:
    s1, s2 = npv_segments(m, md)
    out: dict[str, dict] = {}
    for segs in [s1, *s2.values()]:
        for var, pos, coef in segs:
            keys = list(var.keys())
            name = var.local_name
            for p, c in zip(pos.tolist(), coef.tolist()):
                k = keys[p]
                out.setdefault(name, {})[k if not isinstance(k, tuple) or len(k) > 1 else k[0]] = c
    return out


def _without_economics(src: Path, dst: Path) -> Path:
    """A copy of a CSV instance without the economics columns and settings of ../shared/spec/economics.md."""
    import csv

    drop = {"equity_share", "idle_cost", "life", "decide", "decide_from", "external_price"}
    keys = {"terminal_value", "terminal_growth", "tax_rate", "asset_life"}
    dst.mkdir(parents=True)
    for f in src.glob("*.csv"):
        with open(f, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        cols = [c for c in rows[0] if not (c in drop and f.stem != "programmes")]
        rows = [r for r in rows if f.stem != "settings" or r["key"] not in keys]
        with open(dst / f.name, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, cols, extrasaction="ignore", lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
    return dst


@pytest.mark.parametrize("source", ["tiny", "default", "gen1", "gen2", "gen3"])
def test_defaults_give_exactly_the_old_objective(tmp_path, source):
    """With every economics column at its default, each objective coefficient is bit-for-bit today's
    (model.md's formula, written out above) and the constant is 0: the same model, the same optimum."""
    if source == "tiny":
        inst, _ = load_instance(ROOT / "tiny")
    elif source == "default":  # the default case with its economics columns removed (all at their defaults)
        inst, _ = load_instance(_without_economics(ROOT / "foxconn-vinfast-2021", tmp_path / "default"))
    else:
        inst = load(tmp_path, generate_tables(lines=6, programmes=6, years=3, markets=2, scenarios=2,
                                              seed=int(source[-1])))
    md = prepare(inst)
    m = build_model(md)
    old, new = _old_objective(md), _new_objective(m, md)
    for var, coefs in old.items():
        want = {k: c for k, c in coefs.items() if c != 0}
        assert new.get(var, {}) == want, var  # exact equality, not approx
    assert objective_constant(md) == 0.0


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize("where, bad, words", [
    ("factories", {"equity_share": 0}, "equity_share"),
    ("factories", {"equity_share": 1.5}, "equity_share"),
    ("settings", {"tax_rate": 1}, "tax_rate"),
    ("settings", {"terminal_value": "perpetuity", "terminal_growth": 0.1}, "terminal_growth"),
    ("settings", {"terminal_value": "forever"}, "terminal_value"),
    ("lines", {"life": 0}, "life"),
    ("settings", {"asset_life": 0}, "asset_life"),
    ("prices", {}, "external_price"),
])
def test_economics_columns_are_validated(tmp_path, where, bad, words):
    t = base(rate=0.08)
    if where == "settings":
        t["settings"] = settings(2025, 2025, 0.08, **bad)
    elif where == "prices":
        t["prices"] = [{"programme_id": "P", "year": 2025, "external_price": 3}]
    else:
        t[where] = [t[where][0] | bad]
    with pytest.raises(InvalidInstance) as exc:
        load(tmp_path, t)
    errs = [p for p in exc.value.problems if p.severity == "error"]
    assert len(errs) == 1, errs
    (err,) = errs
    assert err.table == where and err.row is not None and words in str(err), str(err)


# ------------------------------------------------------------------ IRR, payback, peak funding

def test_irr_payback_and_peak_funding(tmp_path):
    """Candidate C (build 400 in 2025, lead 1: ready 2026), demand 100 in 2026–2027, 2025–2027.
    Free cash flow −400, 600, 600. IRR x: −400 + 600y + 600y² = 0 with y = 1/(1+x):
    y = (−3 + √33)/6 = 0.457427…, x = 1/y − 1 = 1.186141…; cumulative −400, 200, 800: payback 2026,
    peak funding need 400."""
    from optimiser.finance import finance

    t = base(last=2027, demand={2026: 100, 2027: 100},
             lines=[{"line_id": "C", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                     "build_cost": 400, "lead_time": 1}])
    res = solve(tmp_path, t)
    assert list(res.cash_flow["free_cash_flow"]) == pytest.approx([-400, 600, 600])
    fin = finance(res.cash_flow, {"base": 1.0})
    y = (-3 + 33 ** 0.5) / 6
    assert fin.irr == pytest.approx(1 / y - 1, rel=1e-9)
    assert fin.payback_year == 2026 and fin.peak_funding == pytest.approx(400)


# ------------------------------------------------------------------ generated instances

def test_generate_with_economics_solves_and_keeps_the_base_instance(tmp_path):
    """`generate --economics` = the same instance plus the economics columns: same tables and rows otherwise;
    it validates without problems and solves (every plan passes the invariant checker, cash flow included)."""
    from optimiser.generate import SIZES
    from optimiser.engine import solve_instance
    from optimiser.solver.options import SolveOptions

    from builders import check_invariants

    params = dict(lines=6, programmes=6, years=3, markets=2, scenarios=2, seed=3)
    plain, econ = generate_tables(**params), generate_tables(**params, economics=True)
    assert plain["demand"] == econ["demand"] and len(plain["lines"]) == len(econ["lines"])
    inst = load(tmp_path, econ)
    assert inst.tax_rate == 0.2 and inst.terminal_value == "perpetuity"
    assert sorted(f.equity_share for f in inst.factories)[0] == 0.5 and len(inst.later_options()) == 1
    res = solve_instance(inst, "optimise", None, SolveOptions(mip_gap=0, time_limit=60))
    check_invariants(inst, res)
    assert res.npv_breakdown.set_index("category").loc["tax", "value"] != 0
    folder = tmp_path / "medium"
    from optimiser.writers import dict_tables, write_tables

    write_tables(dict_tables(generate_tables(**SIZES["medium"], economics=True)), folder)
    _, warnings = load_instance(folder)
    assert not warnings


# ------------------------------------------------------------------ §5 deals that can wait

def _wait(decide: str = "later", **opt) -> dict:
    """2025–2026, r = 0; scenarios low/high (½ each, demand factor 1 and 2); demand 100 a year (×factor).
    L1 (existing, cap 100) serves 100 a year in every scenario: 2 × 600 = 1200.
    Option buy (upfront 500) gates LB (existing, cap 100); P's tooling on LB costs 50 (line routing).
    Only high 2026 has more demand (200): LB earns 100 × 6 = 600 there."""
    t = base(last=2026, demand={2025: 100, 2026: 100},
             lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"},
                    {"line_id": "LB", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing",
                     "requires_option": "buy"}],
             programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 2}],
             routings=[{"programme_id": "P", "line_type": "VA", "capacity_use": 1, "unit_cost": 4},
                       {"programme_id": "P", "line_id": "LB", "capacity_use": 1, "unit_cost": 4, "tooling_cost": 50}],
             options=[{"option_id": "buy", "upfront_cost": 500, "decide": decide} | opt],
             scenarios=[{"scenario_id": "low", "probability": 0.5, "demand_factor": 1},
                        {"scenario_id": "high", "probability": 0.5, "demand_factor": 2}],
             strategies=[{"strategy_id": "buy", "option_id": "buy", "decision": "take"},
                         {"strategy_id": "neither", "option_id": "buy", "decision": "forbid"}])
    t["demand"] = [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 100},
                   {"programme_id": "P", "market_id": "M", "year": 2026, "volume": 100}]
    t["scenario_demand"] = [{"scenario_id": "high", "programme_id": "P", "market_id": "M", "year": 2025, "volume": 100}]
    return t


def test_a_deal_that_can_wait(tmp_path):
    """decide = later (from 2026, the default first_year + 1): high takes buy in 2026 (600 − 500 − 50 = +50),
    low never: NPV = 1200 + ½·50 = 1225; tooling on LB counted in 2026 = max(first_year(P), decide_from).
    Forced now (today's model): buying for both scenarios is worth ½·600 − 550 = −250 → not taken: 1200.
    Value of flexibility = 1225 − 1200 = 25.
    Strategy buy (take = taken in every scenario): low also pays the 500 (but tools nothing):
    1200 + ½·50 + ½·(−500) = 975. Strategy neither: 1200."""
    res = solve(tmp_path, _wait())
    assert res.npv == pytest.approx(1225)
    years = res.option_years.set_index("scenario")["year_taken"]
    assert years["high"] == 2026 and (years["low"] is None or years["low"] != years["low"])
    assert res.tooling[res.tooling["line_id"] == "LB"]["tooling_year"].tolist() == [2026]
    assert res.tooling[res.tooling["line_id"] == "LB"]["scenario"].tolist() == ["high"]
    by_s = res.npv_by_scenario.set_index("scenario")["npv"]
    assert by_s["low"] == pytest.approx(1200) and by_s["high"] == pytest.approx(1250)
    now = solve(tmp_path, _wait("now"))
    assert now.npv == pytest.approx(1200) and now.options_taken == []
    assert solve(tmp_path, _wait(), "buy").npv == pytest.approx(975)
    assert solve(tmp_path, _wait(), "neither").npv == pytest.approx(1200)
    # decide_from 2025: high could take it in 2025 too, but waiting is free here: same 1225
    assert solve(tmp_path, _wait(decide_from=2025)).npv == pytest.approx(1225)


def test_forcing_later_options_now_gives_the_old_model(tmp_path):
    """The same instance with decide = now and with no decide column at all (today's model): identical
    objective coefficients and optimum."""
    a = load(tmp_path, _wait("now"), "a")
    t = _wait("now")
    t["options"] = [{"option_id": "buy", "upfront_cost": 500}]
    b = load(tmp_path, t, "b")
    ma, mb = prepare(a), prepare(b)
    assert _new_objective(build_model(ma), ma) == _new_objective(build_model(mb), mb)
    assert solve(tmp_path, _wait("now")).objective == solve(tmp_path, t).objective == pytest.approx(1200)


def test_compare_reports_the_value_of_flexibility(tmp_path):
    """On the case above: value of waiting 1225 − 1200 = 25; the optimum takes buy in high in 2026, never in low.
    The comparison workbook carries it."""
    from optimiser.compare import compare
    from optimiser.report import write_comparison
    from optimiser.solver.options import SolveOptions

    inst = load(tmp_path, _wait())
    comp = compare(inst, options=SolveOptions(mip_gap=0), workers=1)
    (flex,) = comp.flexibility
    assert flex["value"] == pytest.approx(25) and flex["optimum_now"] == pytest.approx(1200)
    assert flex["year_taken"] == {"low": None, "high": 2026}
    assert comp.to_json()["flexibility"][0]["value"] == pytest.approx(25)
    assert any("Waiting to decide buy is worth" in x for x in comp.sentences)
    sto = comp.stochastic.set_index("strategy")
    assert sto.loc["optimise", "expected_npv"] == pytest.approx(1225)
    assert sto.loc["buy", "expected_npv"] == pytest.approx(975)
    assert sto.loc["neither", "expected_npv"] == pytest.approx(1200)  # (re-used model: forbid reaches takeyear)
    write_comparison(inst, comp, tmp_path / "c.xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "c.xlsx")["Comparison"]
    assert any(c.value == "Value of flexibility (options decided later, per scenario)" for row in ws.iter_rows() for c in row)


def test_ph_refuses_later_options_and_explain_handles_them(tmp_path):
    """PH: one clear line. explain (elastic model): a later-option instance made infeasible by a commitment that
    needs the bought line in both scenarios is explained, not crashed."""
    from optimiser.errors import InputError
    from optimiser.explain import explain
    from optimiser.ph_setup import refuse_later_options

    inst = load(tmp_path, _wait())
    with pytest.raises(InputError, match="solve-ph does not support options decided later"):
        refuse_later_options(inst)
    t = _wait()
    t["demand"] = [{"programme_id": "P", "market_id": "M", "year": 2025, "volume": 150, "min_volume": 150},
                   {"programme_id": "P", "market_id": "M", "year": 2026, "volume": 100}]
    t["scenario_demand"] = []
    why = explain(load(tmp_path, t, "inf"), "optimise", None)
    assert why.lines()


# ------------------------------------------------------------------ what the default case must be able to say

def _staged() -> dict:
    """2023–2025, r = 0. The car P (price 10) must be served, 100 a year.
    Partnership now: VinFast's plant held 50 % (factory VJ, equity_share 0.5), line LJ (partner, upfront 0)
    makes P at a loss: unit cost 12, fixed 300 a year.
    Buy later, from 2024: the same plant owned outright (factory VO, equity 1), line LB (buy, upfront 150,
    decide = later, decide_from 2024): unit cost 8, fixed 100 a year."""
    return base(first=2023, last=2025, demand={2023: 100, 2024: 100, 2025: 100},
                factories=[{"factory_id": "VJ", "country": "VN", "equity_share": 0.5},
                           {"factory_id": "VO", "country": "VN"}],
                lines=[{"line_id": "LJ", "factory_id": "VJ", "line_type": "VA", "capacity": 100, "status": "existing",
                        "fixed_cost": 300, "requires_option": "partner"},
                       {"line_id": "LB", "factory_id": "VO", "line_type": "VA", "capacity": 100, "status": "existing",
                        "fixed_cost": 100, "requires_option": "buy"}],
                programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "must_serve": True,
                             "max_lines": 2}],
                routings=[{"programme_id": "P", "line_id": "LJ", "capacity_use": 1, "unit_cost": 12},
                          {"programme_id": "P", "line_id": "LB", "capacity_use": 1, "unit_cost": 8}],
                options=[{"option_id": "partner", "kind": "partner"},
                         {"option_id": "buy", "kind": "buy", "upfront_cost": 150, "decide": "later",
                          "decide_from": 2024}],
                strategies=[{"strategy_id": "staged", "option_id": "partner", "decision": "take"},
                            {"strategy_id": "staged", "option_id": "buy", "decision": "take"},
                            {"strategy_id": "partner-only", "option_id": "partner", "decision": "take"},
                            {"strategy_id": "partner-only", "option_id": "buy", "decision": "forbid"}])


def test_partner_now_as_a_50_percent_share_of_a_loss_then_buy_from_2024(tmp_path):
    """2023: only LJ can make P: our half of 100×(10 − 12) − 300 = −500, i.e. −250 (revenue 500, variable −600,
    fixed −150). Buying in 2024: −150, then LB earns 100×(10 − 8) − 100 = 100 in 2024 and in 2025 (LJ stands
    still: no fixed cost) → −250 − 150 + 200 = −200. Buying in 2025 instead: −250 − 250 − 150 + 100 = −550.
    Partnership alone: 3 × −250 = −750. The staged deal (take partner, take buy) = the optimum, −200, buy in 2024."""
    t = _staged()
    for strategy in ("staged", "optimise"):
        res = solve(tmp_path, t, strategy)
        assert res.npv == pytest.approx(-200), strategy
        assert res.option_years.set_index("scenario")["year_taken"]["base"] == 2024
        lj = res.production[res.production["line_id"] == "LJ"]
        assert lj["year"].tolist() == [2023] and lj["units"].tolist() == pytest.approx([100])
    assert solve(tmp_path, t, "partner-only").npv == pytest.approx(-750)


@pytest.mark.parametrize("option, words", [
    ({"decide": "later", "decide_from": 2030}, "outside the horizon 2025–2026"),
    ({"decide": "later"}, None),  # default first_year + 1 = 2026: fine
    ({"decide": "sometime"}, "decide"),
])
def test_decide_from_is_validated(tmp_path, option, words):
    t = base(last=2026, options=[{"option_id": "o"} | option],
             strategies=[{"strategy_id": "k", "option_id": "o", "decision": "take"}])
    if words is None:
        inst = load(tmp_path, t)
        assert inst.options[0].decide_from == 2026
        return
    with pytest.raises(InvalidInstance) as exc:
        load(tmp_path, t)
    (err,) = [p for p in exc.value.problems if p.severity == "error"]
    assert err.table == "options" and err.row == 2 and words in str(err), str(err)
    t1 = base(options=[{"option_id": "o", "decide": "later"}],
              strategies=[{"strategy_id": "k", "option_id": "o", "decision": "take"}])
    with pytest.raises(InvalidInstance):  # a one-year horizon leaves no year to decide later in
        load(tmp_path, t1, "one")


def test_later_option_sourcing_and_budget_hold_per_scenario(tmp_path):
    """On the waiting case: max_lines 1 — P is tooled on L1 for every scenario, so high cannot add LB in
    2026 (2 lines there): 1200, never taken. A capex_limit of 400 in 2026: high cannot pay 500 + 50 then: 1200.
    With the limit at 550 it can: 1225 again."""
    t = _wait()
    t["programmes"] = [{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 1}]
    res = solve(tmp_path, t)
    assert res.npv == pytest.approx(1200) and res.option_years["year_taken"].isna().all()
    t = _wait()
    t["budget"] = [{"year": 2026, "capex_limit": 400}]
    assert solve(tmp_path, t).npv == pytest.approx(1200)
    t["budget"] = [{"year": 2026, "capex_limit": 550}]
    assert solve(tmp_path, t).npv == pytest.approx(1225)


def test_report_of_a_plan_with_a_later_deal(tmp_path):
    """The workbook writes the later deal's years and per-scenario tooling, and the cash-flow sheet."""
    from openpyxl import load_workbook

    from optimiser.report import write_report

    inst = load(tmp_path, _wait())
    from optimiser.engine import solve_instance

    res = solve_instance(inst)
    write_report(inst, res, tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    texts = {c.value for row in wb["Decisions"].iter_rows() for c in row if isinstance(c.value, str)}
    assert "Deals decided later: the year each scenario takes them (blank: never)" in texts
    assert "scenario (a later deal's line)" in texts
    cf = {c.value for row in wb["Cash flow"].iter_rows() for c in row if isinstance(c.value, str)}
    assert "Expected over the scenarios" in cf and "By scenario" in cf
