"""Synthetic instance generator: deterministic, every table exercised, valid, feasible by construction."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import pytest

from optimiser.generate import SIZES, generate_instance, generate_tables
from optimiser.generate.instance import draw_tables
from optimiser.generate.state import Generator
from optimiser.model import build_model, prepare
from optimiser.engine import solve_instance
from optimiser.schema import TABLES, TABLES_BY_NAME
from optimiser.solver.options import SolveOptions
from optimiser.validate import load_instance

#: Tiny enough that every strategy × scenario solves in well under a second.
TINY = dict(lines=6, programmes=6, years=3, markets=2, scenarios=2)
#: Big enough that the random features (retirements, overrides, …) all show up.
MID = dict(lines=60, programmes=100, years=8, markets=8, scenarios=4)


def _tiny(seed: int = 7, **over: int) -> dict:
    return generate_tables(**(TINY | over), seed=seed)


# ------------------------------------------------------------ determinism

def test_same_seed_gives_identical_tables() -> None:
    assert _tiny(3) == _tiny(3)
    assert generate_tables(**MID, seed=11) == generate_tables(**MID, seed=11)


def test_different_seed_gives_different_tables() -> None:
    assert _tiny(1) != _tiny(2)
    a, b = generate_tables(**MID, seed=1), generate_tables(**MID, seed=2)
    assert a["demand"] != b["demand"] and a["lines"] != b["lines"]


@pytest.mark.parametrize("xlsx", [False, True], ids=["csv", "xlsx"])
def test_same_seed_gives_byte_identical_files(tmp_path: Path, xlsx: bool) -> None:
    first = generate_instance(tmp_path / "a", **TINY, seed=5, xlsx=xlsx)
    if xlsx:
        time.sleep(2.1)  # zip timestamps have a 2 s resolution: make a leak visible
    second = generate_instance(tmp_path / "b", **TINY, seed=5, xlsx=xlsx)
    if xlsx:
        assert first.suffix == ".xlsx" and first.read_bytes() == second.read_bytes()
    else:
        names = sorted(p.name for p in first.iterdir())
        assert names == sorted(p.name for p in second.iterdir())
        for name in names:
            assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        generate_tables(lines=2, programmes=6, years=3, markets=2, scenarios=1, seed=1)
    with pytest.raises(ValueError):
        generate_tables(lines=6, programmes=6, years=3, markets=2, scenarios=0, seed=1)
    with pytest.raises(TypeError):
        generate_tables(lines=6.0, programmes=6, years=3, markets=2, scenarios=1, seed=1)  # type: ignore[arg-type]


# ------------------------------------------------------------ shape

@pytest.mark.parametrize("params", [TINY, MID], ids=["tiny", "mid"])
def test_every_table_present_non_empty_with_known_columns(params: dict) -> None:
    tables = generate_tables(**params, seed=1)
    assert sorted(tables) == sorted(t.name for t in TABLES)
    for name, rows in tables.items():
        assert rows, f"{name} is empty"
        known = set(TABLES_BY_NAME[name].column_names)
        for r in rows:
            assert set(r) <= known, f"{name}: unknown columns {set(r) - known}"


def test_ids_are_readable() -> None:
    t = generate_tables(**MID, seed=1)
    assert t["lines"][0]["line_id"] == "L0001"
    assert t["programmes"][0]["programme_id"] == "P0001"
    assert t["factories"][0]["factory_id"] == "F01"
    assert t["markets"][0]["market_id"] == "M01"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_features_are_exercised(seed: int) -> None:
    t = generate_tables(**MID, seed=seed)
    settings = {r["key"]: r["value"] for r in t["settings"]}
    assert settings["share_target"] > 0 and settings["share_penalty"] > 0 and "discount_rate" in settings
    assert len({f["country"] for f in t["factories"]}) >= 3
    lines = t["lines"]
    cands = [r for r in lines if r["status"] == "candidate"]
    assert cands and all(r["build_cost"] > 0 and r["lead_time"] >= 1 and 0 < r["ramp_up"] < 1 for r in cands)
    assert any(r["status"] == "existing" for r in lines)
    assert any(r["retire_after"] is not None for r in lines)
    assert any(r["available_from"] is not None for r in lines)
    assert any(r["requires_option"] for r in lines) and any(r["unit_fee"] for r in lines)
    progs = t["programmes"]
    assert {p["kind"] for p in progs} == {"vehicle", "battery", "component"}
    assert {p["max_lines"] for p in progs} <= {1, 2, 3} and len({p["max_lines"] for p in progs}) > 1
    for flag in ("must_serve", "counts_for_share"):
        assert any(p[flag] for p in progs) and not all(p[flag] for p in progs)
    assert any(p["external_price"] is not None for p in progs)
    assert any(p["first_year"] is not None for p in progs) and any(p["last_year"] is not None for p in progs)
    assert any(r["line_id"] for r in t["routings"]) and any(r["line_type"] for r in t["routings"])
    assert any(r["min_volume"] for r in t["demand"])
    n_routes = len(t["factories"]) * len(t["markets"])
    assert 0 < len(t["logistics"]) < n_routes
    assert any(r["tariff"] > 0 for r in t["logistics"]) and any(r["cost_per_unit"] > 0 for r in t["logistics"])
    assert any(o["exclusive_group"] for o in t["options"])
    assert {r["decision"] for r in t["strategies"]} == {"take", "forbid"}
    assert abs(sum(s["probability"] for s in t["scenarios"]) - 1.0) < 1e-9
    assert len(t["scenario_demand"]) >= 1 and len(t["prices"]) >= 1 and len(t["capacity_profile"]) >= 1
    assert [r["year"] for r in t["market_size"]] == [r["year"] for r in t["budget"]]


# ------------------------------------------------------------ feasible by construction (structure)

def _committed_witness(t: dict) -> list[str]:
    """Check the construction that makes every instance feasible; return what is wrong."""
    wrong = []
    first = next(r["value"] for r in t["settings"] if r["key"] == "first_year")
    last = next(r["value"] for r in t["settings"] if r["key"] == "last_year")
    years = range(first, last + 1)
    lines = {r["line_id"]: r for r in t["lines"]}
    progs = {r["programme_id"]: r for r in t["programmes"]}
    markets = [m["market_id"] for m in t["markets"]]
    routes = {(r["factory_id"], r["market_id"]) for r in t["logistics"]}
    profiled = {r["line_id"] for r in t["capacity_profile"]}
    scen = {s["scenario_id"]: s["demand_factor"] for s in t["scenarios"]}
    over = {(r["scenario_id"], r["programme_id"], r["market_id"], r["year"]): r["volume"] for r in t["scenario_demand"]}
    groups = defaultdict(list)
    for o in t["options"]:
        if o["exclusive_group"]:
            groups[o["exclusive_group"]].append(o["option_id"])
    takes = defaultdict(set)
    for r in t["strategies"]:
        if r["decision"] == "take":
            takes[r["strategy_id"]].add(r["option_id"])
    for sid, taken in takes.items():
        for g, members in groups.items():
            if len(taken & set(members)) > 1:
                wrong.append(f"strategy {sid} takes two options of {g}")
    # BOM components can always be bought
    for r in t["bom"]:
        if progs[r["component_id"]]["external_price"] is None:
            wrong.append(f"component {r['component_id']} cannot be bought outside")
    # demand only inside the programme's years
    for d in t["demand"]:
        p = progs[d["programme_id"]]
        lo, hi = p["first_year"] or first, p["last_year"] or last
        if not lo <= d["year"] <= hi:
            wrong.append(f"demand of {d['programme_id']} in {d['year']} outside its years")
    # committed / must_serve programmes: a dedicated line that can carry them all
    forced = {p for p, r in progs.items() if r["must_serve"]} | {d["programme_id"] for d in t["demand"] if d["min_volume"]}
    load: dict[tuple[str, int], float] = defaultdict(float)
    for p in sorted(forced):
        rows = [r for r in t["routings"] if r["programme_id"] == p and r["line_id"]
                and lines[r["line_id"]]["status"] == "existing" and not lines[r["line_id"]]["requires_option"]
                and lines[r["line_id"]]["available_from"] is None and lines[r["line_id"]]["retire_after"] is None
                and r["line_id"] not in profiled
                and all((lines[r["line_id"]]["factory_id"], m) in routes for m in markets)]
        if not rows:
            wrong.append(f"{p} has no dedicated line")
            continue
        r = rows[0]
        for y in years:
            worst = 0.0
            for s, df in scen.items():
                tot = 0.0
                for d in t["demand"]:
                    if d["programme_id"] == p and d["year"] == y:
                        v = over.get((s, p, d["market_id"], y), d["volume"] * df)
                        tot += v if progs[p]["must_serve"] else min(d["min_volume"] or 0, v)
                worst = max(worst, tot)
            load[(r["line_id"], y)] += worst * r["capacity_use"]
    for (lid, y), need in load.items():
        if need > lines[lid]["capacity"]:
            wrong.append(f"{lid} in {y}: needs {need:.0f} > capacity {lines[lid]['capacity']}")
    # the budget allows the forced tooling and the dearest strategy's upfront costs
    upfront = {o["option_id"]: o["upfront_cost"] for o in t["options"]}
    dearest = max((sum(upfront[o] for o in taken) for taken in takes.values()), default=0.0)
    need_capex = defaultdict(float)
    need_capex[first] += dearest
    for p in sorted(forced):
        r = next(r for r in t["routings"] if r["programme_id"] == p and r["line_id"] and lines[r["line_id"]]["line_type"] == "dedicated")
        need_capex[progs[p]["first_year"] or first] += r["tooling_cost"]
    for b in t["budget"]:
        if b["capex_limit"] < need_capex[b["year"]]:
            wrong.append(f"budget {b['year']} below forced capex")
    return wrong


@pytest.mark.parametrize("params,seed", [(TINY, s) for s in range(1, 9)] + [(MID, s) for s in range(1, 4)]
                         + [(dict(lines=4, programmes=4, years=3, markets=2, scenarios=1), 1),
                            (dict(lines=30, programmes=12, years=12, markets=30, scenarios=9), 1)])
def test_feasible_by_construction(params: dict, seed: int) -> None:
    assert _committed_witness(generate_tables(**params, seed=seed)) == []


# ------------------------------------------------------------ validates and solves

@pytest.mark.parametrize("params,seed", [(TINY, 1), (TINY, 2), (MID, 1),
                                         (dict(lines=4, programmes=4, years=3, markets=2, scenarios=1), 3)])
def test_generated_instance_validates_without_problems(tmp_path: Path, params: dict, seed: int) -> None:
    inst, warnings = load_instance(generate_instance(tmp_path / "inst", **params, seed=seed))
    assert [str(w) for w in warnings] == []
    assert len(inst.lines) == params["lines"] and len(inst.programmes) == params["programmes"]
    assert len(inst.years) == params["years"] and len(inst.markets) == params["markets"]
    assert len(inst.scenarios) == params["scenarios"]


def test_workbook_and_csv_load_to_the_same_instance(tmp_path: Path) -> None:
    a, _ = load_instance(generate_instance(tmp_path / "inst", **TINY, seed=4))
    b, _ = load_instance(generate_instance(tmp_path / "inst.xlsx", **TINY, seed=4))
    assert a.fingerprint == b.fingerprint


OPTS = SolveOptions(mip_gap=1e-4, time_limit=30)


@pytest.mark.parametrize("seed", [1])
def test_solves_for_every_strategy_and_scenario(tmp_path: Path, seed: int) -> None:
    inst, _ = load_instance(generate_instance(tmp_path / "inst", **TINY, seed=seed))
    assert len(inst.strategy_names) >= 4
    for strategy in inst.strategy_names:
        for scenario in [None, *(s.id for s in inst.scenarios)]:
            res = solve_instance(inst, strategy, scenario, options=OPTS)
            assert res.run.status in ("optimal", "feasible"), (strategy, scenario, res.run.status)


@pytest.mark.parametrize("seed", [2, 3])
def test_stochastic_status_quo_is_feasible(tmp_path: Path, seed: int) -> None:
    """The most restrictive strategy (every option forbidden), every scenario at once."""
    inst, _ = load_instance(generate_instance(tmp_path / "inst", **(TINY | dict(scenarios=3)), seed=seed))
    res = solve_instance(inst, "status-quo", None, options=OPTS)
    assert res.run.status in ("optimal", "feasible")


# ------------------------------------------------------------ documented sizes (slow)

def _size(md) -> dict[str, int]:  # noqa: ANN001
    """Variables and binaries of the model of ``md`` (as build_model creates them)."""
    binaries = len(md.options) + len(md.build_index) + len(md.tool_index) + len(md.active_index)
    soft = md.share_rhs is not None and md.share_penalty is not None
    continuous = (len(md.make_index) + len(md.ship_index) + len(md.demand_index) + len(md.internal_index)
                  + len(md.extbuy_index) + (len(md.scenarios) if soft else 0))
    return {"variables": binaries + continuous, "binaries": binaries}


@pytest.mark.slow
@pytest.mark.parametrize("size", list(SIZES))
def test_documented_sizes(tmp_path: Path, size: str, record_property) -> None:  # noqa: ANN001
    params = SIZES[size]
    path = generate_instance(tmp_path / size, **params)
    t0 = time.perf_counter()
    inst, warnings = load_instance(path)
    validate_s = time.perf_counter() - t0
    assert warnings == ()
    md = prepare(inst)
    counts = _size(md)
    report = {"size": size, **params, "validate_s": round(validate_s, 2), **counts}
    if size in ("small", "medium"):
        import pyomo.environ as pyo  # noqa: PLC0415

        m = build_model(md)
        assert sum(1 for _ in m.component_data_objects(pyo.Var)) == counts["variables"]
        report["constraints"] = sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True))
    if size == "small":  # medium finds no plan within 60 s on a 2-core box (see the generate docstring)
        res = solve_instance(inst, options=SolveOptions(time_limit=60))
        assert res.run.status in ("optimal", "feasible")
        report |= {"status": res.run.status, "gap": res.run.gap, "solve_s": round(res.run.solve_seconds, 1)}
    record_property("model_size", report)
    print(report)
    floor = {"small": 1_000, "medium": 30_000, "large": 500_000, "xl": 500_000}[size]
    ceiling = {"small": 10_000, "medium": 100_000, "large": 2_000_000, "xl": 5_000_000}[size]
    assert floor <= counts["variables"] <= ceiling
    if size == "xl":
        assert params["lines"] >= 500 and params["programmes"] >= 1000


def test_every_attribute_of_a_generation_run_is_declared_in_its_init() -> None:
    """The generator's steps fill the state Generator.__init__ declares; none adds an attribute of its own."""
    g = Generator(lines=12, programmes=16, years=5, markets=4, scenarios=3, seed=1)
    declared = set(vars(g))
    tables = draw_tables(g)
    assert set(vars(g)) == declared
    assert tables["lines"] is g.lines and len(g.lines) == 12 and len(g.programmes) == 16
