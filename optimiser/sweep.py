"""Parameter sweeps: a grid or a CSV of parameter variants, each solved as independent jobs.

A *variant* is a set of parameter values; applying it to the instance gives a new
:class:`~optimiser.data.Instance` (``dataclasses.replace``, the files are never touched).
Every variant × strategy is one :class:`~optimiser.jobs.tasks.Job` (the two-stage plan over the
instance's scenarios, or one scenario with ``scenario=``), run by any executor — serial, the
local process pool or Dask — and the rows come back as one tidy table: one row per
variant × strategy, the parameters as columns (defaults filled in), then the outcome. The `sweep`
command's job (read, solve, write) is :func:`optimiser.app.run_sweep`.

Parameters (``NAME`` for all, ``NAME:ID`` for one programme / market / option):

=====================  =============================================================================
``demand_factor``      × every demand volume and every scenario_demand override (committed
                       ``min_volume`` is kept; it binds only up to the demand). ``:PROGRAMME``
``price_factor``       × every unit price and price-table entry (``external_price`` of bought
                       components is a cost and is kept). ``:PROGRAMME``
``tariff_addon``       + this fraction on every route that pays a tariff (> 0 in logistics; duty-free
                       routes — domestic, FTA — stay free); clipped at 0. ``:MARKET`` for imports
                       into one market (0.25 = +25 points)
``option_cost``        × upfront and annual cost of every option (deal). ``:OPTION``
=====================  =============================================================================

Any numeric input is a parameter too, by its path (:mod:`optimiser.parameters`):
``options.upfront_cost[buy_vinfast]=4e8,8e8`` sets the cells to each value, and
``programmes.unit_price[*]*=0.9,1.1`` multiplies them (the column in the table is then named
``programmes.unit_price[*]*``). Path changes are applied to the tables first and validated again
(a value that makes the instance invalid is a located error before anything is solved), then the
short names above.

Grid syntax: ``"demand_factor=0.8,1,1.2;price_factor=0.9,1"`` (the Cartesian product, in order).
CSV: one row per variant; columns are parameter names (an optional ``variant`` column names the
row); a blank cell leaves that parameter at its default (a path: the instance's own value).
Variants without a name are named by their parameter values (``demand_factor=0.8, price_factor=0.9``).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from .data import Demand, Instance
from .errors import InputError
from .jobs.executors import make_executor
from .jobs.tasks import Group, Job, group_tasks
from .schema import OPTIMISE
from .solver.options import SolveOptions

#: parameter → (default, scope table for ``NAME:ID``, what it means)
PARAMETERS: dict[str, tuple[float, str, str]] = {
    "demand_factor": (1.0, "programme", "× demand volumes (and scenario_demand overrides)"),
    "price_factor": (1.0, "programme", "× unit prices (and the prices table)"),
    "tariff_addon": (0.0, "market", "+ tariff on every route that pays one (fraction, 0.05 = 5 points)"),
    "option_cost": (1.0, "option", "× upfront and annual cost of options (deals)"),
}


@dataclass(frozen=True)
class Variant:
    """One set of parameter values (``params`` in the order given)."""

    name: str
    params: tuple[tuple[str, float], ...]

    @property
    def label(self) -> str:
        return ", ".join(f"{k[:-1]}*{number_text(v)}" if is_path(k) and k.endswith("*") else f"{k}={number_text(v)}"
                         for k, v in self.params) or "as is"


def is_path(param: str) -> bool:
    """A parameter path (``table.column[…]``, :mod:`optimiser.parameters`) rather than a short name."""
    return "." in param.split(":")[0]


def _path_change(param: str, value: float) -> Any:
    """The :class:`~optimiser.parameters.Change` of a path parameter (``P`` sets, ``P*`` multiplies)."""
    from .parameters import Change, parse_parameter  # noqa: PLC0415

    multiply = param.endswith("*")
    return Change(parse_parameter(param[:-1] if multiply else param), "multiplier" if multiply else "absolute", value)


def number_text(v: float) -> str:
    return f"{v:g}"


# ------------------------------------------------------------------ reading variants

def _check_param(name: str, instance: Instance | None) -> str:
    name = name.strip()
    if is_path(name):
        from .parameters import Base, parse_parameter  # noqa: PLC0415

        multiply = name.endswith("*")
        param = parse_parameter(name[:-1] if multiply else name)
        key = f"{param}{'*' if multiply else ''}"
        if instance is not None:
            Base.of(instance).check(_path_change(key, 1.0))
        return key
    base, _, scope = name.partition(":")
    base = base.strip().lower()
    if base not in PARAMETERS:
        raise InputError(f"unknown sweep parameter {name!r}; known: {', '.join(PARAMETERS)} "
                         "(each also as NAME:ID for one programme/market/option)")
    scope = scope.strip()
    if ":" in name and not scope:
        raise InputError(f"sweep parameter {name!r}: give an id after the colon")
    if scope and instance is not None:
        kind = PARAMETERS[base][1]
        ids = {"programme": [p.id for p in instance.programmes], "market": [m.id for m in instance.markets],
               "option": [o.id for o in instance.options]}[kind]
        if scope not in ids:
            raise InputError(f"sweep parameter {name!r}: {scope!r} is not a {kind} of this instance "
                             f"({', '.join(ids) or 'none'})")
    return f"{base}:{scope}" if scope else base


def _value(param: str, text: Any) -> float:
    if is_path(param):
        from .parameters import number  # noqa: PLC0415

        return number(text, f"sweep parameter {param}")  # the range is checked when the variant is validated
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError(f"sweep parameter {param}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise InputError(f"sweep parameter {param}: {text!r} is not a finite number")
    base = param.split(":")[0]
    if base != "tariff_addon" and v < 0:
        raise InputError(f"sweep parameter {param}: a factor cannot be negative ({text})")
    if base == "tariff_addon" and not -1 < v < 1:
        raise InputError(f"sweep parameter {param}: a tariff add-on is a fraction between -1 and 1 ({text})")
    return v


def parse_grid(text: str, instance: Instance | None = None) -> list[Variant]:
    """``"demand_factor=0.8,1,1.2;price_factor=0.9,1"`` → the Cartesian product of the values."""
    axes: list[tuple[str, list[float]]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        if "=" not in part:
            raise InputError(f"--grid {part!r}: write NAME=v1,v2,… (parts separated by ';')")
        name, values = part.split("=", 1)
        param = _check_param(name, instance)
        if any(param == a for a, _ in axes):
            raise InputError(f"--grid: {param} is given twice")
        vals = [_value(param, v.strip()) for v in values.split(",") if v.strip()]
        if not vals:
            raise InputError(f"--grid {part!r}: no values")
        axes.append((param, vals))
    if not axes:
        raise InputError("--grid is empty; e.g. --grid \"demand_factor=0.8,1,1.2;price_factor=0.9,1\"")
    combos = list(itertools.product(*[v for _, v in axes]))
    variants = [Variant("", tuple(zip([a for a, _ in axes], combo))) for combo in combos]
    return [replace(v, name=v.label) for v in variants]


def read_variants(path: Path, instance: Instance | None = None) -> list[Variant]:
    """A CSV of variants: parameter columns (blank = default) and an optional ``variant`` name column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the variants file ({exc.strerror or exc})") from None
    rows = list(csv.reader(text.splitlines()))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise InputError(f"{path}: needs a header row and at least one variant row")
    header = [h.strip() for h in rows[0]]
    name_col = next((i for i, h in enumerate(header) if h.lower() in ("variant", "name")), None)
    params = {i: _check_param(h, instance) for i, h in enumerate(header) if i != name_col and h}
    if len(set(params.values())) != len(params):
        raise InputError(f"{path}: a parameter column appears twice")
    out, seen = [], set()
    for n, r in enumerate(rows[1:], start=2):
        name = r[name_col].strip() if name_col is not None and name_col < len(r) else ""
        vals = []
        for i, p in params.items():
            cell = r[i].strip() if i < len(r) else ""
            if cell:
                try:
                    vals.append((p, _value(p, cell)))
                except InputError as exc:
                    raise InputError(f"{path} line {n}: {exc}") from None
        name = name or Variant("", tuple(vals)).label
        if name in seen:
            raise InputError(f"{path} line {n}: variant name {name!r} is used twice")
        seen.add(name)
        out.append(Variant(name, tuple(vals)))
    return out


# ------------------------------------------------------------------ applying a variant

def apply_variant(instance: Instance, variant: Variant, tables: Any = None) -> Instance:
    """The instance as the variant says (a new object; ``instance`` is unchanged).

    Path parameters first, on the tables (``tables``: the :class:`~optimiser.parameters.Base` read
    from the files, so a message names the file's row; else rebuilt from ``instance.inputs``),
    validated again with the variant's name in any error; then the short names."""
    inst = instance
    changes = [_path_change(p, v) for p, v in variant.params if is_path(p)]
    if changes:
        from .parameters import Base  # noqa: PLC0415

        try:
            inst = (tables if tables is not None else Base.of(instance)).with_changes(changes)
        except InputError as exc:
            raise InputError(f"variant {variant.name}: {exc}") from None
    for param, v in variant.params:
        if is_path(param):
            continue
        base, _, scope = param.partition(":")
        if base == "demand_factor":
            inst = _scale_demand(inst, v, scope or None)
        elif base == "price_factor":
            inst = _scale_prices(inst, v, scope or None)
        elif base == "tariff_addon":
            inst = _add_tariff(inst, v, scope or None)
        elif base == "option_cost":
            inst = _scale_options(inst, v, scope or None)
        else:  # pragma: no cover - _check_param guards this
            raise InputError(f"unknown sweep parameter {param!r}")
    digest = hashlib.sha256((instance.fingerprint + json.dumps(variant.params)).encode()).hexdigest()
    return replace(inst, fingerprint=digest)


def _scale_demand(inst: Instance, f: float, programme: str | None) -> Instance:
    hit = (lambda p: True) if programme is None else (lambda p: p == programme)  # noqa: E731
    demand = {k: (Demand(d.volume * f, d.min_volume) if hit(k[0]) else d) for k, d in inst.demand.items()}
    sd = {k: (v * f if hit(k[1]) else v) for k, v in inst.scenario_demand.items()}
    return replace(inst, demand=demand, scenario_demand=sd)


def _scale_prices(inst: Instance, f: float, programme: str | None) -> Instance:
    progs = tuple(replace(p, unit_price=p.unit_price * f) if programme in (None, p.id) else p
                  for p in inst.programmes)
    prices = {k: (v * f if programme in (None, k[0]) else v) for k, v in inst.prices.items()}
    return replace(inst, programmes=progs, prices=prices)


def _add_tariff(inst: Instance, a: float, market: str | None) -> Instance:
    if inst.logistics is None:
        return inst  # no logistics table: no routes pay a tariff
    routes = {k: ((cost, max(0.0, tariff + a)) if tariff > 0 and market in (None, k[1]) else (cost, tariff))
              for k, (cost, tariff) in inst.logistics.items()}
    return replace(inst, logistics=routes)


def _scale_options(inst: Instance, f: float, option: str | None) -> Instance:
    opts = tuple(replace(o, upfront_cost=o.upfront_cost * f, annual_cost=o.annual_cost * f)
                 if option in (None, o.id) else o for o in inst.options)
    return replace(inst, options=opts)


# ------------------------------------------------------------------ running

Progress = Callable[[dict[str, Any]], None]


def plan_sweep(instance: Instance, variants: Sequence[Variant], strategies: Sequence[str] | None = None,
               scenario: str | None = None, tables: Any = None) -> list[tuple[Instance, Job, Variant]]:
    """Every variant × strategy as (variant instance, job, variant)."""
    names = list(instance.strategy_names)
    strats = list(strategies) if strategies else [OPTIMISE]
    for k in strats:
        if k not in names:
            raise InputError(f"unknown strategy {k!r}; this instance has: {', '.join(names)}")
    if scenario is not None and scenario not in {s.id for s in instance.scenarios}:
        raise InputError(f"unknown scenario {scenario!r}; this instance has: "
                         f"{', '.join(s.id for s in instance.scenarios)}")
    if not variants:
        raise InputError("no variants to sweep")
    names_seen = [v.name for v in variants]
    if len(set(names_seen)) != len(names_seen):
        raise InputError("two variants have the same name")
    tasks = []
    kind = "deterministic" if scenario is not None else "stochastic"
    for v in variants:
        inst = apply_variant(instance, v, tables)
        for k in strats:
            tasks.append((inst, Job(f"{v.name}:{k}", kind, k, scenario), v))
    return tasks


def run_tasks(executor: Any, tasks: Sequence[tuple[Instance, Job | Group]], options: SolveOptions,
              progress: Progress) -> list[dict]:
    """Run (instance, job or group) pairs on any executor; rows in task order (a group's rows in
    its job order).

    Executors with ``run_many`` (serial, local pool, Dask) get every pair at once; otherwise each
    variant's tasks go as one ``run(instance, tasks, …)`` batch.
    """
    if hasattr(executor, "run_many"):
        return executor.run_many(list(tasks), options, progress)
    rows: dict[int, list[dict]] = {}
    groups: dict[int, list[int]] = {}
    for i, (inst, _) in enumerate(tasks):
        groups.setdefault(id(inst), []).append(i)
    for idx in groups.values():
        inst = tasks[idx[0]][0]
        got = iter(executor.run(inst, [tasks[i][1] for i in idx], options, progress))
        for i in idx:
            task = tasks[i][1]
            rows[i] = [next(got) for _ in range(len(task.jobs) if isinstance(task, Group) else 1)]
    return [r for i in range(len(tasks)) for r in rows[i]]


def sweep(instance: Instance, variants: Sequence[Variant], strategies: Sequence[str] | None = None,
          scenario: str | None = None, options: SolveOptions | None = None, executor: Any = None,
          workers: int | None = None, progress: Progress | None = None, reuse: bool = True,
          warm_start: bool = False, tables: Any = None) -> pd.DataFrame:
    """Solve every variant × strategy; the tidy results table (one row each, in variant order).

    ``reuse`` (default): a variant's strategies share one compiled model (a group per variant, see
    :func:`optimiser.jobs.tasks.group_tasks`); ``reuse=False`` builds a model for every job.
    """
    opts = options or SolveOptions()
    planned = plan_sweep(instance, variants, strategies, scenario, tables)
    pairs = [(inst, job) for inst, job, _ in planned]
    ex = executor or make_executor(workers)
    with ex:
        if reuse:
            tasks, index = group_tasks(pairs, warm_start=warm_start)
            got = run_tasks(ex, tasks, opts, progress or (lambda _r: None))
            by_pair: dict[int, dict] = dict(zip(index, got))
            rows = [by_pair[i] for i in range(len(pairs))]
        else:
            rows = run_tasks(ex, pairs, opts, progress or (lambda _r: None))
    return tidy(instance, [v for _, _, v in planned], rows)


def param_columns(variants: Sequence[Variant]) -> list[str]:
    cols: list[str] = []
    for v in variants:
        for p, _ in v.params:
            if p not in cols:
                cols.append(p)
    return cols


def _default(param: str) -> float | None:
    """A parameter's value in a variant that does not set it: the short name's default; a path's
    multiplier 1; a path's absolute value blank (the instance's own, which may differ by row)."""
    if is_path(param):
        return 1.0 if param.endswith("*") else None
    return PARAMETERS[param.split(":")[0]][0]


def tidy(instance: Instance, variants: Sequence[Variant], rows: Sequence[dict]) -> pd.DataFrame:
    """One row per variant × strategy: parameters (defaults filled in), then the outcome."""
    cols = param_columns(variants)
    scen_ids = [s.id for s in instance.scenarios]
    out = []
    for v, r in zip(variants, rows):
        given = dict(v.params)
        rec: dict[str, Any] = {"variant": v.name}
        for c in cols:
            rec[c] = given.get(c, _default(c))
        per = r.get("scenario_npv") or {}
        rec |= {"strategy": r["strategy"], "scenario": r.get("scenario") or "all", "status": r["status"],
                "npv": _z(r.get("npv")), "gap": r.get("gap"),
                "worst_case": _z(min(per.values())) if per else None,
                "best_strategy": False,
                "options_taken": ", ".join(r.get("options_taken") or []),
                "lines_built": ", ".join(r.get("lines_built") or []),
                "solve_seconds": r.get("solve_seconds")}
        if r.get("scenario") is None:
            rec |= {f"npv[{s}]": _z(per.get(s)) for s in scen_ids}
        out.append(rec)
    df = pd.DataFrame(out)
    if not df.empty:
        npv = pd.to_numeric(df["npv"], errors="coerce")
        best = npv.groupby(df["variant"]).transform("max")
        df["best_strategy"] = (npv >= best - 1e-6 * best.abs().clip(lower=1.0)) & npv.notna()
    return df


def _z(v: float | None) -> float | None:
    """−0.0 (a maximised NPV of nothing) shows as 0."""
    return 0.0 if v == 0 else v


# ------------------------------------------------------------------ writing



#: What the figures of a sweep row are (``sweep --json`` key ``basis``).
SWEEP_BASIS = ("npv: expected (probability-weighted) NPV of the two-stage plan over the instance's scenarios "
               "(scenario 'all'), or the one scenario's NPV; npv[s]: the plan's NPV in scenario s; "
               "worst_case: the lowest npv[s]")


def sweep_json(df: pd.DataFrame, targets: dict[str, Path | None]) -> dict[str, Any]:
    """The `sweep --json` object."""
    recs = [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]
    return {"rows": recs, "basis": SWEEP_BASIS, "workbook": str(targets.get("workbook")) if targets.get("workbook") else None,
            "csv": str(targets.get("csv")) if targets.get("csv") else None}


def _plain(v: Any) -> Any:
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
