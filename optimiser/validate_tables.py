"""The validator's checks of one table against the others: references, and what each table's rows mean.

Each function takes the :class:`~optimiser.validate_context.Context`, adds its problems to the
collector and returns what the instance is built from (routings, demand, scenarios, bill of
materials, strategies, logistics). They run in the order :func:`optimiser.validate.validate` calls
them, so problems are listed in the same order for a workbook and its CSV folder.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .cells import quoted, shown
from .data import Demand, Routing, Scenario
from .schema import OPTIMISE, TABLES, TABLES_BY_NAME
from .tables import ID_RULE, Collector, Row, id_key
from .validate_context import PROBABILITY_TOLERANCE, Context

#: The entity a referenced table holds, as named in a message.
WORDS = {"factories": "factory", "markets": "market", "options": "option",
         "programmes": "programme", "lines": "line", "scenarios": "scenario"}


def check_references(c: Context) -> None:
    """Every ``references=`` column of every present table (bad rows included) names an existing id;
    a reference into a missing optional table is one error at its first use."""
    out = c.out
    dangling: dict[str, list[tuple[str, str, list[Row]]]] = {}
    for table in TABLES:
        for col in table.columns:
            if not col.references:
                continue
            target, target_col = col.references.split(".")
            target_spec = TABLES_BY_NAME[target]
            if (target_spec.required and target not in c.good) or target in c.incomplete:
                continue  # "required table/column … is missing" already says it
            known = c.ids(target, target_col)
            near = {id_key(k): k for k in known}
            if target not in c.good:  # an optional table that is missing: one error for it, not one per row
                naming = [r for r in c.all_rows(table.name) if r[col.name] is not None]
                if naming:
                    dangling.setdefault(target, []).append((table.name, col.name, naming))
                continue
            for r in c.all_rows(table.name):
                v = r[col.name]
                if v is not None and v not in known:
                    hint = ""
                    if id_key(v) in near:
                        out.error(table.name, r.number, col.name,
                                  f"unknown {WORDS[target]} {quoted(v)}; did you mean {quoted(near[id_key(v)])}? "
                                  f"(ids must match exactly; {ID_RULE} only for this hint)")
                    else:
                        out.error(table.name, r.number, col.name,
                                  f"unknown {WORDS[target]} {shown(v)}{hint}")

    for target, uses in dangling.items():  # one error per missing table, at its first use
        name, col, rs = uses[0]
        total = sum(len(x) for _, _, x in uses)
        more = "" if total == 1 else (f"; {total} cells name one: "
                                      + ", ".join(f"{n}.{c} ×{len(x)}" for n, c, x in uses))
        out.error(name, rs[0].number, col, f"unknown {WORDS[target]} {shown(rs[0][col])} "
                                           f"(there is no {target} table{more})")


def check_lines(c: Context) -> dict[Any, list[Any]]:
    """``retire_after ≥ available_from``; warnings for a built existing line and one retired before
    the horizon. Returns the line ids of each line_type (every row)."""
    out = c.out
    line_types = defaultdict(list)
    for r in c.all_rows("lines"):
        if r["line_type"] is not None and r["line_id"] is not None:
            line_types[r["line_type"]].append(r["line_id"])
    for lid, r in c.lines.items():
        af, ra = r["available_from"], r["retire_after"]
        if af is not None and ra is not None and ra < af:
            out.error("lines", r.number, "retire_after", f"retire_after {ra} is before available_from {af}")
        if r["status"] == "existing" and (r["build_cost"] or 0) > 0:
            out.warn("lines", r.number, "build_cost", "an existing line is never built; build_cost is ignored")
        if c.horizon_ok and ra is not None and ra < c.first:
            out.warn("lines", r.number, "retire_after", f"the line retires before the horizon starts ({ra} < {c.first}); it never runs")
    return line_types


def check_programmes(c: Context) -> None:
    """A programme's ``last_year ≥ first_year`` (blank: the horizon's)."""
    for pid, r in c.programmes.items():
        fy, ly = c.programme_years(r)
        if fy > ly:
            c.out.error("programmes", r.number, "last_year", f"last_year {ly} is before first_year {fy}")


def collect_routings(c: Context, line_types: dict[Any, list[Any]]) -> dict[tuple[str, str], Routing]:
    """Routings by (programme, line): a row gives line_type or line_id (not both); a line_type row
    routes every line of that type, a line_id row overrides it for its line."""
    out, programmes, lines = c.out, c.programmes, c.lines
    routings: dict[tuple[str, str], Routing] = {}
    type_rows: dict[tuple[str, str], Row] = {}
    line_rows: dict[tuple[str, str], Row] = {}
    for r in c.rows("routings"):
        lt, lid = r["line_type"], r["line_id"]
        if lt is not None and lid is not None:
            out.error("routings", r.number, "line_id", "give line_type or line_id, not both")
            continue
        if lt is None and lid is None:
            out.error("routings", r.number, "line_type", "give line_type or line_id (both are blank)")
            continue
        if lt is not None:
            if lt not in line_types:
                if "lines" in c.good and "lines" not in c.incomplete:
                    near = [k for k in line_types if id_key(k) == id_key(lt)]
                    if near:
                        out.error("routings", r.number, "line_type",
                                  f"no line has line_type {quoted(lt)}; did you mean {quoted(near[0])}? "
                                  f"(line types must match exactly; {ID_RULE} only for this hint)")
                    else:
                        out.error("routings", r.number, "line_type", f"no line has line_type {shown(lt)}")
                continue
            type_rows[(r["programme_id"], lt)] = r
        else:
            line_rows[(r["programme_id"], lid)] = r
    for (pid, lt), r in type_rows.items():
        if pid not in programmes:
            continue
        for lid in line_types[lt]:
            if lid in lines:
                routings[(pid, lid)] = Routing(pid, lid, r["capacity_use"], r["unit_cost"], r["tooling_cost"])
    for (pid, lid), r in line_rows.items():
        if pid in programmes and lid in lines:
            routings[(pid, lid)] = Routing(pid, lid, r["capacity_use"], r["unit_cost"], r["tooling_cost"])
    return routings


def collect_demand(c: Context) -> dict[tuple[str, str, int], Demand]:
    """Demand by (programme, market, year) inside the horizon; a commitment above the volume is
    capped (warning); demand outside a programme's years is an error when promised, else unmet.
    Also checks the years of the other yearly tables."""
    out = c.out
    demand: dict[tuple[str, str, int], Demand] = {}
    for r in c.rows("demand"):
        if not c.in_horizon("demand", r):
            continue
        vol, mv = r["volume"], r["min_volume"] or 0.0
        if mv > vol:
            out.warn("demand", r.number, "min_volume",
                     f"committed {shown(mv)} is more than the volume {shown(vol)}; the commitment is capped at the volume")
        p = c.programmes.get(r["programme_id"])
        if p is not None:
            fy, ly = c.programme_years(p)
            if not fy <= r["year"] <= ly and vol > 0:
                if p["must_serve"] or mv > 0:  # a promise that cannot be kept: the model would be infeasible
                    what = "must_serve demand" if p["must_serve"] else f"committed volume {shown(mv)}"
                    out.error("demand", r.number, "year", f"{what} of {shown(r['programme_id'])} in {r['year']}, but the "
                                                          f"programme is only built in {fy}–{ly}")
                else:
                    out.warn("demand", r.number, "year", f"{shown(r['programme_id'])} is not built in {r['year']} "
                                                         f"(its years are {fy}–{ly}); this demand goes unmet")
        demand[(r["programme_id"], r["market_id"], r["year"])] = Demand(vol, mv)
    for name in ("scenario_demand", "prices", "capacity_profile", "budget", "market_size"):
        for r in c.rows(name):
            c.in_horizon(name, r)
    return demand


def collect_scenarios(c: Context) -> list[Scenario]:
    """The scenarios with their probabilities: blanks share what the given ones leave; the sum is
    1 within PROBABILITY_TOLERANCE. No scenarios table: one ``base`` scenario."""
    out = c.out
    scen_list = list(c.keyed("scenarios", "scenario_id").values())
    scenarios: list[Scenario] = []
    if scen_list:
        given = [r["probability"] for r in scen_list if r["probability"] is not None]
        blanks = [r for r in scen_list if r["probability"] is None]
        if given and blanks:
            rest = 1.0 - sum(given)
            share = rest / len(blanks)
            if rest < -PROBABILITY_TOLERANCE and c.clean("scenarios"):
                out.error("scenarios", None, "probability", f"the given probabilities already sum to {sum(given):g} > 1")
        else:
            share = 1.0 / len(scen_list)
        total = sum(given) + share * len(blanks) if given else 1.0
        if given and abs(total - 1.0) > PROBABILITY_TOLERANCE and c.clean("scenarios"):
            out.error("scenarios", None, "probability", f"probabilities sum to {total:.6g}, not 1")
        for r in scen_list:
            prob = r["probability"] if r["probability"] is not None else share
            scenarios.append(Scenario(r["scenario_id"], float(prob), r["demand_factor"], r["price_factor"], r["description"] or ""))
    else:
        scenarios.append(Scenario("base", 1.0, 1.0, 1.0, "the instance's demand and prices"))
    return scenarios


def collect_bom(c: Context) -> dict[tuple[str, str], float]:
    """Quantities by (parent, component); no programme is its own component, and no cycle."""
    bom: dict[tuple[str, str], float] = {}
    children = defaultdict(list)
    for r in c.rows("bom"):
        if r["parent_id"] == r["component_id"]:
            c.out.error("bom", r.number, "component_id", f"{shown(r['parent_id'])} cannot be its own component")
            continue
        bom[(r["parent_id"], r["component_id"])] = r["quantity"]
        children[r["parent_id"]].append((r["component_id"], r.number))
    check_bom_cycles(children, c.out)
    return bom


def check_bom_cycles(children: dict[str, list[tuple[str, int]]], out: Collector) -> None:
    """The first cycle of the bill of materials (parent → component), as an error at its closing row."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for child, row in children.get(node, []):
            if state.get(child) == 1:
                cycle = path[path.index(child):] + [child] if child in path else [node, child]
                out.error("bom", row, "component_id", f"the bill of materials has a cycle: {' → '.join(cycle)}")
                return True
            if state.get(child) is None and visit(child, path + [child]):
                return True
        state[node] = 2
        return False

    for node in sorted(children):
        if state.get(node) is None and visit(node, [node]):
            return


def collect_strategies(c: Context) -> dict[str, dict[str, bool]]:
    """Each strategy's fixed options (take → True); ``optimise`` is reserved, a strategy is spelt
    alike on every row, and a strategy takes at most one option of an exclusive_group."""
    out = c.out
    strategies: dict[str, dict[str, bool]] = defaultdict(dict)
    spelt: dict[str, tuple[str, int]] = {}
    for r in c.rows("strategies"):
        if r["strategy_id"].lower() == OPTIMISE:
            out.error("strategies", r.number, "strategy_id", f"{OPTIMISE} is reserved: it is the strategy that restricts nothing")
            continue
        first_spelling, first_row = spelt.setdefault(id_key(r["strategy_id"]), (r["strategy_id"], r.number))
        if first_spelling != r["strategy_id"]:
            out.error("strategies", r.number, "strategy_id",
                      f"{quoted(r['strategy_id'])} duplicates row {first_row} {quoted(first_spelling)} ({ID_RULE}); "
                      "spell a strategy alike on every row")
            continue
        strategies[r["strategy_id"]][r["option_id"]] = r["decision"] == "take"
    groups = defaultdict(list)
    for oid, r in c.options.items():
        if r["exclusive_group"]:
            groups[r["exclusive_group"]].append(oid)
    for sid, fix in strategies.items():
        for g, members in groups.items():
            taken = [o for o in members if fix.get(o) is True]
            if len(taken) > 1:
                row = next(r.number for r in c.rows("strategies") if r["strategy_id"] == sid and r["option_id"] == taken[-1])
                out.error("strategies", row, "option_id",
                          f"strategy {shown(sid)} takes {', '.join(shown(o) for o in taken)}, but they are in the same "
                          f"exclusive_group {shown(g)}")
    return strategies


def collect_logistics(c: Context) -> dict[tuple[str, str], tuple[float, float]] | None:
    """(cost per unit, tariff) by (factory, market), None without a logistics table; a tariff above 1 is warned of."""
    if "logistics" not in c.good:
        return None
    logistics = {(r["factory_id"], r["market_id"]): (r["cost_per_unit"], r["tariff"]) for r in c.rows("logistics")}
    for r in c.rows("logistics"):
        if r["tariff"] is not None and r["tariff"] > 1:
            c.out.warn("logistics", r.number, "tariff",
                       f"tariff {shown(r['tariff'])} is more than the whole unit price; tariffs are fractions "
                       "(0.25 = 25 %)")
    return logistics
