"""Why a model is infeasible, in planner terms.

Solves the elastic model (:mod:`optimiser.model.elastic`), reads every non-zero
slack and turns it into a sentence with the numbers behind it and the fixes a
planner can make, ranked by violation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .data import Instance
from .model import build_model, prepare
from .model.compile import compile_model
from .model.elastic import WEIGHTS, make_elastic
from .model.sets import FirstStage
from .results import variable_values
from .schema import OPTIMISE
from .solver.iis import IisMember, IisResult, compute_iis
from .solver.options import SolveOptions
from .solver.solve import solve_compiled

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
class IisItem:
    """One member of an IIS in planner terms: a constraint (row) or a variable bound (column)."""

    kind: str  # constraint | bound
    family: str  # the row family (capacity, demand, …) or the variable (take, unmet, make, …)
    table: str  # the planner's table it comes from
    ids: tuple[str, ...]
    text: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "family": self.family, "table": self.table, "ids": list(self.ids),
                "text": self.text}


@dataclass(frozen=True)
class IisReport:
    """HiGHS's irreducible infeasible subset, translated; or why there is none.

    ``status``: ``found``; ``feasible`` (the model is feasible); ``integrality`` (the LP relaxation
    is feasible, so the infeasibility comes from integrality and no LP IIS exists); ``unavailable``.
    """

    status: str
    relaxation: bool
    irreducible: bool
    items: tuple[IisItem, ...]
    message: str
    nonnegative: int = 0  # variables whose only bound in the subset is ≥ 0 (not listed)

    def lines(self) -> list[str]:
        out = [self.message]
        out += [f"  - {'bound: ' if it.kind == 'bound' else ''}{it.text}" for it in self.items]
        if self.nonnegative:
            out.append(f"  (and {self.nonnegative} variable(s) that cannot be negative)")
        return out

    def as_dict(self) -> dict:
        return {"status": self.status, "lp_relaxation": self.relaxation, "irreducible": self.irreducible,
                "message": self.message, "items": [it.as_dict() for it in self.items],
                "nonnegative": self.nonnegative}


@dataclass(frozen=True)
class Explanation:
    feasible: bool
    total_violation: float
    findings: tuple[Finding, ...]
    strategy: str
    scenario: str | None
    iis: IisReport | None = None

    def lines(self) -> list[str]:
        if self.feasible:
            out = [f"The model is feasible for strategy {self.strategy}: nothing to explain."]
        else:
            out = []
        for i, f in enumerate(self.findings, 1):
            out.append(f"{i}. {f.message}")
            if f.fixes:
                out.append("   Fixes: " + "; ".join(f.fixes) + ".")
        if self.iis is not None:
            out += self.iis.lines()
        return out

    def as_dict(self) -> dict:
        d = {"feasible": self.feasible, "total_violation": self.total_violation,
             "findings": [f.as_dict() for f in self.findings]}
        if self.iis is not None:
            d["iis"] = self.iis.as_dict()
        return d


def explain(instance: Instance, strategy: str = OPTIMISE, scenario: str | None = None,
            options: SolveOptions | None = None, iis: bool = False, fixed: FirstStage | None = None) -> Explanation:
    """Solve the elastic model and translate its slacks into findings, largest violation first.

    With ``iis``, also HiGHS's irreducible infeasible subset of the model (of its LP relaxation),
    in planner terms (:func:`explain_iis`). With ``fixed``, the first stage is pinned to that plan
    (its deals replace the strategy's): the findings say which commitments the plan cannot meet.
    """
    # without the linking inequalities (model/linking.py): they only repeat the hard rows, which the
    # elastic model relaxes (a relaxed capacity row no longer implies make ≤ U·active), and an IIS
    # should name the planner's constraints, not their consequences
    md = prepare(instance, strategy, scenario, fixed=fixed, tighten=False)
    if fixed is not None:
        md.option_fix = {}  # the plan pins every deal (model.variables._fix_first_stage)
    why = _explain_elastic(instance, md, strategy, scenario, options)
    if iis:
        known = why.feasible or not math.isnan(why.total_violation)  # NaN: the elastic solve found nothing
        why = replace(why, iis=explain_iis(instance, md, why.feasible if known else None, options))
    return why


def _explain_elastic(instance: Instance, md, strategy: str, scenario: str | None,
                     options: SolveOptions | None) -> Explanation:
    m = build_model(md)
    make_elastic(m, md)
    out = solve_compiled(compile_model(m), options or SolveOptions(duals=False))
    vals = variable_values(out)
    if vals is None:
        return Explanation(False, float("nan"), (Finding("unknown", 0.0, 0.0,
                           "even the elastic model found no plan within the limits; allow more time"),), strategy, scenario)
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
    for key, slack in sorted(vals.get("slack_budget", {}).items()):
        if slack <= TOL:
            continue
        t = key[0]  # (t,) or (t, s) when later options make capex per scenario
        findings.append(Finding("budget", slack, slack * WEIGHTS["budget"],
                                f"Capex in {t}{where(key[1]) if len(key) > 1 else ''} exceeds the budget of "
                                f"{inst.budget[t]:,.0f} {inst.currency} by "
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


# --- the irreducible infeasible subset (IIS), in planner terms ------------------------------

def explain_iis(instance: Instance, md, feasible: bool | None, options: SolveOptions | None = None) -> IisReport:
    """HiGHS's IIS of the model (of its LP relaxation for a MIP), every row and bound named in the
    planner's tables and ids; or one clear sentence saying why there is none.

    ``feasible`` is what the elastic model found (None: it found nothing within the limits).
    """
    time_limit = options.time_limit if options is not None else None
    res = compute_iis(compile_model(build_model(md)), time_limit)
    return translate_iis(instance, md, res, feasible)


def translate_iis(instance: Instance, md, res: IisResult, feasible: bool | None) -> IisReport:
    """Turn :class:`~optimiser.solver.iis.IisResult` into an :class:`IisReport` (pure; no solving)."""
    of = "of the LP relaxation (integrality dropped) " if res.relaxation else ""
    if res.status == "feasible":
        if feasible:
            return IisReport("feasible", res.relaxation, False, (), "IIS: none — the model is feasible.")
        if res.relaxation and feasible is None:
            return IisReport("integrality", True, False, (),
                             "IIS: none — the LP relaxation is feasible, so any infeasibility comes from integrality; "
                             "HiGHS has no LP IIS to show.")
        if res.relaxation:
            return IisReport("integrality", True, False, (),
                             "IIS: none — the LP relaxation is feasible, so the infeasibility comes from integrality "
                             "(whole options, line builds and tooling); HiGHS has no LP IIS to show. "
                             "See the findings above.")
        if feasible is None:
            return IisReport("feasible", False, False, (), "IIS: none — HiGHS finds the model feasible.")
        return IisReport("unavailable", False, False, (), "IIS: not available — HiGHS finds the model feasible, "
                         "the elastic model does not (numerical trouble); trust the findings above.")
    if res.status != "found":
        return IisReport("unavailable", res.relaxation, False, (),
                         f"IIS: not available — {res.message or 'HiGHS could not compute one'}.")
    words = _IisWords(instance, md)
    items = [words.row(r) for r in res.rows]
    nonneg = 0
    for c in res.columns:
        item = words.column(c)
        if item is None:
            nonneg += c.bound == "lower"
        else:
            items.append(item)
    n_rows, n_bounds = len(res.rows), sum(it.kind == "bound" for it in items)
    what = "Irreducible infeasible subset (IIS)" if res.irreducible else "Infeasible subset (not reduced to an IIS)"
    head = (f"{what} {of}— {n_rows} constraint(s) and {n_bounds} bound(s) that cannot all hold"
            + ("; drop any one and the rest can:" if res.irreducible else ":"))
    return IisReport("found", res.relaxation, res.irreducible, tuple(items), head, nonneg)


def _num(x: float) -> str:
    if abs(x - round(x)) < 1e-9 * max(1.0, abs(x)):
        return f"{x:,.0f}"
    return f"{x:,.1f}" if abs(x) >= 100 else f"{x:.4g}"


class _IisWords:
    """Names rows and column bounds of the compiled model in the planner's words."""

    def __init__(self, instance: Instance, md) -> None:
        self.inst = instance
        self.md = md
        self.prog = {p.id: p for p in instance.programmes}
        self.mkt = {m.id: m for m in instance.markets}
        self.multi = len(md.scenarios) > 1

    def sc(self, s: str, mid: bool = False) -> str:
        """", scenario s" when there are several scenarios (with a closing comma mid-sentence)."""
        return (f", scenario {s}" + ("," if mid else "")) if self.multi else ""

    def ids(self, *parts: object, s: str | None = None) -> tuple[str, ...]:
        return tuple(str(x) for x in parts) + ((s,) if self.multi and s is not None else ())

    def p(self, pid: str) -> str:
        pr = self.prog.get(pid)
        return pid if pr is None or pr.name in ("", pid) else f"{pr.name} ({pid})"


    def m(self, mid: str) -> str:
        mk = self.mkt.get(mid)
        return mid if mk is None or mk.name in ("", mid) else f"{mk.name} ({mid})"

    def line(self, lid: str) -> str:
        fid = self.md.line_factory.get(lid)
        return f"{lid} (factory {fid})" if fid else lid

    def candidate(self, lid: str) -> str:
        cost = self.md.build_cost.get(lid)
        return f"candidate line {self.line(lid)}" + (f" (build_cost {_num(cost)})" if cost else "")

    def row(self, r: IisMember) -> IisItem:
        name, idx, _ = r.key
        md, sc = self.md, self.sc
        bound = r.upper if r.upper != float("inf") else r.lower

        def item(table: str, ids: tuple[str, ...], text: str) -> IisItem:
            return IisItem("constraint", name, table, ids, text)

        if name in ("capacity", "ramp"):
            l, t, s = idx
            if name == "capacity":
                return item("lines", self.ids(l, t, s=s),
                            f"capacity of line {self.line(l)} in {t}{sc(s)}: at most {_num(md.capacity[(l, t)])} "
                            "capacity units, and only while the line runs (table lines: capacity, capacity_profile)")
            return item("lines", self.ids(l, t, s=s),
                        f"ramp-up of candidate line {self.line(l)} in {t}{sc(s)}: {md.ramp_up.get(l, 1):.0%} of its "
                        f"{_num(md.capacity[(l, t)])} capacity units in its first year (table lines: ramp_up)")
        if name == "tool_link":
            p, l, t, s = idx
            return item("routings", self.ids(p, l, t, s=s),
                        f"{self.p(p)} is made on line {l} in {t}{sc(s, True)} only if the line is tooled for it "
                        f"(up to {_num(md.make_ub.get((p, l, t, s), 0.0))} units; table routings)")
        if name == "sourcing":
            (p,) = idx
            return item("programmes", (p,), f"{self.p(p)} may be tooled on at most {_num(bound)} line(s) "
                                            "(table programmes: max_lines)")
        if name == "must_tool":
            (p,) = idx
            return item("programmes", (p,), f"{self.p(p)} is must_serve, so it must be tooled on at least one line "
                                            "(table programmes: must_serve)")
        if name == "build_once":
            (l,) = idx
            return item("lines", (l,), f"{self.candidate(l)} is built at most once (table lines)")
        if name == "availability":
            l, t, s = idx
            lead = md.lead_time.get(l, 0)
            return item("lines", self.ids(l, t, s=s),
                        f"{self.candidate(l)} runs in {t}{sc(s, True)} only if built by {t - lead} "
                        f"(table lines: lead_time {lead}, available_from)")
        if name == "tool_built":
            p, l = idx
            return item("lines", (p, l), f"{self.p(p)} can be tooled on {self.candidate(l)} only if it is built "
                                         "(table lines: status candidate)")
        if name in ("gate_active", "gate_build", "gate_tool"):
            l = idx[1] if name == "gate_tool" else idx[0]
            o = md.requires_option.get(l, "?")
            if name == "gate_active":
                _, t, s = idx
                what, ids = f"line {self.line(l)} runs in {t}{sc(s, True)}", self.ids(l, t, s=s)
            elif name == "gate_build":
                what, ids = f"{self.candidate(l)} is built", (l,)
            else:
                what, ids = f"{self.p(idx[0])} is tooled on line {l}", (idx[0], l)
            return item("lines", ids + (o,), f"{what} only if option {o} is taken (table lines: requires_option)")
        if name == "exclusive":
            (g,) = idx
            opts = ", ".join(md.exclusive_groups.get(g, ()))
            return item("options", (g, *md.exclusive_groups.get(g, ())),
                        f"at most one option of exclusive group {g} ({opts}) may be taken "
                        "(table options: exclusive_group)")
        if name == "flow":
            p, fid, t, s = idx
            bom = " or used for the bill of materials" if p in md.bom_parents else ""
            return item("logistics", self.ids(p, fid, t, s=s),
                        f"what factory {fid} makes of {self.p(p)} in {t}{sc(s, True)} is shipped to a market "
                        f"it reaches{bom} (table logistics)")
        if name == "demand":
            p, mk, t, s = idx
            return item("demand", self.ids(p, mk, t, s=s),
                        f"demand of {self.p(p)} in market {self.m(mk)} {t}{sc(s)}: {_num(md.demand[(p, mk, t, s)])} "
                        "units, each served or unmet (table demand)")
        if name == "bom":
            c, t, s = idx
            return item("bom", self.ids(c, t, s=s),
                        f"component {self.p(c)} in {t}{sc(s)}: what is made inside or bought covers what its parents "
                        "use (table bom)")
        if name == "budget":
            (t,) = idx
            return item("budget", (str(t),), f"capex budget in {t}: at most {_num(md.budget.get(t, bound))} "
                                             f"{self.inst.currency} (table budget: capex_limit)")
        if name == "share":
            (s,) = idx
            return item("settings", self.ids("share_target", s=s),
                        f"hard share target{sc(s)}: at least {_num(md.share_rhs or 0.0)} units of programmes that "
                        f"count for share in {md.share_year} (table settings: share_target)")
        sense = "≤" if r.upper != float("inf") else "≥"
        return item("", tuple(str(x) for x in idx), f"{name}[{', '.join(map(str, idx))}] {sense} {_num(bound)}")

    def column(self, c: IisMember) -> IisItem | None:
        """A bound in words, or None for plain non-negativity / a column none of whose bounds counts."""
        var, idx = c.key
        md, sc = self.md, self.sc
        lower = c.bound in ("lower", "both")
        upper = c.bound in ("upper", "both")
        if not upper and not (lower and c.lower != 0.0):
            return None

        def item(table: str, ids: tuple[str, ...], text: str) -> IisItem:
            return IisItem("bound", var, table, ids, text)

        if var == "take":
            (o,) = idx
            fix = md.option_fix.get(o)
            if fix is True and lower:
                return item("strategies", (md.strategy, o),
                            f"strategy {md.strategy} takes option {o} (table strategies)")
            if fix is False and upper:
                return item("strategies", (md.strategy, o),
                            f"strategy {md.strategy} forbids option {o} (table strategies)")
            return item("options", (o,), f"option {o} is taken at most once (take[{o}] ≤ 1)")
        if var == "unmet" and upper:
            p, mk, t, s = idx
            where = f"{self.p(p)} in market {self.m(mk)} {t}{sc(s)}"
            pr = self.prog.get(p)
            if pr is not None and pr.must_serve:
                return item("programmes", self.ids(p, mk, t, s=s),
                            f"{where}: must_serve, none of its demand may go unmet (table programmes: must_serve)")
            committed = md.demand.get((p, mk, t, s), 0.0) - c.upper
            return item("demand", self.ids(p, mk, t, s=s),
                        f"committed demand of {where}: {_num(committed)} units, so at most {_num(c.upper)} may go "
                        "unmet (table demand: min_volume)")
        if var == "make" and upper:
            p, l, t, s = idx
            use = md.capacity_use.get((p, l), 1.0)
            cap = md.capacity.get((l, t), 0.0)
            if abs(c.upper - cap / use) <= 1e-9 * max(1.0, c.upper):
                table, why = "lines", (f"the capacity of line {l}, {_num(cap)} / capacity_use {use:g} "
                                       "(tables lines: capacity, capacity_profile; routings: capacity_use)")
            else:
                table, why = "demand", (f"the demand factory {md.line_factory.get(l, '?')} can reach"
                                        + (" plus what bill-of-materials parents draw" if p in md.bom_parents else "")
                                        + " (tables demand, logistics)")
            return item(table, self.ids(p, l, t, s=s),
                        f"make[{p}, {l}, {t}{', ' + s if self.multi else ''}] ≤ {_num(c.upper)}: {self.p(p)} on line "
                        f"{l} in {t}{sc(s, True)} is limited by {why}")
        if var == "running" and upper:
            l, t, s = idx
            return item("lines", self.ids(l, t, s=s),
                        f"line {self.line(l)} in {t}{sc(s, True)} runs at most at its full capacity (running ≤ 1)")
        if var == "build" and upper:
            l, tau = idx
            return item("lines", (l, str(tau)), f"{self.candidate(l)} is built at most once in {tau} (build ≤ 1)")
        if var == "tool" and upper:
            p, l = idx
            return item("routings", (p, l), f"{self.p(p)} is tooled on line {l} at most once (tool ≤ 1)")
        sides = []
        if lower and c.lower != 0.0:
            sides.append(f"≥ {_num(c.lower)}")
        if upper:
            sides.append(f"≤ {_num(c.upper)}")
        return item("", tuple(str(x) for x in idx), f"{var}[{', '.join(map(str, idx))}] {' and '.join(sides)}")
