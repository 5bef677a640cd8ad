"""Validation rules: each broken instance gets exactly the located problem it deserves.

Every case runs on the CSV and on the xlsx form of the same broken tables and
expects the same problems (table, row as the planner sees it, column, message).
Row numbers: header = row 1, so the first data row is row 2.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from optimiser.cli import app
from optimiser.errors import InvalidInstance, Problem
from optimiser.schema import TABLES
from optimiser.validate import load_instance

from conftest import Tables, minimal_tables, write_instance

KINDS = ("csv", "xlsx")


def E(table: str, row: int | None, column: str | None, message: str) -> Problem:
    return Problem(table, row, column, "error", message)


def W(table: str, row: int | None, column: str | None, message: str) -> Problem:
    return Problem(table, row, column, "warning", message)


def problems_of(tmp_path: Path, tables: Tables, kind: str) -> tuple[Problem, ...]:
    path = write_instance(tmp_path, tables, kind)
    with pytest.raises(InvalidInstance) as caught:
        load_instance(path)
    return caught.value.problems


def errors(problems: tuple[Problem, ...]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings_of(tmp_path: Path, tables: Tables, kind: str) -> list[Problem]:
    _, warnings = load_instance(write_instance(tmp_path, tables, kind))
    assert all(p.severity == "warning" for p in warnings)
    return list(warnings)


# ----------------------------------------------------------------- mutations

def drop_column(table: str, column: str) -> Callable[[Tables], None]:
    def mutate(t: Tables) -> None:
        for r in t[table]:
            r.pop(column, None)
    return mutate


def set_cell(table: str, index: int, **values) -> Callable[[Tables], None]:
    def mutate(t: Tables) -> None:
        t[table][index].update(values)
    return mutate


def append(table: str, **row) -> Callable[[Tables], None]:
    def mutate(t: Tables) -> None:
        t.setdefault(table, []).append(row)
    return mutate


def must_serve_without_routing(t: Tables) -> None:
    t["programmes"].append({"programme_id": "P3", "kind": "vehicle", "must_serve": True})
    t["demand"].append({"programme_id": "P3", "market_id": "NA", "year": 2025, "volume": 5})


def must_serve_without_route_to_market(t: Tables) -> None:
    t["programmes"][0]["must_serve"] = True
    # both factories reach ASEAN; nobody reaches NA, where P1 has demand (demand row 3)
    t["logistics"] = [{"factory_id": "F1", "market_id": "ASEAN"}, {"factory_id": "F2", "market_id": "ASEAN"},
                      {"factory_id": "F1", "market_id": "NA", "cost_per_unit": 10}]
    t["lines"][0]["factory_id"] = "F2"  # now no VA line sits in F1, the only factory with a route to NA
    t["lines"].append({"line_id": "L4", "factory_id": "F1", "line_type": "PK", "capacity": 1, "status": "existing"})


def strategy_names_unknown_option(t: Tables) -> None:
    t["options"] = [{"option_id": "O1", "upfront_cost": 5}]
    t["lines"][1]["requires_option"] = "O1"
    t["strategies"] = [{"strategy_id": "partner", "option_id": "O1", "decision": "take"},
                       {"strategy_id": "partner", "option_id": "O2", "decision": "forbid"}]


def scenarios(*probabilities) -> Callable[[Tables], None]:
    def mutate(t: Tables) -> None:
        t["scenarios"] = [{"scenario_id": f"s{i}", "probability": p} for i, p in enumerate(probabilities)]
    return mutate


RULES: list[tuple[str, Callable[[Tables], None], list[Problem]]] = [
    # missing required table / column
    ("missing table", lambda t: t.pop("markets"),
     [E("markets", None, None, "required table markets is missing")]),
    ("missing column", drop_column("lines", "capacity"),
     [E("lines", 1, "capacity", "required column is missing")]),
    ("missing line_type and line_id columns", drop_column("routings", "line_type"),
     [E("routings", 1, "line_type", "required column is missing: give a line_type or a line_id column")]),
    ("required cell blank", set_cell("factories", 1, country=None),
     [E("factories", 3, "country", "country is required but blank")]),
    # wrong types
    ("text in a number column", set_cell("lines", 1, capacity="lots"),
     [E("lines", 3, "capacity", "lots is not a number")]),
    ("date in a number column", set_cell("lines", 1, capacity=dt.date(2024, 1, 2)),
     [E("lines", 3, "capacity", "2024-01-02 is a date, but a number is expected")]),
    ("non-integer year", set_cell("demand", 1, year=2025.5),
     [E("demand", 3, "year", "2025.5 is not a whole number")]),
    ("text year", set_cell("demand", 2, year="next year"),
     [E("demand", 4, "year", "next year is not a whole number")]),
    ("bad enum", set_cell("lines", 0, status="planned"),
     [E("lines", 2, "status", "planned is not one of existing, candidate")]),
    ("bad boolean", set_cell("programmes", 0, must_serve="maybe"),
     [E("programmes", 2, "must_serve", "maybe is not true/false")]),
    ("infinite number", set_cell("lines", 2, capacity="inf"),
     [E("lines", 4, "capacity", "inf is not a finite number")]),
    # duplicate ids / keys
    ("duplicate id", append("lines", line_id="L1", factory_id="F2", line_type="VA", capacity=5, status="existing"),
     [E("lines", 5, "line_id", "duplicate line_id=L1 (first at row 2)")]),
    ("duplicate routing by line type", append("routings", programme_id="P1", line_type="VA", capacity_use=2),
     [E("routings", 4, "line_type", "duplicate programme_id=P1, line_type=VA (first at row 2)")]),
    ("duplicate demand key", append("demand", programme_id="P1", market_id="ASEAN", year=2025, volume=7),
     [E("demand", 5, "year", "duplicate programme_id=P1, market_id=ASEAN, year=2025 (first at row 2)")]),
    # dangling references
    ("line to unknown factory", set_cell("lines", 2, factory_id="F9"),
     [E("lines", 4, "factory_id", "unknown factory F9")]),
    ("routing to unknown programme", append("routings", programme_id="PX", line_type="VA", capacity_use=1),
     [E("routings", 4, "programme_id", "unknown programme PX")]),
    ("routing to unknown line type", append("routings", programme_id="P1", line_type="ZZ", capacity_use=1),
     [E("routings", 4, "line_type", "no line has line_type ZZ")]),
    ("routing to unknown line", append("routings", programme_id="P1", line_id="L9", capacity_use=1),
     [E("routings", 4, "line_id", "unknown line L9")]),
    ("demand in unknown market", append("demand", programme_id="P1", market_id="EU", year=2025, volume=1),
     [E("demand", 5, "market_id", "unknown market EU")]),
    ("demand for unknown programme", set_cell("demand", 0, programme_id="P7"),
     [E("demand", 2, "programme_id", "unknown programme P7")]),
    # quantities
    ("negative capacity", set_cell("lines", 1, capacity=-40),
     [E("lines", 3, "capacity", "-40 is negative (must be ≥ 0)")]),
    ("negative volume", set_cell("demand", 0, volume=-1.5),
     [E("demand", 2, "volume", "-1.5 is negative (must be ≥ 0)")]),
    ("zero capacity_use", set_cell("routings", 0, capacity_use=0),
     [E("routings", 2, "capacity_use", "0 is too small (must be > 0)")]),
    # probabilities
    ("probabilities below 1", scenarios(0.3, 0.3),
     [E("scenarios", None, "probability", "probabilities sum to 0.6, not 1")]),
    ("probabilities above 1", scenarios(0.7, 0.7),
     [E("scenarios", None, "probability", "probabilities sum to 1.4, not 1")]),
    ("given probabilities leave nothing", scenarios(0.8, 0.7, None),
     [E("scenarios", None, "probability", "the given probabilities already sum to 1.5 > 1")]),
    ("probability above 1", scenarios(1.5, None),
     [E("scenarios", 2, "probability", "1.5 is too large (must be ≥ 0 and ≤ 1)")]),
    # years
    ("year outside the horizon", set_cell("demand", 1, year=2030),
     [E("demand", 3, "year", "year 2030 is outside the horizon 2025–2026")]),
    ("last_year before first_year", set_cell("settings", 2, value=2020),
     [E("settings", 4, "value", "last_year 2020 is before first_year 2025")]),
    ("implausible year", set_cell("settings", 1, value=20255),
     [E("settings", 3, "value", "first_year: 20255 is not a plausible year (1900–2300)")]),
    ("discount rate as a percentage", append("settings", key="discount_rate", value=8),
     [E("settings", 5, "value", "discount_rate: 8 is more than 100 % a year; give it as a fraction (0.08 = 8 %)")]),
    # must_serve
    ("must_serve without routing", must_serve_without_routing,
     [E("programmes", 4, "must_serve", "must_serve programme P3 has no line it can be built on (no routing)")]),
    ("must_serve without route to market", must_serve_without_route_to_market,
     [E("demand", 3, "market_id", "must_serve programme P1 has demand in NA, but no factory that can build it "
                                  "(F2) has a logistics route to NA")]),
    # options
    ("strategy names unknown option", strategy_names_unknown_option,
     [E("strategies", 3, "option_id", "unknown option O2")]),
    ("requires_option unknown, no options table", set_cell("lines", 1, requires_option="O7"),
     [E("lines", 3, "requires_option", "unknown option O7 (there is no options table)")]),
    ("requires_option unknown", lambda t: (strategy_names_unknown_option(t), t["lines"][0].update(requires_option="O3")),
     [E("lines", 2, "requires_option", "unknown option O3"), E("strategies", 3, "option_id", "unknown option O2")]),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mutate, expected", [pytest.param(m, e, id=i) for i, m, e in RULES])
def test_rule_gives_exactly_its_located_error(tmp_path: Path, kind: str, mutate, expected) -> None:
    t = minimal_tables()
    mutate(t)
    assert errors(problems_of(tmp_path, t, kind)) == expected


def test_the_minimal_instance_is_valid_without_warnings(tmp_path: Path) -> None:
    for kind in KINDS:
        instance, warnings = load_instance(write_instance(tmp_path / kind, minimal_tables(), kind))
        assert warnings == ()
        assert len(instance.lines) == 3 and instance.years == (2025, 2026)


def test_str_of_a_problem_names_table_row_and_column(tmp_path: Path) -> None:
    t = minimal_tables()
    t["lines"].extend([
        {"line_id": "L4", "factory_id": "F1", "line_type": "VA", "capacity": 1, "status": "existing"},
        {"line_id": "L5", "factory_id": "F1", "line_type": "VA", "capacity": 1, "status": "existing"},
        {"line_id": "L6", "factory_id": "F1", "line_type": "VA", "capacity": -40, "status": "existing"},
    ])
    (problem,) = errors(problems_of(tmp_path, t, "csv"))
    assert str(problem) == "lines row 7, column capacity: -40 is negative (must be ≥ 0)"


def test_every_required_column_of_every_table_is_reported_alone(tmp_path: Path) -> None:
    """Dropping any one required column gives exactly one error (no trail of follow-on errors).

    CSV only, to stay fast: the rule cases above show both forms report alike.
    """
    kind = "csv"
    t0 = minimal_tables()
    t0["options"] = [{"option_id": "O1"}]
    t0["lines"][1]["requires_option"] = "O1"
    t0["strategies"] = [{"strategy_id": "S", "option_id": "O1", "decision": "take"}]
    t0["scenarios"] = [{"scenario_id": "lo", "probability": 0.5}, {"scenario_id": "hi", "probability": 0.5}]
    t0["scenario_demand"] = [{"scenario_id": "lo", "programme_id": "P1", "market_id": "NA", "year": 2026, "volume": 1}]
    t0["logistics"] = [{"factory_id": f, "market_id": m} for f in ("F1", "F2") for m in ("ASEAN", "NA")]
    t0["budget"] = [{"year": 2025, "capex_limit": 1e9}]
    t0["prices"] = [{"programme_id": "P1", "year": 2026, "unit_price": 29000}]
    t0["capacity_profile"] = [{"line_id": "L1", "year": 2026, "capacity": 1200}]
    t0["market_size"] = [{"year": 2026, "volume": 1e6}]
    t0["programmes"].append({"programme_id": "C1", "kind": "component", "external_price": 10})
    t0["bom"] = [{"parent_id": "P1", "component_id": "C1", "quantity": 2}]
    t0["sensitivity"] = [{"parameter": "lines.capacity[L1]", "low": 100, "high": 2000}]
    load_instance(write_instance(tmp_path / "base", t0, kind))  # valid as it stands
    n = 0
    for table in TABLES:
        for col in table.columns:
            if not col.required or table.name == "settings":
                continue
            t = {k: [dict(r) for r in v] for k, v in t0.items()}
            for r in t[table.name]:
                r.pop(col.name)
            got = errors(problems_of(tmp_path / f"{table.name}-{col.name}", t, kind))
            assert got == [E(table.name, 1, col.name, "required column is missing")], (table.name, col.name)
            n += 1
    assert n > 30


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("table", [t.name for t in TABLES if t.required])
def test_each_missing_required_table_is_one_error(tmp_path: Path, kind: str, table: str) -> None:
    t = minimal_tables()
    del t[table]
    assert errors(problems_of(tmp_path, t, kind)) == [E(table, None, None, f"required table {table} is missing")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_cell_does_not_make_its_row_id_unknown(tmp_path: Path, kind: str) -> None:
    """One bad cell, one problem: the row's id still exists for references and 'unused' checks."""
    t = minimal_tables()
    t["factories"][1]["country"] = None       # F2 is still a factory for line L2
    t["lines"][2]["capacity"] = "n/a"         # L3 is still the PK line for the P2 routing
    t["markets"][1]["name"] = "North America"
    t["demand"][1]["volume"] = "many"         # NA still has demand
    assert problems_of(tmp_path, t, kind) == (
        E("factories", 3, "country", "country is required but blank"),
        E("lines", 4, "capacity", "n/a is not a number"),
        E("demand", 3, "volume", "many is not a number"),
    )


# ----------------------------------------------------------------- warnings

@pytest.mark.parametrize("kind", KINDS)
def test_unknown_column_is_a_warning(tmp_path: Path, kind: str) -> None:
    t = minimal_tables()
    t["factories"][0]["colour"] = "red"
    assert warnings_of(tmp_path, t, kind) == [
        W("factories", 1, "colour", "unknown column colour; it is ignored "
                                    "(known: factory_id, name, owner, country, region, equity_share)")]


@pytest.mark.parametrize("kind", KINDS)
def test_source_column_is_known_everywhere(tmp_path: Path, kind: str) -> None:
    t = minimal_tables()
    for rows in t.values():
        rows[0]["source"] = "annual report 2023, p. 4"
    assert warnings_of(tmp_path, t, kind) == []


@pytest.mark.parametrize("kind", KINDS)
def test_ids_referenced_nowhere_are_warnings(tmp_path: Path, kind: str) -> None:
    t = minimal_tables()
    t["markets"].append({"market_id": "EU"})
    t["factories"].append({"factory_id": "F3", "country": "TW"})
    t["options"] = [{"option_id": "O1"}]
    t["programmes"].append({"programme_id": "P3", "kind": "vehicle"})
    t["lines"].append({"line_id": "L4", "factory_id": "F1", "line_type": "BUS", "capacity": 5, "status": "existing"})
    assert warnings_of(tmp_path, t, kind) == [
        W("factories", 4, "factory_id", "factory F3 has no lines"),
        W("markets", 4, "market_id", "market EU has no demand"),
        W("options", 2, "option_id", "option O1 is required by no line and named by no strategy; "
                                     "taking it only costs money"),
        W("programmes", 4, "programme_id", "programme P3 has no demand and is no component"),
        W("lines", 5, "line_id", "no programme can be built on line L4 (no routing)"),
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_headers_are_matched_loosely_and_sheets_ignoring_case(tmp_path: Path, kind: str) -> None:
    t = minimal_tables()
    t["Factories"] = [{"Factory ID": r["factory_id"], "Country": r["country"]} for r in t.pop("factories")]
    instance, warnings = load_instance(write_instance(tmp_path, t, kind))
    assert warnings == () and {f.id for f in instance.factories} == {"F1", "F2"}


# ------------------------------------------------------- every problem at once

def six_faults() -> Tables:
    t = minimal_tables()
    t["lines"][1]["capacity"] = -40                                   # lines row 3: negative
    t["lines"][2]["factory_id"] = "F9"                                # lines row 4: unknown factory
    t["programmes"][1]["kind"] = "truck"                              # programmes row 3: bad enum
    t["demand"][0]["year"] = 2031                                     # demand row 2: outside horizon
    t["demand"].append({"programme_id": "P1", "market_id": "NA", "year": 2026, "volume": 9})  # row 5: duplicate
    t["scenarios"] = [{"scenario_id": "lo", "probability": 0.5}, {"scenario_id": "hi", "probability": 0.4}]
    t["markets"][0]["colour"] = "blue"                                # warning: unknown column
    return t


SIX_FAULTS = [
    W("markets", 1, "colour", "unknown column colour; it is ignored (known: market_id, name, region)"),
    E("lines", 3, "capacity", "-40 is negative (must be ≥ 0)"),
    E("programmes", 3, "kind", "truck is not one of vehicle, battery, component"),
    E("demand", 5, "year", "duplicate programme_id=P1, market_id=NA, year=2026 (first at row 3)"),
    E("lines", 4, "factory_id", "unknown factory F9"),
    E("demand", 2, "year", "year 2031 is outside the horizon 2025–2026"),
    E("scenarios", None, "probability", "probabilities sum to 0.9, not 1"),
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_problem_is_listed_at_once(tmp_path: Path, kind: str) -> None:
    problems = problems_of(tmp_path, six_faults(), kind)
    assert sorted(problems) == sorted(SIX_FAULTS)


def test_csv_and_xlsx_give_the_same_problems_in_the_same_order(tmp_path: Path) -> None:
    a = problems_of(tmp_path / "a", six_faults(), "csv")
    b = problems_of(tmp_path / "b", six_faults(), "xlsx")
    assert a == b


@pytest.mark.parametrize("kind", KINDS)
def test_cli_validate_json_lists_every_problem_and_exits_1(tmp_path: Path, kind: str) -> None:
    path = write_instance(tmp_path, six_faults(), kind)
    result = CliRunner().invoke(app, ["validate", str(path), "--json"])
    assert result.exit_code == 1
    listed = json.loads(result.stdout)
    assert isinstance(listed, list)
    assert all(set(p) == {"table", "row", "column", "severity", "message"} for p in listed)
    assert sorted(Problem(**p) for p in listed) == sorted(SIX_FAULTS)
    assert result.stderr.strip().splitlines() == ["error: the instance is invalid: 6 error(s)"]


def test_cli_validate_text_prints_one_line_per_problem(tmp_path: Path) -> None:
    path = write_instance(tmp_path, six_faults(), "csv")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert "lines row 3, column capacity: -40 is negative (must be ≥ 0)" in lines
    assert "warning: markets row 1, column colour: unknown column colour; it is ignored " \
           "(known: market_id, name, region)" in lines
    assert lines[-1] == "error: the instance is invalid: 6 error(s)"
    assert len(lines) == len(SIX_FAULTS) + 1


def test_cli_validate_valid_instance_exits_0(tmp_path: Path) -> None:
    path = write_instance(tmp_path, minimal_tables(), "xlsx")
    result = CliRunner().invoke(app, ["validate", str(path), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


# ------------------------------------------- promises that cannot be kept (found by the generator)

def test_must_serve_demand_outside_programme_years(tmp_path):
    t = minimal_tables()
    t["programmes"][0].update(must_serve=True, first_year=2026)
    assert errors(problems_of(tmp_path, t, "csv")) == [
        Problem("demand", 2, "year", "error", "must_serve demand of P1 in 2025, but the programme is only built in 2026–2026")]


def test_committed_volume_outside_programme_years(tmp_path):
    t = minimal_tables()
    t["programmes"][0]["last_year"] = 2025
    t["demand"][1]["min_volume"] = 50
    assert errors(problems_of(tmp_path, t, "csv")) == [
        Problem("demand", 3, "year", "error", "committed volume 50 of P1 in 2026, but the programme is only built in 2025–2025")]


def test_scenario_demand_of_must_serve_needs_a_route(tmp_path):
    t = minimal_tables()
    t["programmes"][0]["must_serve"] = True
    t["logistics"] = [{"factory_id": "F1", "market_id": "ASEAN"}, {"factory_id": "F2", "market_id": "ASEAN"},
                      {"factory_id": "F1", "market_id": "NA"}, {"factory_id": "F2", "market_id": "NA"}]
    t["markets"].append({"market_id": "EU"})
    t["scenarios"] = [{"scenario_id": "s1"}]
    t["scenario_demand"] = [{"scenario_id": "s1", "programme_id": "P1", "market_id": "EU", "year": 2025, "volume": 10}]
    errs = errors(problems_of(tmp_path, t, "csv"))
    assert [(p.table, p.row, p.column) for p in errs] == [("scenario_demand", 2, "market_id")]
    assert "no factory that can build it (F1, F2) has a logistics route to EU" in errs[0].message


def test_required_table_without_rows(tmp_path):
    t = minimal_tables()
    t["lines"] = []
    errs = errors(problems_of(tmp_path, t, "csv"))
    assert errs[0] == Problem("lines", None, None, "error", "required table lines has no rows")
