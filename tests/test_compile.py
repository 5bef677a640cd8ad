"""The fast model compiler gives exactly what Pyomo's standard-form compiler gives.

``optimiser.model.compile.compile_model`` reads :class:`~optimiser.model.matrix.LinearRows` families
and the :class:`~optimiser.model.matrix.LinearObjective` straight from their arrays and every
other constraint term by term; ``compile_model_pyomo`` is Pyomo's ``LinearStandardFormCompiler``
(mixed form). Same columns, rows, order, coefficients and bounds — so HiGHS gets the same model.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from optimiser.model import build_model, prepare
from optimiser.model.compile import compile_model, compile_model_pyomo
from optimiser.model.elastic import make_elastic
from optimiser.model.matrix import LinearObjective, RowsBuilder, TermsBuilder, TupleSet
from optimiser.model.sets import FirstStage, Risk
from optimiser.validate import load_instance

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "instances" / "foxconn-vinfast-2021"
TINY = ROOT / "instances" / "tiny"


def _same(a, b) -> None:  # noqa: ANN001
    assert a.columns == b.columns
    assert a.rows == b.rows
    for name in ("sense_min_cost", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.offset == b.offset
    A, B = a.a_csc, b.a_csc.tocsc()
    assert A.shape == B.shape
    np.testing.assert_array_equal(A.indptr, B.indptr)
    np.testing.assert_array_equal(A.indices, B.indices)
    np.testing.assert_array_equal(A.data, B.data)


@pytest.fixture(scope="module")
def default():  # noqa: ANN201
    return load_instance(DEFAULT)[0]


@pytest.mark.parametrize("case", ["optimise", "strategy", "scenario", "fixed", "risk", "elastic"])
def test_same_as_pyomo_compiler(default, case) -> None:  # noqa: ANN001
    inst = default
    kw: dict = {}
    if case == "strategy":
        kw["strategy"] = inst.strategy_names[1]
    elif case == "scenario":
        kw["scenario"] = inst.scenarios[0].id
    elif case == "fixed":
        md0 = prepare(inst)
        kw["fixed"] = FirstStage(take={md0.options[0]: 1.0}, build={md0.build_index[0]: 1.0},
                                 tool={k: 1.0 for k in md0.tool_index[::3]})
    elif case == "risk":
        kw["risk"] = Risk(alpha=0.9, weight=0.5)
    md = prepare(inst, **kw)
    m = build_model(md)
    if case == "elastic":
        make_elastic(m, md)
    _same(compile_model(m), compile_model_pyomo(m))


def test_edits_of_the_model_are_compiled(default) -> None:  # noqa: ANN001
    """The Pyomo model stays the source of truth: deactivated rows, replaced rows and
    expressions, fixed variables, changed bounds and added constraints all reach the matrices."""
    md = prepare(default)
    m = build_model(md)
    keys = list(m.tool_link.keys())
    m.tool_link[keys[0]].deactivate()
    m.flow.deactivate()
    k = list(m.demand.keys())[3]
    m.demand[k].set_value(m.unmet[k] <= 5)  # a row replaced by a new expression
    m.capacity[list(m.capacity.keys())[0]].set_value((0, m.capacity[list(m.capacity.keys())[0]].body, 7))  # ranged
    v = m.make[md.make_index[5]]
    v.fix(3.0)  # a fixed variable moves to the right-hand side
    m.tool[md.tool_index[0]].setub(0)
    m.extra = pyo.Constraint(expr=m.make[md.make_index[1]] + 2 * m.make[md.make_index[2]] >= 1)
    _same(compile_model(m), compile_model_pyomo(m))
    m.npv.set_value(m.npv.expr + 5 * m.make[md.make_index[7]])  # objective replaced
    _same(compile_model(m), compile_model_pyomo(m))


def test_linear_rows_behave_as_constraints() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(TupleSet((("a", 1), ("b", 2), ("c", 3))), domain=pyo.NonNegativeReals)
    m.y = pyo.Var(["u", "v"], domain=pyo.Binary)
    b = RowsBuilder(m.x, m.y)
    x, y = b.columns
    b.add(("r", 1), [x["a", 1], y["u"]], [1.0, -4.0], ub=0.0)
    b.add(("r", 2), [x["b", 2], x["c", 3]], [2.0, 3.0], lb=1.0, ub=1.0)
    m.c = b.build()
    assert len(m.c) == 2 and ("r", 1) in m.c and ("r", 9) not in m.c
    assert list(m.c.keys()) == [("r", 1), ("r", 2)]
    assert str(m.c["r", 1].expr) == "x[a,1] - 4.0*y[u]  <=  0.0"
    assert m.c["r", 2].equality and m.c["r", 2].lb == 1.0 and m.c["r", 1].ub == 0.0
    assert m.c["r", 1].index() == ("r", 1) and m.c["r", 1].parent_component() is m.c
    with pytest.raises(KeyError):
        m.c["r", 9]
    with pytest.raises(NotImplementedError):
        m.c.add(("r", 3), m.x["a", 1] <= 1)
    m.c["r", 1].deactivate()
    assert [c.name for c in m.component_data_objects(pyo.Constraint, active=True)] == ["c[r,2]"]
    m2 = m.clone()
    assert m2.c["r", 2].body.args[0].args[1] is m2.x["b", 2]
    assert not m2.c["r", 1].active
    m.x["a", 1].value, m.y["u"].value = 2.0, 1.0
    assert m.c["r", 1]() == pytest.approx(-2.0)
    tb = TermsBuilder([("t", 0), ("t", 1)], None, 0.0, m.x, m.y)
    tb.add(1, [0, 1], [0, 1], -1.0)  # added first, still ordered by row
    tb.add(0, [1, 0], [2, 0], [5.0, 6.0])
    m.d = tb.build()
    assert str(m.d["t", 0].body) == "- y[u] + 6.0*x[a,1]"
    assert str(m.d["t", 1].body) == "- y[v] + 5.0*x[c,3]"
    m.o = LinearObjective([(m.x, np.array([0, 2]), np.array([1.5, -2.0]))], sense=pyo.maximize)
    assert str(m.o.expr) == "1.5*x[a,1] - 2.0*x[c,3]"
    _same(compile_model(m), compile_model_pyomo(m))


def test_tuple_set() -> None:
    s = TupleSet((("a", 1), ("b", 2)))
    assert ("a", 1) in s and ("z", 0) not in s and [] not in s
    assert s.dimen == 2 and len(s) == 2 and s.ord(("b", 2)) == 2


def test_tiny_instance(tmp_path) -> None:  # noqa: ANN001
    inst = load_instance(TINY)[0]
    for strategy in inst.strategy_names:
        m = build_model(prepare(inst, strategy))
        _same(compile_model(m), compile_model_pyomo(m))


def test_model_data_unchanged_by_restriction(default) -> None:  # noqa: ANN001
    """Families read only ModelData fields, so a ModelData cut down by dataclasses.replace
    (as the progressive-hedging decomposition does) builds and compiles consistently. Progressive
    hedging refuses options decided later, so the default case's later option is decided now here."""
    default = dataclasses.replace(default, options=tuple(dataclasses.replace(o, decide="now")
                                                         for o in default.options))
    md = prepare(default)
    s = md.scenarios[0]
    cut = {f.name: getattr(md, f.name) for f in dataclasses.fields(md)}
    small = dataclasses.replace(md, scenarios=(s,), probability={s: 1.0}, price_factor={s: md.price_factor[s]},
                                **{k: tuple(x for x in v if x[-1] == s) for k, v in cut.items()
                                   if k.endswith("_index") and k not in ("build_index", "tool_index")},
                                **{k: {kk: vv for kk, vv in v.items() if kk[-1] == s} for k, v in cut.items()
                                   if k in ("make_ub", "ship_value", "demand", "unmet_ub", "make_on_line", "flow_lines",
                                            "flow_markets", "demand_sources", "make_lines", "bom_internal")})
    m = build_model(small)
    _same(compile_model(m), compile_model_pyomo(m))
