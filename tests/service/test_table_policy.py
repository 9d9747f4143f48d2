"""The task role's DynamoDB grant is enough and no more, proved by running the service under it with moto enforcing IAM.

The grant is read from the synthesized dev template (the task role's
statement on the table). moto's server checks the signature and the actions
of every request once IAM is enforced (``/moto-api/reset-auth``); it does not
evaluate DynamoDB resource ARNs (it asks about "*"), so the statement's
resources, the table and its indexes and nothing else, are asserted on the
template here and in ``tests/infra/test_iam.py``.
"""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest

from cruddur import contract, extensions
from cruddur import table as design
from cruddur.app import create_app
from cruddur.seed import seed_at_start, seed_table
from cruddur.store import Store
from testsupport.standins.aws import MotoServer, create_service_table

ADMIN = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def _task_role_table_statement(env) -> dict:
    policies = env.resources("service", "AWS::IAM::Policy")
    (policy,) = [p for lid, p in policies.items() if "TaskRole" in lid]
    (statement,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "dynamodb:Query" in s["Action"]]
    return statement


@pytest.fixture(scope="module")
def granted_actions(dev) -> list[str]:
    """The DynamoDB actions the dev task role is granted, on the table and its indexes only."""
    statement = _task_role_table_statement(dev)
    (table_id,) = dev.resources("service", "AWS::DynamoDB::Table")
    arn = {"Fn::GetAtt": [table_id, "Arn"]}
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == [arn, {"Fn::Join": ["", [arn, "/index/*"]]}]
    return sorted(statement["Action"])


@pytest.fixture(scope="module")
def iam_moto(tmp_path_factory):
    """A moto server of this module's own: enforcing IAM is server-wide."""
    with MotoServer(tmp_path_factory.mktemp("iam-moto") / "moto.log") as server:
        yield server


def _task_credentials(server: MotoServer, actions: list[str]) -> dict[str, str]:
    """A fresh IAM user whose only policy allows ``actions``; its access key."""
    iam = boto3.client("iam", endpoint_url=server.url, **ADMIN)
    name = f"task-{len(iam.list_users()['Users'])}"
    iam.create_user(UserName=name)
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="table", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def _every_call_the_frontend_makes(client) -> list[tuple[str, int]]:
    """The course's frontend, page by page and form by form; the status of each call."""
    statuses = []

    def call(method: str, path: str, body: dict | None = None):
        response = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
        statuses.append((f"{method.upper()} {path}", response.status_code))
        return response

    home = call("get", "/api/activities/home").json
    call("get", "/api/activities/@worf")
    call("get", "/api/activities/notifications")
    call("get", "/api/activities/search?term=cloud")
    call("post", "/api/activities", {"message": "under the task role", "ttl": "1-hour"})
    if isinstance(home, list) and home:
        call("post", f"/api/activities/{home[0]['uuid']}/reply", {"message": "granted"})
    call("get", "/api/message_groups")
    call("get", "/api/messages/@worf")
    call("post", "/api/messages", {"message": "granted", "user_receiver_handle": "worf"})
    return statuses


def _run_under(server: MotoServer, monkeypatch, actions: list[str]) -> tuple[list[tuple[str, int]], set[str]]:
    """Seed as the task does at start, then serve every frontend call, with credentials allowed only ``actions``.

    Returns the statuses and the actions the app called.
    """
    table_name = create_service_table(server.url)
    credentials = _task_credentials(server, actions)
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    server.enforce_iam(True)
    try:
        environ = {
            contract.SERVICE_NAME.name: "cruddur-backend-flask",
            contract.DYNAMODB_TABLE_NAME.name: table_name,
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: server.url,
        }
        seed_at_start(environ)
        app = create_app(environ=environ)
        called: set[str] = set()
        store = app.extensions[extensions.STORE]
        store.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: called.add(f"dynamodb:{model.name}")
        )
        # The seed ran before this hook: _seed_actions records its actions on a fresh table.
        statuses = _every_call_the_frontend_makes(app.test_client())
        app.extensions[extensions.TELEMETRY].shutdown(3)
    finally:
        server.enforce_iam(False)
    return statuses, called


def test_the_granted_actions_are_enough_and_each_is_used(iam_moto, monkeypatch, granted_actions, fake_aws_credentials):
    """Under exactly the task role's actions, every frontend call answers 2xx, and every granted action was called."""
    statuses, called = _run_under(iam_moto, monkeypatch, granted_actions)
    assert all(status == 200 for _, status in statuses), statuses
    seeded = _seed_actions(iam_moto, monkeypatch, granted_actions)
    assert called | seeded == set(granted_actions) == set(design.SERVICE_ACTIONS)


@pytest.mark.parametrize("missing", design.SERVICE_ACTIONS)
def test_a_missing_grant_fails_here_not_in_a_deploy(
    iam_moto, monkeypatch, granted_actions, fake_aws_credentials, missing
):
    """Without any one of the granted actions, some frontend call fails, so removing a grant cannot pass the tests.

    Without PutItem the table is never seeded, so the failures are 404s (no such user) as well as 503s.
    """
    statuses, _ = _run_under(iam_moto, monkeypatch, [a for a in granted_actions if a != missing])
    assert any(status != 200 for _, status in statuses), statuses


def _seed_actions(server: MotoServer, monkeypatch, actions: list[str]) -> set[str]:
    """The actions seeding a fresh table calls, under the same credentials."""
    table_name = create_service_table(server.url)
    for name, value in _task_credentials(server, actions).items():
        monkeypatch.setenv(name, value)
    server.enforce_iam(True)
    try:
        store = Store(table_name, region="us-east-1", endpoint_url=server.url)
        called: set[str] = set()
        store.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: called.add(f"dynamodb:{model.name}")
        )
        assert seed_table(store, dt.datetime.now(dt.UTC)) is True
    finally:
        server.enforce_iam(False)
    return called
