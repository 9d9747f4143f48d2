"""Secret values in the synthesizing shell never reach cdk.out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from stacks.assembly import REPO_ROOT

CANARIES = {
    "HONEYCOMB_API_KEY": "hcaik_canary_7f3e9d1b2c4a6e8f0a1b3c5d7e9f1a2b",
    "ROLLBAR_ACCESS_TOKEN": "rollbar_canary_0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a",
}


def test_canary_secret_values_do_not_reach_the_cloud_assembly(tmp_path):
    """Given canary values in the environment, when app.py synthesizes, then no file in cdk.out contains them."""
    env = {**os.environ, **CANARIES, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps({"env": "dev"})}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name.endswith(".template.json") for path in files)
    for path in files:
        content = path.read_bytes()
        for name, value in CANARIES.items():
            assert value.encode() not in content, f"{name} leaked into {path.relative_to(tmp_path)}"
    for value in CANARIES.values():
        assert value not in result.stdout and value not in result.stderr
