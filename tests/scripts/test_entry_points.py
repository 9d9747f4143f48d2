"""make and the workflows run the benchmarks and scripts as modules from the repository root; no file edits the
import path.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest

from testsupport import REPO_ROOT

CALLERS = [REPO_ROOT / "Makefile", *sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))]
# The project's own packages whose code is run with ``python -m``.
RUN_AS_MODULES = ("bench", "scripts", "testsupport")
SEARCHED = ("bench", "scripts", "tests", "testsupport")


def _modules_called() -> list[str]:
    """Every ``-m bench.x`` / ``-m scripts.x`` in the Makefile and the workflows."""
    pattern = re.compile(rf"-m ((?:{'|'.join(RUN_AS_MODULES)})(?:\.\w+)+)")
    return sorted({module for path in CALLERS for module in pattern.findall(path.read_text())})


def test_make_and_the_workflows_call_every_benchmark_and_script_as_a_module():
    """No caller runs a bench or scripts file by path: run so, its imports of the project would fail."""
    by_path = re.compile(r"(?:python|VENV_PY\)) +(?:bench|scripts)/\S+\.py")
    for path in CALLERS:
        assert not by_path.findall(path.read_text()), path.name
    assert {
        "bench.overhead",
        "bench.request_cost",
        "bench.synth_time",
        "scripts.put_secrets",
        "scripts.stack_inventory",
    } <= set(_modules_called())


@pytest.mark.parametrize("module", _modules_called())
def test_each_called_module_starts_from_the_repository_root(module):
    """``python -m <module> --help`` from the repository root imports everything it needs and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def _touches_the_import_path(tree: ast.AST) -> bool:
    """Whether the module reads or changes ``path`` of the ``sys`` module."""
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
        for node in ast.walk(tree)
    )


def test_no_python_file_edits_the_import_path():
    """Tests and benchmarks import ``testsupport`` (and each other) as packages, never by editing the import path."""
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for folder in SEARCHED
        for path in sorted((REPO_ROOT / folder).rglob("*.py"))
        if _touches_the_import_path(ast.parse(path.read_text()))
    ]
    assert offenders == []
    edit = ast.Expr(ast.Call(ast.Attribute(ast.Attribute(ast.Name("sys"), "path"), "insert"), [], []))
    assert _touches_the_import_path(edit)  # the scan sees an edit
