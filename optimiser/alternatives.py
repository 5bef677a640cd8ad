"""`optimiser alternatives`: near-optimal plans that differ as much as possible (MGA).

Modelling to generate alternatives: solve for the optimum (objective ``opt``), then, up to
``count`` times, solve one MILP whose objective is the Hamming distance in first-stage binaries
(deals, builds, tooling) to the nearest of the optimum and every alternative found so far,
subject to every constraint and ``objective ≥ opt − within·|opt|``
(:func:`optimiser.model.alternatives.define_alternative_search`); stop early when the best such
plan is one found already (distance 0) or no plan is found. Each alternative's first stage is
then evaluated with the operations re-optimised (``solve_instance(fixed=…)``), which gives its
NPV (at least the floor), and described against the optimum in planner terms. The ``--out``
workbook is written by :func:`optimiser.report.alternatives.write_alternatives_workbook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .data import Instance
from .engine import solve_instance
from .model import build_model, prepare
from .model.alternatives import define_alternative_search
from .model.compile import compile_model
from .model.sets import FirstStage
from .plan import Plan, describe_difference, plan_of
from .results import Results, first_stage_of
from .schema import OPTIMISE
from .solver.options import SolveOptions
from .solver.solve import solve_compiled

#: The floor is lowered by this share of |opt| (at least this much absolute) so that the
#: optimum itself, and plans equal to it within HiGHS's tolerances, meet it at ``within`` = 0.
FLOOR_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Alternative:
    rank: int
    plan: Plan
    results: Results
    distance_to_optimum: int
    distance_to_nearest: int
    differences: tuple[str, ...]

    def as_dict(self, opt: float) -> dict[str, Any]:
        npv = self.plan.npv
        return {"rank": self.rank, "npv": npv, "objective": self.plan.objective,
                "npv_delta": None if npv is None else npv - opt,
                "distance_to_optimum": self.distance_to_optimum, "distance_to_nearest": self.distance_to_nearest,
                "differences": list(self.differences), "plan": self.plan.as_dict()}


@dataclass(frozen=True)
class Alternatives:
    instance: str
    strategy: str
    scenario: str | None
    within: float
    count: int
    floor: float
    optimum: Plan
    optimum_results: Results
    found: tuple[Alternative, ...]
    stopped: str  # "count reached" | "no other plan within the bound" | "no plan found within the limits"

    def as_dict(self) -> dict[str, Any]:
        opt = self.optimum.objective or 0.0
        return {"instance": self.instance, "strategy": self.strategy, "scenario": self.scenario,
                "within": self.within, "count": self.count, "objective_floor": self.floor,
                "optimum": {"npv": self.optimum.npv, "objective": self.optimum.objective,
                            "plan": self.optimum.as_dict()},
                "alternatives": [a.as_dict(opt) for a in self.found], "stopped": self.stopped}

    def lines(self) -> list[str]:
        cur = self.optimum.currency
        out = [f"Optimum: NPV {self.optimum.npv:,.0f} {cur}; alternatives need objective ≥ {self.floor:,.0f} "
               f"(within {self.within:.2%})"]
        for a in self.found:
            delta = (a.plan.npv or 0.0) - (self.optimum.npv or 0.0)
            out.append(f"{a.rank}. NPV {a.plan.npv:,.0f} {cur} ({delta:+,.0f}); {a.distance_to_optimum} decision(s) "
                       f"differ from the optimum: " + ("; ".join(a.differences) or "same decisions"))
        out.append(f"{len(self.found)} alternative(s); stopped: {self.stopped}")
        return out


def hamming(a: FirstStage, b: FirstStage) -> int:
    """Number of first-stage binaries (take, build, tool) that differ between two plans."""
    def ones(fs: FirstStage) -> set:
        return ({("take", o) for o, v in fs.take.items() if v > 0.5} | {("build", k) for k, v in fs.build.items() if v > 0.5}
                | {("tool", k) for k, v in fs.tool.items() if v > 0.5})

    return len(ones(a) ^ ones(b))


def find_alternatives(instance: Instance, within: float, count: int, strategy: str = OPTIMISE,
                      scenario: str | None = None, options: SolveOptions | None = None) -> Alternatives:
    """Up to ``count`` plans with objective ≥ opt − within·|opt|, each as far as possible (Hamming
    distance in first-stage binaries) from the optimum and every earlier one."""
    opts = options or SolveOptions()
    best = solve_instance(instance, strategy, scenario, opts)
    optimum = plan_of(best, instance)
    opt = optimum.objective if optimum.objective is not None else 0.0
    floor = opt - within * abs(opt) - FLOOR_TOLERANCE * max(1.0, abs(opt))
    plans = [best.first_stage()]
    found: list[Alternative] = []
    search_opts = SolveOptions(time_limit=opts.time_limit, mip_gap=opts.mip_gap, threads=opts.threads, seed=opts.seed,
                               highs_options=dict(opts.highs_options), duals=False, isolate=opts.isolate,
                               local_search="off", linking_rows="all")
    stopped = "count reached"
    for rank in range(1, count + 1):
        md = prepare(instance, strategy, scenario)
        m = build_model(md)
        define_alternative_search(m, md, plans, floor)
        out = solve_compiled(compile_model(m), search_opts)
        if out.x is None:
            stopped = "no plan found within the limits" if out.status != "infeasible" else "no other plan within the bound"
            break
        fs = first_stage_of(out)
        nearest = min(hamming(fs, p) for p in plans)
        if nearest == 0:
            stopped = "no other plan within the bound"
            break
        res = solve_instance(instance, strategy, scenario, opts, fixed=fs)
        plan = plan_of(res, instance)
        found.append(Alternative(rank, plan, res, hamming(fs, plans[0]), nearest,
                                 tuple(describe_difference(optimum, plan))))
        plans.append(fs)
    return Alternatives(instance.name, strategy, scenario, within, count, floor, optimum, best, tuple(found), stopped)


def parse_within(text: str) -> float:
    """``2%`` or ``0.02`` → 0.02; negative or over 100 % → InputError."""
    from .errors import InputError  # noqa: PLC0415

    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100.0 if s.endswith("%") else float(s)
    except ValueError:
        raise InputError(f"--within {text!r}: give a share such as 2% or 0.02") from None
    if not 0.0 <= value <= 1.0 or value != value:
        raise InputError(f"--within {text!r}: must be between 0 % and 100 %")
    return value
