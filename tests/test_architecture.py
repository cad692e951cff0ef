"""Imports point one way, checked over the AST by this suite's own reading of the code.

import-linter enforces the same contracts in ``make lint``; this test reads every ``import`` in
``nidb/`` itself (those inside functions and under ``TYPE_CHECKING`` included), so a wrong-way
import fails here even where a tool would skip it. The layers and the forbidden imports are the
ones declared once, in ``pyproject.toml`` under ``[tool.importlinter]``.
"""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "nidb"

Graph = Mapping[str, set[str]]


def module_names(package: Path) -> dict[str, Path]:
    """Every module under ``package``, by dotted name (a package by its own name)."""
    names: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        if path.name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        origin = ".".join([*base, node.module] if node.module else base)
    else:
        origin = node.module or ""
    # `from a import b` imports the module a.b where there is one, else a name of module a
    return [f"{origin}.{alias.name}" for alias in node.names]


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (anywhere in the file)."""
    modules = module_names(package)
    root = package.name
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _imported(name, path, node):
                if target.split(".")[0] != root:
                    continue
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


@dataclass(frozen=True)
class Layers:
    """The declared layers, highest first; each layer a set of sibling packages."""

    levels: tuple[tuple[frozenset[str], bool], ...]  # (packages, independent siblings?)

    @classmethod
    def parse(cls, declared: list[str]) -> Layers:
        levels = []
        for line in declared:
            independent = ":" not in line
            names = [part.strip().strip("()") for part in line.replace(":", "|").split("|")]
            levels.append((frozenset(names), independent))
        return cls(tuple(levels))

    def place(self, module: str) -> tuple[int, str] | None:
        """(level, owning package) of ``module``, or None where no layer holds it."""
        for level, (packages, _) in enumerate(self.levels):
            for package in packages:
                if module == package or module.startswith(package + "."):
                    return level, package
        return None

    def violations(self, graph: Graph) -> list[str]:
        """Imports from a lower layer to a higher one, or between independent siblings."""
        found = []
        for importer, targets in sorted(graph.items()):
            here = self.place(importer)
            if here is None:
                continue
            for target in sorted(targets):
                there = self.place(target)
                if there is None:
                    continue
                if there[0] < here[0]:
                    found.append(f"{importer} → {target} (a lower layer imports a higher one)")
                elif there[0] == here[0] and there[1] != here[1] and self.levels[here[0]][1]:
                    found.append(f"{importer} → {target} (independent siblings)")
        return found


def forbidden_imports(graph: Graph, sources: list[str], forbidden: list[str]) -> list[str]:
    """Direct imports from any of ``sources`` (or below) into any of ``forbidden`` (or below)."""

    def under(module: str, names: list[str]) -> bool:
        return any(module == name or module.startswith(name + ".") for name in names)

    return [
        f"{importer} → {target}"
        for importer, targets in sorted(graph.items())
        if under(importer, sources)
        for target in sorted(targets)
        if under(target, forbidden)
    ]


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(PACKAGE)


def test_no_module_of_nidb_takes_part_in_an_import_cycle(graph: Graph) -> None:
    assert cycles(graph) == []


def test_no_import_runs_from_a_lower_layer_to_a_higher_one(graph: Graph) -> None:
    layers = Layers.parse(list(_contracts()["layers"]["layers"]))  # type: ignore[call-overload]
    assert layers.violations(graph) == []


@pytest.mark.parametrize("contract", ["sim", "sim-users"])
def test_forbidden_imports_are_absent(graph: Graph, contract: str) -> None:
    declared = _contracts()[contract]
    sources = list(declared["source_modules"])  # type: ignore[call-overload]
    forbidden = list(declared["forbidden_modules"])  # type: ignore[call-overload]
    assert forbidden_imports(graph, sources, forbidden) == []


def test_nothing_but_the_command_line_imports_the_command_line(graph: Graph) -> None:
    importers = [
        f"{importer} → {target}"
        for importer, targets in sorted(graph.items())
        if not (importer == "nidb.cli" or importer.startswith("nidb.cli."))
        and importer != "nidb.__main__"
        for target in targets
        if target == "nidb.cli" or target.startswith("nidb.cli.")
    ]
    assert importers == []


def test_every_top_level_package_has_a_layer() -> None:
    layers = Layers.parse(list(_contracts()["layers"]["layers"]))  # type: ignore[call-overload]
    unplaced = [
        name
        for name in module_names(PACKAGE)
        if name.count(".") == 1 and layers.place(name) is None
    ]
    assert sorted(unplaced) == ["nidb.__main__", "nidb.sim"]


# The checker itself must be able to fail: a small package written to a temp folder.
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, source in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def test_the_checker_sees_a_cycle_through_an_import_inside_a_function(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "a.py": "from pkg import b\n",
            "b.py": "def f():\n    from pkg.c import x\n",
            "c.py": "from . import a\nx = 1\n",
        },
    )
    assert cycles(import_graph(root)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_the_checker_sees_an_upward_and_a_sideways_import(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/x.py": "def f():\n    import pkg.high.y\n",
            "high/__init__.py": "",
            "high/y.py": "from pkg.low import x\nfrom pkg.side import z\n",
            "side/__init__.py": "",
            "side/z.py": "",
        },
    )
    graph = import_graph(root)
    layers = Layers.parse(["pkg.high | pkg.side", "pkg.low"])
    assert layers.violations(graph) == [
        "pkg.high.y → pkg.side.z (independent siblings)",
        "pkg.low.x → pkg.high.y (a lower layer imports a higher one)",
    ]
    assert forbidden_imports(graph, ["pkg.high"], ["pkg.side"]) == ["pkg.high.y → pkg.side.z"]


def upward_imports_by_package(graph: Graph, layers: Layers) -> dict[str, int]:
    """How many wrong-way imports each package makes (for the redesign's before/after count)."""
    counts: dict[str, int] = defaultdict(int)
    for line in layers.violations(graph):
        counts[".".join(line.split(" ")[0].split(".")[:2])] += 1
    return dict(counts)
