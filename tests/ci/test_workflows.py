"""The GitHub workflows: valid (action-validator) and keyless (OIDC only), with gated deploys."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "action-validator"


def _validate(path: Path) -> subprocess.CompletedProcess:
    if not VALIDATOR.exists():
        pytest.fail(f"{VALIDATOR} is missing: run 'make install' (make test does it)")
    return subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60)


def _load(name: str) -> dict:
    # PyYAML reads the key "on" as True.
    document = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / name).read_text())
    document["on"] = document.pop(True, document.get("on"))
    return document


def _commands(job: dict) -> list[str]:
    """Every line the job's steps run, stripped, in order."""
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines() if line.strip()]


def test_there_are_three_workflows():
    """Pull request, deploy, destroy."""
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "destroy.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid(path):
    """action-validator accepts each workflow."""
    result = _validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_workflow_is_rejected(tmp_path):
    """The validator is not a no-op: a job with a misspelt key fails."""
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: [push]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo\n")
    assert _validate(broken).returncode != 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path):
    """No workflow reads AWS access keys; every job that configures AWS may request an OIDC token."""
    text = path.read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    document = _load(path.name)
    for job_id, job in document["jobs"].items():
        steps = job.get("steps", [])
        if any("configure-aws-credentials" in str(step.get("uses", "")) for step in steps):
            assert job.get("permissions", {}).get("id-token") == "write", job_id
            assert any("role-to-assume" in step.get("with", {}) for step in steps), job_id


def test_pull_requests_run_the_readme_test_command_and_synth_every_environment():
    """make test, then synth of dev, staging and prod, and a diff per environment."""
    document = _load("pull-request.yml")
    assert document["on"] == {"pull_request": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    synth = _commands(jobs["synth"])
    assert synth[:2] == ["for env in dev staging prod; do", 'make synth ENV="$env" || status=1']
    assert ".venv/bin/python -m scripts.nag_annotations cdk.out" in synth
    assert [item["env"] for item in jobs["diff"]["strategy"]["matrix"]["include"]] == ["dev", "staging", "prod"]


def test_main_deploys_dev_then_gated_staging_and_prod():
    """dev deploys on push; staging and prod follow, each in its GitHub environment."""
    document = _load("deploy.yml")
    assert document["on"] == {"push": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert [jobs[name]["environment"] for name in ("dev", "staging", "prod")] == ["dev", "staging", "prod"]
    assert jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
    (deploy,) = [command for command in _commands(jobs["prod"]) if command.startswith("make deploy")]
    assert deploy.startswith("make deploy ENV=${{ github.job }} ")


def test_destroy_is_manual_and_defaults_to_dev():
    """workflow_dispatch with dev as the default, reporting what it removed."""
    document = _load("destroy.yml")
    inputs = document["on"]["workflow_dispatch"]["inputs"]
    assert inputs["environment"]["default"] == "dev"
    assert inputs["environment"]["options"] == ["dev", "staging", "prod"]
    commands = _commands(document["jobs"]["destroy"])
    before = next(i for i, c in enumerate(commands) if c.endswith("-m scripts.stack_inventory --env \"${{ inputs.environment }}\" > before.json"))
    destroy = commands.index("make destroy ENV=${{ inputs.environment }}")
    report = commands.index('.venv/bin/python -m scripts.stack_inventory --report before.json after.json >> "$GITHUB_STEP_SUMMARY"')
    assert before < destroy < report


def test_pull_requests_build_and_run_the_service_image():
    """A job builds service/Dockerfile and runs it as the task does (make image-test: HEALTHCHECK, a request)."""
    jobs = _load("pull-request.yml")["jobs"]
    assert any(step.get("run") == "make image-test" for step in jobs["image"]["steps"])


def test_main_deploys_the_image_it_built_and_tested():
    """One job tests the image and saves it; every deploy job pushes that archive and deploys it by digest."""
    jobs = _load("deploy.yml")["jobs"]
    runs = [step.get("run", "") for step in jobs["image"]["steps"]]
    assert runs.index("make image-test") < next(i for i, r in enumerate(runs) if r.startswith("docker save"))
    assert jobs["dev"]["needs"] == "image"
    for name in ("dev", "staging", "prod"):
        steps = jobs[name]["steps"]
        assert any("download-artifact" in step.get("uses", "") for step in steps)
        publish = next(step for step in steps if step.get("run", "").startswith("scripts/publish_image.sh"))
        deploy = next(step for step in steps if step.get("run", "").startswith("make deploy"))
        assert f"IMAGE_URI=${{{{ steps.{publish['id']}.outputs.uri }}}}" in deploy["run"]
