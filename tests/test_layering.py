"""The floor plan: imports only go down, and no two modules import each other (directly or round a loop).

Floors, top to bottom (the longest matching prefix of a module's name decides its floor)::

    app        oldphoto.cli, oldphoto.__main__, oldphoto.demo, oldphoto.apps, oldphoto.benchmark.cli_study
    benchmark  oldphoto.benchmark
    training   oldphoto.models.training
    models     oldphoto.models (the families' inference code, weight files)
    metrics    oldphoto.benchmark.metrics
    datasets   oldphoto.datasets
    degrade    oldphoto.degrade
    infra      oldphoto.infra, oldphoto (file I/O, hashing, device and memory probes, weight cache)

Every import counts: module level, inside functions and under ``if TYPE_CHECKING``. A module may
import its own floor and the floors below it, except the pairs in ``FORBIDDEN`` (the benchmark
measures restorers and never needs their training); an import cycle between modules fails on any
floor. Modules that a registry imports by name (``FAMILY_MODULES``, ``TRAINER_MODULES``) are not
seen by the AST walk; a run-time test checks that loading every model and the benchmark loads no
training code.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "oldphoto"
# Floors from the bottom up; a module may import its own floor and the floors below it.
ORDER = ("infra", "degrade", "datasets", "metrics", "models", "training", "benchmark", "app")
# Module name prefix -> floor (the longest matching prefix wins).
FLOORS: dict[str, str] = {
    "oldphoto": "infra",
    "oldphoto.infra": "infra",
    "oldphoto.degrade": "degrade",
    "oldphoto.datasets": "datasets",
    "oldphoto.benchmark.metrics": "metrics",
    "oldphoto.models": "models",
    "oldphoto.models.training": "training",
    "oldphoto.benchmark": "benchmark",
    "oldphoto.apps": "app",
    "oldphoto.benchmark.cli_study": "app",
    "oldphoto.demo": "app",
    "oldphoto.cli": "app",
    "oldphoto.__main__": "app",
}
# (floor, floor it must not import although it lies below).
FORBIDDEN: frozenset[tuple[str, str]] = frozenset({("benchmark", "training")})


def package_modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Module name -> file of every module of the package (folders without ``__init__.py``, the tests
    and hidden folders are not part of it)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        folders = rel.parts[:-1]
        if folders and folders[0] == "tests" or any(part.startswith(".") for part in rel.parts):
            continue
        if not all((root.joinpath(*folders[:depth]) / "__init__.py").is_file() for depth in range(1, len(folders) + 1)):
            continue
        parts = [package, *folders] + ([] if path.stem == "__init__" else [path.stem])
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, source: str, known: Iterable[str]) -> set[str]:
    """Package modules that module ``name`` imports anywhere in ``source`` (``from X import Y`` counts
    as importing the submodule ``X.Y`` when there is one, else ``X``)."""
    known = set(known)
    is_package = f"{name}.__init__" in known or any(other.startswith(name + ".") for other in known)
    base = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            anchor = base
            for _ in range(node.level - 1):
                anchor = anchor.rpartition(".")[0]
            module = ".".join(part for part in (anchor if node.level else "", node.module or "") if part)
            targets = [f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def floor_of(module: str, floors: Mapping[str, str] = FLOORS) -> str:
    """The floor of the longest prefix of ``module`` listed in ``floors``."""
    matches = [prefix for prefix in floors if module == prefix or module.startswith(prefix + ".")]
    if not matches:
        raise KeyError(f"{module}: on no floor; add it to FLOORS")
    return floors[max(matches, key=len)]


def floor_violations(graph: Mapping[str, set[str]], floors: Mapping[str, str] = FLOORS,
                     order: tuple[str, ...] = ORDER, forbidden: frozenset[tuple[str, str]] = FORBIDDEN) -> list[str]:
    """One line per import from a lower floor into a higher one, or between a ``forbidden`` pair."""
    problems = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            source, dest = floor_of(module, floors), floor_of(target, floors)
            if order.index(dest) > order.index(source) or (source, dest) in forbidden:
                problems.append(f"{module} ({source}) imports {target} ({dest})")
    return problems


def import_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package modules it imports, for the whole package."""
    modules = package_modules(root)
    return {name: imported_modules(name, path.read_text(), modules) for name, path in modules.items()}


def test_every_module_is_on_a_floor():
    for module in package_modules():
        floor_of(module)


def test_imports_follow_the_floor_plan():
    problems = floor_violations(import_graph())
    assert not problems, "imports against the floor plan (see tests/test_layering.py):\n" + "\n".join(problems)


def test_no_import_cycles():
    cycles = import_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(cycle) for cycle in cycles)


def test_registered_models_and_the_benchmark_load_no_training_code():
    code = ("import sys; from oldphoto import models; models.list_models(); import oldphoto.benchmark.runner, "
            "oldphoto.apps.restore; print(sorted(m for m in sys.modules if m.startswith('oldphoto.models.training')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_checker_finds_a_synthetic_violation_and_cycle(tmp_path):
    for folder, text in {"": "", "low": "def f():\n    from ..high import thing\n", "high": "",
                         "high/thing.py": "from oldphoto.low import a\n", "low/a.py": "from . import b\n",
                         "low/b.py": "import oldphoto.low.a\n"}.items():
        path = tmp_path / folder if folder.endswith(".py") else tmp_path / folder / "__init__.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    graph = import_graph(tmp_path)
    assert graph["oldphoto.low"] == {"oldphoto.high.thing"}
    floors = {"oldphoto": "bottom", "oldphoto.low": "low", "oldphoto.high": "high"}
    order = ("bottom", "low", "high")
    assert floor_violations(graph, floors, order, frozenset()) == [
        "oldphoto.low (low) imports oldphoto.high.thing (high)"]
    assert floor_violations(graph, floors, order, frozenset({("high", "low")})) == [
        "oldphoto.high.thing (high) imports oldphoto.low.a (low)",
        "oldphoto.low (low) imports oldphoto.high.thing (high)"]
    assert import_cycles(graph) == [["oldphoto.low.a", "oldphoto.low.b"]]
