"""make local: the service on :5000 against an embedded DynamoDB (moto's server) on loopback, no AWS account.

The table is created from ``service/cruddur/table.py``, the same design the
stack deploys, and seeded with the course's mock data (``cruddur.seed``, what
``flask --app cruddur.app init-db`` runs).
Spans are printed to the console. Stop with Ctrl-C: both processes end.

    FRONTEND_URL=http://localhost:3000 python -m scripts.run_local
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

from cruddur import contract, table
from cruddur.seed import seed_table
from cruddur.store import Store

REPO_ROOT = Path(__file__).resolve().parents[1]

# Credentials that exist only here: moto accepts any, and real ones must never be sent to it.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def _wait_for(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Start moto's DynamoDB, create and seed the table, run gunicorn until interrupted (Ctrl-C or SIGTERM)."""
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dynamodb-port", type=int, default=8000, help="loopback port of the embedded DynamoDB (default 8000)"
    )
    parser.add_argument("--table", default="cruddur-local", help="table name (default cruddur-local)")
    parser.add_argument(
        "--frontend-url",
        default=os.environ.get(contract.FRONTEND_URL.name, "http://localhost:3000"),
        help="origin(s) of the course's frontend allowed by CORS (default: $FRONTEND_URL or http://localhost:3000)",
    )
    args = parser.parse_args(argv)
    endpoint = f"http://localhost:{args.dynamodb_port}"
    bin_dir = Path(sys.executable).parent
    moto = subprocess.Popen([str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(args.dynamodb_port)])
    try:
        if not _wait_for(f"{endpoint}/moto-api/", 30):
            print(
                f"error: moto_server did not start on port {args.dynamodb_port}; is the port in use?", file=sys.stderr
            )
            return 2
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            **{k.lower(): v for k, v in LOCAL_CREDENTIALS.items()},
        )
        table.create_table(client, args.table)
        seed_table(Store(args.table, region="us-east-1", client=client), dt.datetime.now(dt.UTC))
        print(f"DynamoDB (moto) on {endpoint}, table {args.table}; frontend origin {args.frontend_url}", flush=True)
        environ = {
            **os.environ,
            **LOCAL_CREDENTIALS,
            contract.SERVICE_NAME.name: "cruddur-backend-flask",
            contract.DEPLOYMENT_ENVIRONMENT.name: "local",
            contract.OTEL_ENABLED.name: "true",
            contract.OTEL_CONSOLE_EXPORT.name: "true",
            contract.DYNAMODB_TABLE_NAME.name: args.table,
            contract.AWS_ENDPOINT_URL_DYNAMODB.name: endpoint,
            contract.FRONTEND_URL.name: args.frontend_url,
        }
        service = subprocess.Popen(
            [str(bin_dir / "gunicorn"), *contract.APP_COMMAND[1:]], cwd=REPO_ROOT / "service", env=environ
        )
        try:
            return service.wait()
        except KeyboardInterrupt:
            service.send_signal(signal.SIGTERM)
            return service.wait(timeout=contract.STOP_TIMEOUT_SECONDS)
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
