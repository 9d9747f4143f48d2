"""Cruddur's CDK app (app.py) and its environments (infra/) import the constructs' public API and nothing private.

A private module of flask_aws_telemetry_cdk may move or change between releases; Cruddur is the package's first
user and is held to what any team's repository may import: the names ``flask_aws_telemetry_cdk.__all__`` gives.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import flask_aws_telemetry_cdk
from testsupport import REPO_ROOT

PACKAGE = "flask_aws_telemetry_cdk"
CRUDDUR_CDK_SOURCES = [REPO_ROOT / "app.py", *sorted((REPO_ROOT / "infra").glob("*.py"))]


def private_uses(source: str) -> list[str]:
    """Each import of ``source`` that reaches past the package's public names, as ``module.name``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith(f"{PACKAGE}.")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            if node.module.startswith(f"{PACKAGE}."):
                found += [f"{node.module}.{alias.name}" for alias in node.names]
            elif node.module == PACKAGE:
                public = set(flask_aws_telemetry_cdk.__all__)
                found += [f"{PACKAGE}.{alias.name}" for alias in node.names if alias.name not in public]
    return found


@pytest.mark.parametrize("path", CRUDDUR_CDK_SOURCES, ids=lambda path: path.relative_to(REPO_ROOT).as_posix())
def test_cruddurs_cdk_app_imports_only_the_public_api(path: Path) -> None:
    """Given Cruddur's CDK sources, when their imports are read (function-level ones too), none is private."""
    assert private_uses(path.read_text()) == []


def test_the_sources_do_use_the_package() -> None:
    """The scan reads the files that build Cruddur's stacks: app.py and the environments import the package."""
    assert all(PACKAGE in path.read_text() for path in CRUDDUR_CDK_SOURCES if path.name != "__init__.py")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "from flask_aws_telemetry_cdk.config.sections import AppConfig\n",
            ["flask_aws_telemetry_cdk.config.sections.AppConfig"],
        ),
        ("import flask_aws_telemetry_cdk.service_stack\n", ["flask_aws_telemetry_cdk.service_stack"]),
        (
            "def f():\n    from flask_aws_telemetry_cdk import resource_roles\n",
            ["flask_aws_telemetry_cdk.resource_roles"],
        ),
        ("from flask_aws_telemetry_cdk import AppConfig, FlaskAppStacks\n", []),
        ("from flask_aws_telemetry_cdk_extra.config import X\n", []),
    ],
)
def test_a_planted_private_import_is_found(source: str, expected: list[str]) -> None:
    """Given a source with a private import (module, submodule, or a name outside __all__), the scan names it."""
    assert private_uses(source) == expected
