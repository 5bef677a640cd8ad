"""Published optima (OR-Library GAP, CFLP, Holmberg SSCFLP) reproduced through the spec's mappings.

Reads ../shared/benchmarks/orlib (never copied into the project); skipped when it is absent.
The full table: `python benchmarks/validate_orlib.py` (see benchmarks/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import orlib  # noqa: E402

from optimiser.pipeline import solve_instance  # noqa: E402
from optimiser.solve import SolveOptions  # noqa: E402
from optimiser.validate import load_instance  # noqa: E402

pytestmark = pytest.mark.skipif(not orlib.DEFAULT_ORLIB.is_dir(), reason="shared OR-Library folder is absent")

CASES = ("gap1-1", "gap2-3", "a05100", "cap41", "cap71", "cap101", "p1", "p2")


@pytest.fixture(scope="module")
def bench():
    return {b.name: b for b in orlib.discover_instances(orlib.DEFAULT_ORLIB)}


@pytest.mark.parametrize("name", CASES)
def test_published_optimum(name, bench, tmp_path):
    b = bench[name]
    assert b.proven
    folder = orlib.write_instance(b.builder(), tmp_path / name)
    inst, _ = load_instance(folder)
    res = solve_instance(inst, options=SolveOptions(mip_gap=0, time_limit=120, duals=False))
    assert res.run.status == "optimal"
    assert -res.run.npv == pytest.approx(b.published, abs=b.tolerance)
