"""Each construct says in its signature what it uses: none reads the environment's configuration."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[2] / "stacks" / "components"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


@pytest.mark.parametrize("path", sorted(COMPONENTS.glob("*.py")), ids=lambda path: path.name)
def test_no_construct_module_imports_the_environment_configuration(path):
    """Given a module of stacks/components, it imports neither stacks.config nor stacks.environments."""
    imported = _imported_modules(path)
    assert not {name for name in imported if name.startswith(("stacks.config", "stacks.environments"))}


def test_the_scan_sees_an_import_of_the_configuration(tmp_path):
    """The scan above would notice such an import."""
    module = tmp_path / "construct.py"
    module.write_text("from stacks.config import EnvironmentConfig\n")
    assert "stacks.config" in _imported_modules(module)
