"""Neither package imports Cruddur: every import of every module, TYPE_CHECKING and function-level ones included.

The telemetry library and the constructs are packages any Flask app
installs; Cruddur is their first user. The scan reads the source (``ast``),
so an import that runs only under a type checker or inside a function is
found as surely as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from testsupport import REPO_ROOT

PACKAGES = {
    "flask_aws_telemetry": REPO_ROOT / "packages/flask-aws-telemetry/src/flask_aws_telemetry",
    "flask_aws_telemetry_cdk": REPO_ROOT / "packages/flask-aws-telemetry-cdk/src/flask_aws_telemetry_cdk",
}
APP_PACKAGE = "cruddur"


def imported_modules(source: str) -> list[tuple[int, str]]:
    """Every module ``source`` imports, with its line: import statements anywhere, and import_module/__import__
    calls with a literal name.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def app_imports(root: Path) -> list[str]:
    """``path:line module`` for every import of the app's package under ``root``."""
    return [
        f"{path.relative_to(root.parent)}:{line} {module}"
        for path in sorted(root.rglob("*.py"))
        for line, module in imported_modules(path.read_text())
        if module == APP_PACKAGE or module.startswith(f"{APP_PACKAGE}.")
    ]


@pytest.mark.parametrize("package", list(PACKAGES))
def test_no_module_of_the_package_imports_the_app(package):
    """Given every module of the package, no import names cruddur."""
    assert app_imports(PACKAGES[package]) == []


def test_the_constructs_never_name_cruddur():
    """Not an import, a default, a name or a docstring: the constructs' package does not say 'cruddur'."""
    root = PACKAGES["flask_aws_telemetry_cdk"]
    mentions = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix in (".py", ".md", ".typed")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if APP_PACKAGE in line.lower()
    ]
    assert mentions == []


PLANTED = {
    "top level": "from cruddur import contract\n",
    "TYPE_CHECKING": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cruddur.settings import Settings\n",
    "function level": "def f():\n    import cruddur.table as design\n    return design\n",
    "import_module": "import importlib\n\ndef f():\n    return importlib.import_module('cruddur.contract')\n",
}


@pytest.mark.parametrize("source", PLANTED.values(), ids=list(PLANTED))
def test_a_planted_import_is_found(tmp_path, source):
    """Given a module that imports cruddur in any of these ways, the scan names its file and line."""
    package = tmp_path / "flask_aws_telemetry_cdk"
    package.mkdir()
    (package / "__init__.py").write_text('"""Clean."""\n')
    (package / "planted.py").write_text(source)
    (found,) = app_imports(package)
    assert found.startswith("flask_aws_telemetry_cdk/planted.py:")
    assert found.endswith(("cruddur", "cruddur.contract", "cruddur.settings", "cruddur.table"))


def test_relative_imports_and_look_alikes_are_not_the_app():
    """``from . import x`` and a module merely named like it (cruddur_tools) are not imports of cruddur."""
    source = "from . import contract\nimport cruddur_tools\nfrom flask_aws_telemetry import contract as c\n"
    assert [module for _, module in imported_modules(source) if module.split(".")[0] == APP_PACKAGE] == []
