"""Create the saved Honeycomb queries of ``honeycomb/queries/*.json`` in an environment's Honeycomb, each with its name.

    make honeycomb-queries ENV=dev
    .venv/bin/python -m scripts.honeycomb_queries --env dev [--api-url https://api.eu1.honeycomb.io]

Each file is one question: ``name`` and ``description`` (the Query
Annotation that shows it in Honeycomb's query history and lists), the
``dataset`` it runs on, and ``query``, a Honeycomb Query Specification as
documented ("Reference: Query Specification"). ``{{service_name}}`` in a
file stands for the environment's service name, which is also the dataset
Honeycomb stores the backend's spans in (its OTLP default: ``service.name``).
Questions about whole traces that reach beyond the backend (the browser's
spans are in the frontend's dataset) run on ``__all__``, the environment.

For each file the script creates the query (``POST /1/queries/{dataset}``),
then names it (``POST /1/query_annotations/{dataset}``). Run again, it
leaves a name that already shows the same query alone and moves a name to
the new query when the file changed (an annotation's query cannot be
changed: the new one is created, then the old one deleted), so each name
exists once.

The Honeycomb Configuration key (Environment Settings, API Keys,
Configuration, with "Manage Queries and Columns") is read from the
SecureString ``/<service>/<env>/HONEYCOMB_CONFIGURATION_KEY``, which
``make secrets`` puts when ``HONEYCOMB_CONFIGURATION_KEY`` is set; it is
sent only in the ``X-Honeycomb-Team`` header and never printed. Requests
that meet a rate limit (429), a Honeycomb error (5xx) or no answer are
retried by urllib3's ``Retry`` with backoff, honouring ``Retry-After``;
what still fails names the query and gives Honeycomb's answer.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from flask_aws_telemetry_cdk import ConfigError, EnvironmentConfig
from infra.environments import load_environment
from scripts.put_secrets import HONEYCOMB_CONFIGURATION_KEY, SecretsError, ssm_client

QUERIES_DIR = Path(__file__).resolve().parents[1] / "honeycomb" / "queries"
DEFAULT_API_URL = "https://api.honeycomb.io"
SERVICE_NAME_MARK = "{{service_name}}"
# Connect and read timeouts (seconds) of each request; retries come on top, by urllib3's Retry below.
TIMEOUT = (5, 30)
RETRY = Retry(
    total=4,
    backoff_factor=0.5,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=frozenset({"GET", "POST", "PUT", "DELETE"}),
    respect_retry_after_header=True,
    raise_on_status=False,  # the last answer is returned, so that its error can be shown
)


class HoneycombQueriesError(RuntimeError):
    """Creating the queries failed; the message says which query, why, and what to do."""


@dataclass(frozen=True)
class SavedQuery:
    """One file of honeycomb/queries, its service name filled in."""

    file: str
    name: str
    description: str
    dataset: str
    spec: dict[str, Any]


def _filled(value: Any, service_name: str) -> Any:
    if isinstance(value, str):
        return value.replace(SERVICE_NAME_MARK, service_name)
    if isinstance(value, list):
        return [_filled(item, service_name) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item, service_name) for key, item in value.items()}
    return value


def load_queries(service_name: str, directory: Path = QUERIES_DIR) -> list[SavedQuery]:
    """Every ``*.json`` in ``directory``, in name order, with ``{{service_name}}`` filled in."""
    queries = []
    for path in sorted(directory.glob("*.json")):
        try:
            document = _filled(json.loads(path.read_text()), service_name)
            queries.append(
                SavedQuery(
                    path.name, document["name"], document.get("description", ""), document["dataset"], document["query"]
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise HoneycombQueriesError(
                f"{path}: {error!r}; a query file is a JSON object with name, description, dataset and query"
            ) from None
    if not queries:
        raise HoneycombQueriesError(f"no query files (*.json) in {directory}")
    return queries


def read_configuration_key(
    config: EnvironmentConfig, ssm_client, permissions: str = "'Manage Queries and Columns'"
) -> str:
    """The Configuration key from SSM, or an error naming the parameter to put, the ``permissions`` it needs, and
    how.
    """
    parameter = config.secret_parameter_name(HONEYCOMB_CONFIGURATION_KEY)
    try:
        return ssm_client.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise HoneycombQueriesError(f"could not read {parameter}: {error}") from None
    except BotoCoreError as error:
        raise HoneycombQueriesError(f"could not read {parameter}: {error}") from None
    raise HoneycombQueriesError(
        f"no Honeycomb configuration key: the SecureString parameter {parameter} does not exist. "
        f"Create a Configuration key with {permissions} in Honeycomb "
        "(Environment Settings, API Keys, Configuration), then put it with: "
        "HONEYCOMB_API_KEY=... ROLLBAR_ACCESS_TOKEN=... HONEYCOMB_CONFIGURATION_KEY=... "
        f"make secrets ENV={config.name}"
    )


def honeycomb_session(configuration_key: str) -> requests.Session:
    """A session that sends the key in X-Honeycomb-Team and retries as RETRY says."""
    session = requests.Session()
    session.headers.update({"X-Honeycomb-Team": configuration_key, "Content-Type": "application/json"})
    session.mount("https://", HTTPAdapter(max_retries=RETRY))
    session.mount("http://", HTTPAdapter(max_retries=RETRY))
    return session


def _answer(response: requests.Response) -> str:
    """Honeycomb's answer in one line: its error, and each field it names."""
    try:
        document = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:300] or response.reason}"
    if not isinstance(document, dict):
        return f"HTTP {response.status_code}: {document!r}"[:300]
    details = "; ".join(
        item.get("description", "") for item in document.get("type_detail") or [] if isinstance(item, dict)
    )
    message = document.get("detail") if details else document.get("error") or document.get("detail") or document
    return f"HTTP {response.status_code}: {details or message}"


class HoneycombClient:
    """The Queries and Query Annotations API of one Honeycomb environment."""

    def __init__(self, session: requests.Session, api_url: str) -> None:
        """Call ``api_url`` (https://api.honeycomb.io, or the EU's) through ``session``."""
        self._session = session
        self._api_url = api_url.rstrip("/")
        self._annotations: dict[str, list[dict[str, Any]]] = {}

    def _call(self, doing: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self._api_url}{path}"
        try:
            response = self._session.request(method, url, json=body, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise HoneycombQueriesError(
                f"{doing}: could not reach Honeycomb at {self._api_url} ({type(error).__name__})"
            ) from None
        if response.status_code >= 300:
            raise HoneycombQueriesError(f"{doing}: Honeycomb answered {_answer(response)}")
        return response.json() if response.content else None

    def annotations(self, dataset: str) -> list[dict[str, Any]]:
        """The dataset's query annotations, fetched once."""
        if dataset not in self._annotations:
            self._annotations[dataset] = self._call(
                f"listing the named queries of {dataset}", "GET", f"/1/query_annotations/{dataset}"
            )
        return self._annotations[dataset]

    def save(self, query: SavedQuery) -> str:
        """Create ``query`` and give it its name; returns what was done ("created", "unchanged", "updated")."""
        doing = f"query '{query.name}' ({query.file}) in {query.dataset}"
        created = self._call(f"creating {doing}", "POST", f"/1/queries/{query.dataset}", query.spec)
        named = [a for a in self.annotations(query.dataset) if a.get("name") == query.name]
        current = [
            a for a in named if a.get("query_id") == created["id"] and a.get("description", "") == query.description
        ]
        if not current:
            annotation = {"name": query.name, "description": query.description, "query_id": created["id"]}
            self._call(f"naming {doing}", "POST", f"/1/query_annotations/{query.dataset}", annotation)
        # Older names of the question (and a duplicate a retried POST may have left) go.
        for old in [a for a in named if a not in current[:1]]:
            self._call(
                f"removing the old name of {doing}", "DELETE", f"/1/query_annotations/{query.dataset}/{old['id']}"
            )
        if current:
            return "unchanged"
        return "updated" if named else "created"


def main(argv: list[str] | None = None) -> int:
    """Read the key, create every query with its name, and print one line per query."""
    parser = argparse.ArgumentParser(
        description="Create the saved Honeycomb queries (honeycomb/queries) in ENV's Honeycomb."
    )
    parser.add_argument("--env", required=True, help="environment name (dev, staging, prod)")
    parser.add_argument(
        "--region", default=None, help="AWS region of the SSM parameter (default: the environment's, then AWS_REGION)"
    )
    parser.add_argument(
        "--api-url",
        default=DEFAULT_API_URL,
        help=f"Honeycomb's API (default {DEFAULT_API_URL}; EU: https://api.eu1.honeycomb.io)",
    )
    parser.add_argument(
        "--queries", type=Path, default=QUERIES_DIR, help="folder of query files (default honeycomb/queries)"
    )
    args = parser.parse_args(argv)
    try:
        config = load_environment(args.env)
        queries = load_queries(config.service_name, args.queries)
        key = read_configuration_key(config, ssm_client(config, args.region))
        client = HoneycombClient(honeycomb_session(key), args.api_url)
        for query in queries:
            print(f"{client.save(query)}: '{query.name}' in {query.dataset} ({query.file})", flush=True)
    except (ConfigError, SecretsError, HoneycombQueriesError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
