"""Shared fixtures: each environment is synthesized at most once per test session."""

from __future__ import annotations

import pytest

from stacks.environments import ENVIRONMENTS, load_environment
from stacks.assembly import SynthesizedEnvironment, synthesize


@pytest.fixture
def fake_aws_credentials(monkeypatch):
    """Fake credentials and a region, so that boto3 in a test can only ever reach moto or a stand-in."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def synthesized_environments(tmp_path_factory):
    """A lazy cache: environment name -> SynthesizedEnvironment."""
    cache: dict[str, SynthesizedEnvironment] = {}

    def get(name: str) -> SynthesizedEnvironment:
        if name not in cache:
            cache[name] = synthesize(load_environment(name), tmp_path_factory.mktemp(f"cdk-{name}"))
        return cache[name]

    return get


@pytest.fixture(scope="session", params=list(ENVIRONMENTS))
def any_env(request, synthesized_environments) -> SynthesizedEnvironment:
    """Each environment in turn."""
    return synthesized_environments(request.param)


@pytest.fixture(scope="session")
def dev(synthesized_environments) -> SynthesizedEnvironment:
    """The dev environment."""
    return synthesized_environments("dev")


@pytest.fixture(scope="session")
def prod(synthesized_environments) -> SynthesizedEnvironment:
    """The prod environment."""
    return synthesized_environments("prod")
