"""Shared fixtures: each environment is synthesized at most once per test session."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from flask_aws_telemetry_cdk.assembly import SynthesizedEnvironment, synthesize
from flask_aws_telemetry_cdk.config import EnvironmentConfig, XRayPath
from infra.environments import ENVIRONMENTS, load_environment


def dev_on_the_opentelemetry_path() -> EnvironmentConfig:
    """dev with the one change the README gives for leaving the X-Ray SDK and daemon."""
    return load_environment("dev").with_changes(telemetry={"xray_path": XRayPath.OPENTELEMETRY_COLLECTOR})


# What the infrastructure tests synthesize: every Cruddur environment, and dev on the OpenTelemetry-only X-Ray path.
SYNTHESIZED: dict[str, Callable[[], EnvironmentConfig]] = {
    **{name: (lambda name=name: load_environment(name)) for name in ENVIRONMENTS},
    "dev-otel": dev_on_the_opentelemetry_path,
}

EXAMPLE_ZONE = {"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.com"}
EXAMPLE_CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"

# Each environment as a user with a domain would configure it: the certificate
# issued in the zone (dev, staging) or given by ARN (prod). staging also has
# access logs and watchtower on, so those paths are synthesized in a removable environment.
VARIANTS: dict[str, Callable[[], EnvironmentConfig]] = {
    "dev-tls": lambda: load_environment("dev").with_changes(
        edge={"domain_name": "api.dev.example.com", **EXAMPLE_ZONE}
    ),
    "staging-tls": lambda: load_environment("staging").with_changes(
        edge={"domain_name": "api.staging.example.com", "access_logs": True, **EXAMPLE_ZONE},
        telemetry={"watchtower": True},
    ),
    "prod-tls": lambda: load_environment("prod").with_changes(
        edge={"domain_name": "api.example.com", "tls_certificate_arn": EXAMPLE_CERTIFICATE_ARN, **EXAMPLE_ZONE},
    ),
}


def on_path(name: str, path: XRayPath, **telemetry: object) -> Callable[[], EnvironmentConfig]:
    """Environment ``name`` with its traces on X-Ray path ``path`` (and other ``telemetry`` fields)."""
    return lambda: load_environment(name).with_changes(telemetry={"xray_path": path, **telemetry})


# One feature turned on, synthesized only by the tests that ask for it by name.
FEATURES: dict[str, Callable[[], EnvironmentConfig]] = {
    # The two paths without a daemon that need no Transaction Search (tests/infra/test_xray_paths.py).
    "dev-sdk-collector": on_path("dev", XRayPath.XRAY_SDK_AND_COLLECTOR),
    "dev-sdk-collector-alone": on_path("dev", XRayPath.XRAY_SDK_AND_COLLECTOR, opentelemetry=False),
    "dev-otel-segments": on_path("dev", XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS),
    "prod-otel-segments": on_path("prod", XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS),
    # The README's frontend recipe: the frontend's spans through dev's HTTP API, from the course's dev origin.
    "dev-browser": lambda: load_environment("dev").with_changes(
        browser_traces={"enabled": True}, edge={"frontend_origins": ("http://localhost:3000",)}
    ),
}


@pytest.fixture
def fake_aws_credentials(monkeypatch):
    """Fake credentials and a region, so that boto3 in a test can only ever reach moto or a stand-in."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def synthesized_environments(tmp_path_factory, worker_id):
    """A lazy cache: environment name -> SynthesizedEnvironment, synthesized once per test run.

    Under pytest-xdist the workers share one synthesis per environment: the
    first to ask synthesizes it under a file lock, the others read its templates.
    """
    if worker_id == "master":
        shared = tmp_path_factory.mktemp("cdk")
    else:
        shared = tmp_path_factory.getbasetemp().parent / "cdk-shared"
        shared.mkdir(exist_ok=True)
    cache: dict[str, SynthesizedEnvironment] = {}

    def get(name: str) -> SynthesizedEnvironment:
        if name not in cache:
            cache[name] = _synthesize_once(name, shared)
        return cache[name]

    return get


def _synthesize_once(name: str, shared: Path) -> SynthesizedEnvironment:
    config = {**SYNTHESIZED, **VARIANTS, **FEATURES}[name]()
    outdir = shared / name
    summary = shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if summary.exists():
            saved = json.loads(summary.read_text())
            return SynthesizedEnvironment(config, outdir, saved["stack_names"], saved["templates"])
        synthesized = synthesize(config, outdir)
        summary.write_text(json.dumps({"stack_names": synthesized.stack_names, "templates": synthesized.templates}))
        return synthesized


@pytest.fixture(scope="session", params=list(SYNTHESIZED))
def any_env(request, synthesized_environments) -> SynthesizedEnvironment:
    """Each environment in turn, and dev on the OpenTelemetry-only path."""
    return synthesized_environments(request.param)


@pytest.fixture(scope="session")
def dev(synthesized_environments) -> SynthesizedEnvironment:
    """The dev environment."""
    return synthesized_environments("dev")


@pytest.fixture(scope="session")
def prod(synthesized_environments) -> SynthesizedEnvironment:
    """The prod environment."""
    return synthesized_environments("prod")


@pytest.fixture(scope="session", params=list(VARIANTS))
def with_tls(request, synthesized_environments) -> SynthesizedEnvironment:
    """Each environment in turn, with a domain and its certificate (see VARIANTS)."""
    return synthesized_environments(request.param)


@pytest.fixture(scope="session")
def staging_tls(synthesized_environments) -> SynthesizedEnvironment:
    """staging with a domain, access logs and watchtower on."""
    return synthesized_environments("staging-tls")
