"""Mark a finished deploy where the traces and the errors are: a Honeycomb marker and a Rollbar deploy.

    make deploy ENV=dev            # runs this after cdk deploy succeeded
    .venv/bin/python -m scripts.mark_deploy --env dev [--revision SHA] [--image URI]

Honeycomb (Markers API, ``POST /1/markers/{dataset}``): a marker of type
``deploy`` in the environment's dataset (its service name, where Honeycomb
stores the backend's spans), its ``message`` naming the environment, the
revision and the image, its ``url`` the workflow run when the deploy runs in
GitHub Actions (``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``/actions/runs/
``GITHUB_RUN_ID``). The key goes in the ``X-Honeycomb-Team`` header:
``HONEYCOMB_CONFIGURATION_KEY`` when set (Honeycomb asks for a key with the
"Manage Markers" permission, which ingest-only keys lack), else
``HONEYCOMB_API_KEY``.

Rollbar (Deploy API, ``POST /api/1/deploy``): ``environment``, ``revision``,
``local_username`` (``GITHUB_ACTOR`` in GitHub Actions, else the local user),
``comment`` (the image) and ``status`` ``succeeded``, as JSON; the
``ROLLBAR_ACCESS_TOKEN`` (post_server_item) goes in the
``X-Rollbar-Access-Token`` header.

The revision is ``--revision``, else ``GITHUB_SHA``, else ``git rev-parse
HEAD``. A marker is a note about a deploy that already happened, so nothing
here fails it: a missing key skips that marker with one line, and a backend
that is slow, down or answers an error gets one line; the exit status is 0.
Each request is bounded by ``TIMEOUT`` and not retried. No key is ever
printed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests

from flask_aws_telemetry import contract
from infra.environments import load_environment
from scripts.put_secrets import HONEYCOMB_CONFIGURATION_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HONEYCOMB_API_URL = "https://api.honeycomb.io"
DEFAULT_ROLLBAR_ENDPOINT = "https://api.rollbar.com/api/1/"
# Connect and read timeouts (seconds) of each request: a deploy waits at most this long per backend.
TIMEOUT = (3, 5)
# The keys tried for the marker, in order.
HONEYCOMB_KEYS = (HONEYCOMB_CONFIGURATION_KEY, contract.SECRET_HONEYCOMB_API_KEY)


@dataclass(frozen=True)
class Deploy:
    """What was deployed, where, by whom, and the run that did it."""

    environment: str
    dataset: str
    revision: str
    image: str | None
    user: str
    run_url: str | None

    @property
    def message(self) -> str:
        """The marker's text: environment, revision and image."""
        image = f" (image {self.image})" if self.image else ""
        return f"deploy {self.revision} to {self.environment}{image}"


def revision(environ: Mapping[str, str]) -> str:
    """GITHUB_SHA in GitHub Actions, else ``git rev-parse HEAD``, else ``unknown``."""
    if environ.get("GITHUB_SHA"):
        return environ["GITHUB_SHA"]
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


def run_url(environ: Mapping[str, str]) -> str | None:
    """The GitHub Actions run's page, when the three variables GitHub sets are there."""
    parts = [environ.get(name, "") for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repository, run_id = parts
    return f"{server.rstrip('/')}/{repository}/actions/runs/{run_id}"


def local_user(environ: Mapping[str, str]) -> str:
    """GITHUB_ACTOR in GitHub Actions, else the local user's name."""
    if environ.get("GITHUB_ACTOR"):
        return environ["GITHUB_ACTOR"]
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _failure(response: requests.Response) -> str:
    """HTTP status and the backend's own message, short."""
    try:
        document = response.json()
    except ValueError:
        document = None
    text = ""
    if isinstance(document, dict):
        text = str(document.get("error") or document.get("message") or "")
    return f"HTTP {response.status_code}{': ' + text[:200] if text else ''}"


def mark_honeycomb(deploy: Deploy, key: str | None, api_url: str) -> str:
    """Create the marker; one line saying what happened."""
    if not key:
        return f"honeycomb: skipped, neither {' nor '.join(HONEYCOMB_KEYS)} is set"
    marker = {"type": "deploy", "message": deploy.message}
    if deploy.run_url:
        marker["url"] = deploy.run_url
    url = f"{api_url.rstrip('/')}/1/markers/{deploy.dataset}"
    try:
        response = requests.post(url, json=marker, headers={"X-Honeycomb-Team": key}, timeout=TIMEOUT)
    except requests.RequestException as error:
        return f"honeycomb: marker not recorded, could not reach {api_url} ({type(error).__name__})"
    if response.status_code not in (200, 201):
        return f"honeycomb: marker not recorded, {_failure(response)}"
    return f"honeycomb: marker recorded in {deploy.dataset}: {deploy.message}"


def mark_rollbar(deploy: Deploy, token: str | None, endpoint: str) -> str:
    """Record the deploy in Rollbar; one line saying what happened."""
    if not token:
        return f"rollbar: skipped, {contract.SECRET_ROLLBAR_ACCESS_TOKEN} is not set"
    body = {
        "environment": deploy.environment,
        "revision": deploy.revision,
        "local_username": deploy.user,
        "status": "succeeded",
    }
    if deploy.image:
        body["comment"] = f"image {deploy.image}"
    url = f"{endpoint.rstrip('/')}/deploy"
    try:
        response = requests.post(url, json=body, headers={"X-Rollbar-Access-Token": token}, timeout=TIMEOUT)
    except requests.RequestException as error:
        return f"rollbar: deploy not recorded, could not reach {endpoint} ({type(error).__name__})"
    if response.status_code != 200:
        return f"rollbar: deploy not recorded, {_failure(response)}"
    return f"rollbar: deploy recorded in {deploy.environment}: {deploy.revision} by {deploy.user}"


def main(argv: list[str] | None = None, environ: Mapping[str, str] = os.environ) -> int:
    """Mark the deploy in Honeycomb and Rollbar; always 0 once the arguments are valid."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment name (dev, staging, prod)")
    parser.add_argument("--revision", default="", help="the deployed revision (default: GITHUB_SHA or git HEAD)")
    parser.add_argument("--image", default="", help="the deployed image URI, by digest or tag (IMAGE_URI)")
    parser.add_argument("--honeycomb-api-url", default=DEFAULT_HONEYCOMB_API_URL)
    parser.add_argument("--rollbar-endpoint", default=environ.get("ROLLBAR_ENDPOINT") or DEFAULT_ROLLBAR_ENDPOINT)
    args = parser.parse_args(argv)
    config = load_environment(args.env)
    deploy = Deploy(
        environment=config.name,
        dataset=config.service_name,
        revision=args.revision or revision(environ),
        image=args.image or None,
        user=local_user(environ),
        run_url=run_url(environ),
    )
    honeycomb_key = next((environ[name] for name in HONEYCOMB_KEYS if environ.get(name)), None)
    print(mark_honeycomb(deploy, honeycomb_key, args.honeycomb_api_url), flush=True)
    print(mark_rollbar(deploy, environ.get(contract.SECRET_ROLLBAR_ACCESS_TOKEN), args.rollbar_endpoint), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
