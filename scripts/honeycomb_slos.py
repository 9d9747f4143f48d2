"""Create or update an environment's SLOs and their burn alerts in its Honeycomb: the objectives of its ``slos`` config.

    make honeycomb-slos ENV=prod
    .venv/bin/python -m scripts.honeycomb_slos --env prod [--api-url https://api.eu1.honeycomb.io]

The same two objectives CloudWatch holds (``SlosConfig``; the CloudWatch
SLOs and burn-rate alarms are ``components/slo_monitoring.py``), in the
environment's dataset (its service name, where Honeycomb stores the
backend's spans):

* a **derived column** per SLI, on the server span of each request the
  service traced (``span.kind`` = ``server``; ``duration_ms`` and
  ``span.kind`` are Honeycomb's translation of every OTLP span, the status
  the OpenTelemetry HTTP semantic conventions' ``http.response.status_code``
  the WSGI instrumentation sets). Spans the library exported as captured
  anomalies (``anomaly.captured``) are left out: they are requests head
  sampling had dropped, kept because they failed or were slow, and counting
  them would count the bad requests many times over their share. The SLI is
  null (not counted) for every other span. Availability:
  ``LT($http.response.status_code, 500)``; latency:
  ``LTE($duration_ms, threshold)``;
* an **SLO** on it: ``target_per_million`` is the goal (99.9 % is 999000),
  ``time_period_days`` the window;
* three **burn alerts** of type ``budget_rate`` (Honeycomb's alert on the
  share of the budget spent within a window) for the three burn-rate alerts
  of ``models/service_level_objectives.py``: the window is the alert's long
  window, the threshold the share of the budget a burn rate at the
  threshold spends in it (14.4 over 1 hour of 30 days is 2 %). Honeycomb's
  budget-rate alert has one window: the short window CloudWatch confirms
  with (5 minutes, 30 minutes, 6 hours) has no counterpart, so Honeycomb's
  alert also fires on a burst the short window would have seen end. The
  alerts that page (fast and sustained burn) notify
  ``slos.honeycomb_recipient``, the slow burn
  ``slos.honeycomb_notice_recipient`` (default: the same); without a
  recipient the SLOs are made without burn alerts, and the run says so.

Run again, it changes nothing that already matches and says so; a changed
goal, window, threshold or recipient updates the derived column, SLO or
burn alert in place (``PUT``). Objects are found by what the script names
them: a derived column by its alias, an SLO by its name, a burn alert by
the first word of its description (``FastBurn:``, ``SustainedBurn:``, ``SlowBurn:``) among the
SLO's; anything else in the dataset is left alone.

The key is the one ``make honeycomb-queries`` uses: the Configuration key in
the SecureString ``/<service>/<env>/HONEYCOMB_CONFIGURATION_KEY`` (``make
secrets``), which needs "Manage Queries and Columns" and "Manage SLOs"; it is
sent only in the ``X-Honeycomb-Team`` header and never printed. Requests are
retried as ``make honeycomb-queries`` retries them; what still fails stops
the run with one sentence naming the request, Honeycomb's status and answer.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from opentelemetry.semconv.attributes.http_attributes import HTTP_RESPONSE_STATUS_CODE

from flask_aws_telemetry.contract import ANOMALY_CAPTURED_ATTRIBUTE
from flask_aws_telemetry_cdk import ConfigError, EnvironmentConfig
from flask_aws_telemetry_cdk.models.service_level_objectives import BURN_RATE_ALERTS, BurnRateAlert, ObjectiveGoal
from infra.environments import load_environment
from scripts.honeycomb_queries import TIMEOUT, HoneycombQueriesError, _answer, honeycomb_session, read_configuration_key
from scripts.put_secrets import SecretsError, ssm_client

# The columns Honeycomb makes of every OTLP span (honeycombio/husky's translation): the span kind in lower case, and
# the span's duration in milliseconds.
SPAN_KIND = "span.kind"
DURATION_MS = "duration_ms"
PERMISSIONS = "'Manage Queries and Columns' and 'Manage SLOs'"
AVAILABILITY_ALIAS = "sli_availability"
LATENCY_ALIAS = "sli_latency"
# Honeycomb's SLO target: a whole number of events out of a million, at most 999999.
PER_MILLION = 1_000_000


class HoneycombSlosError(RuntimeError):
    """Creating the SLOs failed; the message names the request, Honeycomb's answer, and what to do."""


def _qualified(condition: str) -> str:
    """``condition`` for the server span of a request the service traced itself; null for every other span."""
    return f'IF(AND(EQUALS(${SPAN_KIND}, "server"), NOT(EXISTS(${ANOMALY_CAPTURED_ATTRIBUTE}))), {condition})'


def availability_expression() -> str:
    """The availability SLI: true when the service answered below 500."""
    return _qualified(f"LT(${HTTP_RESPONSE_STATUS_CODE}, 500)")


def latency_expression(threshold_seconds: float) -> str:
    """The latency SLI: true when the service answered within ``threshold_seconds``."""
    return _qualified(f"LTE(${DURATION_MS}, {threshold_seconds * 1000:g})")


@dataclass(frozen=True)
class DerivedColumn:
    """A derived column (Honeycomb's calculated field) of the dataset."""

    alias: str
    expression: str
    description: str

    @property
    def body(self) -> dict[str, Any]:
        """What POST and PUT send."""
        return {"alias": self.alias, "expression": self.expression, "description": self.description}


@dataclass(frozen=True)
class BurnAlert:
    """A ``budget_rate`` burn alert: fires when the SLO's budget falls by ``threshold_per_million`` in ``window``."""

    name: str
    window_minutes: int
    threshold_per_million: int
    recipient: str
    description: str

    def body(self, slo_id: str | None = None) -> dict[str, Any]:
        """What POST (with the SLO's id) and PUT send."""
        body: dict[str, Any] = {
            "alert_type": "budget_rate",
            "description": self.description,
            "budget_rate_window_minutes": self.window_minutes,
            "budget_rate_decrease_threshold_per_million": self.threshold_per_million,
            "recipients": [{"id": self.recipient}],
        }
        if slo_id is not None:
            body["slo"] = {"id": slo_id}
        return body

    def matches(self, existing: dict[str, Any]) -> bool:
        """Whether the burn alert Honeycomb holds is this one."""
        wanted = self.body()
        return all(existing.get(key) == wanted[key] for key in wanted if key != "recipients") and [
            r.get("id") for r in existing.get("recipients") or []
        ] == [self.recipient]


@dataclass(frozen=True)
class Slo:
    """One objective as Honeycomb holds it: its SLI column, goal, window and burn alerts."""

    name: str
    description: str
    sli: DerivedColumn
    time_period_days: int
    target_per_million: int
    burn_alerts: tuple[BurnAlert, ...]

    @property
    def body(self) -> dict[str, Any]:
        """What POST and PUT send."""
        return {
            "name": self.name,
            "description": self.description,
            "sli": {"alias": self.sli.alias},
            "time_period_days": self.time_period_days,
            "target_per_million": self.target_per_million,
        }

    def matches(self, existing: dict[str, Any]) -> bool:
        """Whether the SLO Honeycomb holds is this one."""
        return all(existing.get(key) == value for key, value in self.body.items())


def _burn_alerts(slo_name: str, goal: ObjectiveGoal, recipients: tuple[str, str] | None) -> tuple[BurnAlert, ...]:
    if recipients is None:
        return ()
    alerts = []
    page, notice = recipients
    for alert in BURN_RATE_ALERTS:
        recipient = page if alert.pages else notice
        share = alert.budget_share(goal.window_days)
        alerts.append(
            BurnAlert(
                name=alert.name,
                window_minutes=alert.long_window_minutes,
                threshold_per_million=max(1, min(PER_MILLION, round(share * PER_MILLION))),
                recipient=recipient,
                description=_alert_description(alert, slo_name, share),
            )
        )
    return tuple(alerts)


def _alert_description(alert: BurnRateAlert, slo_name: str, share: float) -> str:
    action = "Pages" if alert.pages else "A notice, not a page"
    return (
        f"{alert.name}: fires when {slo_name} spends {share:.2%} of its error budget within "
        f"{alert.long_window_minutes} minutes (a burn rate of {alert.burn_rate:g}). {action}: the CloudWatch "
        f"{alert.name} alarm's long window; its {alert.short_window_minutes}-minute confirmation has no "
        "Honeycomb counterpart."
    )


def honeycomb_slos(config: EnvironmentConfig) -> tuple[Slo, ...]:
    """The environment's objectives as Honeycomb holds them: availability, then latency."""
    slos, recipients, service = config.slos, config.slos.honeycomb_recipients, config.service_name
    objectives = (
        (
            f"{service} availability",
            DerivedColumn(
                AVAILABILITY_ALIAS,
                availability_expression(),
                "A request the service traced answered below 500 (its server span; captured anomalies left out).",
            ),
            slos.availability,
            "requests answered without a 5xx",
        ),
        (
            f"{service} latency",
            DerivedColumn(
                LATENCY_ALIAS,
                latency_expression(slos.latency_threshold_seconds),
                f"A request the service traced answered within {slos.latency_threshold_seconds:g} s "
                "(its server span; captured anomalies left out).",
            ),
            slos.latency,
            f"requests answered within {slos.latency_threshold_seconds:g} s",
        ),
    )
    return tuple(
        Slo(
            name=name,
            description=f"{goal.goal_percent:g} % of {what} over {goal.window_days} days, in {config.name} "
            f"(make honeycomb-slos; the CloudWatch SLO is its twin).",
            sli=sli,
            time_period_days=goal.window_days,
            target_per_million=min(PER_MILLION - 1, round(goal.goal_percent * PER_MILLION / 100)),
            burn_alerts=_burn_alerts(name, goal, recipients),
        )
        for name, sli, goal, what in objectives
    )


class HoneycombSlosClient:
    """The Derived Columns, SLOs and Burn Alerts API of one Honeycomb environment, for one dataset."""

    def __init__(self, session: requests.Session, api_url: str, dataset: str) -> None:
        """Call ``api_url`` through ``session`` about ``dataset``."""
        self._session = session
        self._api_url = api_url.rstrip("/")
        self._dataset = quote(dataset, safe="")
        self.changed = False

    def _call(
        self, doing: str, method: str, path: str, body: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Any:
        endpoint = f"{method} {path}"
        try:
            response = self._session.request(method, f"{self._api_url}{path}", json=body, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise HoneycombSlosError(
                f"{endpoint} ({doing}): could not reach Honeycomb at {self._api_url} ({type(error).__name__})"
            ) from None
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 300:
            hint = ""
            if response.status_code in (401, 403):
                hint = f"; the Configuration key needs {PERMISSIONS}"
            elif response.status_code == 404 and "dataset" in response.text:
                hint = "; Honeycomb makes the dataset when the service first sends it spans, so deploy first"
            raise HoneycombSlosError(f"{endpoint} ({doing}): Honeycomb answered {_answer(response)}{hint}")
        if method != "GET":
            self.changed = True
        return response.json() if response.content else None

    def derived_column(self, column: DerivedColumn) -> str:
        """Create or update ``column``; what was done."""
        doing = f"derived column {column.alias}"
        base = f"/1/derived_columns/{self._dataset}"
        existing = self._call(f"reading {doing}", "GET", f"{base}?alias={quote(column.alias)}", missing_ok=True)
        if existing is None:
            self._call(f"creating {doing}", "POST", base, column.body)
            return "created"
        if existing.get("expression") == column.expression and existing.get("description", "") == column.description:
            return "unchanged"
        self._call(f"updating {doing}", "PUT", f"{base}/{existing['id']}", column.body)
        return "updated"

    def slo(self, slo: Slo, listed: list[dict[str, Any]]) -> tuple[str, str]:
        """Create or update ``slo`` (``listed``: the dataset's SLOs); what was done, and the SLO's id."""
        doing = f"SLO '{slo.name}'"
        base = f"/1/slos/{self._dataset}"
        existing = next((s for s in listed if s.get("name") == slo.name), None)
        if existing is None:
            return "created", self._call(f"creating {doing}", "POST", base, slo.body)["id"]
        if slo.matches(existing):
            return "unchanged", existing["id"]
        self._call(f"updating {doing}", "PUT", f"{base}/{existing['id']}", slo.body)
        return "updated", existing["id"]

    def slos(self) -> list[dict[str, Any]]:
        """The dataset's SLOs."""
        return self._call("listing the SLOs", "GET", f"/1/slos/{self._dataset}")

    def burn_alerts(self, slo: Slo, slo_id: str) -> list[tuple[str, BurnAlert]]:
        """Create or update the burn alerts of ``slo``; what was done to each (duplicates of ours are deleted)."""
        base = f"/1/burn_alerts/{self._dataset}"
        listed = self._call(f"listing the burn alerts of '{slo.name}'", "GET", f"{base}?slo_id={quote(slo_id)}")
        done = []
        for alert in slo.burn_alerts:
            doing = f"burn alert {alert.name} of '{slo.name}'"
            ours = [a for a in listed if str(a.get("description", "")).startswith(f"{alert.name}:")]
            current = next((a for a in ours if alert.matches(a)), None)
            if current is not None:
                outcome = "unchanged"
            elif ours:
                current = ours[0]
                self._call(f"updating {doing}", "PUT", f"{base}/{current['id']}", alert.body())
                outcome = "updated"
            else:
                self._call(f"creating {doing}", "POST", base, alert.body(slo_id))
                outcome = "created"
            for duplicate in [a for a in ours if a is not current]:
                self._call(f"deleting a duplicate {doing}", "DELETE", f"{base}/{duplicate['id']}")
            done.append((outcome, alert))
        return done


def apply(config: EnvironmentConfig, client: HoneycombSlosClient) -> list[str]:
    """Create or update every derived column, SLO and burn alert of ``config``; one line for each."""
    lines = []
    dataset = config.service_name
    slos = honeycomb_slos(config)
    for slo in slos:
        lines.append(f"{client.derived_column(slo.sli)}: derived column {slo.sli.alias} in {dataset}")
    listed = client.slos()
    for slo in slos:
        outcome, slo_id = client.slo(slo, listed)
        lines.append(
            f"{outcome}: SLO '{slo.name}' ({slo.target_per_million / 10_000:g} % over {slo.time_period_days} days)"
        )
        for alert_outcome, alert in client.burn_alerts(slo, slo_id) if slo.burn_alerts else ():
            share = alert.threshold_per_million / 10_000
            lines.append(
                f"{alert_outcome}: burn alert {alert.name} of '{slo.name}' (budget down {share:g} % "
                f"within {alert.window_minutes} minutes, to {alert.recipient})"
            )
    if config.slos.honeycomb_recipients is None:
        lines.append(
            f"burn alerts: skipped, {config.name}'s config names no recipient; set slos.honeycomb_recipient "
            "to the id of a Honeycomb recipient (Team Settings, Recipients) and run again"
        )
    if not client.changed:
        lines.append(f"nothing changed: {config.name}'s Honeycomb already holds these SLOs")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Read the key, create or update the SLOs and burn alerts, and print one line for each."""
    parser = argparse.ArgumentParser(
        description="Create or update ENV's SLOs (its slos config) and their burn alerts in ENV's Honeycomb."
    )
    parser.add_argument("--env", required=True, help="environment name (dev, staging, prod)")
    parser.add_argument(
        "--region", default=None, help="AWS region of the SSM parameter (default: the environment's, then AWS_REGION)"
    )
    parser.add_argument(
        "--api-url", default=None, help="Honeycomb's API (default: the environment's telemetry.honeycomb_endpoint)"
    )
    args = parser.parse_args(argv)
    try:
        config = load_environment(args.env)
        key = read_configuration_key(config, ssm_client(config, args.region), PERMISSIONS)
        api_url = args.api_url or config.telemetry.honeycomb_endpoint
        client = HoneycombSlosClient(honeycomb_session(key), api_url, config.service_name)
        for line in apply(config, client):
            print(line, flush=True)
    except (ConfigError, SecretsError, HoneycombQueriesError, HoneycombSlosError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
