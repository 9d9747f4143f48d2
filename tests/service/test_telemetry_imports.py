"""flask_aws_telemetry is a library: it imports nothing of cruddur, and its modules import each other without a cycle.

Every import counts, the ones under ``if TYPE_CHECKING:`` and inside functions
too: a cycle a type checker or a lazy import hides is still two modules that
cannot be read, or moved, one without the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "flask_aws_telemetry"
PACKAGE_DIR = Path(__file__).resolve().parents[2] / "packages" / "flask-aws-telemetry" / "src" / PACKAGE


def _modules(package_dir: Path) -> dict[str, Path]:
    return {
        PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}": path
        for path in sorted(package_dir.glob("*.py"))
    }


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules ``module`` imports: absolute names, relative ones resolved, ``from . import x`` as the submodule
    x.
    """
    package = module if path.stem == "__init__" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            submodules = {f"{base}.{alias.name}" for alias in node.names} & set(modules)
            found |= submodules or {base}
    return found - {module}


def _graph(package_dir: Path) -> dict[str, set[str]]:
    modules = _modules(package_dir)
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the graph's own modules, as a path, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node] & set(graph)):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_scan_sees_a_cycle_hidden_behind_type_checking(tmp_path):
    """Two modules importing each other, one only for its types, are a cycle."""
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n")
    (package / "b.py").write_text("from . import a\n")
    assert _cycle(_graph(package)) in (
        [f"{PACKAGE}.a", f"{PACKAGE}.b", f"{PACKAGE}.a"],
        [f"{PACKAGE}.b", f"{PACKAGE}.a", f"{PACKAGE}.b"],
    )


def test_the_telemetry_modules_import_each_other_without_a_cycle():
    """No cycle among the library's modules, TYPE_CHECKING-only and function-level imports included."""
    graph = _graph(PACKAGE_DIR)
    assert {"flask_aws_telemetry.gate", "flask_aws_telemetry.request_path"} <= set(graph)  # the scan found the modules
    assert _cycle(graph) is None


@pytest.mark.parametrize("module", sorted(_modules(PACKAGE_DIR)))
def test_the_library_imports_nothing_of_cruddur(module):
    """Any Flask app can install the telemetry: no module of it imports the app it was written for."""
    imported = _graph(PACKAGE_DIR)[module]
    assert not {name for name in imported if name == "cruddur" or name.startswith("cruddur.")}
