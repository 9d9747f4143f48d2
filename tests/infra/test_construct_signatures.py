"""Each construct says in its signature what it uses, and stays small enough to hold in one's head.

None reads the environment's configuration; none takes more than
``MAX_PROPS`` props or spends more than ``MAX_CONSTRUCTOR_LINES`` lines on
its constructor (aws-ecs-patterns' variants are about that size); every
numeric prop has a default, and the docstring says it (``cpu`` (default 512 units)).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
from constructs import Construct

COMPONENTS = (
    Path(__file__).resolve().parents[2]
    / "packages"
    / "flask-aws-telemetry-cdk"
    / "src"
    / "flask_aws_telemetry_cdk"
    / "components"
)
MAX_PROPS = 12
MAX_CONSTRUCTOR_LINES = 60
# Numeric props with no sensible default, and why.
REQUIRED_NUMBERS = {
    ("Network", "flow_log_retention_days"): "kept as long as the environment's logs (logs.retention_days)",
    ("ServiceLogGroups", "retention_days"): "how long logs are kept is each environment's choice (logs.retention_days)",
    ("AccessLogBucket", "expiration_days"): "kept as long as the environment's logs (logs.retention_days)",
    ("SecretsPreflight", "log_retention_days"): "kept as long as the environment's logs (logs.retention_days)",
    ("TraceCanary", "log_retention_days"): "kept as long as the environment's logs (logs.retention_days)",
    ("TraceCanary", "rate_minutes"): "how often a canary request is paid for is each environment's choice",
}
# The positional parameters a constructor may take before its keyword-only props.
POSITIONAL = ("self", "scope", "construct_id", "facade")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def _constructs() -> list[type]:
    """Every construct of stacks/components, and every monitoring family (built on the monitoring facade)."""
    found = []
    for path in sorted(COMPONENTS.glob("*.py")):
        module = importlib.import_module(f"flask_aws_telemetry_cdk.components.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or "__init__" not in vars(cls):
                continue
            parameters = list(inspect.signature(vars(cls)["__init__"]).parameters)
            if issubclass(cls, Construct) or parameters[1:2] == ["facade"]:
                found.append(cls)
    return found


CONSTRUCTS = _constructs()


def _props(cls: type) -> dict[str, inspect.Parameter]:
    parameters = inspect.signature(vars(cls)["__init__"]).parameters
    return {name: p for name, p in parameters.items() if name not in POSITIONAL and p.kind is not p.VAR_KEYWORD}


@pytest.mark.parametrize("path", sorted(COMPONENTS.glob("*.py")), ids=lambda path: path.name)
def test_no_construct_module_imports_the_environment_configuration(path):
    """Given a module of stacks/components, it imports neither flask_aws_telemetry_cdk.config nor infra.environments."""
    imported = _imported_modules(path)
    assert not {name for name in imported if name.startswith(("flask_aws_telemetry_cdk.config", "infra.environments"))}


def test_the_scan_sees_an_import_of_the_configuration(tmp_path):
    """The scan above would notice such an import."""
    module = tmp_path / "construct.py"
    module.write_text("from flask_aws_telemetry_cdk.config import EnvironmentConfig\n")
    assert "flask_aws_telemetry_cdk.config" in _imported_modules(module)


def test_the_scan_finds_the_service_constructs():
    """The checks below see the task definition, both entry points, autoscaling and every monitoring family."""
    names = {cls.__name__ for cls in CONSTRUCTS}
    assert {
        "TracedTaskDefinition",
        "LoadBalancedService",
        "CloudMapService",
        "HttpApiEntry",
        "ServiceAutoscaling",
        "MonitoringFacade",
        "ServiceTasksMonitoring",
        "LoadBalancerMonitoring",
        "HttpApiMonitoring",
        "ServiceDashboard",
    } <= names


@pytest.mark.parametrize("cls", CONSTRUCTS, ids=lambda cls: cls.__name__)
def test_constructor_takes_at_most_twelve_props_in_at_most_sixty_lines(cls):
    """Given a construct, its props are keyword-only, at most MAX_PROPS, and its constructor MAX_CONSTRUCTOR_LINES."""
    props = _props(cls)
    assert all(p.kind is p.KEYWORD_ONLY for p in props.values()), list(props)
    assert len(props) <= MAX_PROPS, f"{cls.__name__} takes {len(props)} props: {list(props)}"
    lines, _ = inspect.getsourcelines(vars(cls)["__init__"])
    assert len(lines) <= MAX_CONSTRUCTOR_LINES, f"{cls.__name__}.__init__ is {len(lines)} lines"


@pytest.mark.parametrize("cls", CONSTRUCTS, ids=lambda cls: cls.__name__)
def test_every_numeric_prop_has_a_default_the_docstring_states(cls):
    """Given a construct, each int or float prop has a default, and its docstring names the prop with that default."""
    docstring = " ".join(f"{cls.__doc__ or ''} {vars(cls)['__init__'].__doc__ or ''}".split())
    for name, parameter in _props(cls).items():
        if parameter.annotation not in ("int", "float"):
            continue
        if (cls.__name__, name) in REQUIRED_NUMBERS:
            assert parameter.default is parameter.empty, f"{cls.__name__}.{name} has a default now: drop the exception"
            continue
        assert parameter.default is not parameter.empty, f"{cls.__name__}.{name} has no default"
        stated = rf"``{name}`` \(default {re.escape(str(parameter.default))}\b"
        assert re.search(stated, docstring), (
            f"{cls.__name__}'s docstring does not say ``{name}`` (default {parameter.default}"
        )


def test_the_default_check_reads_the_docstring():
    """A numeric default the docstring leaves out is caught; the same default stated passes."""

    class Stated:
        def __init__(self, *, cpu: int = 512) -> None:
            """``cpu`` (default 512 units)."""

    assert re.search(r"``cpu`` \(default 512\b", Stated.__init__.__doc__ or "")
    assert not re.search(r"``cpu`` \(default 256\b", Stated.__init__.__doc__ or "")
