"""Why a model is infeasible, in planner terms.

Solves the elastic model (:mod:`optimiser.model.elastic`), reads every non-zero
slack and turns it into a sentence with the numbers behind it and the fixes a
planner can make, ranked by violation.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from .data import Instance
from .model import build_model, prepare
from .model.elastic import WEIGHTS, make_elastic
from .schema import OPTIMISE
from .solve import SolveOptions, compile_model, solve_compiled

TOL = 1e-6


@dataclass(frozen=True)
class Finding:
    """One violated promise: what, how much, and what would fix it."""

    kind: str  # commitment | must_serve | capacity | budget | share | strategy
    violation: float
    weighted: float
    message: str
    fixes: tuple[str, ...] = field(default_factory=tuple)
    table: str = ""
    ids: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"kind": self.kind, "violation": self.violation, "message": self.message, "fixes": list(self.fixes),
                "table": self.table, "ids": list(self.ids)}


@dataclass(frozen=True)
class Explanation:
    feasible: bool
    total_violation: float
    findings: tuple[Finding, ...]
    strategy: str
    scenario: str | None

    def lines(self) -> list[str]:
        if self.feasible:
            return [f"The model is feasible for strategy {self.strategy}: nothing to explain."]
        out = []
        for i, f in enumerate(self.findings, 1):
            out.append(f"{i}. {f.message}")
            if f.fixes:
                out.append("   Fixes: " + "; ".join(f.fixes) + ".")
        return out


def explain(instance: Instance, strategy: str = OPTIMISE, scenario: str | None = None,
            options: SolveOptions | None = None) -> Explanation:
    """Solve the elastic model and translate its slacks into findings, largest violation first."""
    md = prepare(instance, strategy, scenario)
    m = build_model(md)
    make_elastic(m, md)
    out = solve_compiled(compile_model(m), options or SolveOptions(duals=False))
    if out.x is None:
        return Explanation(False, float("nan"), (Finding("unknown", 0.0, 0.0,
                           "even the elastic model found no plan within the limits; allow more time"),), strategy, scenario)
    vals: dict[str, dict[tuple, float]] = defaultdict(dict)
    for key, v in zip(out.columns, out.x.tolist()):
        vals[key.var][key.index] = v
    findings: list[Finding] = []
    inst = instance
    prog = {p.id: p for p in inst.programmes}
    fac = {f.id: f for f in inst.factories}
    mk_name = {mk.id: mk.name for mk in inst.markets}
    taken = {o for (o,), v in vals["take"].items() if v > 0.5}
    make = vals["make"]
    ship = vals["ship"]
    scen = {s.id: s for s in inst.scenarios}
    multi = len(md.scenarios) > 1

    def where(s: str) -> str:
        return f" in scenario {s}" if multi else ""

    for (p, mk, t, s), slack in sorted(vals["slack_commit"].items()):
        if slack <= TOL:
            continue
        pr = prog[p]
        d = md.demand[(p, mk, t, s)]
        committed = d if pr.must_serve else inst.committed_volume(p, mk, t, scen[s])
        served = sum(ship.get((p, f, mk, t, s), 0.0) for f in md.demand_sources.get((p, mk, t, s), ()))
        able, fixes = _lines_able(inst, md, p, mk, t, s, make, taken)
        what = "must serve all" if pr.must_serve else "committed"
        msg = (f"{pr.name}, {mk_name[mk]} {t}{where(s)}: {what} {committed:,.0f} units but at most "
               f"{served:,.0f} can be delivered — lines able to build it: {able or 'none'}.")
        fix_list = ["lower the commitment" if not pr.must_serve else "drop must_serve"] + fixes
        findings.append(Finding("must_serve" if pr.must_serve else "commitment", slack, slack * WEIGHTS["commit"],
                                msg, tuple(fix_list), "demand", (p, mk, str(t))))
    for (l, t, s), slack in sorted(vals["slack_capacity"].items()):
        if slack <= TOL:
            continue
        ln = inst.line(l)
        users = sorted(((u * md.capacity_use[(p, l)], p) for (p, l2, t2, s2), u in make.items()
                        if l2 == l and t2 == t and s2 == s and u > TOL), reverse=True)
        used = ", ".join(f"{prog[p].name} {x:,.0f}" for x, p in users[:4])
        findings.append(Finding("capacity", slack, slack * WEIGHTS["capacity"],
                                f"Line {l} ({fac[ln.factory].name}) in {t}{where(s)} would need {slack:,.0f} more capacity "
                                f"units than its {md.capacity[(l, t)]:,.0f} (used by {used or 'nothing'}).",
                                (f"add capacity to {l} in {t} (capacity_profile)", "build a candidate line of the same type",
                                 "lower the commitments it serves"), "lines", (l, str(t))))
    for (t,), slack in sorted(vals.get("slack_budget", {}).items()):
        if slack <= TOL:
            continue
        findings.append(Finding("budget", slack, slack * WEIGHTS["budget"],
                                f"Capex in {t} exceeds the budget of {inst.budget[t]:,.0f} {inst.currency} by "
                                f"{slack:,.0f} {inst.currency}.",
                                (f"raise budget.capex_limit for {t}", "build later or fewer lines"), "budget", (str(t),)))
    for (s,), slack in sorted(vals.get("slack_share", {}).items()):
        if slack <= TOL:
            continue
        findings.append(Finding("share", slack, slack * WEIGHTS["share"],
                                f"The hard share target of {md.share_rhs:,.0f} units in {md.share_year}{where(s)} is "
                                f"missed by {slack:,.0f} units.",
                                ("set settings.share_penalty to make the target soft", "lower share_target",
                                 "add capacity for programmes that count for share"), "settings", ("share_target",)))
    for (o,), slack in sorted(vals.get("slack_strategy", {}).items()):
        if slack <= TOL:
            continue
        wanted = md.option_fix[o]
        findings.append(Finding("strategy", slack, slack * WEIGHTS["strategy"],
                                f"Strategy {strategy} {'takes' if wanted else 'forbids'} option {o}, but no plan works "
                                f"unless it is {'left out' if wanted else 'taken'}.",
                                (f"change strategy {strategy}'s decision on {o}", "choose another strategy"),
                                "strategies", (strategy, o)))
    findings.sort(key=lambda f: (-f.weighted, f.kind, f.ids))
    total = -out.objective if out.objective is not None else 0.0
    return Explanation(not findings and total <= TOL, total, tuple(findings), strategy, scenario)


def _lines_able(inst: Instance, md, p: str, mk: str, t: int, s: str, make: dict, taken: set[str]) -> tuple[str, list[str]]:
    """Lines that could build p for market mk in t, with capacity and use; and the fixes they suggest."""
    parts, fixes = [], []
    for (p2, l), r in sorted(inst.routings.items()):
        if p2 != p:
            continue
        ln = inst.line(l)
        if inst.logistics is not None and (ln.factory, mk) not in inst.logistics:
            fixes.append(f"add a logistics route {ln.factory} → {mk} (line {l} could build it)")
            continue
        cap = inst.capacity(l, t)
        used = [(u * md.capacity_use[(q, l)], q) for (q, l2, t2, s2), u in make.items()
                if l2 == l and t2 == t and s2 == s and u > TOL]
        used_txt = ", ".join(f"{q} {x:,.0f}" for x, q in sorted(used, reverse=True)[:3])
        note = []
        if ln.requires_option and ln.requires_option not in taken:
            note.append(f"needs option {ln.requires_option}")
            fixes.append(f"take option {ln.requires_option}")
        if ln.is_candidate and (l, t, s) not in md.capacity and (l, t) not in md.capacity:
            note.append("candidate, cannot be ready by then")
        elif ln.is_candidate:
            note.append("candidate line")
        if not ln.available_from <= t <= (ln.retire_after or t):
            note.append("not available that year")
        parts.append(f"{l} ({cap:,.0f} capacity at {r.capacity_use:g}/unit"
                     + (f", used by {used_txt}" if used_txt else "") + (f"; {', '.join(note)}" if note else "") + ")")
    if not parts:
        fixes.append(f"add a routing for {p} to a line that reaches {mk}")
    return ", ".join(parts), sorted(set(fixes))
