"""The package's rooms follow the pipeline, and data flows one way.

guidelines (the law) → model (population, arrest, policy, judge, profiles, scenario) → run
(streams, pipeline, runner, tally) → analysis (metrics, results) → output (archive, tables,
figures, report) → api and console → cli. A module imports only from its own room or rooms
before it (imports inside functions included), and no two modules import each other, directly or
through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"

#: Rank of each room (a top-level module is its own room).
RANKS = {
    "inputs": 0,
    "sources": 0,
    "guidelines": 1,
    "model": 2,
    "run": 3,
    "analysis": 4,
    "output": 5,
    "api": 6,
    "console": 6,
    "cli": 7,
    "__main__": 8,
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("sim"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in SIM.rglob("*.py")}
    return {
        name: {i for i in _imports(path) if i in modules and i != name}
        for name, path in modules.items()
    }


def test_every_room_is_ranked():
    rooms = {_room(_module(p)) for p in SIM.rglob("*.py")} - {None}
    assert rooms <= set(RANKS), rooms - set(RANKS)


def test_no_module_imports_from_a_later_room():
    upstream = []
    for module, imported in _graph().items():
        room = _room(module)
        for other in imported:
            if room and _room(other) and RANKS[_room(other)] > RANKS[room]:
                upstream.append(f"{module} imports {other}")
    assert upstream == []


def test_no_import_cycles():
    graph = _graph()
    cycles = []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        if node in path:
            cycles.append(" -> ".join([*path[path.index(node) :], node]))
            return
        if node in done:
            return
        for other in sorted(graph[node]):
            visit(other, [*path, node], done)
        done.add(node)

    done: set[str] = set()
    for node in sorted(graph):
        visit(node, [], done)
    assert cycles == []
