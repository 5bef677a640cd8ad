"""Synthetic instances of any size, feasible by construction, for tests and benchmarks.

:func:`generate_tables` returns ``{table: [row dicts]}`` with the column names
of the instance format (``docs``, :mod:`optimiser.schema`); :func:`generate_instance` writes them as a CSV
folder (or, with ``xlsx=True`` / a ``.xlsx`` target, a workbook) through
:func:`optimiser.writers.write_tables`. Everything is drawn from one
``random.Random(seed)``, in list order (no set iteration), so the same
parameters and seed give the same tables and byte-identical files (the
workbook's zip timestamps and document dates are pinned too).

What an instance holds
----------------------
Every table of the format is present and non-empty:

* ``settings`` — horizon from 2026, discount rate, a *soft* market-share target
  (``share_target`` + ``share_penalty``) on the last year, a default unmet penalty.
* ``factories`` in several countries and regions; one site per counterparty
  (e.g. VinFast's plant) whose lines need a deal option.
* ``lines`` — a few *dedicated* lines (see feasibility below), existing lines
  (some coming online late via ``available_from``, some with ``retire_after``),
  candidate lines (``build_cost``, ``lead_time`` 1–2, ``ramp_up`` < 1, some with
  ``available_from``), counterparty lines behind a *buy* or *partner* option
  (partner lines charge a ``unit_fee``), JV and licence candidate lines.
* ``programmes`` — vehicles, batteries and components; ``max_lines`` 1–3,
  ``must_serve``, own ``unmet_penalty``, late starts / early ends, vehicles that
  ``counts_for_share``, ``external_price`` on every BOM component.
* ``routings`` — each programme routes to 1–3 line *types* of its family
  (about five lines per type), plus a few ``line_id`` overrides. This keeps the
  routable (programme, line) pairs at about 9–10 per programme whatever the size.
* ``demand`` (lifecycle curves over the programme's years, split over 1–4 markets,
  ``min_volume`` commitments), ``logistics`` (not every route; freight and
  tariffs by region), ``bom`` (vehicle → pack + e-drive(s); some packs → module),
  ``options`` (buy/partner per counterparty in one ``exclusive_group``, a JV, a
  licence), ``strategies`` (status quo = forbid all; buy-X = take buy, forbid
  partner; …), ``scenarios`` (probabilities in thousandths, summing to 1),
  ``scenario_demand`` overrides, ``market_size``, ``budget`` (mildly binding),
  ``prices`` (falling pack prices, model-year pricing), ``capacity_profile``
  (shifts added from some year on).

Feasible by construction
------------------------
For every strategy and every scenario (and hence the stochastic form):

* every programme with committed volume (``min_volume``) or ``must_serve`` is
  routed (by a ``line_id`` row) to a *dedicated* line: existing, option-free,
  available every year, no capacity profile, in a factory with a logistics route
  to every market, with capacity ≥ 1.25 × the most those programmes can be forced
  to make in any year and scenario (scenario factors and overrides included);
* every BOM component has an ``external_price``, so parents never wait for it;
* demand exists only inside the programme's own years;
* the capex budget of each year is at least the tooling of those programmes on
  their dedicated lines plus (first year) the upfront cost of the most
  expensive strategy, so doing nothing costly is always allowed;
* strategies take at most one option per exclusive group; the share target is soft.

Sizes
-----
:data:`SIZES` holds recommended parameters (all seed 1). Routable pairs stay at
about 9–10 per programme, so the model grows roughly with
programmes × live years × scenarios (make, tool-link rows) and
programmes × factories reached × markets × years × scenarios (ship).

Measured 2026-11-26 on the development box (2 cores, 24 GiB, Python 3.11,
Pyomo 6.10, HiGHS 1.16) **while other jobs kept the load average at 5–10**, so
wall times are inflated perhaps 3–5× against an idle machine. Stochastic form
(every scenario), strategy ``optimise``; counts as handed to HiGHS
(``compile_model``); *validate* = read the CSV folder + validate; *build* =
``prepare`` + ``build_model`` (+ ``compile_model``); *solve* = ``solve_instance``
with ``SolveOptions(time_limit=60)``.

======  ================  ========  =========  ========  ===========  =========  ==============================  ==========================
size    l/p/y/m/s         validate  variables  binaries  constraints  nonzeros   build (+ compile), peak RSS     solve, 60 s limit
======  ================  ========  =========  ========  ===========  =========  ==============================  ==========================
small   12/16/5/4/3       0.1 s     2,294      227       1,882        7,000      0.7 s (+ 8.5 s, first call)     optimal (gap 3e-5), 34 s
medium  60/100/8/8/3      0.3 s     45,996     2,400     36,002       160,244    1.9 s (+ 0.9 s), 0.4 GiB        no plan in 60 s (root LP
                                                                                                                 unfinished; see below)
large   250/500/12/15/5   4.9 s     734,202    19,632    517,941      2,308,217  22 s + 95 s (+ 89 s), 1.5 GiB   not attempted
xl      500/1000/15/20/5  9.1 s     1,819,690  46,940    1,322,833    5,806,219  106 s + 479 s (+ 388 s),        not attempted
                                                                                 3.6 GiB
======  ================  ========  =========  ========  ===========  =========  ==============================  ==========================

``large`` is the first size past 500,000 variables; ``xl`` (500 lines × 1,000
programmes) takes more than 5 minutes to build in Pyomo on this box.
``medium`` with the HiGHS log on (900 s limit, same load): presolve 26,381 rows ×
34,584 columns; the root LP took ~44,000 dual simplex iterations and the first
plan (randomized rounding) came at 285 s, gap 31 %; at 790 s still in the root
node with gap 27.7 %. HiGHS also warns the model is badly scaled (costs and the
budget right-hand sides reach 1e9 in currency units). Plan on minutes, not
seconds, for ``medium`` on two cores.
"""

from __future__ import annotations

import io
import math
import random
import re
import zipfile
from pathlib import Path
from typing import Any

from .writers import atomic_path, dict_tables, write_tables

#: Recommended sizes (keyword arguments of :func:`generate_tables`); see the module docstring.
SIZES: dict[str, dict[str, int]] = {
    "small": dict(lines=12, programmes=16, years=5, markets=4, scenarios=3, seed=1),
    "medium": dict(lines=60, programmes=100, years=8, markets=8, scenarios=3, seed=1),
    "large": dict(lines=250, programmes=500, years=12, markets=15, scenarios=5, seed=1),
    "xl": dict(lines=500, programmes=1000, years=15, markets=20, scenarios=5, seed=1),
}

FIRST_YEAR = 2026

# ------------------------------------------------------------------ vocabulary

_COUNTRIES = (  # (country, region)
    ("VN", "Asia"), ("US", "North America"), ("CN", "Asia"), ("DE", "Europe"), ("MX", "North America"),
    ("TW", "Asia"), ("HU", "Europe"), ("TH", "Asia"), ("IN", "Asia"), ("BR", "South America"),
    ("PL", "Europe"), ("JP", "Asia"),
)
_MARKETS = (  # (name, region)
    ("United States", "North America"), ("European Union", "Europe"), ("China", "Asia"), ("Vietnam", "Asia"),
    ("Japan", "Asia"), ("South Korea", "Asia"), ("India", "Asia"), ("Brazil", "South America"),
    ("Mexico", "North America"), ("United Kingdom", "Europe"), ("Australia", "Oceania"), ("Thailand", "Asia"),
    ("Canada", "North America"), ("Indonesia", "Asia"), ("Turkey", "Europe"), ("Taiwan", "Asia"),
    ("Norway", "Europe"), ("Chile", "South America"), ("South Africa", "Africa"), ("Saudi Arabia", "Middle East"),
)
_REGIONS = ("Asia", "Europe", "North America", "South America", "Oceania", "Africa", "Middle East")
_COUNTERPARTIES = ("VinFast", "Fisker", "Lordstown", "Byton", "Geely")
_OWNER = "Hon Hai"
_CUSTOMERS = ("VinFast", "Fisker", "Lordstown", "Byton", "Geely", "Stellantis", "own brand")
_BODIES = ("sedan", "SUV", "pickup", "van", "hatchback", "crossover", "bus", "truck")
_FAMILY_TYPE = {"vehicle": "assembly", "battery": "pack", "component": "edrive"}
#: hours of line time per unit, by family (capacity is in line-hours per year)
_BASE_USE = {"vehicle": 0.03, "battery": 0.015, "component": 0.0075}
_SCENARIOS = (  # id, demand_factor, price_factor, description
    ("base", 1.0, 1.0, "plan volumes and prices"),
    ("low", 0.8, 0.97, "slower EV adoption, mild price pressure"),
    ("high", 1.2, 1.02, "faster adoption"),
    ("slow-ev", 0.7, 0.95, "subsidies cut, price war"),
    ("boom", 1.35, 1.05, "EV boom"),
    ("tariff-shock", 0.9, 1.0, "trade barriers dampen volumes"),
    ("price-war", 1.05, 0.9, "volumes hold, prices fall"),
    ("recovery", 0.95, 1.0, "slow start, later recovery"),
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _width(n: int, least: int) -> int:
    return max(least, len(str(n)))


def _round_to(x: float, step: float) -> float:
    return step * round(x / step)


# ---------------------------------------------------------------- generation

class _Gen:
    """One generation run: the rng and everything drawn so far."""

    def __init__(self, lines: int, programmes: int, years: int, markets: int, scenarios: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n_lines, self.n_progs, self.n_years = lines, programmes, years
        self.n_markets, self.n_scen, self.seed = markets, scenarios, seed
        self.first = FIRST_YEAR
        self.last = FIRST_YEAR + years - 1
        self.years = list(range(self.first, self.last + 1))

    # small helpers on the one rng
    def u(self, lo: float, hi: float) -> float:
        return self.rng.uniform(lo, hi)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # ------------------------------------------------------------ run
    def run(self) -> dict[str, list[dict[str, Any]]]:
        self._plan_lines()
        self._factories()
        self._markets()
        self._options()
        self._lines()
        self._programmes()
        self._bom()
        self._routings()
        self._demand()
        self._scenarios()
        self._dedicated_capacity()
        self._logistics()
        self._strategies()
        self._prices()
        self._capacity_profile()
        self._market_size_and_settings()
        self._budget()
        return {
            "settings": self.settings, "factories": self.factories, "markets": self.markets,
            "lines": self.lines, "programmes": self.programmes, "routings": self.routings,
            "demand": self.demand, "logistics": self.logistics, "bom": self.bom, "options": self.options,
            "strategies": self.strategies, "scenarios": self.scenarios, "scenario_demand": self.scenario_demand,
            "market_size": self.market_size, "budget": self.budget, "prices": self.prices,
            "capacity_profile": self.capacity_profile, "sensitivity": self._sensitivity(),
        }

    def _sensitivity(self) -> list[dict[str, Any]]:
        """Ranges for `tornado`: prices and demand ±10/20 %, the first deal's upfront cost ±50 %,
        the discount rate 6–12 % (no random draws: the other tables are unchanged by it)."""
        rows = [dict(parameter="programmes.unit_price[*]", low=0.9, high=1.1, kind="multiplier",
                     note="price ±10 %"),
                dict(parameter="demand.volume[*]", low=0.8, high=1.2, kind="multiplier", note="demand ±20 %"),
                dict(parameter="settings.discount_rate", low=0.06, high=0.12, kind="absolute", note="hurdle rate")]
        if self.options:
            o = self.options[0]
            rows.append(dict(parameter=f"options.upfront_cost[{o['option_id']}]", low=0.5, high=1.5,
                             kind="multiplier", note="deal price ±50 %"))
        return rows

    # ------------------------------------------------------------ line plan
    def _plan_lines(self) -> None:
        """Decide each line's role and family before anything is named."""
        n = self.n_lines
        n_ded = max(1, min(round(n * 0.08), max(1, round(self.n_progs * 0.1))))
        general = n - n_ded
        self.n_cp = min(len(_COUNTERPARTIES), 1 + n // 60)
        roles: list[tuple[str, int | None]] = []  # (role, counterparty index)
        if general >= 5:
            each = max(2, round(general * 0.05))
            for c in range(self.n_cp):
                for k in range(each):
                    roles.append(("buy" if k % 2 == 0 else "partner", c))
        jv = max(1, round(general * 0.04)) if general >= 4 else 0
        lic = max(1, round(general * 0.03)) if general >= 6 else 0
        roles += [("jv", None)] * jv + [("licence", None)] * lic
        rest = general - len(roles)
        n_cand = max(1, round(rest * 0.4))
        roles += [("existing", None)] * (rest - n_cand) + [("candidate", None)] * n_cand
        # families: JV and licence lines make packs; the rest by weight, every family at least once
        free = [i for i, (r, _) in enumerate(roles) if r not in ("licence", "jv")]
        weights = (("vehicle", 0.5), ("battery", 0.3), ("component", 0.2))
        fam_of: dict[int, str] = {i: "battery" for i, (r, _) in enumerate(roles) if r in ("licence", "jv")}
        order = list(free)
        self.rng.shuffle(order)
        must = ["vehicle", "component"] if fam_of else ["vehicle", "battery", "component"]
        for i, f in zip(order, must):
            fam_of[i] = f
        for i in order[len(must):]:
            x, acc = self.rng.random(), 0.0
            for f, w in weights:
                acc += w
                if x < acc:
                    fam_of[i] = f
                    break
            else:
                fam_of[i] = "vehicle"
        fams = [fam_of[i] for i in range(len(roles))]
        self.line_plan = [("dedicated", None, "dedicated")] * n_ded + [(r, c, f) for (r, c), f in zip(roles, fams)]

    # ------------------------------------------------------------ factories
    def _factories(self) -> None:
        has_cp_lines = [any(r in ("buy", "partner") and c == k for r, c, _ in self.line_plan) for k in range(self.n_cp)]
        n_cp_sites = sum(has_cp_lines)
        n_own = max(2, min(self.n_lines // 6, 999) - n_cp_sites)
        # own lines must fill every own factory
        n_own_lines = sum(1 for r, _, _ in self.line_plan if r not in ("buy", "partner"))
        n_own = max(1, min(n_own, n_own_lines))
        total = n_own + n_cp_sites
        w = _width(total, 2)
        countries = list(_COUNTRIES)
        self.rng.shuffle(countries)
        self.factories: list[dict[str, Any]] = []
        self.factory_region: dict[str, str] = {}
        self.factory_country: dict[str, str] = {}
        self.own_factories: list[str] = []
        self.cp_factory: dict[int, str] = {}
        for i in range(total):
            fid = f"F{i + 1:0{w}d}"
            country, region = countries[i % len(countries)] if i < len(countries) else self.rng.choice(_COUNTRIES)
            if i < n_own:
                owner = _OWNER
                name = f"{country} plant {i + 1}"
                self.own_factories.append(fid)
            else:
                k = [c for c in range(self.n_cp) if has_cp_lines[c]][i - n_own]
                owner = _COUNTERPARTIES[k]
                name = f"{owner} {country} plant"
                self.cp_factory[k] = fid
            self.factories.append(dict(factory_id=fid, name=name, owner=owner, country=country, region=region))
            self.factory_region[fid] = region
            self.factory_country[fid] = country

    # ------------------------------------------------------------ markets
    def _markets(self) -> None:
        w = _width(self.n_markets, 2)
        self.markets = []
        self.market_region: dict[str, str] = {}
        for i in range(self.n_markets):
            mid = f"M{i + 1:0{w}d}"
            if i < len(_MARKETS):
                name, region = _MARKETS[i]
            else:
                name, region = f"Market {i + 1}", self.rng.choice(_REGIONS)
            self.markets.append(dict(market_id=mid, name=name, region=region))
            self.market_region[mid] = region
        self.market_ids = [m["market_id"] for m in self.markets]

    # ------------------------------------------------------------ options
    def _options(self) -> None:
        self.options = []
        self.opt_buy: dict[int, str] = {}
        self.opt_partner: dict[int, str] = {}
        n = 2 * self.n_cp + 2
        w = _width(n, 2)
        k = 0

        def add(name: str, cp: str, kind: str, upfront: float, annual: float, group: str | None) -> str:
            nonlocal k
            k += 1
            oid = f"O{k:0{w}d}"
            self.options.append(dict(option_id=oid, name=name, counterparty=cp, kind=kind,
                                     upfront_cost=upfront, annual_cost=annual, exclusive_group=group))
            return oid

        for c in range(self.n_cp):
            cp = _COUNTERPARTIES[c]
            group = f"{_slug(cp)}-deal"
            self.opt_buy[c] = add(f"Buy {cp}'s lines", cp, "buy",
                                  _round_to(self.u(150e6, 450e6), 1e6), _round_to(self.u(2e6, 6e6), 1e5), group)
            self.opt_partner[c] = add(f"Partner with {cp} (toll manufacturing)", cp, "partner",
                                      _round_to(self.u(5e6, 20e6), 1e6), _round_to(self.u(8e6, 25e6), 1e5), group)
        self.opt_jv = add("Battery joint venture", "CATL", "jv",
                          _round_to(self.u(40e6, 90e6), 1e6), _round_to(self.u(3e6, 8e6), 1e5), None)
        self.opt_lic = add("Solid-state cell licence", "QuantumScape", "contract",
                           _round_to(self.u(10e6, 30e6), 1e6), _round_to(self.u(1e6, 4e6), 1e5), None)
        self.option_upfront = {o["option_id"]: o["upfront_cost"] for o in self.options}

    # ------------------------------------------------------------ lines
    def _lines(self) -> None:
        plan = self.line_plan
        w = _width(len(plan), 4)
        # line types per family: about five lines a type, two or more types once a family has four lines
        fam_lines: dict[str, list[int]] = {"vehicle": [], "battery": [], "component": []}
        for i, (role, _, fam) in enumerate(plan):
            if role != "dedicated":
                fam_lines[fam].append(i)
        self.types: dict[str, list[str]] = {}
        self.type_base_cap: dict[str, float] = {}
        self.type_use_mult: dict[str, float] = {}
        type_of: dict[int, str] = {}
        for fam in ("vehicle", "battery", "component"):
            idx = fam_lines[fam]
            nt = 1 if len(idx) < 4 else max(2, round(len(idx) / 5))
            names = [f"{_FAMILY_TYPE[fam]}-{_type_letter(j)}" for j in range(nt)]
            self.types[fam] = names
            for t in names:
                self.type_base_cap[t] = _round_to(self.u(4000, 6000), 100)
                self.type_use_mult[t] = round(self.u(0.85, 1.2), 3)
            order = list(idx)
            self.rng.shuffle(order)
            for j, i in enumerate(order):
                type_of[i] = names[j % nt] if j < nt else self.rng.choice(names)
        self.type_base_cap["dedicated"] = 5000.0
        self.type_use_mult["dedicated"] = 1.1
        # factories: every own factory gets at least one line
        own_idx = [i for i, (r, _, _) in enumerate(plan) if r not in ("buy", "partner")]
        ded_idx = [i for i, (r, _, _) in enumerate(plan) if r == "dedicated"]
        fac_of: dict[int, str] = {}
        # dedicated lines first, spread over the first own factories (their factories reach every market)
        for j, i in enumerate(ded_idx):
            fac_of[i] = self.own_factories[j % len(self.own_factories)]
        others = [i for i in own_idx if i not in fac_of]
        self.rng.shuffle(others)
        unfilled = [f for f in self.own_factories if f not in fac_of.values()]
        for f, i in zip(unfilled, others):
            fac_of[i] = f
        for i in others:
            if i not in fac_of:
                fac_of[i] = self.rng.choice(self.own_factories)
        for i, (role, c, _) in enumerate(plan):
            if role in ("buy", "partner"):
                fac_of[i] = self.cp_factory[c]
        self.dedicated_factories = sorted({fac_of[i] for i in ded_idx})

        self.lines = []
        self.line_type: dict[str, str] = {}
        self.line_family: dict[str, str] = {}
        self.line_role: dict[str, str] = {}
        self.line_factory: dict[str, str] = {}
        self.line_cap: dict[str, float] = {}
        self.dedicated_lines: list[str] = []
        horizon = self.n_years
        # some existing lines come online late, some retire early (at least one of each when there are two)
        existing = [i for i, (r, _, _) in enumerate(plan) if r == "existing"]
        late: list[int] = []
        early: list[int] = []
        if len(existing) >= 2:
            k = max(1, round(len(existing) * 0.12))
            picked = self.rng.sample(existing, min(len(existing), 2 * k))
            late, early = picked[:len(picked) // 2], picked[len(picked) // 2:]
        for i, (role, c, fam) in enumerate(plan):
            lid = f"L{i + 1:0{w}d}"
            ltype = "dedicated" if role == "dedicated" else type_of[i]
            cap = _round_to(self.type_base_cap[ltype] * self.u(0.8, 1.25), 100)
            row: dict[str, Any] = dict(
                line_id=lid, factory_id=fac_of[i], line_type=ltype, capacity=cap, status="existing",
                fixed_cost=_round_to(cap * self.u(1500, 3000), 1e4), build_cost=None, lead_time=None,
                available_from=None, retire_after=None, ramp_up=None, requires_option=None, unit_fee=None)
            if role == "existing":
                if i in late:
                    row["available_from"] = self.first + self.rng.randint(1, max(1, horizon // 3))
                elif i in early:
                    row["retire_after"] = self.last - self.rng.randint(1, max(1, horizon // 3))
            elif role in ("candidate", "jv", "licence"):
                row["status"] = "candidate"
                row["build_cost"] = _round_to(cap * self.u(30000, 60000) * (0.6 if role == "jv" else 1.0), 1e6)
                row["lead_time"] = 1 if horizon <= 3 else self.rng.choice((1, 1, 2))
                row["ramp_up"] = self.rng.choice((0.5, 0.6, 0.7, 0.8))
                if horizon >= 5 and self.chance(0.15):
                    row["available_from"] = self.first + 2
                if role == "jv":
                    row["requires_option"] = self.opt_jv
                elif role == "licence":
                    row["requires_option"] = self.opt_lic
            elif role == "buy":
                row["requires_option"] = self.opt_buy[c]
            elif role == "partner":
                row["requires_option"] = self.opt_partner[c]
                row["fixed_cost"] = 0
                row["unit_fee"] = _round_to(self.u(150, 900), 10)
            if role == "dedicated":
                self.dedicated_lines.append(lid)
            self.lines.append(row)
            self.line_type[lid] = ltype
            self.line_family[lid] = fam
            self.line_role[lid] = role
            self.line_factory[lid] = fac_of[i]
            self.line_cap[lid] = cap
        self.lines_of_type: dict[str, list[str]] = {}
        for r in self.lines:
            self.lines_of_type.setdefault(r["line_type"], []).append(r["line_id"])

    # ------------------------------------------------------------ programmes
    def _programmes(self) -> None:
        n = self.n_progs
        n_v = max(2, round(n * 0.55))
        n_b = max(1, round(n * 0.25))
        n_c = max(1, n - n_v - n_b)
        n_v = n - n_b - n_c
        kinds = ["vehicle"] * n_v + ["battery"] * n_b + ["component"] * n_c
        self.rng.shuffle(kinds)
        w = _width(n, 4)
        self.programmes = []
        self.prog: dict[str, dict[str, Any]] = {}
        self.by_kind: dict[str, list[str]] = {"vehicle": [], "battery": [], "component": []}
        for i, kind in enumerate(kinds):
            pid = f"P{i + 1:0{w}d}"
            if kind == "vehicle":
                customer = self.rng.choice(_CUSTOMERS)
                name = f"{customer} {self.rng.choice(_BODIES)} {i + 1}"
                price = _round_to(self.u(22000, 65000), 100)
                max_lines = self.rng.choice((1, 1, 1, 2, 2, 3))
            elif kind == "battery":
                customer = self.rng.choice(("own", "VinFast", "Geely", "merchant"))
                name = f"Battery pack {self.rng.choice((60, 75, 82, 90, 100, 120))} kWh ({i + 1})"
                price = _round_to(self.u(6000, 14000), 10)
                max_lines = self.rng.choice((1, 1, 2, 2, 3))
            else:
                customer = "own"
                name = f"{self.rng.choice(('E-drive', 'Inverter', 'Battery module', 'Thermal unit'))} {i + 1}"
                price = _round_to(self.u(600, 2500), 10)
                max_lines = self.rng.choice((1, 2, 2, 3))
            fy = self.first
            ly = self.last
            if self.n_years >= 3 and self.chance(0.3):
                fy = self.first + self.rng.randint(1, max(1, self.n_years // 2))
            if self.n_years >= 4 and self.chance(0.2):
                ly = max(fy + 1, self.last - self.rng.randint(1, max(1, self.n_years // 3)))
            ly = min(ly, self.last)
            row = dict(
                programme_id=pid, name=name, kind=kind, customer=customer, unit_price=price, max_lines=max_lines,
                must_serve=False, unmet_penalty=(_round_to(price * self.u(0.03, 0.08), 10) if self.chance(0.25) else None),
                first_year=fy if fy != self.first else None, last_year=ly if ly != self.last else None,
                counts_for_share=(kind == "vehicle" and self.chance(0.7)), external_price=None)
            self.programmes.append(row)
            self.prog[pid] = row
            self.by_kind[kind].append(pid)
            row["_fy"], row["_ly"] = fy, ly  # private: resolved years, dropped before writing
        if not any(self.prog[p]["counts_for_share"] for p in self.by_kind["vehicle"]):
            self.prog[self.by_kind["vehicle"][0]]["counts_for_share"] = True
        # some batteries can be bought outside even when no vehicle needs them
        for pid in self.by_kind["battery"]:
            if self.chance(0.3):
                self.prog[pid]["external_price"] = _round_to(self.prog[pid]["unit_price"] * self.u(1.1, 1.3), 10)

    # ------------------------------------------------------------ bom
    def _bom(self) -> None:
        self.bom = []
        used: dict[str, None] = {}
        packs, comps = self.by_kind["battery"], self.by_kind["component"]
        for pid in self.by_kind["vehicle"]:
            pack = self.rng.choice(packs)
            self.bom.append(dict(parent_id=pid, component_id=pack, quantity=1))
            used[pack] = None
            k = 1 if len(comps) == 1 or self.chance(0.6) else 2
            for c in self.rng.sample(comps, k):
                self.bom.append(dict(parent_id=pid, component_id=c, quantity=self.rng.choice((1, 1, 2))))
                used[c] = None
        for pid in packs:
            if self.chance(0.3):
                c = self.rng.choice(comps)
                self.bom.append(dict(parent_id=pid, component_id=c, quantity=self.rng.choice((2, 4, 8))))
                used[c] = None
        self.components = [p for p in self.prog if p in used]
        for c in self.components:  # every component can be bought outside: parents never wait
            row = self.prog[c]
            if row["external_price"] is None:
                row["external_price"] = _round_to(row["unit_price"] * self.u(1.1, 1.4), 10)
        # who sells to markets: every vehicle; packs and components if merchant or needed by nobody
        self.has_demand = {}
        for pid, row in self.prog.items():
            if row["kind"] == "vehicle":
                self.has_demand[pid] = True
            elif pid not in used:
                self.has_demand[pid] = True
            else:
                self.has_demand[pid] = self.chance(0.5 if row["kind"] == "battery" else 0.25)

    # ------------------------------------------------------------ routings
    def _routings(self) -> None:
        self.routings = []
        self.use: dict[tuple[str, str], float] = {}  # (programme, line) → capacity_use, after overrides
        self.prog_types: dict[str, list[str]] = {}
        self.base_use: dict[str, float] = {}
        for pid, row in self.prog.items():
            kind = row["kind"]
            types = self.types[kind]
            k = 1 + self.chance(0.6) + self.chance(0.25)
            self.prog_types[pid] = sorted(self.rng.sample(types, min(k, len(types))))
            self.base_use[pid] = _BASE_USE[kind] * self.u(0.75, 1.25)
        # every line type is routed by someone (else its lines are useless)
        for kind in ("vehicle", "battery", "component"):
            for t in self.types[kind]:
                if not any(t in self.prog_types[p] for p in self.by_kind[kind]):
                    p = min(self.by_kind[kind], key=lambda q: (len(self.prog_types[q]), q))
                    self.prog_types[p] = sorted(self.prog_types[p] + [t])
        # anchored programmes: committed volumes or must_serve, served from a dedicated line
        cands = [p for p in self.by_kind["vehicle"] + self.by_kind["battery"] if self.has_demand[p]]
        cands.sort()
        n_anch = max(2, round(self.n_progs * 0.1))
        self.anchored = sorted(self.rng.sample(cands, min(n_anch, len(cands))))
        n_must = max(1, round(len(self.anchored) * 0.6))
        self.must_serve = self.anchored[:n_must]
        for p in self.must_serve:
            self.prog[p]["must_serve"] = True
        self.anchor_line: dict[str, str] = {}
        ded = self.dedicated_lines
        for j, p in enumerate(self.anchored):
            self.anchor_line[p] = ded[j % len(ded)]

        def cost_row(pid: str) -> tuple[float, float]:
            row = self.prog[pid]
            price = row["unit_price"]
            kind = row["kind"]
            # vehicles: assembly and bought-in parts, the BOM (pack, e-drive) is paid separately
            lo, hi = {"vehicle": (0.35, 0.5), "battery": (0.55, 0.75), "component": (0.5, 0.7)}[kind]
            unit_cost = _round_to(price * self.u(lo, hi), 1)
            tooling = {"vehicle": (8e6, 40e6), "battery": (3e6, 15e6), "component": (0.5e6, 3e6)}[kind]
            return unit_cost, _round_to(self.u(*tooling), 1e4)

        for pid in self.prog:
            for t in self.prog_types[pid]:
                use = round(self.base_use[pid] * self.type_use_mult[t] * self.u(0.95, 1.05), 6)
                unit_cost, tooling = cost_row(pid)
                self.routings.append(dict(programme_id=pid, line_type=t, line_id=None, capacity_use=use,
                                          unit_cost=unit_cost, tooling_cost=tooling))
                for lid in self.lines_of_type[t]:
                    self.use[(pid, lid)] = use
        # a few line overrides: newer equipment on one line of a routed type, or one extra line
        chosen = [pid for pid in self.prog if self.chance(0.06)] or [next(iter(self.prog))]
        for pid in chosen:
            kind = self.prog[pid]["kind"]
            fam_lines = [lid for t in self.types[kind] for lid in self.lines_of_type[t]]
            lid = self.rng.choice(fam_lines)
            use = round(self.base_use[pid] * self.type_use_mult[self.line_type[lid]] * self.u(0.85, 0.95), 6)
            unit_cost, tooling = cost_row(pid)
            self.routings.append(dict(programme_id=pid, line_type=None, line_id=lid, capacity_use=use,
                                      unit_cost=unit_cost, tooling_cost=tooling))
            self.use[(pid, lid)] = use
        self.anchor_tooling: dict[str, float] = {}
        for pid in self.anchored:
            lid = self.anchor_line[pid]
            use = round(self.base_use[pid] * self.type_use_mult["dedicated"], 6)
            unit_cost, tooling = cost_row(pid)
            self.routings.append(dict(programme_id=pid, line_type=None, line_id=lid, capacity_use=use,
                                      unit_cost=unit_cost, tooling_cost=tooling))
            self.use[(pid, lid)] = use
            self.anchor_tooling[pid] = tooling

    # ------------------------------------------------------------ demand
    def _demand(self) -> None:
        # capacity of each family in units (what its lines could make of an average programme)
        fam_units = {f: 0.0 for f in _BASE_USE}
        for lid, role in self.line_role.items():
            if role != "dedicated":
                fam = self.line_family[lid]
                fam_units[fam] += self.line_cap[lid] / (_BASE_USE[fam] * self.type_use_mult[self.line_type[lid]])
        sellers = [p for p in self.prog if self.has_demand[p]]
        n_sell = {k: max(1, sum(1 for p in sellers if self.prog[p]["kind"] == k)) for k in _BASE_USE}
        load = {"vehicle": (0.4, 1.2), "battery": (0.15, 0.5), "component": (0.15, 0.4)}
        # markets: every market gets at least one programme
        market_lists: dict[str, list[str]] = {}
        max_k = min(4, self.n_markets)
        for p in sellers:
            k = self.rng.randint(1, max_k)
            market_lists[p] = self.rng.sample(self.market_ids, k)
        for j, m in enumerate(self.market_ids):
            if not any(m in ms for ms in market_lists.values()):
                p = sellers[j % len(sellers)]
                market_lists[p].append(m)
        self.demand = []
        self.demand_of: dict[str, list[dict[str, Any]]] = {}
        for p in sellers:
            row = self.prog[p]
            kind = row["kind"]
            peak = fam_units[kind] / n_sell[kind] * self.u(*load[kind])
            ms = sorted(market_lists[p])
            shares = [self.u(0.3, 1.0) for _ in ms]
            tot = sum(shares)
            growth = self.u(0.0, 0.08)
            fy, ly = row["_fy"], row["_ly"]
            committed_markets = ms if p in self.anchored and p not in self.must_serve else \
                ([ms[0]] if p in self.must_serve and self.chance(0.5) else [])
            rows = []
            for t in range(fy, ly + 1):
                k = t - fy
                curve = 0.5 if k == 0 else (0.85 if k == 1 else (1.0 + growth) ** (k - 2))
                if ly < self.last and t == ly and k > 0:
                    curve *= 0.7
                for m, sh in zip(ms, shares):
                    vol = max(10.0, _round_to(peak * curve * sh / tot, 10))
                    mv = None
                    if m in committed_markets and self.chance(0.8):
                        mv = _round_to(vol * self.u(0.3, 0.7), 10)
                    r = dict(programme_id=p, market_id=m, year=t, volume=int(vol),
                             min_volume=int(mv) if mv is not None else None)
                    rows.append(r)
            if p in self.anchored and p not in self.must_serve and not any(r["min_volume"] for r in rows):
                rows[0]["min_volume"] = int(_round_to(rows[0]["volume"] * 0.5, 10))
            self.demand.extend(rows)
            self.demand_of[p] = rows
        self.market_lists = market_lists

    # ------------------------------------------------------------ scenarios
    def _scenarios(self) -> None:
        n = self.n_scen
        if n == 1:
            weights = [1000]
        else:
            base = 400 if n <= 4 else max(1000 // n, 200)
            rest = 1000 - base
            weights = [base] + [rest // (n - 1)] * (n - 1)
            for j in range(rest - sum(weights[1:])):
                weights[1 + j] += 1
        self.scenarios = []
        self.scen_factor: dict[str, float] = {}
        w = _width(n, 2)
        for i in range(n):
            if i < len(_SCENARIOS):
                sid, df, pf, desc = _SCENARIOS[i]
            else:
                sid = f"S{i + 1:0{w}d}"
                df = round(_round_to(self.u(0.7, 1.3), 0.05), 2)
                pf = round(_round_to(self.u(0.9, 1.1), 0.01), 2)
                desc = f"sampled demand ×{df:g}, prices ×{pf:g}"
            self.scenarios.append(dict(scenario_id=sid, probability=weights[i] / 1000, demand_factor=df,
                                       price_factor=pf, description=desc))
            self.scen_factor[sid] = df
        # a few demand overrides (of existing demand rows: they keep their routes)
        self.scenario_demand = []
        self.overrides: dict[tuple[str, str, str, int], float] = {}
        per = max(1, min(50, round(len(self.demand) * 0.01)))
        for s in self.scenarios:
            sid = s["scenario_id"]
            if n > 1 and sid == "base":
                continue
            picks = sorted(self.rng.sample(range(len(self.demand)), min(per, len(self.demand))))
            for j in picks:
                d = self.demand[j]
                vol = int(_round_to(d["volume"] * s["demand_factor"] * self.u(0.4, 1.7), 10))
                self.scenario_demand.append(dict(scenario_id=sid, programme_id=d["programme_id"],
                                                 market_id=d["market_id"], year=d["year"], volume=vol))
                self.overrides[(sid, d["programme_id"], d["market_id"], d["year"])] = vol

    def _scenario_volume(self, sid: str, d: dict[str, Any]) -> float:
        o = self.overrides.get((sid, d["programme_id"], d["market_id"], d["year"]))
        return float(o) if o is not None else d["volume"] * self.scen_factor[sid]

    # ------------------------------------------------------------ dedicated capacity
    def _dedicated_capacity(self) -> None:
        """Size each dedicated line for what its programmes must make in the worst year and scenario."""
        need: dict[tuple[str, int], float] = {}
        for p in self.anchored:
            lid = self.anchor_line[p]
            must = self.prog[p]["must_serve"]
            for t in self.years:
                rows = [d for d in self.demand_of[p] if d["year"] == t]
                worst = 0.0
                for s in self.scenarios:
                    tot = 0.0
                    for d in rows:
                        v = self._scenario_volume(s["scenario_id"], d)
                        tot += v if must else min(d["min_volume"] or 0, v)
                    worst = max(worst, tot)
                need[(lid, t)] = need.get((lid, t), 0.0) + worst * self.use[(p, lid)]
        by_id = {r["line_id"]: r for r in self.lines}
        for lid in self.dedicated_lines:
            peak = max(need.get((lid, t), 0.0) for t in self.years)
            cap = max(by_id[lid]["capacity"], math.ceil(1.25 * peak / 100) * 100)
            by_id[lid]["capacity"] = cap
            by_id[lid]["fixed_cost"] = _round_to(cap * self.u(1500, 3000), 1e4)
            self.line_cap[lid] = cap

    # ------------------------------------------------------------ logistics
    def _logistics(self) -> None:
        self.logistics = []
        routed: dict[str, int] = {}
        for f in self.factories:
            fid = f["factory_id"]
            for m in self.market_ids:
                same_region = self.factory_region[fid] == self.market_region[m]
                forced = fid in self.dedicated_factories
                if not (forced or same_region or self.chance(0.6)):
                    continue
                if same_region:
                    cost, tariff = _round_to(self.u(60, 400), 5), 0.0
                else:
                    cost = _round_to(self.u(500, 1800), 5)
                    tariff = self.rng.choice((0.0, 0.025, 0.05, 0.1, 0.15, 0.25))
                self.logistics.append(dict(factory_id=fid, market_id=m, cost_per_unit=cost, tariff=tariff))
                routed[fid] = routed.get(fid, 0) + 1
        for f in self.factories:  # every factory reaches at least one market
            fid = f["factory_id"]
            if not routed.get(fid):
                m = self.rng.choice(self.market_ids)
                self.logistics.append(dict(factory_id=fid, market_id=m, cost_per_unit=_round_to(self.u(500, 1800), 5),
                                           tariff=0.05))
        self.logistics.sort(key=lambda r: (r["factory_id"], r["market_id"]))

    # ------------------------------------------------------------ strategies
    def _strategies(self) -> None:
        self.strategies = []
        all_opts = [o["option_id"] for o in self.options]
        for o in all_opts:
            self.strategies.append(dict(strategy_id="status-quo", option_id=o, decision="forbid"))
        for c in range(self.n_cp):
            slug = _slug(_COUNTERPARTIES[c])
            self.strategies += [
                dict(strategy_id=f"buy-{slug}", option_id=self.opt_buy[c], decision="take"),
                dict(strategy_id=f"buy-{slug}", option_id=self.opt_partner[c], decision="forbid"),
                dict(strategy_id=f"partner-{slug}", option_id=self.opt_partner[c], decision="take"),
                dict(strategy_id=f"partner-{slug}", option_id=self.opt_buy[c], decision="forbid"),
            ]
        self.strategies += [
            dict(strategy_id="batteries-jv", option_id=self.opt_jv, decision="take"),
            dict(strategy_id="batteries-jv", option_id=self.opt_lic, decision="forbid"),
        ]
        for c in range(self.n_cp):
            self.strategies.append(dict(strategy_id="all-in", option_id=self.opt_buy[c], decision="take"))
        self.strategies += [
            dict(strategy_id="all-in", option_id=self.opt_jv, decision="take"),
            dict(strategy_id="all-in", option_id=self.opt_lic, decision="take"),
        ]
        upfront: dict[str, float] = {}
        for r in self.strategies:
            if r["decision"] == "take":
                upfront[r["strategy_id"]] = upfront.get(r["strategy_id"], 0.0) + self.option_upfront[r["option_id"]]
        self.max_forced_upfront = max(upfront.values(), default=0.0)

    # ------------------------------------------------------------ prices
    def _prices(self) -> None:
        self.prices = []
        for pid, row in self.prog.items():
            kind = row["kind"]
            if kind == "battery":
                step = -self.u(0.02, 0.06)  # falling pack prices
            elif kind == "vehicle" and self.chance(0.2):
                step = self.u(0.01, 0.03)  # model-year pricing
            else:
                continue
            for t in range(row["_fy"], row["_ly"] + 1):
                price = _round_to(row["unit_price"] * (1 + step) ** (t - self.first), 10)
                self.prices.append(dict(programme_id=pid, year=t, unit_price=price))
        if not self.prices:
            pid = next(iter(self.prog))
            self.prices.append(dict(programme_id=pid, year=self.last, unit_price=self.prog[pid]["unit_price"]))

    # ------------------------------------------------------------ capacity profile
    def _capacity_profile(self) -> None:
        self.capacity_profile = []
        eligible = [r for r in self.lines if self.line_role[r["line_id"]] != "dedicated"]
        picks = [r for r in eligible if self.chance(0.12)] or eligible[:1]
        for r in picks:
            lo = self.first + (self.rng.randint(1, self.n_years - 1) if self.n_years > 1 else 0)
            factor = self.rng.choice((1.15, 1.25, 1.5))  # a shift added, a phased expansion
            for t in range(lo, self.last + 1):
                self.capacity_profile.append(dict(line_id=r["line_id"], year=t,
                                                  capacity=_round_to(r["capacity"] * factor, 100)))

    # ------------------------------------------------------------ share target and settings
    def _market_size_and_settings(self) -> None:
        counted = {p for p, r in self.prog.items() if r["counts_for_share"]}
        last_units = sum(d["volume"] for d in self.demand if d["programme_id"] in counted and d["year"] == self.last)
        growth = 1.12
        share_last = self.u(0.04, 0.08)
        world_last = max(1000.0, last_units / share_last)
        self.market_size = [dict(year=t, volume=int(_round_to(world_last / growth ** (self.last - t), 1000)))
                            for t in self.years]
        ms_last = self.market_size[-1]["volume"]
        target = round(min(1.0, max(0.001, 0.6 * last_units / ms_last)), 4)
        name = (f"synthetic-l{self.n_lines}-p{self.n_progs}-y{self.n_years}-m{self.n_markets}"
                f"-s{self.n_scen}-seed{self.seed}")
        self.settings = [
            dict(key="name", value=name),
            dict(key="first_year", value=self.first),
            dict(key="last_year", value=self.last),
            dict(key="currency", value="USD"),
            dict(key="discount_rate", value=self.rng.choice((0.06, 0.07, 0.08, 0.09, 0.1))),
            dict(key="base_year", value=self.first),
            dict(key="share_target", value=target),
            dict(key="share_target_year", value=self.last),
            dict(key="share_penalty", value=_round_to(self.u(800, 3000), 50)),
            dict(key="default_unmet_penalty", value=_round_to(self.u(0, 200), 10)),
        ]

    # ------------------------------------------------------------ budget
    def _budget(self) -> None:
        """Mildly binding: the forced capex of every year fits, plus part of what could be spent."""
        forced: dict[int, float] = {t: 0.0 for t in self.years}
        for p in self.anchored:
            forced[self.prog[p]["_fy"]] += self.anchor_tooling[p]
        forced[self.first] += self.max_forced_upfront
        optional: dict[int, float] = {t: 0.0 for t in self.years}
        for r in self.lines:
            if r["status"] == "candidate":
                for t in self.years:
                    optional[t] += r["build_cost"] / max(1, self.n_years)
        tool_by_prog: dict[str, float] = {}
        for r in self.routings:
            tool_by_prog[r["programme_id"]] = max(tool_by_prog.get(r["programme_id"], 0.0), r["tooling_cost"])
        for pid, row in self.prog.items():
            optional[row["_fy"]] += tool_by_prog.get(pid, 0.0) * row["max_lines"]
        self.budget = []
        for t in self.years:
            limit = forced[t] + self.u(0.3, 0.6) * optional[t]
            self.budget.append(dict(year=t, capex_limit=math.ceil(limit / 1e6) * 1e6))


def _type_letter(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        letters = chr(65 + r) + letters
    return letters


#: The counts the generator takes: (least, most) of each.
LIMITS: dict[str, tuple[int, int]] = {"lines": (4, 9999), "programmes": (4, 9999), "years": (3, 60),
                                      "markets": (2, 999), "scenarios": (1, 99)}


def check_counts(params: dict[str, int]) -> None:
    """The CLI's check of the counts: InputError naming the option and its range (see :data:`LIMITS`)."""
    from .errors import InputError  # noqa: PLC0415

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
    module docstring). Optional cells are ``None`` (written blank). ``economics`` adds the
    columns of economics.md on top of the same instance (see :func:`_economics`).
    """
    for name, value in (("lines", lines), ("programmes", programmes), ("years", years), ("markets", markets),
                        ("scenarios", scenarios)):
        _check(name, value, *LIMITS[name])
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    tables = _Gen(lines, programmes, years, markets, scenarios, seed).run()
    out = {name: [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
           for name, rows in tables.items()}
    if economics:
        _economics(out, seed)
    return out


def _economics(tables: dict[str, list[dict[str, Any]]], seed: int) -> None:
    """Add economics.md's columns to a generated instance (its own rng: the base instance is unchanged):
    the first buy deal decided later (per scenario, from the second year); tax 20 %, a perpetuity terminal
    value (growth 1 %, below every generated discount rate), asset life 8;
    the site of the first option-gated line shared 50 % (a joint venture); idle cost = 30 % of the fixed
    cost of every existing line; the outside price of one bought component 10 % dearer in the last year.
    Commitments never rest on a deal's lines (see the module docstring), so the instance stays feasible."""
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
        ln["idle_cost"] = _round_to(0.3 * (ln.get("fixed_cost") or 0.0), 1e4) if ln["status"] == "existing" else None
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
                                         external_price=_round_to(1.1 * p["external_price"], 1)))
        else:
            row["external_price"] = _round_to(1.1 * p["external_price"], 1)


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


__all__ = ["SIZES", "generate_instance", "generate_tables"]
