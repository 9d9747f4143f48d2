"""make honeycomb-queries: every file of honeycomb/queries created and named in Honeycomb, checked by Honeycomb's rules.

The script runs as make runs it (``python -m scripts.honeycomb_queries``),
against moto_server for SSM and the Honeycomb API stand-in, which refuses
any request that breaks Honeycomb's documented Query Specification.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from infra.environments import load_environment
from scripts import honeycomb_queries
from testsupport import REPO_ROOT
from testsupport.standins.honeycomb_api import HoneycombApi, spec_problems
from testsupport.waiting import closed_port

KEY = "hcxck_test-configuration-key-0123456789"
DEV = load_environment("dev")
SERVICE = DEV.service_name
PARAMETER = DEV.secret_parameter_name("HONEYCOMB_CONFIGURATION_KEY")
QUESTIONS = {
    "Latency by route": SERVICE,
    "Errors": SERVICE,
    "Slowest traces with their DynamoDB time": "__all__",
    "Browser-to-backend network time": "__all__",
}


@pytest.fixture
def configuration_key(ssm):
    """The Configuration key put as make secrets puts it."""
    ssm.put_parameter(Name=PARAMETER, Value=KEY, Type="SecureString")
    return KEY


@pytest.fixture
def honeycomb():
    """Honeycomb's API, knowing the backend's dataset and the key."""
    with HoneycombApi(configuration_key=KEY, datasets=(SERVICE,)) as api:
        yield api


def run(moto, api_url: str, *args: str) -> subprocess.CompletedProcess:
    """``python -m scripts.honeycomb_queries --env dev`` from the repository root, SSM on moto."""
    environ = {
        "PATH": os.environ["PATH"], "HOME": "/tmp", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SSM": moto.url,
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "scripts.honeycomb_queries", "--env", "dev", "--api-url", api_url, *args],
        cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _files() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted(honeycomb_queries.QUERIES_DIR.glob("*.json"))}


def test_creates_and_names_every_query_of_the_repository(moto, configuration_key, honeycomb):
    """Given the key in SSM, each file becomes one query on its dataset with its name and description; nothing is
    refused.
    """
    result = run(moto, honeycomb.api_url)
    assert result.returncode == 0, result.stderr
    assert honeycomb.refused == []
    named = honeycomb.named_queries()
    assert {name: query["dataset"] for name, query in named.items()} == QUESTIONS
    for file in _files().values():
        query = named[file["name"]]
        expected = json.loads(json.dumps(file["query"]).replace("{{service_name}}", SERVICE))
        assert query["spec"] == expected and query["description"] == file["description"]
    assert "{{" not in json.dumps(named)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["created"] * len(QUESTIONS)
    assert KEY not in result.stdout + result.stderr


def test_running_again_keeps_one_name_per_question(moto, configuration_key, honeycomb):
    """A second run moves each name to the query it just created; no name exists twice (a duplicate left by a retry
    goes).
    """
    assert run(moto, honeycomb.api_url).returncode == 0
    (errors,) = [a for a in honeycomb.annotations.values() if a["name"] == "Errors"]
    duplicate = json.dumps({"name": "Errors", "query_id": errors["query_id"]}).encode()
    assert honeycomb.respond("POST", f"/1/query_annotations/{SERVICE}", {"X-Honeycomb-Team": KEY}, duplicate)[0] == 201
    result = run(moto, honeycomb.api_url)
    assert result.returncode == 0, result.stderr
    names = [a["name"] for a in honeycomb.annotations.values()]
    assert sorted(names) == sorted(QUESTIONS)
    assert all(a["query_id"] in honeycomb.queries for a in honeycomb.annotations.values())


def test_a_malformed_query_is_refused_with_honeycombs_answer(moto, configuration_key, honeycomb, tmp_path):
    """A file breaking the Query Specification: the run stops naming the query and file, with the 422 and its fields."""
    bad = {
        "name": "Bad", "description": "", "dataset": "{{service_name}}",
        "query": {"calculations": [{"op": "P99", "column": "root.duration_ms"}], "limit": 5000},
    }  # fmt: skip
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = run(moto, honeycomb.api_url, "--queries", str(tmp_path))
    assert result.returncode == 2
    assert "query 'Bad' (bad.json) in cruddur-backend-flask" in result.stderr
    assert "HTTP 422" in result.stderr and "limit: 5000 is out of range" in result.stderr
    assert "relational fields cannot be calculated" in result.stderr
    assert honeycomb.annotations == {}


def test_a_missing_key_says_which_parameter_to_put_and_how(moto, ssm, honeycomb):
    """No parameter: the message names it and the make secrets command; Honeycomb is never called."""
    result = run(moto, honeycomb.api_url)
    assert result.returncode == 2
    assert PARAMETER in result.stderr and "HONEYCOMB_CONFIGURATION_KEY=... make secrets ENV=dev" in result.stderr
    assert honeycomb.calls == []


def test_a_wrong_key_is_honeycombs_401(moto, ssm, honeycomb):
    """A key Honeycomb does not know: its answer is shown, the key is not."""
    ssm.put_parameter(Name=PARAMETER, Value="not-the-key", Type="SecureString")
    result = run(moto, honeycomb.api_url)
    assert result.returncode == 2
    assert "HTTP 401: unknown API key - check your credentials" in result.stderr
    assert "not-the-key" not in result.stdout + result.stderr


def test_rate_limits_and_errors_are_retried(moto, configuration_key, honeycomb):
    """A 429 (with Retry-After) and a 503 before the first query succeeds: retried, and every query is created."""
    honeycomb.fail_next = [(429, {"error": "Rate Limited"}), (503, {"error": "unavailable"})]
    result = run(moto, honeycomb.api_url)
    assert result.returncode == 0, result.stderr
    assert honeycomb.calls[:3] == [("POST", "/1/queries/__all__")] * 3  # the first file's query, tried three times
    assert len(honeycomb.named_queries()) == len(QUESTIONS)


def test_honeycomb_down_is_named_after_the_retries(moto, configuration_key, honeycomb):
    """Honeycomb answering 503 to everything: five tries of the first query, then its name and Honeycomb's answer."""
    honeycomb.fail_next = [(503, {"error": "Honeycomb is unavailable"})] * 10
    result = run(moto, honeycomb.api_url)
    assert result.returncode == 2
    assert "creating query 'Browser-to-backend network time'" in result.stderr
    assert "HTTP 503: Honeycomb is unavailable" in result.stderr
    assert len(honeycomb.calls) == 1 + honeycomb_queries.RETRY.total


def test_honeycomb_unreachable_is_named(moto, configuration_key):
    """Nothing listening: the message says Honeycomb could not be reached, at which address."""
    url = f"http://127.0.0.1:{closed_port()}"
    result = run(moto, url)
    assert result.returncode == 2
    assert f"could not reach Honeycomb at {url}" in result.stderr


# -- the stand-in holds requests to Honeycomb's documented rules ------------------------------------


def test_every_shipped_query_keeps_the_query_specification():
    """Each file's query, as the script sends it, is one Honeycomb accepts."""
    for query in honeycomb_queries.load_queries(SERVICE):
        assert spec_problems(query.spec) == [], query.file


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"calculations": [{"op": "P42", "column": "duration_ms"}]}, "calculations[0].op"),
        ({"calculations": [{"op": "COUNT", "column": "duration_ms"}]}, "calculations[0].column"),
        ({"calculations": [{"op": "P99"}]}, "calculations[0].column"),
        ({"calculations": [{"op": "SUM", "column": "child.duration_ms"}]}, "calculations[0].column"),
        ({"filters": [{"column": "error", "op": "is", "value": True}]}, "filters[0].op"),
        ({"filters": [{"column": "http.url", "op": "exists", "value": "x"}]}, "filters[0].value"),
        ({"filters": [{"column": "name", "op": "in", "value": "HTTP GET"}]}, "filters[0].value"),
        ({"filters": [{"column": "name", "op": "="}]}, "filters[0].value"),
        ({"filter_combination": "XOR"}, "filter_combination"),
        ({"breakdowns": ["none.name"]}, "breakdowns[0]"),
        ({"breakdowns": [f"c{i}" for i in range(101)]}, "breakdowns"),
        ({"orders": [{"op": "P99", "column": "duration_ms"}]}, "orders[0]"),
        ({"orders": [{"column": "http.route"}]}, "orders[0]"),
        ({"havings": [{"calculate_op": "COUNT", "op": ">", "value": 1}]}, "havings[0]"),
        ({"limit": 1001}, "limit"),
        ({"limit": 0}, "limit"),
        ({"time_range": 0}, "time_range"),
        ({"time_range": 60, "start_time": 1, "end_time": 100}, "time_range"),
        ({"start_time": 200, "end_time": 100}, "start_time"),
        ({"time_range": 7200, "granularity": 1}, "granularity"),
        ({"time_range": 7200, "granularity": 721}, "granularity"),
        ({"compare_time_offset_seconds": 60}, "compare_time_offset_seconds"),
        ({"name": "a query"}, "name"),
    ],
)
def test_the_stand_in_refuses_what_the_specification_does_not_allow(spec, field):
    """Each documented rule, broken once, is refused naming its field."""
    assert field in [problem_field for problem_field, _ in spec_problems(spec)]


def test_the_stand_in_answers_as_honeycomb_does():
    """No key: 401 and Honeycomb's error; a dataset that does not exist: 404; not JSON: 400 problem; a bad spec: 422
    problem.
    """
    with HoneycombApi(configuration_key=KEY, datasets=(SERVICE,)) as api:
        answer = requests.post(f"{api.url}/1/queries/{SERVICE}", json={}, timeout=5)
        assert (answer.status_code, answer.json()) == (401, {"error": "unknown API key - check your credentials"})
        headers = {"X-Honeycomb-Team": KEY}
        assert requests.post(f"{api.url}/1/queries/nope", json={}, headers=headers, timeout=5).status_code == 404
        unparseable = requests.post(f"{api.url}/1/queries/{SERVICE}", data=b"{", headers=headers, timeout=5)
        assert unparseable.status_code == 400 and unparseable.headers["Content-Type"] == "application/problem+json"
        invalid = requests.post(
            f"{api.url}/1/queries/{SERVICE}", json={"limit": 5000}, headers=headers, timeout=5
        ).json()
        assert invalid["status"] == 422 and invalid["type"].endswith("/validation-failed")
        assert invalid["type_detail"][0]["field"] == "limit"
        created = requests.post(f"{api.url}/1/queries/{SERVICE}", json={"time_range": 600}, headers=headers, timeout=5)
        assert created.status_code == 200 and created.json()["time_range"] == 600
        annotation = {"name": "n", "query_id": created.json()["id"]}
        assert (
            requests.post(
                f"{api.url}/1/query_annotations/__all__", json=annotation, headers=headers, timeout=5
            ).status_code
            == 400
        )
        assert (
            requests.post(
                f"{api.url}/1/query_annotations/{SERVICE}", json=annotation, headers=headers, timeout=5
            ).status_code
            == 201
        )
