"""make honeycomb-slos: each environment's objectives as derived columns, SLOs and burn alerts in Honeycomb, idempotent.

The script runs as make runs it (``python -m scripts.honeycomb_slos``), against
moto_server for SSM and the Honeycomb API stand-in, which refuses any request
that breaks the schema Honeycomb documents for derived columns, SLOs and burn
alerts. Cruddur's environments name no recipient, so the burn alerts are run
in-process (``apply``) on their configs with one, over the same HTTP.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pytest

from flask_aws_telemetry_cdk.models.service_level_objectives import BURN_RATE_ALERTS
from infra.environments import ENVIRONMENTS, load_environment
from scripts import honeycomb_queries
from scripts.honeycomb_queries import honeycomb_session
from scripts.honeycomb_slos import (
    AVAILABILITY_ALIAS,
    LATENCY_ALIAS,
    BurnAlert,
    HoneycombSlosClient,
    HoneycombSlosError,
    apply,
    availability_expression,
    honeycomb_slos,
    latency_expression,
)
from testsupport import REPO_ROOT
from testsupport.standins.honeycomb_api import (
    HoneycombApi,
    burn_alert_problems,
    derived_column_problems,
    slo_problems,
)
from testsupport.waiting import closed_port

KEY = "hcxck_test-configuration-key-0123456789"
SERVICE = load_environment("dev").service_name
PAGE, NOTICE = "yUheCUmgZ8p", "pNoT1ce2Rcp"
WRITES = ("POST", "PUT", "DELETE")


def with_recipients(name: str, *, page: str | None = PAGE, notice: str | None = NOTICE, **slos):
    """Environment ``name``'s config, its burn alerts to ``page`` and ``notice``, and ``slos`` changed."""
    config = load_environment(name)
    changed = dataclasses.replace(config.slos, honeycomb_recipient=page, honeycomb_notice_recipient=notice, **slos)
    return dataclasses.replace(config, slos=changed)


@pytest.fixture
def honeycomb():
    """Honeycomb's API, knowing the backend's dataset, the key and two recipients."""
    with HoneycombApi(configuration_key=KEY, datasets=(SERVICE,), recipients=(PAGE, NOTICE)) as api:
        yield api


def client(api: HoneycombApi) -> HoneycombSlosClient:
    """The script's client, with the key, on the stand-in."""
    return HoneycombSlosClient(honeycomb_session(KEY), api.url, SERVICE)


def run(moto, api_url: str, environment: str = "dev") -> subprocess.CompletedProcess:
    """``python -m scripts.honeycomb_slos --env ENVIRONMENT`` from the repository root, SSM on moto."""
    environ = {
        "PATH": os.environ["PATH"], "HOME": "/tmp", "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_SSM": moto.url,
    }  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "scripts.honeycomb_slos", "--env", environment, "--api-url", api_url],
        cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def put_key(ssm, environment: str, value: str = KEY) -> None:
    """The Configuration key of ``environment``, put as make secrets puts it."""
    name = load_environment(environment).secret_parameter_name("HONEYCOMB_CONFIGURATION_KEY")
    ssm.put_parameter(Name=name, Value=value, Type="SecureString")


def alerts_of(api: HoneycombApi, slo_id: str) -> dict[str, dict]:
    """The burn alerts of SLO ``slo_id`` by the name their description starts with."""
    return {a["description"].split(":")[0]: a for a in api.burn_alerts.values() if a["slo"]["id"] == slo_id}


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_each_environment_gets_its_two_slos(moto, ssm, honeycomb, environment):
    """make honeycomb-slos ENV=...: a derived column and an SLO per objective, with the config's goal and window;
    no burn alert, since Cruddur names no recipient, and the run says so; nothing refused, the key never printed.
    """
    put_key(ssm, environment)
    result = run(moto, honeycomb.url, environment)
    assert result.returncode == 0, result.stderr
    assert honeycomb.refused == []
    slos = load_environment(environment).slos
    columns = {c["alias"]: c["expression"] for c in honeycomb.derived_columns.values()}
    assert columns == {
        AVAILABILITY_ALIAS: availability_expression(),
        LATENCY_ALIAS: latency_expression(slos.latency_threshold_seconds),
    }
    held = {o["sli"]["alias"]: (o["target_per_million"], o["time_period_days"]) for o in honeycomb.slos.values()}
    assert held == {
        AVAILABILITY_ALIAS: (round(slos.availability_goal_percent * 10_000), slos.availability_window_days),
        LATENCY_ALIAS: (round(slos.latency_goal_percent * 10_000), slos.latency_window_days),
    }
    assert honeycomb.burn_alerts == {}
    assert f"burn alerts: skipped, {environment}'s config names no recipient" in result.stdout
    assert [line.split(":")[0] for line in result.stdout.splitlines()[:4]] == ["created"] * 4
    assert KEY not in result.stdout + result.stderr


def test_prod_in_honeycomb_is_what_cloudwatch_holds(honeycomb):
    """prod: 99.9 % and 99 % under 1 s over 30 days; the fast burn pages at 2 % of the budget in an hour, the
    sustained one at 5 % in six hours, the slow one notifies at 10 % in three days: the CloudWatch alerts' long
    windows at their burn rates (14.4, 6 and 1).
    """
    apply(with_recipients("prod"), client(honeycomb))
    assert honeycomb.refused == []
    slos = {o["name"]: o for o in honeycomb.slos.values()}
    assert {name: (o["target_per_million"], o["time_period_days"]) for name, o in slos.items()} == {
        f"{SERVICE} availability": (999_000, 30),
        f"{SERVICE} latency": (990_000, 30),
    }
    for slo in slos.values():
        held = {name: _shape(alert) for name, alert in alerts_of(honeycomb, slo["id"]).items()}
        assert held == {
            "FastBurn": ("budget_rate", 60, 20_000, [PAGE]),
            "SustainedBurn": ("budget_rate", 360, 50_000, [PAGE]),
            "SlowBurn": ("budget_rate", 4320, 100_000, [NOTICE]),
        }


def _shape(alert: dict) -> tuple:
    return (
        alert["alert_type"],
        alert["budget_rate_window_minutes"],
        alert["budget_rate_decrease_threshold_per_million"],
        [recipient["id"] for recipient in alert["recipients"]],
    )


@pytest.mark.parametrize("environment", list(ENVIRONMENTS))
def test_every_environments_burn_alerts_spend_the_share_cloudwatch_alarms_at(honeycomb, environment):
    """Each threshold is the budget a burn at the alert's rate spends in its long window of the SLO's days."""
    config = with_recipients(environment, notice=None)
    apply(config, client(honeycomb))
    assert honeycomb.refused == []
    for slo in honeycomb.slos.values():
        days = slo["time_period_days"]
        alerts = alerts_of(honeycomb, slo["id"])
        for rule in BURN_RATE_ALERTS:
            alert = alerts[rule.name]
            assert alert["budget_rate_window_minutes"] == rule.long_window_minutes
            expected = rule.burn_rate * rule.long_window_minutes / (days * 24 * 60)
            assert alert["budget_rate_decrease_threshold_per_million"] == round(expected * 1_000_000)
            assert [r["id"] for r in alert["recipients"]] == [PAGE]  # the notice goes where the page goes


def test_a_second_run_changes_nothing_and_says_so(moto, ssm, honeycomb):
    """Run twice, the second makes no POST, PUT or DELETE, and each line says unchanged, then nothing changed."""
    config = with_recipients("staging")
    apply(config, client(honeycomb))
    first = len(honeycomb.calls)
    lines = apply(config, client(honeycomb))
    assert [call for call in honeycomb.calls[first:] if call[0] in WRITES] == []
    assert [line.split(":")[0] for line in lines] == ["unchanged"] * 10 + ["nothing changed"]
    # And as make runs it.
    put_key(ssm, "dev")
    assert run(moto, honeycomb.url).returncode == 0
    again = run(moto, honeycomb.url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "nothing changed: dev's Honeycomb already holds these SLOs"


def test_a_changed_goal_window_or_threshold_updates_in_place(honeycomb):
    """prod's goal to 99.95 %, the latency threshold to 0.5 s and the window to 28 days: the same SLOs, column and
    burn alerts (same ids), updated with PUT; nothing created, nothing deleted.
    """
    apply(with_recipients("prod"), client(honeycomb))
    ids = (set(honeycomb.derived_columns), set(honeycomb.slos), set(honeycomb.burn_alerts))
    before = len(honeycomb.calls)
    changed = with_recipients(
        "prod", availability_goal_percent=99.95, latency_threshold_seconds=0.5, availability_window_days=28
    )
    lines = apply(changed, client(honeycomb))
    assert honeycomb.refused == []
    assert (set(honeycomb.derived_columns), set(honeycomb.slos), set(honeycomb.burn_alerts)) == ids
    assert {method for method, _ in honeycomb.calls[before:]} == {"GET", "PUT"}
    availability = next(o for o in honeycomb.slos.values() if o["sli"]["alias"] == AVAILABILITY_ALIAS)
    assert (availability["target_per_million"], availability["time_period_days"]) == (999_500, 28)
    latency = next(c for c in honeycomb.derived_columns.values() if c["alias"] == LATENCY_ALIAS)
    assert latency["expression"] == latency_expression(0.5) and "LTE($duration_ms, 500)" in latency["expression"]
    fast = next(
        a for a in honeycomb.burn_alerts.values()
        if a["slo"]["id"] == availability["id"] and a["description"].startswith("FastBurn:")
    )  # fmt: skip
    assert fast["budget_rate_decrease_threshold_per_million"] == round(14.4 * 60 / (28 * 1440) * 1_000_000)
    # Updated: the latency column, both SLOs (the latency one's description names its threshold), availability's
    # three burn alerts (28 days' budget); unchanged: the availability column and latency's burn alerts.
    assert sorted(line.split(":")[0] for line in lines) == ["unchanged"] * 4 + ["updated"] * 6
    assert "updated: SLO 'cruddur-backend-flask availability' (99.95 % over 28 days)" in lines


def test_a_duplicate_burn_alert_goes_and_others_stay(honeycomb):
    """A second FastBurn (a retried POST) is deleted; a burn alert someone added by hand is left alone."""
    apply(with_recipients("dev"), client(honeycomb))
    fast = next(a for a in honeycomb.burn_alerts.values() if a["description"].startswith("FastBurn:"))
    hand_made = {
        "alert_type": "exhaustion_time", "exhaustion_minutes": 240, "description": "ours: 4 hours left",
        "slo": fast["slo"], "recipients": [{"id": PAGE}],
    }  # fmt: skip
    duplicate = {k: fast[k] for k in ("alert_type", "description", "budget_rate_window_minutes", "recipients")}
    duplicate |= {"slo": fast["slo"], "budget_rate_decrease_threshold_per_million": 1}
    for body in (hand_made, duplicate):
        status, *_ = honeycomb.respond(
            "POST", f"/1/burn_alerts/{SERVICE}", {"X-Honeycomb-Team": KEY}, json.dumps(body).encode()
        )
        assert status == 201
    apply(with_recipients("dev"), client(honeycomb))
    descriptions = sorted(a["description"].split(":")[0] for a in honeycomb.burn_alerts.values())
    assert descriptions == ["FastBurn", "FastBurn", "SlowBurn", "SlowBurn", "SustainedBurn", "SustainedBurn", "ours"]
    assert fast["id"] in honeycomb.burn_alerts


# -- what goes wrong is one sentence ---------------------------------------------------------------


def test_a_missing_key_is_one_line_saying_what_to_do(moto, ssm, honeycomb):
    """No parameter: one line naming it, the permissions and the make secrets command; Honeycomb never called."""
    result = run(moto, honeycomb.url)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    parameter = load_environment("dev").secret_parameter_name("HONEYCOMB_CONFIGURATION_KEY")
    assert parameter in result.stderr and "'Manage SLOs'" in result.stderr
    assert "HONEYCOMB_CONFIGURATION_KEY=... make secrets ENV=dev" in result.stderr
    assert honeycomb.calls == []


def test_a_wrong_key_is_honeycombs_401_with_the_permissions_it_needs(moto, ssm, honeycomb):
    """A key Honeycomb does not know: the request, the 401 and the permissions; the key is never shown."""
    put_key(ssm, "dev", "not-the-key")
    result = run(moto, honeycomb.url)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: GET /1/derived_columns/{SERVICE}?alias={AVAILABILITY_ALIAS} (reading derived column "
        f"{AVAILABILITY_ALIAS}): Honeycomb answered HTTP 401: unknown API key - check your credentials; "
        "the Configuration key needs 'Manage Queries and Columns' and 'Manage SLOs'"
    )
    assert "not-the-key" not in result.stdout + result.stderr


def test_honeycomb_down_is_one_sentence_after_the_retries(moto, ssm, honeycomb):
    """503 to everything: retried as make honeycomb-queries retries, then the request and the status, no traceback."""
    put_key(ssm, "dev")
    honeycomb.fail_next = [(503, {"error": "Honeycomb is unavailable"})] * 10
    result = run(moto, honeycomb.url)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("Honeycomb answered HTTP 503: Honeycomb is unavailable")
    assert result.stderr.startswith(f"error: GET /1/derived_columns/{SERVICE}?alias=")
    assert len(honeycomb.calls) == 1 + honeycomb_queries.RETRY.total and "Traceback" not in result.stderr


def test_honeycomb_unreachable_is_named(moto, ssm):
    """Nothing listening: the request and the address it could not reach."""
    put_key(ssm, "dev")
    url = f"http://127.0.0.1:{closed_port()}"
    result = run(moto, url)
    assert result.returncode == 2
    assert f"could not reach Honeycomb at {url}" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_recipient_is_honeycombs_422_naming_the_request(honeycomb):
    """A recipient id the team does not have: the burn alert's request, the 422 and the field."""
    with pytest.raises(HoneycombSlosError) as raised:
        apply(with_recipients("dev", page="nOsuchRecip"), client(honeycomb))
    message = str(raised.value)
    assert message.startswith(f"POST /1/burn_alerts/{SERVICE} (creating burn alert FastBurn of ")
    assert "HTTP 422: recipients[0].id: no recipient nOsuchRecip" in message


def test_a_dataset_honeycomb_does_not_have_yet_says_to_deploy_first():
    """No span sent yet, so no dataset: the request, Honeycomb's 404 and what to do."""
    with HoneycombApi(configuration_key=KEY, datasets=()) as empty:
        with pytest.raises(HoneycombSlosError) as raised:
            apply(load_environment("dev"), client(empty))
    assert str(raised.value) == (
        f"POST /1/derived_columns/{SERVICE} (creating derived column {AVAILABILITY_ALIAS}): Honeycomb answered "
        "HTTP 404: dataset not found; Honeycomb makes the dataset when the service first sends it spans, "
        "so deploy first"
    )


def test_a_planted_bad_request_is_refused(honeycomb, monkeypatch):
    """A burn alert sent with a field Honeycomb's schema does not have (a percentage instead of per million) and
    without its threshold: refused, naming both fields.
    """
    planted = BurnAlert.body

    def percent_instead(self, slo_id=None):
        body = planted(self, slo_id)
        body["budget_rate_decrease_percent"] = body.pop("budget_rate_decrease_threshold_per_million") / 10_000
        return body

    monkeypatch.setattr(BurnAlert, "body", percent_instead)
    with pytest.raises(HoneycombSlosError) as raised:
        apply(with_recipients("dev"), client(honeycomb))
    assert "budget_rate_decrease_percent: is not a field of a burn alert" in str(raised.value)
    assert "budget_rate_decrease_threshold_per_million: is required for budget_rate alerts" in str(raised.value)


def test_make_honeycomb_slos_runs_the_script_for_env():
    """`make honeycomb-slos ENV=prod` (and the EU's API) resolves to the script this file runs."""
    from tests.docs.test_make_targets import make

    result = make("-n", "honeycomb-slos", "ENV=prod", "HONEYCOMB_API_URL=https://api.eu1.honeycomb.io")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        .splitlines()[-1]
        .endswith("python -m scripts.honeycomb_slos --env prod --api-url https://api.eu1.honeycomb.io")
    )


# -- the stand-in holds requests to Honeycomb's documented schema --------------------------------------

GOOD_COLUMN = {"alias": "sli_ok", "expression": "LT($http.response.status_code, 500)", "description": ""}
GOOD_SLO = {"name": "ok", "sli": {"alias": "sli_ok"}, "time_period_days": 30, "target_per_million": 999_000}
GOOD_ALERT = {
    "alert_type": "budget_rate", "budget_rate_window_minutes": 60,
    "budget_rate_decrease_threshold_per_million": 20_000, "slo": {"id": "s1"}, "recipients": [{"id": PAGE}],
}  # fmt: skip


def new_alert(body: dict) -> list[tuple[str, str]]:
    """The problems of ``body`` as a POST (a new burn alert)."""
    return burn_alert_problems(body, creating=True)


def test_the_good_bodies_pass():
    """The bodies the bad ones below differ from are accepted."""
    assert derived_column_problems(GOOD_COLUMN) == slo_problems(GOOD_SLO) == []
    assert new_alert(GOOD_ALERT) == []


@pytest.mark.parametrize(
    ("check", "body", "field"),
    [
        (derived_column_problems, {**GOOD_COLUMN, "alias": ""}, "alias"),
        (derived_column_problems, {**GOOD_COLUMN, "alias": "a" * 256}, "alias"),
        (derived_column_problems, {**GOOD_COLUMN, "expression": ""}, "expression"),
        (derived_column_problems, {**GOOD_COLUMN, "expression": "LT($status_code, 500"}, "expression"),
        (derived_column_problems, {**GOOD_COLUMN, "expression": "$a < 5"}, "expression"),
        (derived_column_problems, {**GOOD_COLUMN, "expression": "LT($a)"}, "expression"),
        (derived_column_problems, {**GOOD_COLUMN, "column": "x"}, "column"),
        (slo_problems, {**GOOD_SLO, "name": "n" * 121}, "name"),
        (slo_problems, {**GOOD_SLO, "description": "d" * 1024}, "description"),
        (slo_problems, {**GOOD_SLO, "sli": "sli_ok"}, "sli"),
        (slo_problems, {**GOOD_SLO, "time_period_days": 0}, "time_period_days"),
        (slo_problems, {**GOOD_SLO, "time_period_days": 7.5}, "time_period_days"),
        (slo_problems, {**GOOD_SLO, "target_per_million": 1_000_000}, "target_per_million"),
        (slo_problems, {**GOOD_SLO, "target_per_million": 99.9}, "target_per_million"),
        (slo_problems, {**GOOD_SLO, "target_percentage": 99.9}, "target_percentage"),
        (slo_problems, {**GOOD_SLO, "tags": [{"team": "blue"}]}, "tags"),
        (slo_problems, {k: v for k, v in GOOD_SLO.items() if k != "name"}, "name"),
        (new_alert, {**GOOD_ALERT, "alert_type": "burn_rate"}, "alert_type"),
        (new_alert, {**GOOD_ALERT, "exhaustion_minutes": 6}, "exhaustion_minutes"),
        (new_alert, {**GOOD_ALERT, "budget_rate_window_minutes": "60"},
         "budget_rate_window_minutes"),
        (new_alert,
         {**GOOD_ALERT, "budget_rate_decrease_threshold_per_million": 2_000_000},
         "budget_rate_decrease_threshold_per_million"),
        (new_alert, {k: v for k, v in GOOD_ALERT.items() if k != "alert_type"},
         "exhaustion_minutes"),
        (new_alert, {k: v for k, v in GOOD_ALERT.items() if k != "slo"}, "slo"),
        (new_alert, {**GOOD_ALERT, "recipients": []}, "recipients"),
        (new_alert, {**GOOD_ALERT, "recipients": [{"type": "email"}]},
         "recipients[0]"),
        (new_alert,
         {**GOOD_ALERT, "recipients": [{"type": "sms", "target": "+1555"}]}, "recipients[0].type"),
        (new_alert,
         {**GOOD_ALERT, "recipients": [{"id": PAGE, "details": {"pagerduty_severity": "high"}}]},
         "recipients[0].details"),
        (new_alert, {**GOOD_ALERT, "description": "d" * 1024}, "description"),
    ],
)  # fmt: skip
def test_the_stand_in_refuses_what_the_schema_does_not_allow(check, body, field):
    """Each documented rule, broken once, is refused naming its field."""
    assert field in [problem_field for problem_field, _ in check(body)]


def test_the_manual_quotes_what_the_script_sends():
    """docs/saved-queries.md's table of SLOs and burn alerts per environment is what honeycomb_slos makes."""
    page = (REPO_ROOT / "docs" / "saved-queries.md").read_text()
    table = page[page.index("| environment | SLO (name in Honeycomb) |") :].split("\n\n", 1)[0].splitlines()[2:]
    quoted = []
    for row in table:
        environment, name, goal, fast, sustained, slow = [cell.strip() for cell in row.strip("|").split("|")]
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", f"{goal} {fast} {sustained} {slow}")]
        kind = "availability" if "availability" in name else "latency"
        quoted.append((environment, kind, int(numbers[0]), int(numbers[2]), numbers[3], numbers[5], numbers[7]))
    sent = []
    for environment in ENVIRONMENTS:
        for slo in honeycomb_slos(with_recipients(environment)):
            fast, sustained, slow = (alert.threshold_per_million / 10_000 for alert in slo.burn_alerts)
            kind = slo.name.rsplit(" ", 1)[1]
            sent.append((environment, kind, slo.target_per_million, slo.time_period_days, fast, sustained, slow))
    assert quoted == sent
    expressions = dict(re.findall(r"\| `(sli_\w+)` \| `([^`]+)`", page))
    assert expressions == {AVAILABILITY_ALIAS: availability_expression(), LATENCY_ALIAS: latency_expression(1.0)}
