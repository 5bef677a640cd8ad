"""Structure ratchet for optimiser/ (issue 16, item 4): today's debts are listed, new ones fail.

Three measurements, each against an allow-list written out below:

(a) import cycles — the import graph of optimiser/ from the source (``ast``), module-level AND
    function-level (deferred) imports alike. An edge ``a -> b`` is *cyclic* when ``b`` can reach
    ``a`` again (both in one strongly connected component). Every cyclic edge must be in
    ``ALLOWED_CYCLIC_EDGES``; a new edge that closes a cycle, or makes an old edge cyclic, fails.
(b) private names across modules — ``from optimiser.x import _y`` or ``x._y`` on an imported
    optimiser module, from any other module. Each must be in ``ALLOWED_PRIVATE_IMPORTS``.
(c) module size — a module over ``MAX_LINES`` lines must be in ``ALLOWED_LARGE_MODULES`` with the
    size it had when listed, and may not grow by more than ``GROWTH`` (10 %) beyond it.
(d) layers — every module sits in one layer of ``LAYERS`` (base → files → tables → solver → model →
    results → engine → jobs → analysis → report → cli) and imports only its own layer or lower ones;
    the model reaches the solver only through ``optimiser.solver.arrays``. No allow-list: any upward
    import, or a module placed in no layer, fails.

The lists are today's debts, to be removed by the issue 16 restructure: shrink them, never grow them.
Updating a list is one edit: run ``python tests/test_structure.py --print`` and paste its output over
the three lists (after checking that nothing new crept in). An entry that no longer occurs is
reported by the ``--print`` output, not as a failure, so the ratchet only ever tightens by hand.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "optimiser"
MAX_LINES = 500
GROWTH = 0.10

# ---------------------------------------------------------------- allow-lists (today's debts)
# To be removed by the issue 16 restructure.  Regenerate with: python tests/test_structure.py --print

# (a) import edges that lie on a cycle ("importer -> imported"); to be removed by the issue 16 restructure.
#     cycles when listed: optimiser.compare ↔ optimiser.distributed ↔ optimiser.pipeline ↔ optimiser.reuse;
#     optimiser.parameters ↔ optimiser.validate
ALLOWED_CYCLIC_EDGES: frozenset[str] = frozenset({
})

# (b) private names imported across modules ("importer: module._name"); to be removed by the
#     issue 16 restructure.
ALLOWED_PRIVATE_IMPORTS: frozenset[str] = frozenset({
})

# (c) modules over MAX_LINES lines, with their size when listed; to be split by the issue 16 restructure.
ALLOWED_LARGE_MODULES: dict[str, int] = {
}


# ---------------------------------------------------------------- layers (issue 16): imports point down

# Layer of every module, lowest first; a module may import its own layer or a lower one only.
# Matched by longest dotted prefix ("optimiser.solver" covers optimiser.solver.highs, …).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("optimiser", "optimiser.errors", "optimiser.numbers", "optimiser.schema", "optimiser.finance",
              "optimiser.isolation", "optimiser.data", "optimiser.names", "optimiser.columns")),
    ("files", ("optimiser.raw", "optimiser.read_csv", "optimiser.read_xlsx", "optimiser.read_zip", "optimiser.readers",
               "optimiser.cells", "optimiser.writers", "optimiser.template", "optimiser.docs",
               "optimiser.generate")),
    ("tables", ("optimiser.tables", "optimiser.changes", "optimiser.parameters", "optimiser.validate")),
    ("solver", ("optimiser.solver",)),
    ("model", ("optimiser.model",)),
    ("results", ("optimiser.results", "optimiser.plan", "optimiser.sizing")),
    ("engine", ("optimiser.engine",)),
    ("jobs", ("optimiser.jobs",)),
    ("analysis", ("optimiser.compare", "optimiser.sweep", "optimiser.ph", "optimiser.explain",
                  "optimiser.sensitivity", "optimiser.tornado", "optimiser.decide", "optimiser.alternatives",
                  "optimiser.diff")),
    ("report", ("optimiser.report",)),
    ("cli", ("optimiser.app", "optimiser.cli", "optimiser.__main__")),
)
# The one door between model and solver: the model hands the solver arrays, nothing else.
MODEL_MAY_IMPORT_FROM_SOLVER = frozenset({"optimiser.solver.arrays"})


def layer_of(module: str) -> int | None:
    """Index in LAYERS of the longest prefix naming ``module`` (``None``: not placed)."""
    best: tuple[int, int] | None = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != "optimiser"
                                    and (module.startswith(prefix + "_") or module.startswith(prefix + "."))):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), rank)
    return None if best is None else best[1]


def layer_problems(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Upward imports, modules placed in no layer, and model → solver imports other than arrays."""
    problems: list[str] = []
    for importer in sorted(graph):
        low = layer_of(importer)
        if low is None:
            problems.append(f"{importer}: in no layer (add it to LAYERS)")
            continue
        for imported in sorted(graph[importer]):
            high = layer_of(imported)
            if high is not None and high > low:
                problems.append(f"{importer} ({LAYERS[low][0]}) imports {imported} ({LAYERS[high][0]}), a higher layer")
            if (importer.startswith("optimiser.model") and imported.startswith("optimiser.solver")
                    and imported not in MODEL_MAY_IMPORT_FROM_SOLVER):
                problems.append(f"{importer} imports {imported}: the model may use only {sorted(MODEL_MAY_IMPORT_FROM_SOLVER)}")
    return problems

# ---------------------------------------------------------------- measuring

def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under the package (``__init__`` = the package)."""
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module named by a ``from … import`` (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(name: str, path: Path, modules: Mapping[str, Path]) -> tuple[set[str], set[str]]:
    """(modules imported anywhere in the file, private names of other modules it uses)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    private: set[str] = set()
    bound: dict[str, str] = {}  # local name → optimiser module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    targets.add(alias.name)
                    if alias.asname:
                        bound[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, is_package, node)
            if source not in modules:
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in modules:  # ``from optimiser import solve``: the submodule itself
                    targets.add(sub)
                    bound[alias.asname or alias.name] = sub
                else:
                    targets.add(source)
                    if alias.name.startswith("_") and not alias.name.startswith("__") and source != name:
                        private.add(f"{name}: {source}.{alias.name}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                and node.attr.startswith("_") and not node.attr.startswith("__")
                and bound[node.value.id] != name):
            private.add(f"{name}: {bound[node.value.id]}.{node.attr}")
    targets.discard(name)
    return targets, private


def import_graph(modules: Mapping[str, Path] | None = None) -> tuple[dict[str, set[str]], set[str]]:
    """The import graph {module: modules it imports} and every cross-module private import."""
    modules = module_files() if modules is None else modules
    graph: dict[str, set[str]] = {}
    private: set[str] = set()
    for name, path in modules.items():
        graph[name], found = _imports(name, path, modules)
        private |= found
    return graph, private


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components (iterative), each as a set of nodes."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def cyclic_edges(graph: Mapping[str, Iterable[str]]) -> set[str]:
    """Every edge ``a -> b`` with ``a`` and ``b`` in one cycle (one strongly connected component)."""
    where = {n: i for i, comp in enumerate(strongly_connected(graph)) for n in comp}
    return {f"{a} -> {b}" for a, targets in graph.items() for b in targets
            if b in where and where[a] == where[b] and a != b}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module, sorted, for messages."""
    return sorted(sorted(c) for c in strongly_connected(graph) if len(c) > 1)


def module_sizes(modules: Mapping[str, Path] | None = None) -> dict[str, int]:
    """Lines per module file, keyed by the path under the repository (``optimiser/solver/solve.py``)."""
    modules = module_files() if modules is None else modules
    root = PACKAGE.parent
    return {path.relative_to(root).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
            for path in modules.values()}


def large_module_problems(sizes: Mapping[str, int], allowed: Mapping[str, int]) -> list[str]:
    """Modules over MAX_LINES not listed, and listed modules grown by more than GROWTH."""
    problems = []
    for path, n in sorted(sizes.items()):
        if path in allowed:
            limit = int(allowed[path] * (1 + GROWTH))
            if n > limit:
                problems.append(f"{path}: {n} lines, listed at {allowed[path]} (limit {limit}, +{GROWTH:.0%})")
        elif n > MAX_LINES:
            problems.append(f"{path}: {n} lines, a new module over {MAX_LINES}")
    return problems


# ---------------------------------------------------------------- the ratchet

def _listing(title: str, items: Iterable[str]) -> str:
    items = sorted(items)
    return f"{title} ({len(items)}):\n" + "".join(f"    {x}\n" for x in items)


def test_no_new_import_cycle() -> None:
    graph, _ = import_graph()
    assert len(graph) > 20 and "optimiser.solver.solve" in graph["optimiser.engine"]  # the graph was read
    new = cyclic_edges(graph) - ALLOWED_CYCLIC_EDGES
    assert not new, ("new import edges on a cycle (the import graph must only lose cycles; move the shared "
                     "code down a layer instead of deferring an import):\n"
                     + _listing("NEW cyclic edges", new)
                     + "\n".join("cycle: " + " ↔ ".join(c) for c in cycles(graph)))


def test_no_new_private_import_across_modules() -> None:
    _, private = import_graph()
    new = private - ALLOWED_PRIVATE_IMPORTS
    assert not new, ("private names imported across modules (give the name a public home instead):\n"
                     + _listing("NEW private imports", new))


def test_no_module_grows_past_its_size() -> None:
    sizes = module_sizes()
    assert sizes["optimiser/solver/solve.py"] > 100  # the sizes were read
    problems = large_module_problems(sizes, ALLOWED_LARGE_MODULES)
    assert not problems, (f"modules over {MAX_LINES} lines or grown past their listed size (split them):\n"
                          + _listing("problems", problems))


def test_no_test_module_imports_another() -> None:
    """Shared cases live in builders.py, strategies.py and conftest.py; a test module imports none of
    the others (issue 16: ``from test_properties import instances`` was the pattern removed)."""
    here = Path(__file__).resolve().parent
    tests = {p.stem for p in here.glob("test_*.py")}
    found = []
    for path in sorted(here.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            found += [f"{path.name}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in tests]
    assert len(tests) > 30 and not found, "\n".join(found)


def test_the_ratchet_catches_what_it_claims() -> None:
    """The measuring functions on hand-made cases, so the three tests above can fail."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cyclic_edges(graph) == {"a -> b", "b -> c", "c -> a"}  # d -> a leads in, not round
    graph["a"].add("d")  # a new back edge: d -> a becomes cyclic too
    assert cyclic_edges(graph) - {"a -> b", "b -> c", "c -> a"} == {"a -> d", "d -> a"}
    assert large_module_problems({"x.py": 551, "y.py": 501, "z.py": 499}, {"x.py": 500}) == [
        "x.py: 551 lines, listed at 500 (limit 550, +10%)", "y.py: 501 lines, a new module over 500"]
    assert large_module_problems({"x.py": 550}, {"x.py": 500}) == []


def test_function_level_and_private_imports_are_seen(tmp_path: Path) -> None:
    pkg = tmp_path / "optimiser"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low.py").write_text("def f():\n    from .high import _g\n    return _g\n")
    (pkg / "high.py").write_text("from optimiser import low\n\ndef _g():\n    return low._h\n")
    (pkg / "sub" / "__init__.py").write_text("from ..low import f\n")
    graph, private = import_graph(module_files(pkg))
    assert graph == {"optimiser": set(), "optimiser.low": {"optimiser.high"}, "optimiser.high": {"optimiser.low"},
                     "optimiser.sub": {"optimiser.low"}}
    assert private == {"optimiser.low: optimiser.high._g", "optimiser.high: optimiser.low._h"}
    assert cyclic_edges(graph) == {"optimiser.low -> optimiser.high", "optimiser.high -> optimiser.low"}


# ---------------------------------------------------------------- printing today's lists

def test_imports_point_down_the_layers() -> None:
    graph, _ = import_graph()
    problems = layer_problems(graph)
    assert not problems, _listing("imports against the layers", problems)


def test_the_layer_check_catches_an_upward_import() -> None:
    graph = {"optimiser.solver.highs": {"optimiser.model.sets"}, "optimiser.model.sets": {"optimiser.errors"},
             "optimiser.errors": set(), "optimiser.mystery": set()}
    problems = layer_problems(graph)
    assert any("optimiser.solver.highs (solver) imports optimiser.model.sets (model)" in p for p in problems)
    assert any("optimiser.mystery: in no layer" in p for p in problems)
    assert layer_of("optimiser.validate_rows") == layer_of("optimiser.validate")


def current_lists() -> str:
    """Today's three lists as Python source, ready to paste over the allow-lists above."""
    graph, private = import_graph()
    edges = cyclic_edges(graph)
    sizes = {p: n for p, n in module_sizes().items() if n > MAX_LINES}
    out = ["# cycles today: " + "; ".join(" ↔ ".join(c) for c in cycles(graph)),
           "ALLOWED_CYCLIC_EDGES: frozenset[str] = frozenset({",
           *(f'    "{e}",' for e in sorted(edges)), "})", "",
           "ALLOWED_PRIVATE_IMPORTS: frozenset[str] = frozenset({",
           *(f'    "{e}",' for e in sorted(private)), "})", "",
           "ALLOWED_LARGE_MODULES: dict[str, int] = {",
           *(f'    "{p}": {n},' for p, n in sorted(sizes.items())), "}"]
    gone = sorted((ALLOWED_CYCLIC_EDGES - edges) | (ALLOWED_PRIVATE_IMPORTS - private)
                  | (set(ALLOWED_LARGE_MODULES) - set(sizes)))
    if gone:
        out += ["", "# listed but gone (tighten the lists):", *(f"#   {g}" for g in gone)]
    return "\n".join(out)


if __name__ == "__main__":
    if sys.argv[1:] != ["--print"]:
        sys.exit("usage: python tests/test_structure.py --print")
    print(current_lists())
