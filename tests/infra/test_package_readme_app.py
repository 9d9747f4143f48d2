"""The constructs' README gives a whole CDK app; run as a user would, from a folder of its own, it synthesizes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from testsupport import REPO_ROOT

README = REPO_ROOT / "packages/flask-aws-telemetry-cdk/README.md"
DOCKERFILE = "FROM python:3.11-slim\nWORKDIR /app\nCOPY app.py .\nUSER 10001\n"


def readme_app() -> str:
    """The README's one Python snippet."""
    (snippet,) = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    return snippet


def test_the_readme_app_is_at_most_fifteen_lines():
    """The minimal app stays the size of an aws-ecs-patterns example."""
    assert len(readme_app().strip().splitlines()) <= 15


def test_the_readme_app_synthesizes_its_three_stacks_with_a_table(tmp_path):
    """Given the README's app, a Dockerfile and a Flask module in an empty folder, synth writes orders-dev-*."""
    (tmp_path / "app.py").write_text(readme_app())
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    # As `cdk synth` runs it: the CLI tells the app where to write the assembly (here inside the app's own folder).
    environ = {**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out")}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = tmp_path / "cdk.out"
    assert {path.name for path in out.glob("orders-dev-*.template.json")} == {
        "orders-dev-network.template.json",
        "orders-dev-observability.template.json",
        "orders-dev-service.template.json",
    }
    (image,) = [path for path in out.glob("asset.*") if (path / "Dockerfile").is_file()]
    assert sorted(path.name for path in image.iterdir()) == ["Dockerfile", "app.py"]  # never cdk.out itself
    service = json.loads((out / "orders-dev-service.template.json").read_text())
    types = {resource["Type"] for resource in service["Resources"].values()}
    assert "AWS::DynamoDB::Table" in types
    assert "cruddur" not in json.dumps(service).lower()
