"""Adversarial review of economics.md (issue 18): hand-solved findings and property tests.

Hand-solved cases use one factory F, one market M, programme P (price 10, unit cost 4: 6 a unit),
as tests/test_economics.py does; the derivation is in each docstring. The property tests draw small
random instances (hypothesis, few examples: each solves a handful of tiny MIPs).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from builders import check_invariants, load, settings, solve
from builders import economics_case as base, npv_category as cat
from optimiser.engine import solve_instance
from optimiser.solver.options import SolveOptions

OPTS = SolveOptions(mip_gap=0)




# ------------------------------------------------------------------ §2 + §3: the perpetuity of CF_after_tax

def test_perpetuity_carries_the_after_tax_cash_flow_of_section_3(tmp_path):
    """economics.md §2: TV = CF_after_tax[last]·(1+g)/(r−g), with §3's CF_after_tax = CF_before_tax − tax and
    tax = rate·(CF_before_tax − depreciation). 2025 only, r = 10 % (δ = 1), tax 25 %, asset_life 2;
    the only line is candidate C (build 400, lead 0): operating cash 100×6 = 600, depreciation 400/2 = 200,
    tax 0.25×(600 − 200) = 100, CF_after_tax = 500, TV = 500/0.1 = 5000 (capex not in it).
    NPV = 600 − 400 − 100 + 5000 = 5100 (tax −100, terminal value 5000)."""
    t = base(rate=0.1, set_extra={"tax_rate": 0.25, "asset_life": 2, "terminal_value": "perpetuity"},
             lines=[{"line_id": "C", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "candidate",
                     "build_cost": 400, "lead_time": 0}])
    res = solve(tmp_path, t)
    assert res.lines_built_ids == ["C"]
    assert cat(res, "tax") == pytest.approx(-100)
    assert cat(res, "terminal_value") == pytest.approx(5000)
    assert res.npv == pytest.approx(5100)
    cf = res.cash_flow.set_index("year")
    assert cf.loc[2025, "terminal_value"] == pytest.approx(5000)


# ------------------------------------------------------------------ property tests on random small instances

@st.composite
def instances(draw, economics: bool = True, later: bool = True):
    """1–3 years, 1–2 factories, 1–3 lines (existing or candidate, some gated by options), 1–2 programmes,
    one or two scenarios. ``economics``: tax, terminal value, equity shares, idle costs, lives drawn;
    ``later``: options may be decided later."""
    years = draw(st.integers(1, 3))
    last = 2024 + years
    facs = [f"F{i}" for i in range(draw(st.integers(1, 2)))]
    opts = [{"option_id": "buy", "upfront_cost": draw(st.integers(0, 300)), "annual_cost": draw(st.integers(0, 40)),
             "exclusive_group": "g"},
            {"option_id": "partner", "upfront_cost": draw(st.integers(0, 100)), "exclusive_group": "g"},
            {"option_id": "jv", "upfront_cost": draw(st.integers(0, 200))}]
    lines = []
    for i in range(draw(st.integers(1, 3))):
        ln = {"line_id": f"L{i}", "factory_id": draw(st.sampled_from(facs)), "line_type": "A",
              "capacity": draw(st.integers(20, 150)), "status": draw(st.sampled_from(["existing", "candidate"])),
              "fixed_cost": draw(st.integers(0, 200))}
        if ln["status"] == "candidate":
            ln.update(build_cost=draw(st.integers(0, 400)), lead_time=draw(st.integers(0, 1)))
        o = draw(st.sampled_from([None, "buy", "partner", "jv"]))
        if o:
            ln["requires_option"] = o
        if economics:
            ln["idle_cost"] = draw(st.sampled_from([0, 20, 150, 300]))
            ln["life"] = draw(st.sampled_from([None, 1, 2, 5]))
        lines.append(ln)
    progs, routings, demand = [], [], []
    for j in range(draw(st.integers(1, 2))):
        pid = f"P{j}"
        progs.append({"programme_id": pid, "kind": "vehicle", "unit_price": draw(st.integers(5, 20)),
                      "max_lines": draw(st.integers(1, 2)), "unmet_penalty": draw(st.integers(0, 5)),
                      "counts_for_share": True})
        for ln in lines:
            if (j == 0 and ln is lines[0]) or draw(st.booleans()):
                routings.append({"programme_id": pid, "line_id": ln["line_id"], "capacity_use": 1,
                                 "unit_cost": draw(st.integers(0, 12)), "tooling_cost": draw(st.integers(0, 80))})
        for y in range(years):
            demand.append({"programme_id": pid, "market_id": "M", "year": 2025 + y,
                           "volume": draw(st.integers(0, 150))})
    extra: dict = {}
    rate = draw(st.sampled_from([0.0, 0.08]))
    if draw(st.booleans()):
        extra |= {"share_target": 0.05, "share_penalty": draw(st.integers(1, 10))}
    factories = [{"factory_id": f, "country": "X"} for f in facs]
    if economics:
        tv = draw(st.sampled_from(["none", "book"] + (["perpetuity"] if rate else [])))
        extra |= {"tax_rate": draw(st.sampled_from([0.0, 0.25])), "terminal_value": tv,
                  "asset_life": draw(st.integers(1, 4))}
        if tv == "perpetuity":
            extra["terminal_growth"] = draw(st.sampled_from([0.0, 0.02]))
        for f in factories:
            f["equity_share"] = draw(st.sampled_from([1.0, 0.5, 0.3]))
        for o in opts:
            o["life"] = draw(st.sampled_from([None, 2, 3]))
    if later and years > 1:
        for o in opts:
            if draw(st.booleans()):
                o["decide"] = "later"
                o["decide_from"] = draw(st.integers(2025, last))
    tables = {
        "settings": settings(2025, last, rate, **extra),
        "factories": factories, "markets": [{"market_id": "M"}],
        "lines": lines, "programmes": progs, "routings": routings, "demand": demand, "options": opts,
        "market_size": [{"year": last, "volume": 1000}],
        "strategies": [{"strategy_id": "buy", "option_id": "buy", "decision": "take"},
                       {"strategy_id": "neither", "option_id": "buy", "decision": "forbid"},
                       {"strategy_id": "neither", "option_id": "partner", "decision": "forbid"}],
    }
    if draw(st.booleans()):
        tables["scenarios"] = [{"scenario_id": "low", "probability": 0.4, "demand_factor": 0.5},
                               {"scenario_id": "high", "probability": 0.6, "demand_factor": 1.5,
                                "price_factor": draw(st.sampled_from([1.0, 1.2]))}]
    return tables


def _load(tables: dict):
    with tempfile.TemporaryDirectory() as d:
        return load(Path(d), tables)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


PROPS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@hsettings(max_examples=8, **PROPS)
@given(instances(economics=False, later=False))
def test_property_default_columns_change_nothing(tables):
    """(a) Every economics column written out at its default (tax 0, terminal none, growth 0, asset_life 10,
    equity_share 1, idle_cost 0, line and option lives, decide now) gives the optimum of the instance
    without those columns, for optimise and a forced strategy."""
    written = copy.deepcopy(tables)
    written["settings"] += [{"key": "tax_rate", "value": 0}, {"key": "terminal_value", "value": "none"},
                            {"key": "terminal_growth", "value": 0}, {"key": "asset_life", "value": 10}]
    for f in written["factories"]:
        f["equity_share"] = 1
    for ln in written["lines"]:
        ln |= {"idle_cost": 0, "life": 3}
    for o in written["options"]:
        o |= {"decide": "now", "life": 4}
    plain, full = _load(tables), _load(written)
    for strategy in ("optimise", "neither"):
        a = solve_instance(plain, strategy, None, OPTS)
        b = solve_instance(full, strategy, None, OPTS)
        assert b.run.objective == pytest.approx(a.run.objective, rel=1e-9, abs=1e-7), strategy
        assert b.npv == pytest.approx(a.npv, rel=1e-9, abs=1e-7)


@hsettings(max_examples=8, **PROPS)
@given(instances(economics=True, later=True))
def test_property_later_options_forced_now_are_the_old_model(tables):
    """(b) Forcing every later option to now (compare.decided_now, one after the other) gives the optimum of
    the same tables with no decide/decide_from columns at all (today's model); and where every later option
    can be taken from the first year (decide_from = first_year), the optimum with them decided later is never
    below it (each scenario can copy the now decision; from a later year it cannot, and may be worth less)."""
    from optimiser.compare import decided_now

    inst = _load(tables)
    old_tables = copy.deepcopy(tables)
    for o in old_tables["options"]:
        o.pop("decide", None)
        o.pop("decide_from", None)
    old = _load(old_tables)
    forced = inst
    for o in inst.later_options():
        forced = decided_now(forced, o)
    assert not forced.later_options()
    a = solve_instance(old, "optimise", None, OPTS)
    b = solve_instance(forced, "optimise", None, OPTS)
    assert _close(a.run.objective, b.run.objective), (a.run.objective, b.run.objective)
    if inst.later_options() and all(o.decide_from == inst.first_year for o in inst.options if o.decide == "later"):
        c = solve_instance(inst, "optimise", None, OPTS)
        check_invariants(inst, c)
        assert c.run.objective >= a.run.objective - 1e-6 * max(1.0, abs(a.run.objective))


def _capex_schedule(inst, res, scenario: str) -> tuple[dict[int, float], dict[int, float], float]:
    """Independently of the model code: capex by year, depreciation by year and book value at the end of the
    horizon of the plan in ``scenario`` (builds and tooling at the site's share, option upfront whole)."""
    first, last = inst.first_year, inst.last_year
    share = {f.id: f.equity_share for f in inst.factories}
    opt = {o.id: o for o in inst.options}
    spend: list[tuple[int, int, float]] = []
    for r in res.lines_built.itertuples():
        if getattr(r, "scenario", "") in ("", scenario):
            ln = inst.line(r.line_id)
            spend.append((int(r.build_year), ln.life or inst.asset_life, share[ln.factory] * ln.build_cost))
    for r in res.tooling.itertuples():
        if getattr(r, "scenario", "") in ("", scenario):
            ln = inst.line(r.line_id)
            spend.append((int(r.tooling_year), ln.life or inst.asset_life,
                          share[ln.factory] * inst.routings[(r.programme_id, r.line_id)].tooling_cost))
    years = {r.option_id: r.year_taken for r in res.option_years.itertuples() if r.scenario == scenario}
    for o in opt.values():
        if o.decide == "later":
            y = years.get(o.id)
            if y is not None and y == y:
                spend.append((int(y), o.life or inst.asset_life, o.upfront_cost))
        elif o.id in res.options_taken:
            spend.append((first, o.life or inst.asset_life, o.upfront_cost))
    capex = {t: 0.0 for t in range(first, last + 1)}
    dep = dict.fromkeys(capex, 0.0)
    book = 0.0
    for tau, n, k in spend:
        capex[tau] -= k
        for t in range(tau, min(tau + n - 1, last) + 1):
            dep[t] += k / n
        book += k * max(0.0, 1 - (last - tau + 1) / n)
    return capex, dep, book


@hsettings(max_examples=10, **PROPS)
@given(instances(economics=True, later=True))
def test_property_breakdown_cash_flow_and_weights_add_up(tables):
    """(c) With tax, terminal value, equity shares, idle costs and later options drawn: the NPV breakdown sums
    to npv, objective = npv − unmet_penalty_cost − target_penalty = what HiGHS maximised, Σ_t δ_t·FCF = NPV_s
    (builders.check_invariants); and the cash-flow table's capex, depreciation, tax, book value and
    perpetuity follow economics.md §2–§3 recomputed here from the plan's decisions."""
    inst = _load(tables)
    res = solve_instance(inst, "optimise", None, OPTS)
    check_invariants(inst, res)
    assert _close(res.objective, res.run.objective)
    assert sum(float(v) for v in res.npv_breakdown["value"]) == res.npv  # (in category order, as a reader adds)
    rate, last = inst.tax_rate, inst.last_year
    for s in res.run.scenarios:
        capex, dep, book = _capex_schedule(inst, res, s)
        cf = res.cash_flow[res.cash_flow["scenario"] == s].set_index("year")
        for t in capex:
            assert _close(cf.loc[t, "capex"], capex[t]), (s, t, cf.loc[t, "capex"], capex[t])
            assert _close(cf.loc[t, "depreciation"], dep[t]), (s, t)
            op = cf.loc[t, "operating_cash_flow"]
            assert _close(cf.loc[t, "tax"], -rate * (op - dep[t])), (s, t)
        tv = cf.loc[last, "terminal_value"]
        if inst.terminal_value == "book":
            assert _close(tv, book)
        elif inst.terminal_value == "perpetuity":
            g, r = inst.terminal_growth, inst.discount_rate
            after_tax = cf.loc[last, "operating_cash_flow"] + cf.loc[last, "tax"]
            assert _close(tv, after_tax * (1 + g) / (r - g))
        else:
            assert tv == 0


@hsettings(max_examples=8, **PROPS)
@given(instances(economics=True, later=True))
def test_property_a_plan_evaluated_with_fix_keeps_its_npv(tables):
    """(d) The plan of a solve, written to a plan file and read back, evaluated as `solve --fix` does (its deals,
    builds and tooling fixed): the same objective, and the same cash NPV as the plan file reports."""
    from optimiser.plan import plan_of, read_plan, write_plan

    inst = _load(tables)
    res = solve_instance(inst, "optimise", None, OPTS)
    with tempfile.TemporaryDirectory() as d:
        path = write_plan(plan_of(res, inst), Path(d) / "plan.json")
        plan = read_plan(path)
    fixed = solve_instance(inst, "optimise", None, OPTS, fixed=plan.first_stage())
    check_invariants(inst, fixed)
    assert _close(fixed.run.objective, plan.objective), (fixed.run.objective, plan.objective)
    assert _close(fixed.npv, plan.npv), (fixed.npv, plan.npv)


# ------------------------------------------------------------------ validation

def test_decide_from_outside_the_horizon_is_refused_for_a_now_option_too(tmp_path):
    """economics.md lists `decide_from` outside the horizon as bad input, whatever `decide` says: a `now` option
    with decide_from 2030 in a 2025–2026 horizon is a located error (options row 2, column decide_from), not
    silently ignored (it would take effect, out of range, the day someone sets decide = later)."""
    from optimiser.errors import InvalidInstance

    t = base(last=2026, options=[{"option_id": "o", "decide": "now", "decide_from": 2030}],
             strategies=[{"strategy_id": "k", "option_id": "o", "decision": "take"}])
    with pytest.raises(InvalidInstance) as exc:
        load(tmp_path, t)
    (err,) = [p for p in exc.value.problems if p.severity == "error"]
    assert err.table == "options" and err.row == 2 and err.column == "decide_from", str(err)
    assert "outside the horizon 2025–2026" in str(err)
    t["options"] = [{"option_id": "o", "decide": "now", "decide_from": 2026}]  # inside: accepted, ignored
    assert load(tmp_path, t, "ok").options[0].decide_from is None


# ------------------------------------------------------------------ §5 + §4 + §7 together

def test_idle_cost_of_a_later_deals_line_is_paid_while_held_at_the_sites_share(tmp_path):
    """2025–2027, r = 0, one scenario. L1 (F, cap 100, free) serves 100 a year: 3 × 600 = 1800.
    Demand is 200 in 2026 only. Option buy (upfront 100, decide = later from 2025, not scaled) gates LB at
    site G (equity 0.5; fixed 50, idle 30 a year). Taking buy in 2026: LB runs in 2026, our half of
    100×6 − 50 = 275; in 2027 it is held but not needed: idle 0.5×30 = 15 (running empty would cost
    0.5×50 = 25). Taking it in 2025 would add 2025's idle (15) for nothing; in 2027, nothing to gain.
    NPV = 1800 − 100 + 275 − 15 = 1960: idle_cost −15, fixed_cost −25, deal_costs −100, taken in 2026."""
    t = base(last=2027, demand={2025: 100, 2026: 200, 2027: 100},
             factories=[{"factory_id": "F", "country": "VN"}, {"factory_id": "G", "country": "VN", "equity_share": 0.5}],
             lines=[{"line_id": "L1", "factory_id": "F", "line_type": "VA", "capacity": 100, "status": "existing"},
                    {"line_id": "LB", "factory_id": "G", "line_type": "VA", "capacity": 100, "status": "existing",
                     "fixed_cost": 50, "idle_cost": 30, "requires_option": "buy"}],
             programmes=[{"programme_id": "P", "kind": "vehicle", "unit_price": 10, "max_lines": 2}],
             options=[{"option_id": "buy", "upfront_cost": 100, "decide": "later", "decide_from": 2025}])
    res = solve(tmp_path, t)
    assert res.option_years.set_index("scenario")["year_taken"]["base"] == 2026
    assert res.npv == pytest.approx(1960)
    assert cat(res, "idle_cost") == pytest.approx(-15) and cat(res, "fixed_cost") == pytest.approx(-25)
    assert cat(res, "deal_costs") == pytest.approx(-100)
