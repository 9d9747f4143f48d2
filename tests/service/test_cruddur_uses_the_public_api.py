"""Cruddur is a user of flask_aws_telemetry like any other: it imports only what the package's ``__all__`` names.

Every import of the app (``service/cruddur``) and of its ``gunicorn.conf.py`` is
walked, those inside functions and under ``TYPE_CHECKING`` too: a private
module of the library (``flask_aws_telemetry.logs``, ``.settings``...) may
change in any release, so an app that reaches into one breaks with it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flask_aws_telemetry

SERVICE_DIR = Path(__file__).resolve().parents[2] / "service"
LIBRARY = "flask_aws_telemetry"
PUBLIC_NAMES = set(flask_aws_telemetry.__all__)
PUBLIC_MODULES = {LIBRARY} | {
    f"{LIBRARY}.{name}" for name in PUBLIC_NAMES if type(getattr(flask_aws_telemetry, name)).__name__ == "module"
}


def _private_imports(source: str) -> list[str]:
    """The imports in ``source`` of a library module or name outside the public API, as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                alias.name
                for alias in node.names
                if alias.name.split(".")[0] == LIBRARY and alias.name not in PUBLIC_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == LIBRARY:
            if node.module not in PUBLIC_MODULES:
                found.append(node.module)
            elif node.module == LIBRARY:
                found += [f"{LIBRARY}.{alias.name}" for alias in node.names if alias.name not in PUBLIC_NAMES]
    return found


def _cruddur_sources() -> list[Path]:
    return [*sorted((SERVICE_DIR / "cruddur").rglob("*.py")), SERVICE_DIR / "gunicorn.conf.py"]


def test_the_public_api_is_what_the_package_names():
    """The names a user imports, the modules among them, and nothing private."""
    assert PUBLIC_NAMES == {
        "EXTENSION_KEY",
        "BrowserTraceLimits",
        "EnvironReader",
        "Operation",
        "ProcessSettings",
        "SettingsError",
        "Telemetry",
        "TelemetrySettings",
        "contract",
        "gunicorn_config",
        "gunicorn_hooks",
        "healthcheck",
        "operation",
        "parse_json_body",
    }
    assert PUBLIC_MODULES == {
        LIBRARY,
        f"{LIBRARY}.contract",
        f"{LIBRARY}.gunicorn_config",
        f"{LIBRARY}.gunicorn_hooks",
        f"{LIBRARY}.healthcheck",
    }
    assert "private" in (flask_aws_telemetry.__doc__ or "")


@pytest.mark.parametrize(
    ("source", "private"),
    [
        ("from flask_aws_telemetry.settings import EnvironReader", ["flask_aws_telemetry.settings"]),
        ("import flask_aws_telemetry.logs", ["flask_aws_telemetry.logs"]),
        ("from flask_aws_telemetry import logs, Telemetry", ["flask_aws_telemetry.logs"]),
        ("def f():\n    from flask_aws_telemetry.capture import AnomalyCapture", ["flask_aws_telemetry.capture"]),
        ("from flask_aws_telemetry import Telemetry, contract", []),
        ("from flask_aws_telemetry.gunicorn_config import *", []),
        ("from flask_aws_telemetry.contract import PORT", []),
        ("from .contract import PORT", []),
    ],
)
def test_the_scan_sees_a_private_import_wherever_it_is(source, private):
    """Module imports, names from the package, imports inside functions; relative imports are the app's own."""
    assert _private_imports(source) == private


@pytest.mark.parametrize("path", _cruddur_sources(), ids=lambda path: str(path.relative_to(SERVICE_DIR)))
def test_cruddur_imports_only_the_library_s_public_api(path):
    """No module of Cruddur, nor its gunicorn.conf.py, imports a private module or name of flask_aws_telemetry."""
    assert _private_imports(path.read_text()) == []


def test_cruddur_uses_the_library():
    """The scan reads Cruddur's imports of the library (a scan that sees nothing would pass anything)."""
    sources = "\n".join(path.read_text() for path in _cruddur_sources())
    assert "from flask_aws_telemetry import Telemetry" in sources
    assert "from flask_aws_telemetry.gunicorn_config import *" in sources
