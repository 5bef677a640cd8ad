"""Invariants on random small instances (hypothesis).

* Forcing an option (any strategy) can never beat ``optimise``.
* Every plan passes the independent invariant checker.
* The stochastic optimum lies between the expected-value bound and the worst
  fixed plan: wait-and-see ≥ stochastic (EVPI ≥ 0).
"""

from __future__ import annotations

from pathlib import Path
import tempfile

from hypothesis import HealthCheck, given, settings as hsettings

from builders import check_invariants, load, settings
from strategies import instances
from optimiser.engine import solve_instance
from optimiser.solver.options import SolveOptions

OPTS = SolveOptions(mip_gap=0)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_forcing_an_option_never_beats_optimise(tables):
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    free = solve_instance(inst, "optimise", None, OPTS)
    check_invariants(inst, free)
    for strategy in sorted(inst.strategies):
        forced = solve_instance(inst, strategy, None, OPTS)
        check_invariants(inst, forced)
        assert forced.run.objective <= free.run.objective + 1e-6 * max(1.0, abs(free.run.objective)), strategy


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_wait_and_see_bounds_stochastic(tables):
    """EVPI ≥ 0: Σ_s π_s · (best plan knowing s) ≥ the stochastic optimum."""
    tables.setdefault("scenarios", [{"scenario_id": "low", "probability": 0.5, "demand_factor": 0.5},
                                    {"scenario_id": "high", "probability": 0.5, "demand_factor": 1.5}])
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    stochastic = solve_instance(inst, "optimise", None, OPTS)
    check_invariants(inst, stochastic)
    wait_and_see = sum(s.probability * solve_instance(inst, "optimise", s.id, OPTS).run.objective for s in inst.scenarios)
    assert wait_and_see >= stochastic.run.objective - 1e-6 * max(1.0, abs(stochastic.run.objective))


def _solve_md(inst, tighten: bool, relax: bool):
    from optimiser.model import build_model, prepare
    from optimiser.model.compile import compile_model
    from optimiser.solver.solve import solve_compiled

    md = prepare(inst, "optimise", None, tighten=tighten)
    cm = compile_model(build_model(md))
    opts = SolveOptions(mip_gap=0, highs_options={"solve_relaxation": True} if relax else {})
    return solve_compiled(cm, opts), len(cm.row_lower)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_linking_inequalities_keep_the_optimum_and_tighten_the_lp(tables):
    """model/linking.py adds valid inequalities: the MIP optimum is the same with and without
    them, and the LP-relaxation bound with them is never weaker (NPV is maximised)."""
    with tempfile.TemporaryDirectory() as d:
        inst = load(Path(d), tables)
    plain, n_plain = _solve_md(inst, tighten=False, relax=False)
    tight, n_tight = _solve_md(inst, tighten=True, relax=False)
    assert n_tight >= n_plain
    if plain.status == "infeasible":
        assert tight.status == "infeasible"
        return
    tol = 1e-6 * max(1.0, abs(plain.objective))
    assert abs(tight.objective - plain.objective) <= tol
    lp_plain, _ = _solve_md(inst, tighten=False, relax=True)
    lp_tight, _ = _solve_md(inst, tighten=True, relax=True)
    assert lp_plain.objective >= plain.objective - tol  # a relaxation bounds the optimum
    assert plain.objective - tol <= lp_tight.objective <= lp_plain.objective + tol


#: Found by hypothesis: HiGHS left tool[P0,L2] within its integrality tolerance of 0 and let
#: make ≤ U·tool pass 5e-7 units of P0 on L2, a line never built (the plan must follow the
#: rounded decisions).
NOISE_CASE = {'settings': settings(2025,2025,0.0, share_target=0.05, share_penalty=4),
 'factories':[{'factory_id':'F0','country':'X'},{'factory_id':'F1','country':'X'}],
 'markets':[{'market_id':'M0'},{'market_id':'M1'}],
 'lines':[{'line_id':'L0','factory_id':'F0','line_type':'A','capacity':32,'status':'candidate','fixed_cost':261,'build_cost':0,'lead_time':0,'ramp_up':0.5},
  {'line_id':'L1','factory_id':'F0','line_type':'A','capacity':0,'status':'existing','fixed_cost':0,'requires_option':'buy','unit_fee':3},
  {'line_id':'L2','factory_id':'F1','line_type':'B','capacity':145,'status':'candidate','fixed_cost':205,'build_cost':278,'lead_time':0,'ramp_up':0.5,'requires_option':'buy','unit_fee':2}],
 'programmes':[{'programme_id':'P0','kind':'vehicle','unit_price':17,'max_lines':1,'unmet_penalty':3,'counts_for_share':True},
  {'programme_id':'P1','kind':'vehicle','unit_price':1,'max_lines':1,'unmet_penalty':0,'counts_for_share':False}],
 'routings':[{'programme_id':'P0','line_type':'B','capacity_use':0.5,'unit_cost':9,'tooling_cost':55},{'programme_id':'P1','line_type':'A','capacity_use':0.5,'unit_cost':0,'tooling_cost':0}],
 'demand':[{'programme_id':'P0','market_id':'M0','year':2025,'volume':1},{'programme_id':'P0','market_id':'M1','year':2025,'volume':98},{'programme_id':'P1','market_id':'M0','year':2025,'volume':18},{'programme_id':'P1','market_id':'M1','year':2025,'volume':4}],
 'logistics':[{'factory_id':'F0','market_id':'M0','cost_per_unit':0,'tariff':0},{'factory_id':'F0','market_id':'M1','cost_per_unit':0,'tariff':0},{'factory_id':'F1','market_id':'M0','cost_per_unit':0,'tariff':0},{'factory_id':'F1','market_id':'M1','cost_per_unit':2,'tariff':0}],
 'options':[{'option_id':'buy','upfront_cost':350,'exclusive_group':'vf'},{'option_id':'partner','upfront_cost':0,'annual_cost':0,'exclusive_group':'vf'},{'option_id':'jv','upfront_cost':0}],
 'strategies':[{'strategy_id':'buy','option_id':'buy','decision':'take'}],
 'market_size':[{'year':2025,'volume':1000}],
 'scenarios':[{'scenario_id':'low','probability':0.5,'demand_factor':0.5},{'scenario_id':'high','probability':0.5,'demand_factor':1.5}]}


def test_production_follows_the_rounded_decisions(tmp_path):
    inst = load(tmp_path, NOISE_CASE)
    res = solve_instance(inst, "optimise", None, OPTS)
    check_invariants(inst, res)
    assert res.production.empty  # P1 is tooled on L0 but never worth making; L2 is never built
    assert abs(res.run.objective - -497.0) < 1e-5
