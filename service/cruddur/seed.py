"""The course's cast and mock data, seeded into an empty table once: a command of its own, as Flask's ``init-db``.

    flask --app cruddur.app init-db     # with the flask command line
    python -m cruddur.seed              # without it; the same settings, from the environment

``make local`` runs it after creating the table, the tests that need data run
``seed_table``, and the task runs it once per start, in gunicorn's master
before any worker (``gunicorn.conf.py``), where a DynamoDB that is down is a
warning: the health check does not need the table, and the next start seeds.

Every seeded item has a fixed key and is put only if absent, and every time is
relative to the ``seeded_at`` of the first caller to claim the table's seed
marker, so seeding twice at once, or again after an interruption, writes the
same items once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Mapping
from typing import Protocol

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from . import extensions
from .records import User
from .settings import Settings, SettingsError
from .store import Store, StoreUnavailableError

log = logging.getLogger("cruddur.seed")

ANDREW = User("andrewbrown", "Andrew Brown")
WORF = User("worf", "Worf")
GAREK = User("garek", "Garek")
CLOUD_ACTIVITY_UUID = "68f126b0-1ceb-4a33-88be-d90fa7109eee"


class Warner(Protocol):
    """A logger that can warn: ``logging.Logger`` or gunicorn's ``server.log``."""

    def warning(self, msg: str, *args: object) -> None:
        """Log ``msg % args`` as a warning."""


def seed_table(store: Store, now: dt.datetime) -> bool:
    """Write the course's cast and mock data unless the table is seeded; True when this call finished seeding it."""
    base = store.claim_seed(now)
    if base is None:
        return False
    days, hours = dt.timedelta(days=1), dt.timedelta(hours=1)
    for user in (ANDREW, WORF, GAREK):
        store.put_user(user)
    store.new_activity(ANDREW, "Cloud is very fun!", base - 2 * days, 7 * days, activity_uuid=CLOUD_ACTIVITY_UUID)
    store.add_reply(
        CLOUD_ACTIVITY_UUID,
        WORF,
        "This post has no honor!",
        base - 2 * days,
        reply_uuid="26e12864-1c26-5c3a-9658-97a10f8fea67",
    )
    store.new_activity(
        WORF,
        "I am out of prune juice",
        base - 7 * days,
        16 * days,
        activity_uuid="66e12864-8c26-4c3a-9658-95a10f8fea67",
    )
    store.new_activity(
        GAREK,
        "My dear doctor, I am just a simple tailor",
        base - hours,
        13 * hours,
        activity_uuid="248959df-3079-4947-b847-9e0892d1bab4",
    )
    store.new_message(
        WORF, ANDREW, "This is a great idea", base - days, message_uuid="4e81c06a-db0f-4281-b4cc-98208537772a"
    )
    store.new_message(
        ANDREW, WORF, "Cloud is fun!", base - 20 * hours, message_uuid="66e12864-8c26-4c3a-9658-95a10f8fea68"
    )
    store.new_message(
        GAREK, ANDREW, "Quick question", base - 3 * hours, message_uuid="417c360e-c4e6-4fce-873b-d2d71469b4ac"
    )
    store.finish_seed()
    log.info("seeded table %s with the course's mock data", store.table_name)
    return True


def store_for(settings: Settings) -> Store:
    """The store of the table ``settings`` name."""
    return Store(
        settings.dynamodb_table_name, region=settings.telemetry.aws_region, endpoint_url=settings.dynamodb_endpoint_url
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def seed_at_start(environ: Mapping[str, str], warn: Warner = log) -> bool:
    """Seed the table ``environ`` names at a task's start; a DynamoDB that is down is a warning, not a failed start."""
    store = store_for(Settings.from_environ(environ))
    try:
        return seed_table(store, _now())
    except StoreUnavailableError as error:
        warn.warning("could not seed table %s (%s); it is seeded at the next start", store.table_name, error)
        return False


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Seed the app's table with the course's mock data, unless it is seeded."""
    store: Store = current_app.extensions[extensions.STORE]
    try:
        seeded = seed_table(store, _now())
    except StoreUnavailableError as error:
        raise click.ClickException(f"could not seed table {store.table_name}: {error}") from error
    click.echo(f"seeded table {store.table_name}" if seeded else f"table {store.table_name} was seeded already")


def init_app(app: Flask) -> None:
    """Register ``flask init-db`` on ``app``."""
    app.cli.add_command(init_db_command)


def main() -> int:
    """``python -m cruddur.seed``: seed the table the environment names; 0 when it is seeded, 1 when it could not be."""
    try:
        store = store_for(Settings.from_environ(os.environ))
        seeded = seed_table(store, _now())
    except (SettingsError, StoreUnavailableError) as error:
        print(f"cruddur.seed: {error}", file=sys.stderr)
        return 1
    print(f"seeded table {store.table_name}" if seeded else f"table {store.table_name} was seeded already")
    return 0


if __name__ == "__main__":
    sys.exit(main())
