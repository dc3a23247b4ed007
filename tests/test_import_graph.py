"""The import graph of ``gdstudio/`` has no cycles, and ``gdstudio.core`` imports no Qt.

The graph is read from the source with :mod:`ast` (nothing is imported): a node per module, an edge
``a → b`` when module ``a`` imports module ``b`` anywhere in its text — at module level, inside a
function (a lazy import is still a dependency: it runs the first time the function does), or under
``if TYPE_CHECKING`` (a type-checker follows it, and a reader must read ``b`` to understand ``a``).
``from p import name`` is an edge to ``p.name`` when that is a module of the package, else to ``p``.

Not counted: the implicit import of parent packages (``import gdstudio.core.analysis.steps`` also
runs ``gdstudio/core/analysis/__init__.py``). A package's ``__init__`` re-exporting its submodules
and a submodule importing a sibling would otherwise always close a "cycle" that Python resolves
without trouble and that says nothing about the design; tools such as import-linter skip it too.

Cycles still being untangled are listed in :data:`KNOWN_BACK_EDGES` (each breaks one cycle): the
main test ignores them, and one strict-xfail test per edge fails loudly (XPASS) once the edge is
gone, so that the entry is removed then.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gdstudio"

#: Import edges that close a known cycle, to be removed as the modules get narrow interfaces. None is
#: left: the window's helpers (image_export, persistence, session_io) name what they use of it in a
#: Protocol of their own instead of importing the MainWindow.
KNOWN_BACK_EDGES: tuple[tuple[str, str], ...] = ()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The gdstudio modules that module ``name`` imports (anywhere in its text)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                out.add(sub if sub in known else mod)
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module, i.e. the cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def without(graph: dict[str, set[str]], edges) -> dict[str, set[str]]:
    g = {k: set(v) for k, v in graph.items()}
    for a, b in edges:
        g.get(a, set()).discard(b)
    return g


def test_the_reader_finds_known_edges_and_cycles():
    """The test can fail: it sees real imports (module, function and TYPE_CHECKING level) and a made-up cycle."""
    g = import_graph()
    assert "gdstudio.core.runs" in g["gdstudio.core.analysis.steps"]           # module level
    assert "gdstudio.core.formula" in g["gdstudio.core.objectives"]            # inside a function
    assert "gdstudio.gui.step_picture" in g["gdstudio.gui.views.inspector"]   # under TYPE_CHECKING
    assert "gdstudio.core.optimizers.base" in g["gdstudio.core.optimizers"]   # from . import of a module
    cyclic = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(cyclic) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    cycles = strongly_connected(without(import_graph(), KNOWN_BACK_EDGES))
    assert cycles == [], "import cycles: " + "; ".join(" ↔ ".join(c) for c in cycles)


def test_every_known_back_edge_still_closes_a_cycle():
    """A back edge that no longer closes a cycle must leave KNOWN_BACK_EDGES (the list only shrinks; it is empty
    now that every cycle is untangled, and test_no_import_cycles keeps it so)."""
    g = import_graph()
    gone = [(a, b) for a, b in KNOWN_BACK_EDGES
            if not (b in g.get(a, ()) and any(a in c and b in c for c in strongly_connected(g)))]
    assert gone == [], f"no longer cycles, remove them from KNOWN_BACK_EDGES: {gone}"


def test_core_imports_no_qt_in_its_source():
    """No module of gdstudio.core names Qt or a gui module in any import (the runtime check is below)."""
    bad = []
    for name, path in modules().items():
        if not name.startswith("gdstudio.core"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for n in names:
                if n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "OpenGL") or \
                        n.startswith("gdstudio.gui"):
                    bad.append(f"{name}: {n}")
    assert bad == []


def test_core_imports_no_qt_at_runtime():
    code = ("import sys, gdstudio.core.analysis, gdstudio.core.runs, gdstudio.core.session, gdstudio.core.export; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


#: The window's wiring: modules that take the MainWindow or run its threads. Views draw models and never import these.
WIRING = {"gdstudio.gui.app", "gdstudio.gui.main_window", "gdstudio.gui.see_why", "gdstudio.gui.actions",
          "gdstudio.gui.controller", "gdstudio.gui.worker", "gdstudio.gui.persistence", "gdstudio.gui.session_io",
          "gdstudio.gui.image_export"}


def test_views_do_not_import_the_wiring():
    g = import_graph()
    assert {"gdstudio.gui.main_window", "gdstudio.gui.see_why"} <= set(g)  # the rule names real modules
    bad = {m: sorted(g[m] & WIRING) for m in g if m.startswith("gdstudio.gui.views") and g[m] & WIRING}
    assert bad == {}


def test_the_window_helpers_never_reach_the_window():
    """The dependency runs one way: main_window imports its helpers; none of them reaches main_window."""
    g = import_graph()
    helpers = ["gdstudio.gui.image_export", "gdstudio.gui.persistence", "gdstudio.gui.session_io",
               "gdstudio.gui.actions"]
    assert set(helpers) <= g["gdstudio.gui.main_window"]  # the window does use each of them
    for h in helpers:
        seen, todo = set(), [h]
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(g[m])
        assert "gdstudio.gui.main_window" not in seen, h
