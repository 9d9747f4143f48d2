"""make deploy's last step: a Honeycomb marker and a Rollbar deploy, never a failed deploy.

The script runs as make runs it (``python -m scripts.mark_deploy``), against
the Honeycomb API stand-in (which refuses a marker that breaks Honeycomb's
Marker schema) and the Rollbar stand-in (which refuses a deploy that breaks
Rollbar's Deploy API).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from infra.environments import load_environment
from scripts import mark_deploy
from testsupport import REPO_ROOT
from testsupport.standins.honeycomb_api import HoneycombApi
from testsupport.standins.rollbar import RollbarApi
from testsupport.waiting import closed_port, silent_port

HONEYCOMB_KEY = "hcxck_marker-key-0123456789abcdef"
ROLLBAR_TOKEN = "rollbar-post-server-item-token-0123456789"
SECRETS = (HONEYCOMB_KEY, ROLLBAR_TOKEN)
DATASET = load_environment("dev").service_name
SHA = "0123456789abcdef0123456789abcdef01234567"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cdk-assets@sha256:" + "ab" * 32
GITHUB = {
    "GITHUB_SHA": SHA, "GITHUB_ACTOR": "octocat", "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/cruddur", "GITHUB_RUN_ID": "4242",
}  # fmt: skip
# Both requests time out, then the process starts and exits: well inside this.
BOUND_SECONDS = 2 * sum(mark_deploy.TIMEOUT) + 10


@pytest.fixture
def honeycomb():
    """Honeycomb's API, knowing the dev dataset and the key."""
    with HoneycombApi(configuration_key=HONEYCOMB_KEY, datasets=(DATASET,)) as api:
        yield api


@pytest.fixture
def rollbar():
    """Rollbar's API, knowing the token."""
    with RollbarApi(access_token=ROLLBAR_TOKEN) as api:
        yield api


def run(honeycomb_url: str, rollbar_endpoint: str, *args: str, **environ: str) -> subprocess.CompletedProcess:
    """``python -m scripts.mark_deploy --env dev`` from the repository root, with only ``environ`` besides PATH."""
    return subprocess.run(
        [sys.executable, "-m", "scripts.mark_deploy", "--env", "dev", "--honeycomb-api-url", honeycomb_url,
         "--rollbar-endpoint", rollbar_endpoint, *args],
        cwd=REPO_ROOT, env={"PATH": os.environ["PATH"], "HOME": "/tmp", **environ}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def keys() -> dict[str, str]:
    return {"HONEYCOMB_API_KEY": HONEYCOMB_KEY, "ROLLBAR_ACCESS_TOKEN": ROLLBAR_TOKEN}


def assert_no_secret(result: subprocess.CompletedProcess) -> None:
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr


def test_a_workflow_deploy_is_marked_with_revision_image_and_run(honeycomb, rollbar):
    """Given GitHub's variables, the marker names the revision and image and links the run; Rollbar gets the actor."""
    result = run(honeycomb.api_url, rollbar.endpoint, "--image", IMAGE, **keys(), **GITHUB)
    assert result.returncode == 0, result.stderr
    assert honeycomb.refused == [] and rollbar.refused == []
    (marker,) = honeycomb.markers
    assert marker["_dataset"] == DATASET and marker["type"] == "deploy"
    assert marker["message"] == f"deploy {SHA} to dev (image {IMAGE})"
    assert marker["url"] == "https://github.com/acme/cruddur/actions/runs/4242"
    assert set(marker) - {"_dataset", "id", "created_at", "updated_at", "start_time"} == {"type", "message", "url"}
    assert rollbar.deploys == [
        {
            "environment": "dev", "revision": SHA, "local_username": "octocat", "status": "succeeded",
            "comment": f"image {IMAGE}",
        }
    ]  # fmt: skip
    assert rollbar.deploy_tokens == [ROLLBAR_TOKEN]
    assert result.stdout.splitlines() == [
        f"honeycomb: marker recorded in {DATASET}: deploy {SHA} to dev (image {IMAGE})",
        f"rollbar: deploy recorded in dev: {SHA} by octocat",
    ]
    assert_no_secret(result)


def test_a_local_deploy_names_git_head_and_the_local_user(honeycomb, rollbar):
    """Outside GitHub Actions: git's HEAD, the local user, no run URL; the configuration key is preferred."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
    environ = {**keys(), "HONEYCOMB_CONFIGURATION_KEY": HONEYCOMB_KEY, "HONEYCOMB_API_KEY": "an-ingest-key"}
    result = run(honeycomb.api_url, rollbar.endpoint, **environ, LOGNAME="alice", USER="alice")
    assert result.returncode == 0, result.stderr
    (marker,) = honeycomb.markers
    assert marker["message"] == f"deploy {head} to dev" and "url" not in marker
    (deploy,) = rollbar.deploys
    assert deploy["revision"] == head and deploy["local_username"] == "alice" and "comment" not in deploy
    assert "an-ingest-key" not in result.stdout + result.stderr


def test_missing_keys_skip_each_marker_with_one_line(honeycomb, rollbar):
    """No keys: one line each naming the variable, nothing sent, exit 0."""
    result = run(honeycomb.api_url, rollbar.endpoint, **GITHUB)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "honeycomb: skipped, neither HONEYCOMB_CONFIGURATION_KEY nor HONEYCOMB_API_KEY is set",
        "rollbar: skipped, ROLLBAR_ACCESS_TOKEN is not set",
    ]
    assert honeycomb.calls == [] and rollbar.requests == 0 and result.stderr == ""


def test_backends_down_cost_one_line_each_and_never_fail_the_deploy():
    """Nothing listening on either address: one line each naming it, exit 0, quickly."""
    honeycomb_url, rollbar_url = f"http://127.0.0.1:{closed_port()}", f"http://127.0.0.1:{closed_port()}/api/1/"
    started = time.monotonic()
    result = run(honeycomb_url, rollbar_url, **keys(), **GITHUB)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines() == [
        f"honeycomb: marker not recorded, could not reach {honeycomb_url} (ConnectionError)",
        f"rollbar: deploy not recorded, could not reach {rollbar_url} (ConnectionError)",
    ]
    assert time.monotonic() - started < BOUND_SECONDS
    assert_no_secret(result)


def test_backends_that_never_answer_are_given_up_within_the_timeout():
    """Both accept the connection and never answer: each is abandoned after the read timeout, exit 0."""
    with silent_port() as port:
        url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        result = run(url, f"{url}/api/1/", **keys(), **GITHUB)
        elapsed = time.monotonic() - started
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all("(ReadTimeout)" in line for line in lines), lines
    assert 2 * mark_deploy.TIMEOUT[1] <= elapsed < BOUND_SECONDS


def test_backends_answering_500_cost_one_line_each(honeycomb, rollbar):
    """Both answer 500: their message on one line each, exit 0."""
    honeycomb.fail_next = [(500, {"error": "something went wrong"})]
    rollbar.status = 500
    result = run(honeycomb.api_url, rollbar.endpoint, **keys(), **GITHUB)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines() == [
        "honeycomb: marker not recorded, HTTP 500: something went wrong",
        "rollbar: deploy not recorded, HTTP 500: stand-in error",
    ]
    assert honeycomb.markers == [] and rollbar.deploys == []


def test_wrong_keys_are_the_backends_401_and_never_shown(honeycomb, rollbar):
    """Keys neither backend knows: their 401 answers, not the keys."""
    result = run(
        honeycomb.api_url, rollbar.endpoint, HONEYCOMB_API_KEY="not-the-key", ROLLBAR_ACCESS_TOKEN="not-the-token"
    )
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "honeycomb: marker not recorded, HTTP 401: unknown API key - check your credentials",
        "rollbar: deploy not recorded, HTTP 401: invalid access token",
    ]
    assert "not-the-key" not in result.stdout and "not-the-token" not in result.stdout


# -- the stand-ins hold requests to the documented APIs --------------------------------------------


@pytest.mark.parametrize(
    ("marker", "field"),
    [({"type": "deploy", "start_time": "now"}, "start_time"), ({"type": 1}, "type"), ({"title": "x"}, "title")],
)
def test_the_honeycomb_stand_in_refuses_a_marker_outside_the_schema(honeycomb, marker, field):
    """A field Honeycomb's Marker does not have, or of the wrong type: 422 naming it."""
    status, body, _ = honeycomb.respond(
        "POST", f"/1/markers/{DATASET}", {"X-Honeycomb-Team": HONEYCOMB_KEY}, json.dumps(marker).encode()
    )
    assert status == 422 and json.loads(body)["type_detail"][0]["field"] == field
    assert honeycomb.markers == []


@pytest.mark.parametrize(
    ("deploy", "message"),
    [
        ({"revision": SHA}, "environment is required"),
        ({"environment": "dev"}, "revision is required"),
        ({"environment": "dev", "revision": SHA, "status": "done"}, "status must be one of"),
        ({"environment": "dev", "revision": SHA, "user": "x"}, "unknown fields: user"),
    ],
)
def test_the_rollbar_stand_in_refuses_a_deploy_outside_the_api(rollbar, deploy, message):
    """A deploy without its required fields, with an unknown status or field: refused with Rollbar's error shape."""
    status, body = rollbar.handle(
        "/api/1/deploy", {"X-Rollbar-Access-Token": ROLLBAR_TOKEN}, json.dumps(deploy).encode()
    )
    assert status == 422 and json.loads(body)["err"] == 1 and message in json.loads(body)["message"]
    assert rollbar.deploys == []
