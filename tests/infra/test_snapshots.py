"""Snapshots of every stack of every environment: the guard against unintended change.

Asset hashes (which change with any edit under service/) and the CDK
version metadata are normalized, so the snapshots are stable across machines.
Update them deliberately with ``make test PYTEST_ARGS=--snapshot-update``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from flask_aws_telemetry_cdk.assembly import STACK_KEYS

_HASH = re.compile(r"\b[0-9a-f]{64}\b")


def normalize(template: dict[str, Any]) -> dict[str, Any]:
    """The template without volatile values: asset hashes and the CDK analytics resource."""
    text = _HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True))
    normalized = json.loads(text)
    normalized.get("Resources", {}).pop("CDKMetadata", None)
    normalized.get("Conditions", {}).pop("CDKMetadataAvailable", None)
    return normalized


@pytest.fixture
def snapshot_json(snapshot):
    """syrupy with one .json file per snapshot."""
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack_key", STACK_KEYS)
def test_template_matches_snapshot(any_env, stack_key, snapshot_json):
    """The normalized template equals the reviewed snapshot."""
    assert normalize(any_env.templates[stack_key]) == snapshot_json


def test_normalization_removes_only_volatile_values(dev):
    """Normalizing keeps every resource but CDKMetadata and changes no logical id."""
    template = dev.templates["service"]
    normalized = normalize(template)
    assert set(template["Resources"]) - set(normalized["Resources"]) <= {"CDKMetadata"}
    assert "<asset-hash>" in json.dumps(normalized)
    assert not _HASH.search(json.dumps(normalized))


def test_service_with_a_certificate_matches_snapshot(with_tls, snapshot_json):
    """Each environment's service stack with a domain and certificate (tests/conftest.py VARIANTS)."""
    assert normalize(with_tls.templates["service"]) == snapshot_json
