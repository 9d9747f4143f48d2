"""The GitHub workflows: valid (action-validator) and keyless (OIDC only), with gated deploys."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_pull_requests_lint_and_make_test_lints_before_the_tests():
    """A lint job runs make lint; make lint runs ruff (lint, format) and mypy; make test runs make lint first."""
    jobs = _load("pull-request.yml")["jobs"]
    assert "make lint" in _commands(jobs["lint"])
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = {line.split(":", 1)[0]: line for line in makefile.splitlines() if line[:1].isalpha() and ":" in line}
    assert "lint" in targets["test"].split("##", 1)[0].split(":", 1)[1].split()
    recipe = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    for command in ("ruff check .", "ruff format --check .", "mypy $(MYPY_PACKAGES)"):
        assert command in recipe, command


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
    before = next(
        i
        for i, c in enumerate(commands)
        if c.endswith('-m scripts.stack_inventory --env "${{ inputs.environment }}" > before.json')
    )
    destroy = commands.index("make destroy ENV=${{ inputs.environment }}")
    report = commands.index(
        '.venv/bin/python -m scripts.stack_inventory --report before.json after.json >> "$GITHUB_STEP_SUMMARY"'
    )
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


def _make_dry_run(*variables: str) -> list[str]:
    """The commands ``make -n deploy`` would run, with ``variables`` on its command line."""
    result = subprocess.run(
        ["make", "-n", "--always-make", "deploy", *variables],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "GITHUB_SHA": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [line.strip() for line in result.stdout.splitlines()]


def test_make_deploy_marks_the_deploy_after_cdk_deploy_with_the_revision_and_image():
    """cdk deploy gets the revision as context; then, only if it succeeded, scripts.mark_deploy runs."""
    commands = _make_dry_run("ENV=prod", "REVISION=abc123", "IMAGE_URI=repo@sha256:0f")
    (deploy,) = [i for i, c in enumerate(commands) if c.startswith("cdk --no-notices deploy --all")]
    assert "-c env=prod" in commands[deploy] and "-c revision=abc123" in commands[deploy]
    assert commands[deploy + 1] == (
        ".venv/bin/python -m scripts.mark_deploy --env prod --revision abc123 --image repo@sha256:0f"
    )


def test_make_deploy_takes_the_revision_from_git_by_default():
    """Without REVISION, the revision is git's HEAD (GITHUB_SHA in a workflow)."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    commands = _make_dry_run("ENV=dev")
    assert any(c.startswith("cdk --no-notices deploy") and f"-c revision={head}" in c for c in commands)
    assert f".venv/bin/python -m scripts.mark_deploy --env dev --revision {head}" in commands


def test_every_deploy_job_gives_make_deploy_the_marker_keys_from_secrets():
    """The deploy step (make deploy, which marks the deploy) reads the keys from the repository's secrets."""
    jobs = _load("deploy.yml")["jobs"]
    for name in ("dev", "staging", "prod"):
        deploy = next(step for step in jobs[name]["steps"] if step.get("run", "").startswith("make deploy"))
        assert deploy["env"] == {
            key: f"${{{{ secrets.{key} }}}}"
            for key in ("HONEYCOMB_API_KEY", "HONEYCOMB_CONFIGURATION_KEY", "ROLLBAR_ACCESS_TOKEN")
        }


# -- pinned images: the pull-request step that resolves them ------------------------------------

RESOLVE_STEP = "Resolve every pinned image against its registry"
DAEMON_PIN = (
    "public.ecr.aws/xray/aws-xray-daemon@sha256:b67576293f4d3a0a155f807244957ed0aa4bc945df1573d62d81380a1d548071"
)
COLLECTOR_PIN = (
    "public.ecr.aws/aws-observability/aws-otel-collector"
    "@sha256:7968fb60db6a2390a47ba6a2df029745638486e285c9b2487da1b722d0855a3e"
)
DOCKER_HUB_DAEMON_DIGEST = "sha256:a2303d37f9dd7077c93e596689cb1de12f2ef8333c15b088ba223840164f6bc2"
# A registry that answers `docker buildx imagetools inspect NAME [--format '{{json .Manifest}}']` from a table
# (NAME DIGEST per line, NAME a reference or a tagged name) and logs every name asked for.
FAKE_DOCKER = r"""#!/bin/bash
[ "$1 $2 $3" = "buildx imagetools inspect" ] || { echo "unexpected: $*" >&2; exit 2; }
echo "$4" >> "$FAKE_DOCKER_LOG"
while read -r name digest; do
  if [ "$name" = "$4" ]; then
    if [ "$5" = "--format" ]; then
      [ "$6" = '{{json .Manifest}}' ] || { echo "unexpected format: $6" >&2; exit 2; }
      printf '{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":1609}\n' "$digest"
    else
      printf 'Name:      %s\nMediaType: application/vnd.oci.image.index.v1+json\nDigest:    %s\n' "$4" "$digest"
    fi
    exit 0
  fi
done < "$FAKE_REGISTRY"
echo "ERROR: $4: not found" >&2
exit 1
"""


def _resolve_step() -> dict:
    jobs = _load("pull-request.yml")["jobs"]
    return next(step for step in jobs["images"]["steps"] if step.get("name") == RESOLVE_STEP)


def _run_resolve_step(
    tmp_path: Path, registry: dict[str, str], *, python: str = sys.executable
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the step's script as GitHub runs it (bash -e -o pipefail) against a registry holding ``registry``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    (bin_dir / "python").symlink_to(python)
    (tmp_path / "registry").write_text("".join(f"{name} {digest}\n" for name, digest in registry.items()))
    script = tmp_path / "step.sh"
    script.write_text(_resolve_step()["run"])
    step_path = _resolve_step().get("env", {}).get("PYTHONPATH", "")
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        # The checkout (the runner's working directory: the image directories are relative to it), then the step's
        # own entries, relative to it.
        "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT), *(str(REPO_ROOT / entry) for entry in step_path.split(os.pathsep) if entry)]
        ),
        "FAKE_REGISTRY": str(tmp_path / "registry"),
        "FAKE_DOCKER_LOG": str(tmp_path / "asked"),
    }
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    asked = (tmp_path / "asked").read_text().split() if (tmp_path / "asked").exists() else []
    return result, asked


def _digest(reference: str) -> str:
    return reference.split("@", 1)[1]


# ECR Public as the pins expect it: each digest, and each release tag pointing at it.
REGISTRY = {
    DAEMON_PIN: _digest(DAEMON_PIN),
    "public.ecr.aws/xray/aws-xray-daemon:3.7.0": _digest(DAEMON_PIN),
    COLLECTOR_PIN: _digest(COLLECTOR_PIN),
    "public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0": _digest(COLLECTOR_PIN),
}


def test_pull_requests_resolve_the_pinned_images_in_their_own_job():
    """A job of its own (Python only, no make install) runs the step on every pull request."""
    job = _load("pull-request.yml")["jobs"]["images"]
    assert job["runs-on"] == "ubuntu-latest"
    assert "python -m scripts.pinned_images --references" in _resolve_step()["run"]
    assert "docker buildx imagetools inspect" in _resolve_step()["run"]


def test_every_pin_is_resolved_and_its_release_checked(tmp_path):
    """Given a registry holding both pins under their releases, the step passes having asked for each pin and each
    tag.
    """
    result, asked = _run_resolve_step(tmp_path, REGISTRY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert asked == [DAEMON_PIN, "public.ecr.aws/xray/aws-xray-daemon:3.7.0", COLLECTOR_PIN,
                     "public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0"]  # fmt: skip
    assert f"resolved {DAEMON_PIN} (public.ecr.aws/xray/aws-xray-daemon:3.7.0)" in result.stdout
    assert f"resolved {COLLECTOR_PIN} (public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0)" in result.stdout
    assert "::error" not in result.stdout and "::warning" not in result.stdout


def test_a_digest_the_registry_does_not_hold_fails_the_step_naming_it(tmp_path):
    """Given ECR Public without the daemon's pinned digest (it holds another 3.7.0), the step fails naming the pin,
    and still checks the rest.
    """
    registry = {**REGISTRY, "public.ecr.aws/xray/aws-xray-daemon:3.7.0": DOCKER_HUB_DAEMON_DIGEST}
    del registry[DAEMON_PIN]
    result, asked = _run_resolve_step(tmp_path, registry)
    assert result.returncode == 1
    assert f"::error title=Pinned image does not resolve::{DAEMON_PIN} is not in its registry" in result.stdout
    assert f"resolved {COLLECTOR_PIN}" in result.stdout
    assert COLLECTOR_PIN in asked


def test_a_release_tag_that_moved_is_a_warning(tmp_path):
    """Given the collector's v0.50.0 tag now naming another digest, the pin still resolves: a warning names both."""
    moved = "sha256:" + "0" * 64
    result, _ = _run_resolve_step(
        tmp_path, {**REGISTRY, "public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0": moved}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "::warning title=Release label and digest disagree::"
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0 "
        f"is {moved}, the pin is {COLLECTOR_PIN}"
    ) in result.stdout


def test_a_release_tag_the_registry_does_not_have_is_a_warning(tmp_path):
    """Given no 3.7.0 tag at all, the pinned digest still resolves; the warning says the tag is missing."""
    registry = {name: digest for name, digest in REGISTRY.items() if not name.endswith(":3.7.0")}
    result, _ = _run_resolve_step(tmp_path, registry)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "public.ecr.aws/xray/aws-xray-daemon:3.7.0 is (no such tag)" in result.stdout


def test_the_step_fails_when_the_pins_cannot_be_listed(tmp_path):
    """Given a Python that cannot list the pins, the step fails instead of resolving nothing."""
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/bash\necho 'No module named scripts' >&2\nexit 1\n")
    broken.chmod(0o755)
    result, asked = _run_resolve_step(tmp_path, REGISTRY, python=str(broken))
    assert result.returncode != 0
    assert asked == []
