"""Package-level promises: lazy imports and the public names."""

import ast
import subprocess
import sys
from pathlib import Path

import bayesreg


def test_import_does_not_load_torch_or_pyro():
    code = (
        "import sys, bayesreg\n"
        "from bayesreg import RidgeMAP, BasisExpansion\n"
        "import bayesreg.distributions, bayesreg.datasets\n"
        "bad = [m for m in ('torch', 'pyro') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_public_names_resolve():
    for name in bayesreg.__all__:
        assert getattr(bayesreg, name).__name__ == name
    assert set(bayesreg.__all__) <= set(dir(bayesreg))


# ---------------------------------------------------------------------------
# The shape of the house: the import graph
# ---------------------------------------------------------------------------
_PACKAGE_DIR = Path(bayesreg.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(_PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(_PACKAGE_DIR.rglob("*.py"))}


def _imports(name: str, path: Path, modules) -> set[str]:
    """The bayesreg modules that ``name`` imports anywhere in its source,
    at module level or inside a function (a lazy import is still a
    dependency)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # ``from pkg import sub`` imports the submodule when there is one.
            subs = [f"{stem}.{alias.name}" for alias in node.names]
            targets = [s for s in subs if s in modules] or [stem]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a closed path, or None (depth-first
    search: meeting a node still on the stack closes a cycle)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    graph = _import_graph()
    assert len(graph) > 20 and "bayesreg.conjugate" in graph
    assert _find_cycle(graph) is None, " -> ".join(_find_cycle(graph))


def test_the_cycle_finder_can_fail():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [
        "a",
        "b",
        "c",
        "a",
    ]
    assert _find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None
    # The graph is read from the source, lazy imports included: a function-
    # level import is an edge.
    graph = _import_graph()
    assert "bayesreg._gaussian" in graph["bayesreg.conjugate"]


def test_utils_is_a_leaf():
    graph = _import_graph()
    for name, deps in graph.items():
        if name.startswith("bayesreg.utils"):
            outside = {d for d in deps if not d.startswith("bayesreg.utils")}
            assert not outside, (
                f"{name} imports {sorted(outside)}: utils must be a leaf"
            )


def test_numpy_side_never_imports_the_torch_rooms():
    """Nothing outside pyro/ and networks/ imports either (the package's
    lazy names excepted)."""
    graph = _import_graph()
    rooms = ("bayesreg.pyro", "bayesreg.networks")
    for name, deps in graph.items():
        if not name.startswith(rooms) and name != "bayesreg":
            assert not {d for d in deps if d.startswith(rooms)}, name


#: What the network room may take from pyro/: its modules that import no pyro
#: (the shared intake and the torch runtime: devices, seeds, threads).
_PYRO_FREE = {"bayesreg.pyro._data", "bayesreg.pyro._runtime"}


def _imports_pyro(path: Path) -> bool:
    """Whether a module's source imports the pyro library (anywhere)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        if any(n == "pyro" or n.startswith("pyro.") for n in names):
            return True
    return False


def test_the_network_room_never_imports_pyro():
    """networks/ imports no pyro, directly or through bayesreg: of pyro/ it
    reaches only modules that import no pyro themselves."""
    graph, modules = _import_graph(), _modules()
    room = {n for n in graph if n.startswith("bayesreg.networks")}
    assert {"bayesreg.networks._base", "bayesreg.networks.ensemble"} <= room
    reached, todo = set(), list(room)
    while todo:  # everything the room imports, transitively
        for dep in graph[todo.pop()]:
            if dep not in reached:
                reached.add(dep)
                todo.append(dep)
    from_pyro = {d for d in reached if d.startswith("bayesreg.pyro")}
    assert from_pyro <= _PYRO_FREE, from_pyro - _PYRO_FREE
    assert not [n for n in room | reached if _imports_pyro(modules[n])]
    # the check can fail: the BNN's model module imports pyro
    assert _imports_pyro(modules["bayesreg.pyro._network"])


def test_no_module_over_700_lines():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > 700
    }
    assert not long, f"modules over 700 lines: {long}"
