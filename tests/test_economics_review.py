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
from optimiser.pipeline import solve_instance
from optimiser.solve import SolveOptions

OPTS = SolveOptions(mip_gap=0)


def base(first: int = 2025, last: int = 2025, rate: float = 0.0, demand: dict[int, float] | None = None,
         set_extra: dict | None = None, **over) -> dict:
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


def cat(res, name: str) -> float:
    return float(res.npv_breakdown.set_index("category").loc[name, "value"])


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
