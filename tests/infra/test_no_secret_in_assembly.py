"""Secret values in the synthesizing shell never reach cdk.out; app.py's context switches work.

One subprocess run of app.py serves every test here: every environment at
once (-c env=all), without the preflight, with the account's Transaction
Search stack asked for, with canary secret values in its environment,
exactly as the CLI would start it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.environments import ENVIRONMENTS
from testsupport import REPO_ROOT

CANARIES = {
    "HONEYCOMB_API_KEY": "hcaik_canary_7f3e9d1b2c4a6e8f0a1b3c5d7e9f1a2b",
    "ROLLBAR_ACCESS_TOKEN": "rollbar_canary_0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a",
}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory):
    """app.py run once like the CLI runs it: env=all, secrets_preflight=false, transaction_search=true, canary set."""
    outdir = tmp_path_factory.mktemp("cdk-all")
    context = {
        "env": "all",
        "secrets_preflight": "false",
        "transaction_search": "true",
        "transaction_search_indexing_percentage": "5",
    }
    env = {**os.environ, **CANARIES, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return outdir, result


def test_canary_secret_values_do_not_reach_the_cloud_assembly(assembly):
    """Given canary values in the environment, no file in cdk.out and no output line contains them."""
    outdir, result = assembly
    files = [path for path in outdir.rglob("*") if path.is_file()]
    assert any(path.name.endswith(".template.json") for path in files)
    for path in files:
        content = path.read_bytes()
        for name, value in CANARIES.items():
            assert value.encode() not in content, f"{name} leaked into {path.relative_to(outdir)}"
    for value in CANARIES.values():
        assert value not in result.stdout and value not in result.stderr


def test_every_environment_is_synthesized_at_once(assembly):
    """-c env=all puts the stacks of every environment into one assembly, and the account's stack once."""
    outdir, _ = assembly
    names = sorted(p.name for p in outdir.glob("*.template.json"))
    assert names == sorted(
        [
            f"cruddur-{env}-{stack}.template.json"
            for env in ENVIRONMENTS
            for stack in ("network", "observability", "service")
        ]
        + ["cruddur-transaction-search.template.json"]
    )


def test_transaction_search_is_an_account_stack_at_the_asked_percentage(assembly):
    """-c transaction_search=true adds one stack for the account (not one per environment) indexing the asked share."""
    outdir, _ = assembly
    template = json.loads((outdir / "cruddur-transaction-search.template.json").read_text())
    (config,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::XRay::TransactionSearchConfig"]
    assert config["Properties"] == {"IndexingPercentage": 5}
    for path in outdir.glob("cruddur-*-*-*.template.json"):
        types = {resource["Type"] for resource in json.loads(path.read_text())["Resources"].values()}
        assert "AWS::XRay::TransactionSearchConfig" not in types and "AWS::Logs::ResourcePolicy" not in types, path.name


def test_the_preflight_can_be_left_out(assembly):
    """-c secrets_preflight=false synthesizes every service stack, each without the custom resource."""
    outdir, _ = assembly
    service_templates = sorted(outdir.glob("*-service.template.json"))
    assert [p.name for p in service_templates] == [
        f"cruddur-{env}-service.template.json" for env in sorted(ENVIRONMENTS)
    ]
    for path in service_templates:
        types = {resource["Type"] for resource in json.loads(path.read_text())["Resources"].values()}
        assert "AWS::ECS::Service" in types and "Custom::SecretsPreflight" not in types, path.name
