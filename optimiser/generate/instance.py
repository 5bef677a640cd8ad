"""Generate a whole instance: the steps in order, the counts checked, economics added, files written.

:func:`generate_tables` returns ``{table: [row dicts]}``; :func:`generate_instance` writes them
through :func:`optimiser.writers.write_tables` (a workbook with pinned zip timestamps and
document dates, so the same parameters and seed give byte-identical files).
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..writers import atomic_path, dict_tables, write_tables
from .economy import (
    draw_budget,
    draw_capacity_profile,
    draw_logistics,
    draw_market_size_and_settings,
    draw_prices,
    draw_strategies,
    sensitivity_rows,
)
from .plant import draw_factories, draw_lines, draw_markets, draw_options, plan_lines
from .products import draw_bom, draw_programmes, draw_routings
from .state import Generator
from .volumes import draw_demand, draw_scenarios, size_dedicated_lines
from .vocabulary import round_to

#: Recommended sizes (keyword arguments of :func:`generate_tables`); see the package docstring.
SIZES: dict[str, dict[str, int]] = {
    "small": dict(lines=12, programmes=16, years=5, markets=4, scenarios=3, seed=1),
    "medium": dict(lines=60, programmes=100, years=8, markets=8, scenarios=3, seed=1),
    "large": dict(lines=250, programmes=500, years=12, markets=15, scenarios=5, seed=1),
    "xl": dict(lines=500, programmes=1000, years=15, markets=20, scenarios=5, seed=1),
}

#: What a planner should expect when solving each size (all scenarios, 2 cores, one HiGHS thread;
#: measured in ``benchmarks/README.md``), printed by ``optimiser generate --size``.
SIZE_ADVICE: dict[str, str] = {
    "small": "solves to optimality in a few seconds",
    "medium": "use --time-limit 120 or more: a constructed plan in ~2 s, improved by sub-MIPs, "
              "HiGHS's gap ~11-19 % at 120 s (HiGHS alone: no plan)",
    "large": "use --time-limit 600 or more: the first plan after ~1 min (constructed), improved by "
             "sub-MIPs (longer limits buy more: +6 % over the first plan after ~25 min in all), no proven gap "
             "at 600 s; the whole solve with its report takes 12-14 min",
    "xl": "use --time-limit 600 or more: the first plan after ~2.5 min (constructed), no proven gap "
          "at 600 s; the whole solve takes 14-16 min and ~6 GiB (HiGHS alone reached 15.7 GB in 600 s: "
          "longer limits need more memory)",
}


def draw_tables(g: Generator) -> dict[str, list[dict[str, Any]]]:
    """Every table of one run, drawn in this order (the order is part of the seed's meaning)."""
    plan_lines(g)
    draw_factories(g)
    draw_markets(g)
    draw_options(g)
    draw_lines(g)
    draw_programmes(g)
    draw_bom(g)
    draw_routings(g)
    draw_demand(g)
    draw_scenarios(g)
    size_dedicated_lines(g)
    draw_logistics(g)
    draw_strategies(g)
    draw_prices(g)
    draw_capacity_profile(g)
    draw_market_size_and_settings(g)
    draw_budget(g)
    return {
        "settings": g.settings, "factories": g.factories, "markets": g.markets,
        "lines": g.lines, "programmes": g.programmes, "routings": g.routings,
        "demand": g.demand, "logistics": g.logistics, "bom": g.bom, "options": g.options,
        "strategies": g.strategies, "scenarios": g.scenarios, "scenario_demand": g.scenario_demand,
        "market_size": g.market_size, "budget": g.budget, "prices": g.prices,
        "capacity_profile": g.capacity_profile, "sensitivity": sensitivity_rows(g),
    }


#: The counts the generator takes: (least, most) of each.
LIMITS: dict[str, tuple[int, int]] = {"lines": (4, 9999), "programmes": (4, 9999), "years": (3, 60),
                                      "markets": (2, 999), "scenarios": (1, 99)}


def check_counts(params: dict[str, int]) -> None:
    """The CLI's check of the counts: InputError naming the option and its range (see :data:`LIMITS`)."""
    for name, value in params.items():
        lo, hi = LIMITS[name]
        if not lo <= value <= hi:
            raise InputError(f"--{name} {value}: give a whole number from {lo} to {hi}")


def _check(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")


def generate_tables(lines: int, programmes: int, years: int, markets: int, scenarios: int,
                    seed: int, economics: bool = False) -> dict[str, list[dict[str, Any]]]:
    """A synthetic instance as ``{table: [row dicts]}`` (column names of the instance format).

    Deterministic for its arguments. ``lines`` ≥ 4, ``programmes`` ≥ 4, ``years`` 3–60,
    ``markets`` ≥ 2, ``scenarios`` ≥ 1. Feasible for every strategy and scenario (see the
    package docstring). Optional cells are ``None`` (written blank). ``economics`` adds the
    columns of economics.md on top of the same instance (see :func:`_economics`).
    """
    for name, value in (("lines", lines), ("programmes", programmes), ("years", years), ("markets", markets),
                        ("scenarios", scenarios)):
        _check(name, value, *LIMITS[name])
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    tables = draw_tables(Generator(lines, programmes, years, markets, scenarios, seed))
    out = {name: [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
           for name, rows in tables.items()}
    if economics:
        add_economics(out, seed)
    return out


def add_economics(tables: dict[str, list[dict[str, Any]]], seed: int) -> None:
    """Add economics.md's columns to a generated instance (its own rng: the base instance is unchanged):
    the first buy deal decided later (per scenario, from the second year); tax 20 %, a perpetuity terminal
    value (growth 1 %, below every generated discount rate), asset life 8;
    the site of the first option-gated line shared 50 % (a joint venture); idle cost = 30 % of the fixed
    cost of every existing line; the outside price of one bought component 10 % dearer in the last year.
    Commitments never rest on a deal's lines (see the package docstring), so the instance stays feasible."""
    rng = random.Random(seed * 7919 + 17)
    buy = next((o for o in tables["options"] if o["kind"] == "buy"), None)
    for o in tables["options"]:  # the first buy deal can wait: decided per scenario from the second year
        o["decide"] = "later" if o is buy else None
        o["decide_from"] = None
    if buy is not None:  # its upfront may then fall in any later year: every later budget can pay it
        first = min(int(r["value"]) for r in tables["settings"] if r["key"] == "first_year")
        for r in tables["budget"]:
            if r["year"] > first:
                r["capex_limit"] += buy["upfront_cost"]
    tables["settings"] += [dict(key="tax_rate", value=0.2), dict(key="terminal_value", value="perpetuity"),
                           dict(key="terminal_growth", value=0.01), dict(key="asset_life", value=8)]
    gated = [ln for ln in tables["lines"] if ln.get("requires_option")]
    shared = gated[0]["factory_id"] if gated else tables["factories"][0]["factory_id"]
    for f in tables["factories"]:
        f["equity_share"] = 0.5 if f["factory_id"] == shared else None
    for ln in tables["lines"]:
        ln["idle_cost"] = round_to(0.3 * (ln.get("fixed_cost") or 0.0), 1e4) if ln["status"] == "existing" else None
        ln["life"] = rng.choice((6, 8, 10, 12)) if ln["status"] == "candidate" else None
    last = max(int(r["value"]) for r in tables["settings"] if r["key"] == "last_year")
    bought = [p for p in tables["programmes"] if p.get("external_price") is not None]
    for r in tables["prices"]:
        r.setdefault("external_price", None)
    if bought:
        p = bought[0]
        row = next((r for r in tables["prices"] if r["programme_id"] == p["programme_id"] and r["year"] == last), None)
        if row is None:
            tables["prices"].append(dict(programme_id=p["programme_id"], year=last, unit_price=None,
                                         external_price=round_to(1.1 * p["external_price"], 1)))
        else:
            row["external_price"] = round_to(1.1 * p["external_price"], 1)


def generate_instance(out: Path, lines: int, programmes: int, years: int, markets: int, scenarios: int,
                      seed: int, xlsx: bool = False, economics: bool = False) -> Path:
    """Generate an instance and write it: a CSV folder at ``out``, or a workbook if ``xlsx``
    (``.xlsx`` is appended when missing) or ``out`` ends in ``.xlsx``. Returns the path written."""
    out = Path(out)
    if xlsx and out.suffix.lower() != ".xlsx":
        out = out.with_name(out.name + ".xlsx")
    tables = dict_tables(generate_tables(lines, programmes, years, markets, scenarios, seed, economics))
    write_tables(tables, out)
    if out.suffix.lower() in (".xlsx", ".xlsm"):
        _pin_workbook(out)
    return out


_FIXED_W3C = "2000-01-01T00:00:00Z"


def _pin_workbook(path: Path) -> None:
    """Make a written workbook byte-identical run to run: fixed zip timestamps and document dates."""
    src = Path(path).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              rf"\g<1>{_FIXED_W3C}\g<3>", text)
                data = text.encode("utf-8")
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)
    with atomic_path(Path(path)) as tmp:
        tmp.write_bytes(buf.getvalue())
