"""flask-aws-telemetry as a team installs it: a wheel built with ``python -m build``, installed into a fresh virtualenv
with its declared dependencies from the package index, and every public name imported from there.

The wheel is built from a copy of the package's folder, so nothing of the build is left in the tree.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import distributions
from pathlib import Path

import pytest

from testsupport.waiting import closed_port

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO_ROOT / "packages" / "flask-aws-telemetry"
SOURCE_DIR = PACKAGE_DIR / "src" / "flask_aws_telemetry"
PYPROJECT = tomllib.loads((PACKAGE_DIR / "pyproject.toml").read_text())
# Distributions needed at run time that the library does not import (pyproject.toml says why).
RUN_TIME_ONLY = {"gunicorn", "requests"}


def _name(requirement: str) -> str:
    """The normalized distribution name of a requirement such as ``Flask>=3.0,<4``."""
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match[1]).lower()


DECLARED = {_name(requirement) for requirement in PYPROJECT["project"]["dependencies"]}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built in an isolated build environment as a release would build it."""
    source = tmp_path_factory.mktemp("source") / "flask-aws-telemetry"
    shutil.copytree(PACKAGE_DIR, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--wheel", str(source), "-o", str(out)]
    result = subprocess.run(build, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (built,) = out.glob("flask_aws_telemetry-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_python(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel installed, its dependencies resolved from the package index."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)]
    result = subprocess.run(install, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    return python


def _run(python: Path, *args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess:
    """``python`` with ``args`` outside the repository, with no path of it in the environment."""
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=120, env=env or {}, cwd=cwd)


def test_the_wheel_holds_the_package_with_py_typed_and_nothing_else(wheel):
    """Every module of the source and py.typed; no test, no app, no other package."""
    names = zipfile.ZipFile(wheel).namelist()
    package = {name for name in names if not name.startswith("flask_aws_telemetry-")}
    assert package == {f"flask_aws_telemetry/{path.name}" for path in SOURCE_DIR.iterdir() if path.is_file()} - {
        f"flask_aws_telemetry/{path.name}" for path in SOURCE_DIR.glob("*.pyc")
    }
    assert "flask_aws_telemetry/py.typed" in package


def test_the_wheel_declares_the_dependencies_and_readme_of_pyproject(wheel):
    """Requires-Dist is pyproject.toml's list, each with its range; the README is the long description."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name).decode()
    requires = [
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]
    assert {_name(line) for line in requires} == DECLARED
    assert all(re.search(r"[<>=]", line) for line in requires), requires  # every dependency has a range
    assert "Requires-Python: >=3.11" in metadata
    assert (PACKAGE_DIR / "README.md").read_text().strip() in metadata


def test_every_public_name_imports_from_the_installed_wheel(venv_python, tmp_path):
    """``__all__`` of the installed package, each name resolved, and the star import, from the wheel alone."""
    probe = (
        "import json, flask_aws_telemetry as f\n"
        "names = {n: type(getattr(f, n)).__name__ for n in f.__all__}\n"
        "namespace = {}\n"
        "exec('from flask_aws_telemetry import *', namespace)\n"
        "print(json.dumps({'file': f.__file__, 'names': names, 'star': sorted(set(namespace) - {'__builtins__'})}))\n"
    )
    result = _run(venv_python, "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout)
    assert found["file"].startswith(str(venv_python.parents[1]))  # the wheel's copy, not the repository's
    assert found["names"] == {
        "EXTENSION_KEY": "str",
        "BrowserTraceLimits": "type",
        "EnvironReader": "type",
        "Operation": "type",
        "ProcessSettings": "type",
        "SettingsError": "type",
        "Telemetry": "type",
        "TelemetrySettings": "type",
        "contract": "module",
        "gunicorn_config": "module",
        "gunicorn_hooks": "module",
        "healthcheck": "module",
        "operation": "function",
        "parse_json_body": "function",
    }
    assert found["star"] == sorted(found["names"])


def test_the_health_check_command_runs_from_the_installed_wheel(venv_python, tmp_path):
    """python -m flask_aws_telemetry.healthcheck in the fresh virtualenv: nothing listens, exit 1, one line."""
    port = closed_port()
    result = _run(venv_python, "-m", "flask_aws_telemetry.healthcheck", env={"PORT": str(port)}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"unhealthy: GET http://127.0.0.1:{port}/health: Connection refused\n"


def _imported_modules() -> set[str]:
    """Every module the library imports by absolute name, at module level or inside functions (``from a import b``
    counts ``a`` and ``a.b``, which may be a module), but the standard library's.
    """
    modules = set()
    for path in SOURCE_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    top_level_skipped = set(sys.stdlib_module_names) | {"__future__", "flask_aws_telemetry"}
    return {module for module in modules if module.split(".")[0] not in top_level_skipped}


def _source_file(module: str) -> Path | None:
    """The file ``module`` is loaded from; None for a name that is no module, or a namespace package."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a name imported from a module that is not a package
        return None
    return Path(spec.origin).resolve() if spec is not None and spec.origin else None


def _owners() -> dict[Path, str]:
    """Each installed file, by the normalized name of the distribution that installed it."""
    return {
        Path(str(dist.locate_file(file))).resolve(): _name(dist.metadata["Name"])
        for dist in distributions()
        for file in dist.files or []
        if file.suffix == ".py"
    }


def test_every_distribution_the_library_imports_is_declared_and_every_declared_one_is_needed():
    """An import of a package that arrives only through another's dependencies breaks when that one drops it; a
    declared distribution nothing imports or runs is a dependency for nothing.
    """
    modules = _imported_modules()
    assert {"flask", "opentelemetry.trace", "aws_xray_sdk.core", "watchtower"} <= modules  # the scan sees them
    owners = _owners()
    imported = {module: owners.get(file, "<no distribution>") for module in modules if (file := _source_file(module))}
    assert "opentelemetry.trace" in imported and "flask" in imported  # modules, namespace packages aside
    assert {module: dist for module, dist in imported.items() if dist not in DECLARED} == {}
    assert DECLARED - set(imported.values()) - RUN_TIME_ONLY == set()
