"""A plan as an object: the first-stage decisions of one solve, saved as JSON that diffs well.

A :class:`Plan` holds what a planner commits to before demand is known — the deals (options)
taken, the lines built and their build years, the (programme, line) tooling pairs — with the
facts that say where it came from (instance name and fingerprint, strategy, scenario set,
solver status, NPV and objective). It is plain data: no model, no solver.

* :func:`plan_of` takes it from a solve's :class:`~optimiser.results.Results`;
* :meth:`Plan.to_json` / :func:`read_plan` write and read the file (sorted keys, two-space
  indent, one decision per line, so ``git diff`` shows one changed decision as one line);
* :func:`check_plan` checks every id against an instance: ids that no longer exist (and builds
  in a year the line cannot be built, tooling with no routing) are errors, one located line per
  id (:class:`PlanError`, exit 1); a fingerprint that differs is a warning;
* :meth:`Plan.first_stage` turns it into the :class:`~optimiser.model.sets.FirstStage` that
  ``solve_instance(fixed=…)`` evaluates (absent decisions fixed to 0).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import Instance
from .errors import InputError
from .model.sets import FirstStage

#: ``format`` field of a plan file (and its version): what :func:`read_plan` accepts.
PLAN_FORMAT = "optimiser-plan"
PLAN_VERSION = 1


class PlanError(InputError):
    """A plan file that cannot be read, or whose ids the instance does not have; ``details``
    holds one located line per problem."""

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.details = tuple(details)


@dataclass(frozen=True)
class Plan:
    """First-stage decisions and where they came from.

    ``deals``: option ids taken (sorted); ``builds``: (line_id, build_year) (sorted);
    ``tooling``: (programme_id, line_id) (sorted). ``npv`` and ``objective`` are the solve's
    NPV and objective value (equal unless the objective carries a risk or penalty term).
    """

    instance: str
    instance_sha256: str
    strategy: str
    scenario: str | None
    scenarios: tuple[str, ...]
    status: str
    npv: float | None
    objective: float | None
    currency: str = ""
    deals: tuple[str, ...] = ()
    builds: tuple[tuple[str, int], ...] = ()
    tooling: tuple[tuple[str, str], ...] = ()
    #: NPV per scenario and (probability-weighted) per category of the NPV breakdown, for KPI
    #: deltas in ``optimiser diff`` (informative: never checked against an instance)
    scenario_npv: dict[str, float] = field(default_factory=dict)
    npv_by_category: dict[str, float] = field(default_factory=dict)
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "deals", tuple(sorted(set(self.deals))))
        object.__setattr__(self, "builds", tuple(sorted(set((str(l), int(t)) for l, t in self.builds))))
        object.__setattr__(self, "tooling", tuple(sorted(set((str(p), str(l)) for p, l in self.tooling))))

    # ------------------------------------------------------------------ conversions
    def first_stage(self) -> FirstStage:
        """take[o] = 1 for deals, build[l,τ] = 1 for builds, tool[p,l] = 1 for tooling (others 0)."""
        return FirstStage(take={o: 1.0 for o in self.deals}, build={k: 1.0 for k in self.builds},
                          tool={k: 1.0 for k in self.tooling})

    def decisions(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Every decision as (kind, ids): ("deal", (o,)), ("build", (l, τ)), ("tooling", (p, l))."""
        return ([("deal", (o,)) for o in self.deals] + [("build", b) for b in self.builds]
                + [("tooling", t) for t in self.tooling])

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of the plan file (see README, "Plan files")."""
        return {
            "format": PLAN_FORMAT, "version": PLAN_VERSION,
            "instance": self.instance, "instance_sha256": self.instance_sha256,
            "strategy": self.strategy, "scenario": self.scenario, "scenarios": list(self.scenarios),
            "status": self.status, "npv": _num(self.npv), "objective": _num(self.objective),
            "currency": self.currency,
            "deals": [{"option_id": o} for o in self.deals],
            "builds": [{"build_year": t, "line_id": l} for l, t in self.builds],
            "tooling": [{"line_id": l, "programme_id": p} for p, l in self.tooling],
            "scenario_npv": {k: _num(v) for k, v in sorted(self.scenario_npv.items())},
            "npv_by_category": {k: _num(v) for k, v in sorted(self.npv_by_category.items())},
        }

    def to_json(self) -> str:
        """Sorted keys, two-space indent, each decision (and the scenario list) on one line."""
        d = self.as_dict()
        out = ["{"]
        keys = sorted(d)
        for i, k in enumerate(keys):
            v = d[k]
            end = "," if i < len(keys) - 1 else ""
            if isinstance(v, list) and v and isinstance(v[0], dict):
                out.append(f"  {json.dumps(k)}: [")
                for j, item in enumerate(v):
                    out.append("    " + json.dumps(item, sort_keys=True, ensure_ascii=False)
                               + ("," if j < len(v) - 1 else ""))
                out.append("  ]" + end)
            else:
                out.append(f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True, ensure_ascii=False)}{end}")
        out.append("}")
        return "\n".join(out) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "plan") -> "Plan":
        """Parse a plan file's text; a malformed one raises :class:`PlanError` naming the place."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PlanError(f"{source}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None
        return cls.from_dict(d, source)

    @classmethod
    def from_dict(cls, d: Any, source: str = "plan") -> "Plan":
        if not isinstance(d, dict) or d.get("format") != PLAN_FORMAT:
            raise PlanError(f"{source}: not a plan file (no \"format\": \"{PLAN_FORMAT}\")")
        if d.get("version") != PLAN_VERSION:
            raise PlanError(f"{source}: version: plan files of version {d.get('version')!r} are not supported "
                            f"(this optimiser reads version {PLAN_VERSION})")

        def text(key: str, optional: bool = False) -> Any:
            v = d.get(key)
            if v is None and optional:
                return None
            if not isinstance(v, str):
                raise PlanError(f"{source}: {key}: expected text, found {v!r}")
            return v

        def number(key: str) -> float | None:
            v = d.get(key)
            if v is None:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise PlanError(f"{source}: {key}: expected a number or null, found {v!r}")
            return float(v)

        def items(key: str, fields: tuple[tuple[str, type], ...]) -> list[tuple]:
            v = d.get(key, [])
            if not isinstance(v, list):
                raise PlanError(f"{source}: {key}: expected a list, found {type(v).__name__}")
            out = []
            for i, it in enumerate(v):
                if not isinstance(it, dict):
                    raise PlanError(f"{source}: {key}[{i}]: expected an object, found {it!r}")
                row = []
                for name, typ in fields:
                    x = it.get(name)
                    if typ is int and (isinstance(x, bool) or not isinstance(x, int)):
                        raise PlanError(f"{source}: {key}[{i}].{name}: expected a whole year, found {x!r}")
                    if typ is str and (not isinstance(x, str) or not x):
                        raise PlanError(f"{source}: {key}[{i}].{name}: expected an id, found {x!r}")
                    row.append(x)
                out.append(tuple(row))
            return out

        def numbers(key: str) -> dict[str, float]:
            v = d.get(key, {})
            if not isinstance(v, dict) or not all(
                    isinstance(k, str) and (x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)))
                    for k, x in v.items()):
                raise PlanError(f"{source}: {key}: expected an object of numbers")
            return {k: float(x) for k, x in v.items() if x is not None}

        scen = d.get("scenarios", [])
        if not isinstance(scen, list) or not all(isinstance(s, str) for s in scen):
            raise PlanError(f"{source}: scenarios: expected a list of scenario ids")
        return cls(
            instance=text("instance"), instance_sha256=text("instance_sha256"), strategy=text("strategy"),
            scenario=text("scenario", optional=True), scenarios=tuple(scen), status=text("status"),
            npv=number("npv"), objective=number("objective"), currency=text("currency", optional=True) or "",
            deals=tuple(o for (o,) in items("deals", (("option_id", str),))),
            builds=tuple(items("builds", (("line_id", str), ("build_year", int)))),
            tooling=tuple(items("tooling", (("programme_id", str), ("line_id", str)))),
            scenario_npv=numbers("scenario_npv"), npv_by_category=numbers("npv_by_category"),
            source=source,
        )


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def plan_of(results: Any, instance: Instance | None = None) -> Plan:
    """The plan of a solve (:class:`~optimiser.results.Results`): its first-stage decisions and
    KPIs (``npv``: the run's NPV; ``objective``: the run's objective where Results has one, else
    the NPV)."""
    run = results.run
    fs = results.first_stage()
    npv = run.npv
    objective = getattr(run, "objective", None)
    if objective is None:
        objective = npv
    return Plan(
        instance=run.instance, instance_sha256=run.instance_sha256 or (instance.fingerprint if instance else ""),
        strategy=run.strategy, scenario=run.scenario, scenarios=tuple(run.scenarios), status=run.status,
        npv=npv, objective=objective, currency=run.currency,
        deals=tuple(fs.take), builds=tuple(fs.build), tooling=tuple(fs.tool),
        scenario_npv={str(r.scenario): float(r.npv) for r in results.scenarios.itertuples()},
        npv_by_category={str(r.category): float(r.value) for r in results.npv_breakdown.itertuples()},
    )


def read_plan(path: str | Path) -> Plan:
    """Read a plan file; unreadable or malformed → :class:`PlanError` (exit 1)."""
    p = Path(path)
    if not p.is_file():
        raise PlanError(f"{p}: no such plan file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{p}: cannot read the plan file ({exc})") from None
    return Plan.from_json(text, str(p))


def write_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` to ``path`` atomically (the previous file stays intact on failure)."""
    from .writers import atomic_path  # noqa: PLC0415

    target = Path(path)
    with atomic_path(target) as tmp:
        Path(tmp).write_text(plan.to_json(), encoding="utf-8")
    return target


def check_plan(plan: Plan, instance: Instance) -> list[str]:
    """Check every id of ``plan`` against ``instance``; return the warnings (fingerprint).

    Raises :class:`PlanError` with one line per decision the instance cannot hold: an option,
    line or programme that no longer exists, a line that is not a candidate or cannot be built
    in that year, a (programme, line) pair with no routing.
    """
    src = plan.source or "plan"
    warnings = []
    if plan.instance_sha256 != instance.fingerprint:
        warnings.append(f"{src}: the plan was made for instance {plan.instance!r} with other data "
                        f"(fingerprint {plan.instance_sha256[:12]}… ≠ {instance.fingerprint[:12]}…); its decisions "
                        "are checked against this instance by id")
    options = {o.id for o in instance.options}
    lines = {ln.id: ln for ln in instance.lines}
    programmes = {p.id for p in instance.programmes}
    bad = []
    for i, o in enumerate(plan.deals):
        if o not in options:
            bad.append(f"{src}: deals[{i}]: option {o!r} no longer exists (table options)")
    for i, (l, tau) in enumerate(plan.builds):
        ln = lines.get(l)
        if ln is None:
            bad.append(f"{src}: builds[{i}]: line {l!r} no longer exists (table lines)")
        elif not ln.is_candidate:
            bad.append(f"{src}: builds[{i}]: line {l!r} is no longer a candidate line (table lines, column status)")
        elif not instance.first_year <= tau <= instance.last_year:
            bad.append(f"{src}: builds[{i}]: line {l!r} built in {tau}, outside the horizon "
                       f"{instance.first_year}–{instance.last_year}")
    for i, (p, l) in enumerate(plan.tooling):
        if p not in programmes:
            bad.append(f"{src}: tooling[{i}]: programme {p!r} no longer exists (table programmes)")
        elif l not in lines:
            bad.append(f"{src}: tooling[{i}]: line {l!r} no longer exists (table lines)")
        elif (p, l) not in instance.routings:
            bad.append(f"{src}: tooling[{i}]: programme {p!r} has no routing on line {l!r} (table routings)")
    if bad:
        raise PlanError(f"{src}: {len(bad)} decision(s) of the plan do not fit instance {instance.name!r}",
                        tuple(f"warning: {w}" for w in warnings) + tuple(bad))
    return warnings


def plan_conflicts(plan: Plan, instance: Instance) -> list[str]:
    """Decisions of ``plan`` that contradict each other or the instance's rules, in planner terms
    (call after :func:`check_plan`): tooling on a candidate line the plan does not build, a line
    built or tooled without the deal it requires, two deals of one exclusive group, more tooled
    lines than a programme's max_lines, a build year from which the line is never ready in the
    horizon. Each makes the plan impossible as it stands (``solve --fix`` would be infeasible)."""
    src = plan.source or "plan"
    lines = {ln.id: ln for ln in instance.lines}
    built = dict(plan.builds)
    deals = set(plan.deals)
    out = []
    for l, tau in plan.builds:
        ln = lines[l]
        hi = min(ln.retire_after if ln.retire_after is not None else instance.last_year, instance.last_year)
        if not ln.available_from <= tau + ln.lead_time <= hi:
            out.append(f"{src}: line {l} built in {tau} would be ready in {tau + ln.lead_time}, outside its "
                       f"window {ln.available_from}–{hi} (table lines)")
        if ln.requires_option and ln.requires_option not in deals:
            out.append(f"{src}: line {l} is built but needs option {ln.requires_option}, which the plan does not take")
    if len(plan.builds) != len(built):
        out.append(f"{src}: a line is built more than once")
    for p, l in plan.tooling:
        ln = lines[l]
        if ln.is_candidate and l not in built:
            out.append(f"{src}: tooling {p} on {l} needs line {l}, which the plan does not build")
        if ln.requires_option and ln.requires_option not in deals:
            out.append(f"{src}: tooling {p} on {l} needs option {ln.requires_option}, which the plan does not take")
    groups: dict[str, list[str]] = {}
    for o in instance.options:
        if o.id in deals and o.exclusive_group:
            groups.setdefault(o.exclusive_group, []).append(o.id)
    for g, members in sorted(groups.items()):
        if len(members) > 1:
            out.append(f"{src}: options {', '.join(members)} are both taken but exclude each other (group {g})")
    per: dict[str, int] = {}
    for p, _ in plan.tooling:
        per[p] = per.get(p, 0) + 1
    for p, n in sorted(per.items()):
        most = instance.programme(p).max_lines
        if n > most:
            out.append(f"{src}: programme {p} is tooled on {n} lines, more than its max_lines {most}")
    return out


def describe_difference(base: Plan, other: Plan, names: dict[str, str] | None = None) -> list[str]:
    """``other`` against ``base`` in planner terms: "takes option X instead of Y", "builds line L in
    2024", "does not build line L", "tools P on L", "no longer tools P on L"."""
    out = []
    gone_deals = sorted(set(base.deals) - set(other.deals))
    new_deals = sorted(set(other.deals) - set(base.deals))
    if gone_deals and new_deals:
        out.append(f"takes option {', '.join(new_deals)} instead of {', '.join(gone_deals)}")
    elif new_deals:
        out.append(f"also takes option {', '.join(new_deals)}")
    elif gone_deals:
        out.append(f"does not take option {', '.join(gone_deals)}")
    b_base, b_other = dict(base.builds), dict(other.builds)
    for l in sorted(set(b_base) | set(b_other)):
        if l in b_other and l not in b_base:
            out.append(f"builds line {l} in {b_other[l]}")
        elif l in b_base and l not in b_other:
            out.append(f"does not build line {l}")
        elif b_base[l] != b_other[l]:
            out.append(f"builds line {l} in {b_other[l]} instead of {b_base[l]}")
    t_base, t_other = set(base.tooling), set(other.tooling)
    for p, l in sorted(t_other - t_base):
        out.append(f"tools {p} on {l}")
    for p, l in sorted(t_base - t_other):
        out.append(f"no longer tools {p} on {l}")
    return out
