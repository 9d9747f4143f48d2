"""Seeding is a command of its own: ``flask init-db``, ``python -m cruddur.seed`` and the task's start; building the
app never seeds.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from cruddur import contract, extensions
from cruddur.app import create_app
from cruddur.seed import seed_at_start
from tests.service.conftest import TEST_CREDENTIALS
from testsupport.gunicorn import SERVICE_DIR
from testsupport.waiting import closed_port


def _environ(dynamodb_environ: dict[str, str]) -> dict[str, str]:
    return {contract.SERVICE_NAME.name: "cruddur-backend-flask", **dynamodb_environ}


def test_building_the_app_does_not_seed_and_init_db_seeds_once(dynamodb_environ):
    """Given a fresh table, create_app leaves it empty; ``flask init-db`` seeds it; run again, it says it was seeded."""
    app = create_app(environ=_environ(dynamodb_environ))
    try:
        store = app.extensions[extensions.STORE]
        assert store.user("worf") is None
        runner = app.test_cli_runner()
        first = runner.invoke(args=["init-db"])
        assert first.exit_code == 0 and first.output.splitlines()[-1] == f"seeded table {store.table_name}"
        assert store.user("worf") is not None  # the command's output also carries the app's JSON log lines
        again = runner.invoke(args=["init-db"])
        assert again.exit_code == 0 and again.output.splitlines()[-1] == f"table {store.table_name} was seeded already"
    finally:
        app.extensions[extensions.TELEMETRY].shutdown(3)


def test_init_db_fails_with_a_sentence_when_dynamodb_is_down(dynamodb_environ):
    """Run by hand against a DynamoDB nobody answers at, the command exits 1 and names the table."""
    unreachable = {**dynamodb_environ, contract.AWS_ENDPOINT_URL_DYNAMODB.name: f"http://127.0.0.1:{closed_port()}"}
    app = create_app(environ=_environ(unreachable))
    try:
        result = app.test_cli_runner().invoke(args=["init-db"])
    finally:
        app.extensions[extensions.TELEMETRY].shutdown(3)
    table_name = dynamodb_environ[contract.DYNAMODB_TABLE_NAME.name]
    assert result.exit_code == 1 and f"could not seed table {table_name}" in result.output


def test_python_dash_m_seeds_from_the_environment(dynamodb_environ):
    """Without the flask command line, ``python -m cruddur.seed`` reads the same settings from the environment."""
    env = {"PATH": os.environ["PATH"], **TEST_CREDENTIALS, **_environ(dynamodb_environ)}
    run = [sys.executable, "-m", "cruddur.seed"]
    first = subprocess.run(run, cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    again = subprocess.run(run, cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=60)
    table_name = dynamodb_environ[contract.DYNAMODB_TABLE_NAME.name]
    assert (again.returncode, again.stdout) == (0, f"table {table_name} was seeded already\n")


def test_python_dash_m_names_a_bad_setting():
    """A missing table name stops the command with exit 1 and the setting's name."""
    env = {"PATH": os.environ["PATH"], contract.SERVICE_NAME.name: "cruddur-backend-flask"}
    run = subprocess.run(
        [sys.executable, "-m", "cruddur.seed"], cwd=SERVICE_DIR, env=env, capture_output=True, text=True
    )
    assert run.returncode == 1 and "DYNAMODB_TABLE_NAME is not set" in run.stderr


def test_seeding_at_start_only_warns_when_dynamodb_is_down(dynamodb_environ, caplog):
    """At a task's start a DynamoDB that is down is one warning, and the start goes on (the health check needs no
    table).
    """
    unreachable = {**dynamodb_environ, contract.AWS_ENDPOINT_URL_DYNAMODB.name: f"http://127.0.0.1:{closed_port()}"}
    with caplog.at_level(logging.WARNING, logger="cruddur.seed"):
        assert seed_at_start(_environ(unreachable)) is False
    (record,) = [r for r in caplog.records if r.name == "cruddur.seed"]
    assert record.levelno == logging.WARNING and "it is seeded at the next start" in record.getMessage()
