"""One room per job, data flowing one way: the package's imports (module level, inside functions, under
TYPE_CHECKING, and "pjbench.x:y" strings that name a module to import later) never point to a higher layer, and the
imports that run (TYPE_CHECKING ones do not) make no circle. The layers are the picture in docs/architecture.md."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pjbench"

# lowest first; a room is a subpackage or a top-level module; rooms on one layer never import each other
LAYERS: list[tuple[str, ...]] = [
    (
        "version",
        "paths",
        "hashing",
        "hints",
        "lazy",
        "progress",
        "parallel",
        "allocator",
        "precision",
        "audio",
        "data",  # package files (CSV)
    ),
    ("video",),
    ("scoring", "datasets", "encoders", "heads"),
    ("tasks", "extraction"),
    ("results",),
    ("probing",),
    ("experiments",),
    ("reporting",),
    ("api",),
    ("cli",),
    ("__main__", "__init__"),  # `python -m pjbench`, and the package's door (it hands out the API)
]
LAYER_OF = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
MODULE_STRING = re.compile(r"^pjbench(?:\.\w+)+(?::\w+)?$")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    runtime: bool  # False: under `if TYPE_CHECKING:` or a string naming a module


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def edges(root: Path) -> list[Edge]:
    known = modules(root)
    top = root.name

    def existing(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    out = []
    for name, path in known.items():
        tree = ast.parse(path.read_text())
        guarded = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STRING.match(node.value):
                target = existing(node.value.split(":")[0])
                if target and target != name:
                    out.append(Edge(name, target, node.lineno, runtime=False))
                continue
            for target in targets:
                if not (target == top or target.startswith(top + ".")):
                    continue
                resolved = existing(target)
                if resolved and resolved != name:
                    out.append(Edge(name, resolved, node.lineno, runtime=node.lineno not in guarded))
    return out


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward(all_edges: list[Edge], layer_of: dict[str, int]) -> list[str]:
    problems = []
    for e in all_edges:
        a, b = room(e.source), room(e.target)
        if a == b:
            continue
        if a not in layer_of or b not in layer_of:
            problems.append(f"{e.source}:{e.line} -> {e.target}: room {a if a not in layer_of else b} has no layer")
        elif layer_of[b] >= layer_of[a]:
            problems.append(f"{e.source}:{e.line} -> {e.target} ({a}, layer {layer_of[a]} -> {b}, layer {layer_of[b]})")
    return problems


def circles(all_edges: list[Edge]) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for e in all_edges:
        if e.runtime:
            graph.setdefault(e.source, set()).add(e.target)
            graph.setdefault(e.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_from_a_layer_above_it():
    found = edges(PACKAGE)
    assert len(found) > 300  # the walk sees the package's imports (a broken walk would pass vacuously)
    assert upward(found, LAYER_OF) == []


def test_no_import_circles():
    assert circles(edges(PACKAGE)) == []


def test_every_room_has_a_layer():
    rooms = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert rooms - set(LAYER_OF) == set()


def test_the_checks_catch_an_upward_import_a_circle_and_a_module_string(tmp_path):
    pkg = tmp_path / "pjbench"
    for folder in ("scoring", "reporting"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "scoring" / "metrics.py").write_text("from ..reporting.board import x\n")
    (pkg / "reporting" / "board.py").write_text("from ..scoring import metrics\nx = 1\n")
    (pkg / "scoring" / "lazy.py").write_text("TARGET = 'pjbench.reporting.board:x'\n")
    (pkg / "scoring" / "typed.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..reporting import board\n")
    found = edges(pkg)
    problems = upward(found, LAYER_OF)
    assert any(p.startswith("pjbench.scoring.metrics:1 -> pjbench.reporting.board") for p in problems)
    assert any(p.startswith("pjbench.scoring.lazy:1 -> pjbench.reporting.board") for p in problems)
    assert any(p.startswith("pjbench.scoring.typed:3 -> pjbench.reporting.board") for p in problems)
    assert circles(found) == [["pjbench.reporting.board", "pjbench.scoring.metrics"]]


@pytest.mark.parametrize("module", ["pjbench", "pjbench.encoders", "pjbench.datasets", "pjbench.tasks", "pjbench.heads"])
def test_the_lower_rooms_import_alone(module):
    """Each low room can be read and imported on its own, in a fresh interpreter, without the rooms above it."""
    import subprocess
    import sys

    above = ("pjbench.probing", "pjbench.reporting", "pjbench.cli", "pjbench.experiments")
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith({above!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_the_readmes_python_example_runs(tiny, tiny_mel_cache, tmp_path, monkeypatch, capsys):
    """The README's Python API example, as written, on the tiny set (its mel cache already made)."""
    readme = (PACKAGE.parent / "README.md").read_text()
    section = readme[readme.index("### From Python") :]
    code = section[section.index("```python") + len("```python") : section.index("```", section.index("```python") + 9)]
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102
    out = capsys.readouterr().out
    assert "difficulty-3way linear-paper" in out and "| mel |" in out
    assert (tmp_path / "pjbench-results" / tiny.name / "mel" / "difficulty-3way.linear-paper.json").exists()


def test_the_cli_stays_thin():
    """Each CLI module parses, calls and prints: under 300 lines, and no training or statistics code of its own."""
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        text = path.read_text()
        assert len(text.splitlines()) < 300, path
        for banned in ("import torch", "import numpy", "from ..probing.train", "from ..probing.fit", "from ..scoring"):
            assert banned not in text, f"{path} holds {banned!r}"
