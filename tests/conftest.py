"""Shared test helpers: a small valid instance and a way to write it as CSV or xlsx."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping, Sequence

import pytest

from optimiser.writers import dict_tables, write_tables

Tables = dict[str, list[dict[str, Any]]]


def minimal_tables() -> Tables:
    """A small valid instance: 2 factories, 2 markets, 3 lines, 2 programmes, 2 years.

    Every id is referenced somewhere, so it loads with no warnings. Row numbers
    as the planner sees them: the first data row of each table is row 2.
    """
    return copy.deepcopy({
        "settings": [
            {"key": "name", "value": "tiny"},
            {"key": "first_year", "value": 2025},
            {"key": "last_year", "value": 2026},
        ],
        "factories": [
            {"factory_id": "F1", "name": "Hai Phong", "country": "VN"},
            {"factory_id": "F2", "name": "Lordstown", "country": "US"},
        ],
        "markets": [
            {"market_id": "ASEAN", "name": "ASEAN"},
            {"market_id": "NA", "name": "North America"},
        ],
        "lines": [
            {"line_id": "L1", "factory_id": "F1", "line_type": "VA", "capacity": 1000, "status": "existing"},
            {"line_id": "L2", "factory_id": "F2", "line_type": "VA", "capacity": 500, "status": "candidate",
             "build_cost": 1e6},
            {"line_id": "L3", "factory_id": "F1", "line_type": "PK", "capacity": 800, "status": "existing"},
        ],
        "programmes": [
            {"programme_id": "P1", "kind": "vehicle", "unit_price": 30000},
            {"programme_id": "P2", "kind": "battery", "unit_price": 5000},
        ],
        "routings": [
            {"programme_id": "P1", "line_type": "VA", "capacity_use": 1},
            {"programme_id": "P2", "line_type": "PK", "capacity_use": 1},
        ],
        "demand": [
            {"programme_id": "P1", "market_id": "ASEAN", "year": 2025, "volume": 100},
            {"programme_id": "P1", "market_id": "NA", "year": 2026, "volume": 200},
            {"programme_id": "P2", "market_id": "ASEAN", "year": 2025, "volume": 50},
        ],
    })


def write_instance(tmp_path: Path, tables: Mapping[str, Sequence[Mapping[str, Any]]], kind: str = "csv",
                   name: str = "inst") -> Path:
    """Write ``{table: [row dicts]}`` as a CSV folder (``kind="csv"``) or a workbook (``"xlsx"``)."""
    target = Path(tmp_path) / (f"{name}.xlsx" if kind == "xlsx" else name)
    write_tables(dict_tables(tables), target)
    return target


@pytest.fixture
def tables() -> Tables:
    """A fresh copy of :func:`minimal_tables` to break."""
    return minimal_tables()
