"""OR-Library readers and converters into the optimiser's instance tables.

This module turns classic OR-Library problems into instance folders in the
format of ``docs``/spec "instance-format" (one ``<table>.csv`` per table,
header row) using the mappings of the model spec:

* **GAP** (generalized assignment, minimisation form) -- agents become existing
  lines (one per factory), jobs become programmes with demand 1 that must be
  served from exactly one line (``max_lines = 1``); line-level routings carry
  ``capacity_use = a_ij`` and ``unit_cost = c_ij``.
* **CFLP** (OR-Library cap41..cap134, capa/b/c; multi-source) -- warehouses
  become existing lines, each in its own factory, with ``fixed_cost = f_i`` and
  ``capacity = s_i``; one programme (``capacity_use = 1``, multi-sourced);
  customers become markets with demand ``d_j``; every factory->market
  logistics row costs ``c_ij / d_j`` per unit.
* **SSCFLP** (Holmberg et al. 1999; single-source) -- like CFLP, but every
  customer is its own programme with ``max_lines = 1`` so it is served wholly
  from one line; ``unit_cost = c_ij / d_j`` on line-level routings.

Every instance is a pure cost minimisation over one year with discount rate 0
and all prices 0, hence ``-NPV`` equals the published optimum.

No benchmark data lives in the repository: the raw files are read from the
shared folder (``--orlib``/``ORLIB_DIR``; see ``SOURCES.md`` there).

The public helpers ``gap_instance_tables``, ``cflp_instance_tables``,
``sscflp_instance_tables`` return ``{table_name: [row_dict, ...]}`` and
``write_instance(tables, folder)`` writes them as CSV.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

__all__ = [
    "DEFAULT_ORLIB",
    "YEAR",
    "GapProblem",
    "FacilityProblem",
    "BenchInstance",
    "read_tokens",
    "parse_gap_blocks",
    "parse_gap_file",
    "parse_cflp_file",
    "parse_sscflp_file",
    "gap_instance_tables",
    "cflp_instance_tables",
    "sscflp_instance_tables",
    "write_instance",
    "format_value",
    "discover_instances",
    "QUICK_INSTANCES",
    "CAPACITY_SUBSTITUTIONS",
]

#: ``<repo>/../shared/benchmarks/orlib`` relative to this file (override with ORLIB_DIR).
DEFAULT_ORLIB = Path(
    os.environ.get("ORLIB_DIR")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks" / "orlib"
)

#: The single planning year every converted instance uses.
YEAR = 2025

#: capa/capb/capc carry the literal word ``capacity``; each yields 4 problems.
CAPACITY_SUBSTITUTIONS: dict[str, tuple[int, ...]] = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}

#: Small subset that runs in well under a minute.
QUICK_INSTANCES = ("gap1-1", "gap1-2", "gap1-3", "gap1-4", "gap1-5", "cap41", "cap71", "p1")

# Block order inside gapa.txt .. gapd.txt (agents, jobs).
_CHU_BLOCKS = ((5, 100), (5, 200), (10, 100), (10, 200), (20, 100), (20, 200))


# --------------------------------------------------------------------------- parsing


def read_tokens(path: str | os.PathLike) -> list[str]:
    """Whitespace tokens of a file; NUL padding (Holmberg files) is ignored."""
    text = Path(path).read_text(encoding="latin-1")
    return text.replace("\x00", " ").split()


def _num(tok: str) -> int | float:
    """Parse a numeric token, keeping integers as ``int`` (``7500.`` -> 7500.0)."""
    try:
        return int(tok)
    except ValueError:
        value = float(tok)
        if not math.isfinite(value):
            raise ValueError(f"non-finite number {tok!r}")
        return value


class _TokenStream:
    def __init__(self, tokens: Sequence[str], source: str = "") -> None:
        self.tokens = tokens
        self.pos = 0
        self.source = source

    def take(self, count: int = 1, subst: Mapping[str, str] | None = None) -> list[int | float]:
        if self.pos + count > len(self.tokens):
            raise ValueError(f"{self.source}: unexpected end of data at token {self.pos}")
        raw = self.tokens[self.pos : self.pos + count]
        self.pos += count
        if subst:
            raw = [subst.get(t, t) for t in raw]
        return [_num(t) for t in raw]

    def one(self, subst: Mapping[str, str] | None = None) -> int | float:
        return self.take(1, subst)[0]

    @property
    def remaining(self) -> int:
        return len(self.tokens) - self.pos


@dataclass
class GapProblem:
    """One GAP: ``cost[i][j]`` and ``use[i][j]`` for agent i, job j; ``capacity[i]``."""

    cost: list[list[int | float]]
    use: list[list[int | float]]
    capacity: list[int | float]

    @property
    def agents(self) -> int:
        return len(self.capacity)

    @property
    def jobs(self) -> int:
        return len(self.cost[0]) if self.cost else 0


@dataclass
class FacilityProblem:
    """Facility location: ``cost[i][j]`` = cost of serving ALL of customer j from facility i."""

    capacity: list[int | float]
    fixed_cost: list[int | float]
    demand: list[int | float]
    cost: list[list[int | float]]

    @property
    def facilities(self) -> int:
        return len(self.capacity)

    @property
    def customers(self) -> int:
        return len(self.demand)


def _read_gap_block(ts: _TokenStream) -> GapProblem:
    m, n = int(ts.one()), int(ts.one())
    cost = [ts.take(n) for _ in range(m)]
    use = [ts.take(n) for _ in range(m)]
    cap = ts.take(m)
    return GapProblem(cost=cost, use=use, capacity=cap)


def parse_gap_blocks(tokens: Sequence[str], multi: bool = True, source: str = "") -> list[GapProblem]:
    """Parse a GAP file's tokens: ``multi`` = leading problem count (gap1-12, gapa-d)."""
    ts = _TokenStream(tokens, source)
    count = int(ts.one()) if multi else 1
    problems = [_read_gap_block(ts) for _ in range(count)]
    if ts.remaining:
        raise ValueError(f"{source}: {ts.remaining} unread tokens after {count} GAP problem(s)")
    return problems


def parse_gap_file(path: str | os.PathLike, multi: bool | None = None) -> list[GapProblem]:
    """Problems of an OR-Library GAP file; ``multi`` defaults to "not a yagiura_e file"."""
    path = Path(path)
    if multi is None:
        multi = path.parent.name != "yagiura_e"
    return parse_gap_blocks(read_tokens(path), multi=multi, source=str(path))


def parse_cflp_file(path: str | os.PathLike, capacity: int | float | None = None) -> FacilityProblem:
    """OR-Library capacitated warehouse location file (capXX, capa/b/c).

    Layout: ``m n``; m x (capacity fixed_cost); then per customer: demand and m
    costs (cost of serving the whole demand from warehouse i). For capa/b/c the
    literal word ``capacity`` is replaced by ``capacity``.
    """
    path = Path(path)
    ts = _TokenStream(read_tokens(path), str(path))
    subst = {"capacity": repr(capacity)} if capacity is not None else None
    m, n = int(ts.one()), int(ts.one())
    caps, fixed = [], []
    for _ in range(m):
        cap_tok = ts.tokens[ts.pos]
        if cap_tok == "capacity" and capacity is None:
            raise ValueError(f"{path}: capacities are the word 'capacity'; pass capacity=...")
        caps.append(ts.one(subst))
        fixed.append(ts.one())
    demand: list[int | float] = []
    cost_cm: list[list[int | float]] = []  # customer-major as stored
    for _ in range(n):
        demand.append(ts.one())
        cost_cm.append(ts.take(m))
    if ts.remaining:
        raise ValueError(f"{path}: {ts.remaining} unread tokens")
    cost = [[cost_cm[j][i] for j in range(n)] for i in range(m)]
    return FacilityProblem(capacity=caps, fixed_cost=fixed, demand=demand, cost=cost)


def parse_sscflp_file(path: str | os.PathLike) -> FacilityProblem:
    """Holmberg SSCFLP file: ``m n``; m x (capacity fixed); n demands; m x n costs (facility-major).

    Exactly ``2 + 2m + n + mn`` tokens are read (p47 has a junk tail; others NUL padding).
    """
    path = Path(path)
    ts = _TokenStream(read_tokens(path), str(path))
    m, n = int(ts.one()), int(ts.one())
    caps, fixed = [], []
    for _ in range(m):
        caps.append(ts.one())
        fixed.append(ts.one())
    demand = ts.take(n)
    cost = [ts.take(n) for _ in range(m)]
    return FacilityProblem(capacity=caps, fixed_cost=fixed, demand=demand, cost=cost)


# --------------------------------------------------------------------------- tables


def _ids(prefix: str, count: int) -> list[str]:
    width = max(1, len(str(count)))
    return [f"{prefix}{k + 1:0{width}d}" for k in range(count)]


def _settings(name: str, year: int) -> list[dict]:
    return [
        {"key": "name", "value": name},
        {"key": "first_year", "value": year},
        {"key": "last_year", "value": year},
        {"key": "base_year", "value": year},
        {"key": "discount_rate", "value": 0},
        {"key": "currency", "value": "USD"},
    ]


def _factories(ids: Iterable[str], what: str) -> list[dict]:
    # Country/region deliberately avoid strings like "NA" that CSV readers turn into NaN.
    return [
        {"factory_id": f, "name": f"{what} {f}", "owner": "benchmark", "country": "ZZ", "region": "bench"}
        for f in ids
    ]


def _lines(
    line_ids: Sequence[str],
    factory_ids: Sequence[str],
    line_types: Sequence[str],
    capacity: Sequence[int | float],
    fixed_cost: Sequence[int | float] | None = None,
) -> list[dict]:
    rows = []
    for k, lid in enumerate(line_ids):
        rows.append(
            {
                "line_id": lid,
                "factory_id": factory_ids[k],
                "line_type": line_types[k],
                "capacity": capacity[k],
                "status": "existing",
                "fixed_cost": fixed_cost[k] if fixed_cost is not None else 0,
            }
        )
    return rows


def _programme(pid: str, name: str, max_lines: int) -> dict:
    return {
        "programme_id": pid,
        "name": name,
        "kind": "component",
        "unit_price": 0,
        "max_lines": max_lines,
        "must_serve": True,
    }


def gap_instance_tables(
    cost: Sequence[Sequence[int | float]] | GapProblem,
    use: Sequence[Sequence[int | float]] | None = None,
    capacity: Sequence[int | float] | None = None,
    *,
    name: str = "gap",
    year: int = YEAR,
) -> dict[str, list[dict]]:
    """Tables for a (minimisation) GAP; ``-NPV`` of the optimum = the GAP optimum.

    Agent i -> factory ``Fi`` with one existing line ``Li`` (line_type ``agent_i``,
    capacity b_i, no fixed cost). Job j -> programme ``Jj`` with demand 1 in the single
    market, must_serve, max_lines 1. Routing rows use ``line_id`` with
    ``capacity_use = a_ij`` and ``unit_cost = c_ij``. No logistics table (free shipping).
    Pass either a :class:`GapProblem` or the three matrices.
    """
    if isinstance(cost, GapProblem):
        problem = cost
    else:
        if use is None or capacity is None:
            raise TypeError("gap_instance_tables needs cost, use and capacity")
        problem = GapProblem(cost=[list(r) for r in cost], use=[list(r) for r in use], capacity=list(capacity))
    m, n = problem.agents, problem.jobs
    if len(problem.cost) != m or len(problem.use) != m or any(len(r) != n for r in problem.cost + problem.use):
        raise ValueError("cost/use must be m x n matrices with m = len(capacity)")
    fids, lids, jids = _ids("F", m), _ids("L", m), _ids("J", n)
    market = "M1"
    tables: dict[str, list[dict]] = {
        "settings": _settings(name, year),
        "factories": _factories(fids, "agent"),
        "markets": [{"market_id": market, "name": "all jobs", "region": "bench"}],
        "lines": _lines(lids, fids, [f"agent_{i + 1}" for i in range(m)], problem.capacity),
        "programmes": [_programme(jids[j], f"job {j + 1}", 1) for j in range(n)],
        "routings": [
            {
                "programme_id": jids[j],
                "line_id": lids[i],
                "capacity_use": problem.use[i][j],
                "unit_cost": problem.cost[i][j],
                "tooling_cost": 0,
            }
            for j in range(n)
            for i in range(m)
        ],
        "demand": [
            {"programme_id": jids[j], "market_id": market, "year": year, "volume": 1, "min_volume": 0}
            for j in range(n)
        ],
    }
    return tables


def _as_facility_problem(
    capacity, fixed_cost, demand, cost
) -> FacilityProblem:
    if isinstance(capacity, FacilityProblem):
        return capacity
    if fixed_cost is None or demand is None or cost is None:
        raise TypeError("need capacity, fixed_cost, demand and cost (cost[i][j], facility-major)")
    p = FacilityProblem(
        capacity=list(capacity), fixed_cost=list(fixed_cost), demand=list(demand), cost=[list(r) for r in cost]
    )
    m, n = p.facilities, p.customers
    if len(p.fixed_cost) != m or len(p.cost) != m or any(len(r) != n for r in p.cost):
        raise ValueError("cost must be m x n (facility-major), fixed_cost length m")
    return p


def cflp_instance_tables(
    capacity: Sequence[int | float] | FacilityProblem,
    fixed_cost: Sequence[int | float] | None = None,
    demand: Sequence[int | float] | None = None,
    cost: Sequence[Sequence[int | float]] | None = None,
    *,
    name: str = "cflp",
    year: int = YEAR,
) -> dict[str, list[dict]]:
    """Tables for a multi-source CFLP (OR-Library cap*): ``-NPV`` = ``Σ f_i y_i + Σ c_ij x_ij``.

    Warehouse i -> factory ``Fi`` with existing line ``Li`` (line_type ``warehouse``,
    capacity s_i, fixed_cost f_i). One programme ``P`` (capacity_use 1 via a
    line_type routing, max_lines = m, must_serve). Customer j -> market ``Mj``
    with demand d_j; logistics ``Fi -> Mj`` at ``c_ij / d_j`` per unit. ``cost[i][j]``
    is the cost of serving all of customer j from i. Zero-demand customers
    contribute nothing and are left out (no market, demand or logistics rows).
    """
    p = _as_facility_problem(capacity, fixed_cost, demand, cost)
    m, n = p.facilities, p.customers
    fids, lids, mids = _ids("F", m), _ids("L", m), _ids("M", n)
    served = [j for j in range(n) if p.demand[j] > 0]
    if any(d < 0 for d in p.demand):
        raise ValueError("negative demand")
    prog = "P"
    tables: dict[str, list[dict]] = {
        "settings": _settings(name, year),
        "factories": _factories(fids, "warehouse"),
        "markets": [{"market_id": mids[j], "name": f"customer {j + 1}", "region": "bench"} for j in served],
        "lines": _lines(lids, fids, ["warehouse"] * m, p.capacity, p.fixed_cost),
        "programmes": [_programme(prog, "goods", m)],
        "routings": [
            {"programme_id": prog, "line_type": "warehouse", "capacity_use": 1, "unit_cost": 0, "tooling_cost": 0}
        ],
        "demand": [
            {"programme_id": prog, "market_id": mids[j], "year": year, "volume": p.demand[j], "min_volume": 0}
            for j in served
        ],
        "logistics": [
            {
                "factory_id": fids[i],
                "market_id": mids[j],
                "cost_per_unit": p.cost[i][j] / p.demand[j],
                "tariff": 0,
            }
            for i in range(m)
            for j in served
        ],
    }
    return tables


def sscflp_instance_tables(
    capacity: Sequence[int | float] | FacilityProblem,
    fixed_cost: Sequence[int | float] | None = None,
    demand: Sequence[int | float] | None = None,
    cost: Sequence[Sequence[int | float]] | None = None,
    *,
    name: str = "sscflp",
    year: int = YEAR,
    cost_in: str = "routings",
) -> dict[str, list[dict]]:
    """Tables for a single-source CFLP (Holmberg): ``-NPV`` = ``Σ f_i y_i + Σ c_ij x_ij``, x binary.

    Facility i -> factory ``Fi`` with existing line ``Li`` (capacity s_i, fixed_cost f_i).
    Customer j -> programme ``Cj`` with demand d_j, ``max_lines = 1`` (single
    sourcing), must_serve. With ``cost_in="routings"`` (default) there is one
    shared market, no logistics table, and line-level routings carry
    ``unit_cost = c_ij / d_j``. With ``cost_in="logistics"`` every customer has its
    own market ``Mj`` and the cost sits on logistics rows ``Fi -> Mj`` instead.
    Zero-demand customers contribute nothing and are left out.
    """
    if cost_in not in ("routings", "logistics"):
        raise ValueError("cost_in must be 'routings' or 'logistics'")
    p = _as_facility_problem(capacity, fixed_cost, demand, cost)
    m, n = p.facilities, p.customers
    if any(d < 0 for d in p.demand):
        raise ValueError("negative demand")
    fids, lids, cids = _ids("F", m), _ids("L", m), _ids("C", n)
    served = [j for j in range(n) if p.demand[j] > 0]
    if cost_in == "routings":
        market_of = {j: "M1" for j in served}
        markets = [{"market_id": "M1", "name": "all customers", "region": "bench"}]
    else:
        mids = _ids("M", n)
        market_of = {j: mids[j] for j in served}
        markets = [{"market_id": mids[j], "name": f"customer {j + 1}", "region": "bench"} for j in served]
    tables: dict[str, list[dict]] = {
        "settings": _settings(name, year),
        "factories": _factories(fids, "facility"),
        "markets": markets,
        "lines": _lines(lids, fids, ["facility"] * m, p.capacity, p.fixed_cost),
        "programmes": [_programme(cids[j], f"customer {j + 1}", 1) for j in served],
        "routings": [
            {
                "programme_id": cids[j],
                "line_id": lids[i],
                "capacity_use": 1,
                "unit_cost": p.cost[i][j] / p.demand[j] if cost_in == "routings" else 0,
                "tooling_cost": 0,
            }
            for j in served
            for i in range(m)
        ],
        "demand": [
            {"programme_id": cids[j], "market_id": market_of[j], "year": year, "volume": p.demand[j], "min_volume": 0}
            for j in served
        ],
    }
    if cost_in == "logistics":
        tables["logistics"] = [
            {
                "factory_id": fids[i],
                "market_id": market_of[j],
                "cost_per_unit": p.cost[i][j] / p.demand[j],
                "tariff": 0,
            }
            for i in range(m)
            for j in served
        ]
    return tables


# --------------------------------------------------------------------------- writing


def format_value(value) -> str:
    """CSV cell text: floats via ``repr`` (round-trips exactly), bools as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite value {value!r}")
        return repr(value)
    return str(value)


def write_instance(tables: Mapping[str, Sequence[Mapping]], folder: str | os.PathLike) -> Path:
    """Write ``{table: rows}`` as ``folder/<table>.csv`` (header = union of row keys, in order)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        columns: list[str] = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(key)
        with open(folder / f"{table}.csv", "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([format_value(row.get(c)) for c in columns])
    return folder


# --------------------------------------------------------------------------- registry


@dataclass
class BenchInstance:
    """One benchmark problem: how to build its tables and what the literature says."""

    name: str
    family: str  # "gap" | "cflp" | "sscflp"
    group: str  # e.g. "gap1-12", "gapA", "gapE", "cap", "capa", "holmberg"
    source: str  # file (and block) it came from
    published: float | None
    proven: bool
    bound: float | None = None
    note: str = ""
    builder: Callable[[], dict[str, list[dict]]] = field(default=lambda: {}, repr=False)
    tolerance: float = 0.0

    def tables(self) -> dict[str, list[dict]]:
        return self.builder()


def _gap_tolerance(opt: float) -> float:
    return 1e-6 * max(1.0, abs(opt))


def _cflp_tolerance(opt: float) -> float:
    # CFLP optima are published to 3 decimals.
    return max(0.01, 1e-7 * abs(opt))


def _read_fontanf(orlib: Path) -> dict[str, tuple[float | None, float | None, float | None]]:
    """instance name -> (bound, optimum or None, best known) from gap_optima_fontanf.csv."""
    out: dict[str, tuple[float | None, float | None, float | None]] = {}
    path = orlib / "gap" / "gap_optima_fontanf.csv"
    if not path.exists():
        return out

    def f(s: str) -> float | None:
        s = s.strip()
        return float(s) if s else None

    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            if len(row) < 8:
                continue
            dataset_path = row[0].strip()
            base = dataset_path.split("/", 1)[-1]
            if dataset_path.startswith("cattrysse1994/"):
                # gapI-K (K from 0) -> our gapI-(K+1), matching OR-Library's cMNN-k numbering.
                stem, k = base.rsplit("-", 1)
                base = f"{stem}-{int(k) + 1}"
            out[base] = (f(row[5]), f(row[6]), f(row[7]))
    return out


def _lazy(fn, *args, **kwargs):
    return lambda: fn(*args, **kwargs)


class _Cache:
    """Parse each multi-problem file once per process."""

    def __init__(self) -> None:
        self._gap: dict[Path, list[GapProblem]] = {}

    def gap(self, path: Path, multi: bool) -> list[GapProblem]:
        if path not in self._gap:
            self._gap[path] = parse_gap_file(path, multi=multi)
        return self._gap[path]


def discover_instances(orlib: str | os.PathLike = DEFAULT_ORLIB, include_gap_d: bool = False) -> list[BenchInstance]:
    """All benchmark instances available under ``orlib`` in a stable order."""
    orlib = Path(orlib)
    cache = _Cache()
    out: list[BenchInstance] = []

    # ---- GAP
    fontanf = _read_fontanf(orlib)

    def gap_builder(path: Path, multi: bool, index: int, name: str):
        def build():
            return gap_instance_tables(cache.gap(path, multi)[index], name=name)

        return build

    def gap_entry(name: str, group: str, path: Path, multi: bool, index: int) -> BenchInstance:
        bound, opt, best = fontanf.get(name, (None, None, None))
        published = opt if opt is not None else best
        return BenchInstance(
            name=name,
            family="gap",
            group=group,
            source=f"{path.relative_to(orlib)}#{index + 1}" if multi else str(path.relative_to(orlib)),
            published=published,
            proven=opt is not None,
            bound=bound,
            note="" if opt is not None else ("no published value" if published is None else "optimum not proven"),
            builder=gap_builder(path, multi, index, name),
            tolerance=_gap_tolerance(published or 0.0),
        )

    for i in range(1, 13):
        path = orlib / "gap" / f"gap{i}.txt"
        if path.exists():
            for k in range(5):
                out.append(gap_entry(f"gap{i}-{k + 1}", "gap1-12", path, True, k))
    for letter in ("a", "b", "c", "d"):
        if letter == "d" and not include_gap_d:
            continue
        path = orlib / "gap" / f"gap{letter}.txt"
        if path.exists():
            for k, (m, n) in enumerate(_CHU_BLOCKS):
                out.append(gap_entry(f"{letter}{m:02d}{n}", f"gap{letter.upper()}", path, True, k))
    edir = orlib / "gap" / "yagiura_e"
    if edir.is_dir():
        for m, n in _CHU_BLOCKS:
            path = edir / f"e{m:02d}{n}.txt"
            if path.exists():
                out.append(gap_entry(f"e{m:02d}{n}", "gapE", path, False, 0))

    # ---- CFLP
    cdir = orlib / "cflp"
    optima: dict[str, tuple[str, str]] = {}
    opt_file = cdir / "cap_optima_martinelli.txt"
    if opt_file.exists():
        for line in opt_file.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                optima[parts[0]] = (parts[1], parts[2])

    def cflp_entry(name: str, group: str, path: Path, capacity: int | None) -> BenchInstance:
        lo_s, up_s = optima.get(name, (None, None))
        lo = float(lo_s) if lo_s is not None else None
        up = float(up_s) if up_s is not None else None
        published = up
        tol = _cflp_tolerance(published or 0.0)
        proven = lo is not None and up is not None and abs(up - lo) <= tol
        return BenchInstance(
            name=name,
            family="cflp",
            group=group,
            source=str(path.relative_to(orlib)) + (f" capacity={capacity}" if capacity is not None else ""),
            published=published,
            proven=proven,
            bound=lo,
            note="" if proven else ("no published value" if published is None else "bounds differ"),
            builder=_lazy(
                lambda p=path, c=capacity, nm=name: cflp_instance_tables(parse_cflp_file(p, capacity=c), name=nm)
            ),
            tolerance=tol,
        )

    def cap_key(p: Path) -> int:
        return int(p.stem[3:])

    for path in sorted((p for p in cdir.glob("cap[0-9]*.txt")), key=cap_key):
        out.append(cflp_entry(path.stem, "cap", path, None))
    for stem, caps in CAPACITY_SUBSTITUTIONS.items():
        path = cdir / f"{stem}.txt"
        if path.exists():
            for c in caps:
                out.append(cflp_entry(f"{stem}-{c}", stem, path, c))

    # ---- Holmberg SSCFLP
    hdir = cdir / "holmberg_sscflp"
    if hdir.is_dir():
        os_file = hdir / "os"
        os_vals = read_tokens(os_file) if os_file.exists() else []
        files = sorted((p for p in hdir.iterdir() if p.name[:1] == "p" and p.name[1:].isdigit()), key=lambda p: int(p.name[1:]))
        for path in files:
            k = int(path.name[1:])
            published = float(os_vals[k - 1]) if k <= len(os_vals) else None
            out.append(
                BenchInstance(
                    name=path.name,
                    family="sscflp",
                    group="holmberg",
                    source=str(path.relative_to(orlib)),
                    published=published,
                    proven=published is not None,
                    bound=published,
                    note="" if published is not None else "no published value",
                    builder=_lazy(lambda p=path, nm=path.name: sscflp_instance_tables(parse_sscflp_file(p), name=nm)),
                    tolerance=_gap_tolerance(published or 0.0),
                )
            )
    return out
