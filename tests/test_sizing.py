"""`solve --dry-run` sizes: exact variable counts, constraint counts never under the built model."""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
import pytest

from optimiser.model import build_model, prepare
from optimiser.sizing import estimate
from optimiser.validate import load_instance

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["foxconn-vinfast-2021", "tiny"])
@pytest.mark.parametrize("tighten", [True, False])
def test_estimate_matches_the_built_model(name: str, tighten: bool) -> None:
    inst, _ = load_instance(ROOT / "instances" / name)
    md = prepare(inst, tighten=tighten)
    size = estimate(md)
    m = build_model(md)
    n_vars = sum(len(v) for v in m.component_objects(pyo.Var))
    n_rows = sum(len(c) for c in m.component_objects(pyo.Constraint))
    assert size.variables == n_vars
    assert n_rows <= size.constraints <= 1.1 * n_rows + 10
    assert size.memory_bytes > 0
