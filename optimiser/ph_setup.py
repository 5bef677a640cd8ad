"""What a progressive-hedging run is made of: the scenario models mpi-sppy solves, and its settings.

Scenario models
---------------
PH needs one model per scenario whose first-stage variables ``take[o]``, ``build[l,τ]``,
``tool[p,l]`` have *identical* index sets in every scenario. ``prepare(instance, strategy, s)``
would not give that: ``tool_index`` holds only the (programme, line) pairs that can make
something in scenario ``s``. So every scenario model is built from the extensive form's
data, ``prepare(instance, strategy, None)`` (first-stage sets = the union over scenarios,
and the same ``must_tool``), restricted to the second-stage tuples of that one scenario
(:func:`restrict`), with probability 1 inside the model; mpi-sppy weighs it by π_s. Then
Σ_s π_s·NPV_s(x) is exactly the extensive form's objective for every first stage x, and
the extensive form's constraints are exactly the union of the scenario models' (the
first-stage rows appear in each). No change to :mod:`optimiser.model` was needed.

:class:`PHSettings` is what a run may be told (plain data, shipped to every rank as JSON);
:func:`solver_options_string` writes HiGHS options in mpi-sppy's syntax. The run itself — launching
``mpiexec``, the hub and spokes, reading the answer — is :mod:`optimiser.ph`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError, OptimiserError
from .schema import OPTIMISE

SCENARIO_INDEXED = (
    "active_index", "make_index", "make_ub", "make_on_line", "flow_index", "flow_lines", "ship_index",
    "ship_value", "demand_index", "demand", "unmet_ub", "demand_sources", "flow_markets", "internal_index",
    "bom_index", "bom_internal", "make_lines", "extbuy_index", "takeyear_index",
)
#: ModelData fields keyed by scenario id.
PER_SCENARIO = ("probability", "price_factor")
#: ModelData fields shared by every scenario (first stage, lines, costs, options).
SHARED = (
    "instance_name", "strategy", "years", "first_year", "delta", "options", "option_fix", "upfront_cost",
    "annual_cost", "exclusive_groups", "build_index", "build_cost", "lead_time", "build_years", "tool_index",
    "tooling_cost", "tooling_year", "max_lines", "must_tool", "candidates", "requires_option", "ramp_up",
    "fixed_cost", "capacity", "line_factory", "capacity_use", "make_cost", "bom_parents", "external_price",
    "unmet_penalty",
    "budget", "share_rhs", "share_year", "share_penalty", "share_programmes", "fixed", "risk", "tighten",
    "tax_rate", "terminal_value", "perpetuity", "line_life", "option_life", "equity_share", "idle_cost", "live_years",
    "price", "route", "external_price_year", "unit_cost", "unit_fee", "later", "line_copy", "tool_year",
)
FIRST_STAGE_VARS = ("take", "build", "tool")
SPOKES = ("xhatshuffle", "lagrangian")
SOLVER_NAME = "appsi_highs"


class PHError(OptimiserError):
    """The PH run failed (MPI missing, a rank died, a time-out)."""

    exit_code = 4


# ------------------------------------------------------------------ scenario models

def restrict(md: Any, scenario: str) -> Any:
    """The extensive form's ModelData cut down to one scenario (first stage untouched).

    Every ModelData field must be classified above; a new field nobody classified is an
    error here rather than a silently wrong decomposition.
    """
    names = {f.name for f in dataclasses.fields(md)}
    unknown = names - set(SCENARIO_INDEXED) - set(PER_SCENARIO) - set(SHARED) - {"scenarios"}
    if unknown:
        raise RuntimeError(f"optimiser.ph_setup.restrict: ModelData field(s) {sorted(unknown)} are not classified as "
                           "per-scenario or shared; add them to SCENARIO_INDEXED/PER_SCENARIO/SHARED")
    if scenario not in md.scenarios:
        raise InputError(f"unknown scenario {scenario!r}")
    changes: dict[str, Any] = {"scenarios": (scenario,), "probability": {scenario: 1.0},
                               "price_factor": {scenario: md.price_factor[scenario]}}
    for name in SCENARIO_INDEXED:
        value = getattr(md, name)
        if isinstance(value, dict):
            changes[name] = {k: v for k, v in value.items() if k[-1] == scenario}
        else:
            changes[name] = tuple(k for k in value if k[-1] == scenario)
    return dataclasses.replace(md, **changes)


def refuse_later_options(instance: Any) -> None:
    """PH decomposes by scenario with one shared first stage; a later option (decided per scenario, with its
    lines copied per scenario) has no place in it: refuse with one clear line."""
    later = instance.later_options()
    if later:
        raise InputError(f"solve-ph does not support options decided later (options.decide = later: "
                         f"{', '.join(later)}); solve the extensive form with `optimiser solve`")


def first_stage_costs(md: Any) -> dict[tuple[str, Any], float]:
    """|objective coefficient| of every first-stage variable (discounted cost), keyed (var, index):
    the coefficients of :mod:`optimiser.model.coefficients`, as the objective has them."""
    from .model import coefficients  # noqa: PLC0415

    fs = coefficients.first_stage(md)
    out: dict[tuple[str, Any], float] = {}
    for o in md.options:
        out[("take", o)] = abs(fs.total["take"][o])
    for k in md.build_index:
        out[("build", k)] = abs(fs.total["build"][k])
    for k in md.tool_index:
        out[("tool", k)] = abs(fs.total["tool"][k])
    return out


def scenario_creator(scenario_name: str, ef_md: Any = None, probability: dict[str, float] | None = None) -> Any:
    """mpi-sppy's scenario creator: the scenario's Pyomo model with its root node attached."""
    import pyomo.environ as pyo  # noqa: PLC0415
    from mpisppy.utils import sputils  # noqa: PLC0415

    from .model import build_model  # noqa: PLC0415
    from .model.objective import scenario_terms  # noqa: PLC0415

    md = restrict(ef_md, scenario_name)
    m = build_model(md)
    m.name = scenario_name
    s1, _ = scenario_terms(m, md)
    m.first_stage_npv = pyo.Expression(expr=pyo.quicksum(s1) if s1 else 0.0)
    sputils.attach_root_node(m, m.first_stage_npv, [getattr(m, v) for v in FIRST_STAGE_VARS])
    m._mpisppy_probability = (probability or ef_md.probability)[scenario_name]
    return m


def scenario_denouement(rank: int, scenario_name: str, scenario: Any) -> None:
    """Nothing to print per scenario."""


def make_rho_setter(md: Any, factor: float):
    """ρ_i = factor × |cost of i| (with a floor for free first-stage variables): a cost-proportional
    ρ keeps PH's penalty on the scale of what the decision is worth."""
    costs = first_stage_costs(md)
    positive = sorted(c for c in costs.values() if c > 0)
    floor = positive[len(positive) // 2] if positive else 1.0

    def rho_setter(scenario: Any) -> list[tuple[int, float]]:
        out = []
        for v in FIRST_STAGE_VARS:
            var = getattr(scenario, v)
            for idx in var:
                c = costs.get((v, idx), 0.0)
                out.append((id(var[idx]), factor * max(c, floor)))
        return out

    return rho_setter


# ------------------------------------------------------------------ settings

@dataclass(frozen=True)
class PHSettings:
    """What a PH run may be told; plain data, shipped to every rank as JSON."""

    strategy: str = OPTIMISE
    iterations: int = 50
    time_limit: float | None = None  # whole run, seconds
    rel_gap: float = 1e-4
    abs_gap: float | None = None
    rho_factor: float = 0.1
    spokes: tuple[str, ...] = SPOKES
    subproblem_options: dict[str, Any] = field(default_factory=dict)  # HiGHS options, checked
    verbose: bool = False

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["spokes"] = list(self.spokes)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "PHSettings":
        d = dict(d)
        d["spokes"] = tuple(d.get("spokes", SPOKES))
        return cls(**d)


def solver_options_string(opts: dict[str, Any]) -> str | None:
    """mpi-sppy's ``--solver-options`` syntax: ``name=value name=value``."""
    if not opts:
        return None
    for k, v in opts.items():
        if any(ch.isspace() or ch == "=" for ch in f"{k}{v}"):
            raise InputError(f"HiGHS option {k}={v!r}: PH passes options to mpi-sppy as 'name=value' words, "
                             "so a value cannot hold spaces or '='")
    return " ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in opts.items())
