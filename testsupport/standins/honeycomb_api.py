"""Honeycomb's Queries and Query Annotations API on loopback, holding every request to Honeycomb's published rules.

Honeycomb publishes no botocore-like model to validate against, so the rules
here are written from Honeycomb's own documentation, and only those:

* the Query Specification reference (docs.honeycomb.io, "Reference: Query
  Specification"): the fields of a specification, the calculation operators
  (``COUNT`` and ``CONCURRENCY`` take no column, every other one does), the
  filter operators (``exists``/``does-not-exist`` take no value, ``in``/``not-in``
  a list), ``filter_combination`` ``AND``/``OR``, orders that name a
  breakdown or a calculation of the query, havings on a calculation of the
  query, a granularity from the time range / 1000 to the time range / 10,
  and ``time_range`` never with both ``start_time`` and ``end_time``;
* the API reference (docs.honeycomb.io/api, its OpenAPI description
  ``openapi-public.yaml``): ``POST /1/queries/{dataset}``,
  ``GET /1/queries/{dataset}/{id}``, ``POST``/``GET /1/query_annotations/{dataset}``,
  ``GET``/``PUT``/``DELETE /1/query_annotations/{dataset}/{id}``; the dataset
  slug or ``__all__``; the configuration key in the ``X-Honeycomb-Team``
  header; at most 100 breakdowns, calculations, filters, orders, havings and
  calculated fields; a ``limit`` from 1 to 1000 when a query is created;
  ``compare_time_offset_seconds`` from its list; an annotation's name of 1 to
  320 characters, description of at most 1023, and a query of its dataset;
* the Markers API (docs.honeycomb.io/api/tag/Markers, ``POST``/``GET
  /1/markers/{datasetSlug}``): a marker's fields are ``start_time`` and
  ``end_time`` (integers, Unix time), ``message``, ``type`` and ``url``
  (strings), all optional; ``__all__`` makes an environment marker; a
  created marker is answered 201 with ``id``, ``created_at`` and
  ``updated_at`` added;
* the Calculated Fields (Derived Columns), SLOs and Burn Alerts API
  (docs.honeycomb.io/api: "Derived Columns API", "SLOs API", "Burn Alerts";
  Honeycomb's OpenAPI description ``api/openapi-public.yaml`` as its pages
  ``/api/slos/create-an-slo``, ``/api/burn-alerts/create-a-burn-alert`` and
  ``/api/burn-alerts/update-a-burn-alert`` quote it):
  ``GET``/``POST /1/derived_columns/{dataset}`` (``?alias=`` finds one, 404
  when none), ``GET``/``PUT``/``DELETE /1/derived_columns/{dataset}/{id}``: a
  column's ``alias`` and ``expression`` are required strings, ``description``
  an optional one, the alias unique in the dataset and never changed by a
  PUT; the expression must parse (``honeycomb_expressions``: Honeycomb's
  grammar, the functions evaluated there); ``GET``/``POST /1/slos/{dataset}``,
  ``GET``/``PUT``/``DELETE /1/slos/{dataset}/{id}`` (PUT replaces the whole
  SLO): ``name`` 1 to 120 characters, ``description`` at most 1023,
  ``sli.alias`` 1 to 255 naming a derived column of the dataset,
  ``time_period_days`` an integer of 1 or more, ``target_per_million`` an
  integer from 0 to 999999, optional ``tags`` of ``key``/``value`` strings;
  ``POST /1/burn_alerts/{dataset}``, ``GET`` with the required ``slo_id``
  query parameter, ``GET``/``PUT``/``DELETE /1/burn_alerts/{dataset}/{id}``:
  ``alert_type`` ``exhaustion_time`` (the default) or ``budget_rate``;
  ``exhaustion_minutes`` (an integer of 0 or more) required for the first
  and refused for the second; ``budget_rate_window_minutes`` (an integer, no
  longer than the SLO's time period) and
  ``budget_rate_decrease_threshold_per_million`` (an integer, 1 to 1000000)
  required for the second and refused for the first; ``slo.id`` required
  when created; ``recipients`` a non-empty list of NotificationRecipients
  (``id``, or the deprecated ``type`` and ``target``; ``details.pagerduty_severity``
  critical/error/warning/info); ``description`` at most 1023. Created objects
  are answered 201, updated ones 200, deletions 204.
* relational fields (``root.``, ``parent.``, ``any.``, ``any2.``, ``any3.``,
  ``child.``, ``none.``; "Common Issues with Queries" and the relational
  fields guide): allowed in filters and breakdowns (``none.`` in filters
  only), never in calculations.

It answers as the reference says Honeycomb does: 200 with the query and its
``id``, 201 with a created annotation, 204 for a deletion; 401
``{"error": "unknown API key - check your credentials"}``; 404
``{"error": "dataset not found"}``; 400 (RFC 7807 problem, ``unparseable``)
for a body that is not JSON; 422 (RFC 7807 problem, ``validation-failed``,
with ``type_detail`` naming each field) for a specification the rules refuse;
and, when a test scripts it with ``fail_next``, 429 with ``Retry-After`` or a
5xx. Ids are the stand-in's own (Honeycomb's are opaque strings too).
Recipients are team-wide and made elsewhere: the stand-in knows those
``recipients`` names and refuses (422, its own choice: the reference
documents no answer) a burn alert naming another id; it refuses any field
the schema does not name, which is stricter than Honeycomb's documentation
says it is, so that a misspelt field never passes unseen.

What a query's columns are made of: ``honeycomb_event`` turns a span the
OTLP receiver decoded into the event Honeycomb stores, by the translation
Honeycomb publishes for OTLP (honeycombio/husky's README: ``trace.trace_id``,
``trace.span_id``, ``trace.parent_id``, ``name``, ``span.kind`` in lower case,
``duration_ms``, ``status_code``, ``error`` for an error status, then the
resource's attributes and the span's, the span's winning), and ``matches``
applies a query's filters to such an event.
"""

from __future__ import annotations

import json
import operator
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from testsupport.standins import honeycomb_expressions
from testsupport.standins.loopback_http import LoopbackHttpServer

CALCULATION_OPS = frozenset(
    "COUNT CONCURRENCY SUM AVG COUNT_DISTINCT HEATMAP MAX MIN P001 P01 P05 P10 P20 P25 P50 P75 P80 P90 P95 P99 P999 "
    "RATE_AVG RATE_SUM RATE_MAX".split()
)
NO_COLUMN_OPS = frozenset({"COUNT", "CONCURRENCY"})
HAVING_CALCULATE_OPS = CALCULATION_OPS - {"HEATMAP"}
FILTER_OPS = frozenset(
    "= != > >= < <= starts-with does-not-start-with ends-with does-not-end-with exists does-not-exist "
    "contains does-not-contain in not-in".split()
)
COMPARISON_OPS = frozenset("= != > >= < <=".split())
NO_VALUE_FILTER_OPS = frozenset({"exists", "does-not-exist"})
LIST_FILTER_OPS = frozenset({"in", "not-in"})
RELATIONAL_PREFIXES = ("root.", "parent.", "any.", "any2.", "any3.", "child.", "none.")
COMPARE_OFFSETS = frozenset({1800, 3600, 7200, 28800, 86400, 604800, 2419200, 15724800})
SPEC_FIELDS = frozenset(
    {
        "breakdowns", "calculations", "filters", "filter_combination", "granularity", "orders", "limit",
        "start_time", "end_time", "time_range", "havings", "calculated_fields", "compare_time_offset_seconds",
    }
)  # fmt: skip
MAX_ITEMS = 100
MAX_LIMIT_ON_CREATE = 1000
DEFAULT_TIME_RANGE = 7200
ANNOTATION_NAME_MAX = 320
ANNOTATION_DESCRIPTION_MAX = 1023
MARKER_FIELDS = {"start_time": int, "end_time": int, "message": str, "type": str, "url": str}

SLO_NAME_MAX = 120
DESCRIPTION_MAX = 1023
ALIAS_MAX = 255
TARGET_PER_MILLION_MAX = 999_999
BURN_ALERT_TYPES = ("exhaustion_time", "budget_rate")
RECIPIENT_TYPES = frozenset({"email", "pagerduty", "slack", "webhook", "msteams", "msteams_workflow"})
PAGERDUTY_SEVERITIES = frozenset({"critical", "error", "warning", "info"})
DERIVED_COLUMN_FIELDS = frozenset({"alias", "expression", "description"})
SLO_FIELDS = frozenset({"name", "description", "sli", "time_period_days", "target_per_million", "tags"})
BURN_ALERT_FIELDS = frozenset(
    {"alert_type", "description", "exhaustion_minutes", "budget_rate_window_minutes",
     "budget_rate_decrease_threshold_per_million", "slo", "recipients"}
)  # fmt: skip

UNAUTHORIZED = {"error": "unknown API key - check your credentials"}
PROBLEM = "application/problem+json"


class HoneycombApi(LoopbackHttpServer):
    """Queries and query annotations of the ``datasets`` named, for one configuration key.

    ``queries`` (id -> {"dataset", "spec"}), ``annotations`` (id -> the
    annotation) and ``markers`` (each with its ``_dataset``) are what was created; ``refused`` lists every refusal as
    (status, answer); ``fail_next`` holds (status, answer) pairs answered,
    in order, before any other handling (Honeycomb down, rate limiting).
    """

    def __init__(self, *, configuration_key: str, datasets: tuple[str, ...], recipients: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._key = configuration_key
        self.datasets = set(datasets)
        self.recipients = set(recipients)
        self.queries: dict[str, dict[str, Any]] = {}
        self.annotations: dict[str, dict[str, Any]] = {}
        self.markers: list[dict[str, Any]] = []
        self.derived_columns: dict[str, dict[str, Any]] = {}
        self.slos: dict[str, dict[str, Any]] = {}
        self.burn_alerts: dict[str, dict[str, Any]] = {}
        self.refused: list[tuple[int, dict[str, Any]]] = []
        self.fail_next: list[tuple[int, dict[str, Any]]] = []
        self.calls: list[tuple[str, str]] = []

    @property
    def api_url(self) -> str:
        """Where a client points instead of https://api.honeycomb.io."""
        return self.url

    def respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
        self.calls.append((method, path))
        if self.fail_next:
            status, answer = self.fail_next.pop(0)
            extra = {"Retry-After": "1"} if status == 429 else {}
            return status, json.dumps(answer).encode(), extra
        if {k.lower(): v for k, v in headers.items()}.get("x-honeycomb-team") != self._key:
            return self._refuse(401, UNAUTHORIZED)
        route, _, query_string = path.partition("?")
        match = re.fullmatch(
            r"/1/(queries|query_annotations|markers|derived_columns|slos|burn_alerts)/([^/?]+)(?:/([^/?]+))?", route
        )
        if match is None:
            return self._refuse(404, {"error": "not found"})
        kind, dataset, item = match.groups()
        query = {name: values[0] for name, values in parse_qs(query_string).items()}
        if dataset != "__all__" and dataset not in self.datasets:
            return self._refuse(404, {"error": "dataset not found"})
        document = None
        if method in ("POST", "PUT"):
            try:
                document = json.loads(body)
            except ValueError as error:
                return self._refuse(
                    400, _problem(400, "unparseable", "The request body could not be parsed.", str(error)), PROBLEM
                )
            if not isinstance(document, dict):
                return self._refuse(
                    400, _problem(400, "unparseable", "The request body could not be parsed.", "not an object"), PROBLEM
                )
        if kind == "queries":
            return self._queries(method, dataset, item, document)
        if kind == "markers":
            return self._markers(method, dataset, item, document)
        if kind == "derived_columns":
            return self._derived_columns(method, dataset, item, document, query)
        if kind == "slos":
            return self._slos(method, dataset, item, document)
        if kind == "burn_alerts":
            return self._burn_alerts(method, dataset, item, document, query)
        return self._annotations(method, dataset, item, document)

    def _queries(self, method: str, dataset: str, item: str | None, spec: dict | None) -> tuple:
        if method == "POST" and item is None:
            problems = spec_problems(spec or {})
            if problems:
                return self._refuse(422, _validation_failed(problems), PROBLEM)
            query_id = uuid.uuid4().hex[:11]
            self.queries[query_id] = {"dataset": dataset, "spec": spec}
            return 200, json.dumps({"id": query_id, **spec}).encode()
        if method == "GET" and item is not None:
            query = self.queries.get(item)
            if query is None or query["dataset"] != dataset:
                return self._refuse(404, {"error": "query not found"})
            return 200, json.dumps({"id": item, **query["spec"]}).encode()
        return self._refuse(405, {"error": "method not allowed"})

    def _annotations(self, method: str, dataset: str, item: str | None, document: dict | None) -> tuple:
        if item is None and method == "GET":
            listed = [a for a in self.annotations.values() if a["_dataset"] == dataset]
            return 200, json.dumps([_public(a) for a in listed]).encode()
        if item is None and method == "POST":
            problems = annotation_problems(document or {})
            if problems:
                return self._refuse(422, _validation_failed(problems), PROBLEM)
            query = self.queries.get(document["query_id"])
            if query is None or query["dataset"] != dataset:
                return self._refuse(400, {"error": "Query ID included in body is invalid"})
            annotation_id = uuid.uuid4().hex[:11]
            self.annotations[annotation_id] = {
                "id": annotation_id, "name": document["name"], "description": document.get("description", ""),
                "query_id": document["query_id"], "source": "query", "_dataset": dataset,
            }  # fmt: skip
            return 201, json.dumps(_public(self.annotations[annotation_id])).encode()
        annotation = self.annotations.get(item or "")
        if annotation is None or annotation["_dataset"] != dataset:
            return self._refuse(404, {"error": "query annotation not found"})
        if method == "GET":
            return 200, json.dumps(_public(annotation)).encode()
        if method == "DELETE":
            del self.annotations[annotation["id"]]
            return 204, b""
        if method == "PUT":
            problems = annotation_problems(document or {})
            if problems:
                return self._refuse(422, _validation_failed(problems), PROBLEM)
            if document["query_id"] != annotation["query_id"]:
                return self._refuse(400, {"error": "queries in annotations cannot be changed"})
            annotation.update(name=document["name"], description=document.get("description", ""))
            return 200, json.dumps(_public(annotation)).encode()
        return self._refuse(405, {"error": "method not allowed"})

    def _markers(self, method: str, dataset: str, item: str | None, document: dict | None) -> tuple:
        if item is None and method == "GET":
            return 200, json.dumps([_public(m) for m in self.markers if m["_dataset"] == dataset]).encode()
        if item is None and method == "POST":
            problems = marker_problems(document or {})
            if problems:
                return self._refuse(422, _validation_failed(problems), PROBLEM)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            marker = {
                "start_time": int(time.time()), **(document or {}), "id": uuid.uuid4().hex[:6],
                "created_at": now, "updated_at": now, "_dataset": dataset,
            }  # fmt: skip
            self.markers.append(marker)
            return 201, json.dumps(_public(marker)).encode()
        return self._refuse(405, {"error": "method not allowed"})

    def _derived_columns(
        self, method: str, dataset: str, item: str | None, document: dict | None, query: dict[str, str]
    ) -> tuple:
        in_dataset = [c for c in self.derived_columns.values() if c["_dataset"] == dataset]
        if item is None and method == "GET":
            if "alias" in query:
                found = [c for c in in_dataset if c["alias"] == query["alias"]]
                if not found:  # an answer, not a refusal: the request was right
                    return 404, json.dumps({"error": "Derived column not found."}).encode()
                return 200, json.dumps(_public(found[0])).encode()
            return 200, json.dumps([_public(c) for c in in_dataset]).encode()
        if item is None and method == "POST":
            problems = derived_column_problems(document or {})
            if problems:
                return self._refuse(422, _validation_failed(problems), PROBLEM)
            if any(c["alias"] == document["alias"] for c in in_dataset):
                return self._refuse(409, {"error": f"a derived column with alias {document['alias']} exists"})
            column_id = uuid.uuid4().hex[:11]
            self.derived_columns[column_id] = {"description": "", **document, "id": column_id, "_dataset": dataset}
            return 201, json.dumps(_public(self.derived_columns[column_id])).encode()
        column = self.derived_columns.get(item or "")
        if column is None or column["_dataset"] != dataset:
            return self._refuse(404, {"error": "Derived column not found."})
        if method == "GET":
            return 200, json.dumps(_public(column)).encode()
        if method == "DELETE":
            if any(slo["sli"]["alias"] == column["alias"] for slo in self.slos.values() if slo["_dataset"] == dataset):
                return self._refuse(409, {"error": "the derived column is the SLI of an SLO"})
            del self.derived_columns[column["id"]]
            return 204, b""
        if method == "PUT":
            problems = derived_column_problems(document or {})
            if not problems and document["alias"] != column["alias"]:
                problems = [("alias", "alias: cannot be changed")]
            if problems:
                return self._refuse(422, _validation_failed(problems), PROBLEM)
            column.update({"description": "", **document})
            return 200, json.dumps(_public(column)).encode()
        return self._refuse(405, {"error": "method not allowed"})

    def _slos(self, method: str, dataset: str, item: str | None, document: dict | None) -> tuple:
        if item is None and method == "GET":
            return 200, json.dumps([_public(o) for o in self.slos.values() if o["_dataset"] == dataset]).encode()
        slo = None
        if item is not None:
            slo = self.slos.get(item)
            if slo is None or slo["_dataset"] != dataset:
                return self._refuse(404, {"error": "SLO not found."})
            if method == "GET":
                return 200, json.dumps(_public(slo)).encode()
            if method == "DELETE":
                del self.slos[item]
                for alert_id in [a for a, alert in self.burn_alerts.items() if alert["slo"]["id"] == item]:
                    del self.burn_alerts[alert_id]
                return 204, b""
        if method not in ("POST", "PUT") or (method == "POST") != (item is None):
            return self._refuse(405, {"error": "method not allowed"})
        problems = slo_problems(document or {})
        if not problems:
            aliases = {c["alias"] for c in self.derived_columns.values() if c["_dataset"] == dataset}
            if document["sli"]["alias"] not in aliases:
                problems = [("sli.alias", f"sli.alias: no derived column {document['sli']['alias']} in {dataset}")]
            elif slo is not None:
                longest = max((a.get("budget_rate_window_minutes", 0) for a in self._alerts_of(slo["id"])), default=0)
                if longest > document["time_period_days"] * 1440:
                    problems = [("time_period_days", "time_period_days: shorter than a burn alert's window")]
        if problems:
            return self._refuse(422, _validation_failed(problems), PROBLEM)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if slo is None:
            slo_id = uuid.uuid4().hex[:11]
            slo = self.slos[slo_id] = {"id": slo_id, "created_at": now, "_dataset": dataset}
        slo.pop("description", None)
        slo.pop("tags", None)
        slo.update(document, updated_at=now)
        return (201 if method == "POST" else 200), json.dumps(_public(slo)).encode()

    def _alerts_of(self, slo_id: str) -> list[dict[str, Any]]:
        return [alert for alert in self.burn_alerts.values() if alert["slo"]["id"] == slo_id]

    def _burn_alerts(
        self, method: str, dataset: str, item: str | None, document: dict | None, query: dict[str, str]
    ) -> tuple:
        if item is None and method == "GET":
            if not query.get("slo_id"):
                problems = [("slo_id", "slo_id: the query parameter is required")]
                return self._refuse(422, _validation_failed(problems), PROBLEM)
            listed = [a for a in self._alerts_of(query["slo_id"]) if a["_dataset"] == dataset]
            return 200, json.dumps([_public(a) for a in listed]).encode()
        alert = None
        if item is not None:
            alert = self.burn_alerts.get(item)
            if alert is None or alert["_dataset"] != dataset:
                return self._refuse(404, {"error": "Burn alert not found."})
            if method == "GET":
                return 200, json.dumps(_public(alert)).encode()
            if method == "DELETE":
                del self.burn_alerts[item]
                return 204, b""
        if method not in ("POST", "PUT") or (method == "POST") != (item is None):
            return self._refuse(405, {"error": "method not allowed"})
        problems = burn_alert_problems(document or {}, creating=alert is None)
        if problems:
            return self._refuse(422, _validation_failed(problems), PROBLEM)
        slo_id = alert["slo"]["id"] if alert is not None else document["slo"]["id"]
        slo = self.slos.get(slo_id)
        if slo is None or slo["_dataset"] != dataset:
            return self._refuse(404, {"error": "SLO not found."})
        window = document.get("budget_rate_window_minutes")
        if window is not None and window > slo["time_period_days"] * 1440:
            problems.append(
                ("budget_rate_window_minutes", "budget_rate_window_minutes: longer than the SLO's time period")
            )
        for index, recipient in enumerate(document["recipients"]):
            if "id" in recipient and recipient["id"] not in self.recipients:
                problems.append((f"recipients[{index}].id", f"recipients[{index}].id: no recipient {recipient['id']}"))
        if problems:
            return self._refuse(422, _validation_failed(problems), PROBLEM)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if alert is None:
            alert_id = uuid.uuid4().hex[:11]
            alert = self.burn_alerts[alert_id] = {"id": alert_id, "created_at": now, "_dataset": dataset}
        for key in ("description", "exhaustion_minutes", "budget_rate_window_minutes",
                    "budget_rate_decrease_threshold_per_million"):  # fmt: skip
            alert.pop(key, None)
        alert.update(
            {**document, "alert_type": document.get("alert_type", "exhaustion_time"), "slo": {"id": slo_id}},
            triggered=False,
            updated_at=now,
        )
        return (201 if method == "POST" else 200), json.dumps(_public(alert)).encode()

    def _refuse(self, status: int, answer: dict[str, Any], content_type: str = "application/json") -> tuple:
        self.refused.append((status, answer))
        return status, json.dumps(answer).encode(), {"Content-Type": content_type}

    def named_queries(self) -> dict[str, dict[str, Any]]:
        """Annotation name -> {"dataset", "spec", "description"} of the query it names."""
        return {
            a["name"]: {**self.queries[a["query_id"]], "description": a["description"]}
            for a in self.annotations.values()
        }


def _public(annotation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in annotation.items() if not k.startswith("_")}


def _problem(status: int, kind: str, title: str, detail: str) -> dict[str, Any]:
    return {
        "status": status,
        "type": f"https://api.honeycomb.io/problems/{kind}",
        "title": title,
        "error": title,
        "detail": detail,
    }


def _validation_failed(problems: list[tuple[str, str]]) -> dict[str, Any]:
    answer = _problem(422, "validation-failed", "The provided input is invalid.", "; ".join(d for _, d in problems))
    answer["type_detail"] = [
        {"field": field, "code": "invalid", "description": description} for field, description in problems
    ]
    return answer


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _relational(column: Any) -> bool:
    return isinstance(column, str) and column.startswith(RELATIONAL_PREFIXES)


def spec_problems(spec: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way ``spec`` breaks the Query Specification, as (field, description); empty when it is valid."""
    problems: list[tuple[str, str]] = []

    def problem(field: str, description: str) -> None:
        problems.append((field, f"{field}: {description}"))

    for key in sorted(set(spec) - SPEC_FIELDS):
        problem(key, "is not a field of a query specification")
    lists = {}
    for key in ("breakdowns", "calculations", "filters", "orders", "havings", "calculated_fields"):
        value = spec.get(key, [])
        if not isinstance(value, list):
            problem(key, "must be a list")
            value = []
        elif len(value) > MAX_ITEMS:
            problem(key, f"has {len(value)} items; at most {MAX_ITEMS}")
        lists[key] = value

    for index, column in enumerate(lists["breakdowns"]):
        if not isinstance(column, str) or not column:
            problem(f"breakdowns[{index}]", "must be a column name")
        elif column.startswith("none."):
            problem(f"breakdowns[{index}]", "none. fields cannot be grouped by")
    calculations = set()
    for index, calculation in enumerate(lists["calculations"]):
        field = f"calculations[{index}]"
        if not isinstance(calculation, dict) or set(calculation) - {"op", "column"}:
            problem(field, "must be an object with op and column")
            continue
        op, column = calculation.get("op"), calculation.get("column")
        if op not in CALCULATION_OPS:
            problem(f"{field}.op", f"{op!r} is not one of {', '.join(sorted(CALCULATION_OPS))}")
        elif op in NO_COLUMN_OPS and column is not None:
            problem(f"{field}.column", f"{op} takes no column")
        elif op not in NO_COLUMN_OPS and not (isinstance(column, str) and column):
            problem(f"{field}.column", f"{op} needs a column")
        elif _relational(column):
            problem(
                f"{field}.column", f"{column!r}: relational fields cannot be calculated, only filtered or grouped by"
            )
        calculations.add((op, column))
    for index, item in enumerate(lists["filters"]):
        field = f"filters[{index}]"
        if not isinstance(item, dict) or set(item) - {"column", "op", "value"}:
            problem(field, "must be an object with column, op and value")
            continue
        op, column, value = item.get("op"), item.get("column"), item.get("value")
        if not (isinstance(column, str) and column):
            problem(f"{field}.column", "must be a column name")
        if op not in FILTER_OPS:
            problem(f"{field}.op", f"{op!r} is not one of {', '.join(sorted(FILTER_OPS))}")
        elif op in NO_VALUE_FILTER_OPS and "value" in item:
            problem(f"{field}.value", f"{op} takes no value")
        elif op in LIST_FILTER_OPS and not (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        ):
            problem(f"{field}.value", f"{op} takes a list of strings")
        elif op not in NO_VALUE_FILTER_OPS | LIST_FILTER_OPS and (value is None or isinstance(value, (list, dict))):
            problem(f"{field}.value", f"{op} takes one value")
    if spec.get("filter_combination", "AND") not in ("AND", "OR"):
        problem("filter_combination", "must be AND or OR")
    for index, order in enumerate(lists["orders"]):
        field = f"orders[{index}]"
        if not isinstance(order, dict) or set(order) - {"op", "column", "order"}:
            problem(field, "must be an object with op, column and order")
            continue
        if order.get("order", "ascending") not in ("ascending", "descending"):
            problem(f"{field}.order", "must be ascending or descending")
        if "op" in order:
            if (order["op"], order.get("column")) not in calculations:
                problem(field, "orders by a calculation the query does not make")
        elif order.get("column") not in lists["breakdowns"]:
            problem(field, "orders by a column the query does not break down by")
    for index, having in enumerate(lists["havings"]):
        field = f"havings[{index}]"
        if not isinstance(having, dict) or set(having) - {"calculate_op", "column", "op", "value"}:
            problem(field, "must be an object with calculate_op, column, op and value")
            continue
        if having.get("calculate_op") not in HAVING_CALCULATE_OPS or having.get("op") not in COMPARISON_OPS:
            problem(field, "needs a calculate_op and a comparison op")
        elif (having["calculate_op"], having.get("column")) not in calculations:
            problem(field, "filters on a calculation the query does not make")
        elif not isinstance(having.get("value"), (int, float)) or isinstance(having.get("value"), bool):
            problem(f"{field}.value", "must be a number")
    for index, calculated in enumerate(lists["calculated_fields"]):
        if not isinstance(calculated, dict) or set(calculated) != {"name", "expression"}:
            problem(f"calculated_fields[{index}]", "must be an object with name and expression")

    limit = spec.get("limit")
    if limit is not None and not (_is_int(limit) and 1 <= limit <= MAX_LIMIT_ON_CREATE):
        problem("limit", f"{limit!r} is out of range; use 1 to {MAX_LIMIT_ON_CREATE}")
    for key in ("time_range", "start_time", "end_time", "granularity"):
        if key in spec and not (_is_int(spec[key]) and spec[key] >= 1):
            problem(key, "must be a whole number of seconds, at least 1")
    has = {key: _is_int(spec.get(key)) for key in ("time_range", "start_time", "end_time")}
    if all(has.values()):
        problem("time_range", "cannot be combined with both start_time and end_time")
    if has["start_time"] and has["end_time"] and spec["start_time"] > spec["end_time"]:
        problem("start_time", "must not be after end_time")
    if _is_int(spec.get("granularity")):
        span = (
            spec["end_time"] - spec["start_time"]
            if has["start_time"] and has["end_time"]
            else spec.get("time_range", DEFAULT_TIME_RANGE)
        )
        if _is_int(span) and not span / 1000 <= spec["granularity"] <= span / 10:
            problem(
                "granularity",
                f"{spec['granularity']} is out of range for a time range of {span} s; "
                f"use {span / 1000:g} to {span / 10:g}",
            )
    offset = spec.get("compare_time_offset_seconds")
    if offset is not None and offset not in COMPARE_OFFSETS:
        problem("compare_time_offset_seconds", f"use one of {', '.join(str(o) for o in sorted(COMPARE_OFFSETS))}")
    return problems


def annotation_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way ``document`` breaks the Query Annotation schema, as (field, description)."""
    problems = []
    name, description, query_id = document.get("name"), document.get("description", ""), document.get("query_id")
    if not (isinstance(name, str) and 1 <= len(name) <= ANNOTATION_NAME_MAX):
        problems.append(("name", f"name: must be 1 to {ANNOTATION_NAME_MAX} characters"))
    if not (isinstance(description, str) and len(description) <= ANNOTATION_DESCRIPTION_MAX):
        problems.append(("description", f"description: at most {ANNOTATION_DESCRIPTION_MAX} characters"))
    if not (isinstance(query_id, str) and query_id):
        problems.append(("query_id", "query_id: is missing"))
    return problems


def marker_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way ``document`` breaks the Marker schema, as (field, description)."""
    problems = []
    for key, value in document.items():
        kind = MARKER_FIELDS.get(key)
        if kind is None:
            problems.append((key, f"{key}: is not a field of a marker ({', '.join(MARKER_FIELDS)})"))
        elif not isinstance(value, kind) or isinstance(value, bool):
            problems.append((key, f"{key}: must be {'an integer' if kind is int else 'a string'}"))
    return problems


def _string_problem(document: dict[str, Any], key: str, low: int, high: int, *, required: bool) -> list:
    value = document.get(key)
    if value is None and not required:
        return []
    if not (isinstance(value, str) and low <= len(value) <= high):
        wanted = f"{low} to {high}" if low else f"at most {high}"
        return [(key, f"{key}: must be a string of {wanted} characters")]
    return []


def _unknown_fields(document: dict[str, Any], known: frozenset[str], what: str) -> list[tuple[str, str]]:
    return [
        (key, f"{key}: is not a field of {what} ({', '.join(sorted(known))})") for key in document if key not in known
    ]


def derived_column_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way ``document`` breaks the Derived Column (Calculated Field) schema, as (field, description)."""
    problems = _unknown_fields(document, DERIVED_COLUMN_FIELDS, "a derived column")
    problems += _string_problem(document, "alias", 1, ALIAS_MAX, required=True)
    problems += _string_problem(document, "description", 0, DESCRIPTION_MAX, required=False)
    expression = document.get("expression")
    if not isinstance(expression, str) or not expression:
        problems.append(("expression", "expression: is missing"))
    else:
        try:
            honeycomb_expressions.parse(expression)
        except honeycomb_expressions.ExpressionError as error:
            problems.append(("expression", f"expression: {error}"))
    return problems


def slo_problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every way ``document`` breaks the SLO schema, as (field, description)."""
    problems = _unknown_fields(document, SLO_FIELDS, "an SLO")
    problems += _string_problem(document, "name", 1, SLO_NAME_MAX, required=True)
    problems += _string_problem(document, "description", 0, DESCRIPTION_MAX, required=False)
    sli = document.get("sli")
    if not isinstance(sli, dict) or set(sli) != {"alias"}:
        problems.append(("sli", "sli: must be an object with alias"))
    else:
        problems += [("sli.alias", f"sli.{d}") for _, d in _string_problem(sli, "alias", 1, ALIAS_MAX, required=True)]
    days = document.get("time_period_days")
    if not (_is_int(days) and days >= 1):
        problems.append(("time_period_days", "time_period_days: must be an integer of 1 or more"))
    target = document.get("target_per_million")
    if not (_is_int(target) and 0 <= target <= TARGET_PER_MILLION_MAX):
        problems.append(
            ("target_per_million", f"target_per_million: must be an integer from 0 to {TARGET_PER_MILLION_MAX}")
        )
    tags = document.get("tags", [])
    if not isinstance(tags, list) or not all(
        isinstance(tag, dict) and set(tag) == {"key", "value"} and all(isinstance(v, str) for v in tag.values())
        for tag in tags
    ):
        problems.append(("tags", "tags: must be a list of objects with key and value strings"))
    return problems


def burn_alert_problems(document: dict[str, Any], *, creating: bool) -> list[tuple[str, str]]:
    """Every way ``document`` breaks the Burn Alert schema (of a POST when ``creating``, else a PUT)."""
    problems = _unknown_fields(document, BURN_ALERT_FIELDS, "a burn alert")
    problems += _string_problem(document, "description", 0, DESCRIPTION_MAX, required=False)
    alert_type = document.get("alert_type", "exhaustion_time")
    if alert_type not in BURN_ALERT_TYPES:
        problems.append(("alert_type", f"alert_type: must be one of {', '.join(BURN_ALERT_TYPES)}"))
    rules = {
        "exhaustion_minutes": (0, None, "exhaustion_time"),
        "budget_rate_window_minutes": (1, None, "budget_rate"),
        "budget_rate_decrease_threshold_per_million": (1, 1_000_000, "budget_rate"),
    }
    for key, (low, high, needed_by) in rules.items():
        value = document.get(key)
        if alert_type == needed_by and not (_is_int(value) and low <= value <= (high or value)):
            allowed = f"from {low} to {high}" if high else f"of {low} or more"
            problems.append((key, f"{key}: is required for {needed_by} alerts, an integer {allowed}"))
        elif alert_type != needed_by and key in document:
            problems.append((key, f"{key}: must not be specified for {alert_type} alerts"))
    slo = document.get("slo")
    if creating and not (isinstance(slo, dict) and set(slo) == {"id"} and isinstance(slo["id"], str) and slo["id"]):
        problems.append(("slo", "slo: must be an object with the SLO's id"))
    recipients = document.get("recipients")
    if not isinstance(recipients, list) or not recipients:
        problems.append(("recipients", "recipients: must be a non-empty list"))
        return problems
    for index, recipient in enumerate(recipients):
        field = f"recipients[{index}]"
        if not isinstance(recipient, dict) or set(recipient) - {"id", "type", "target", "details"}:
            problems.append((field, f"{field}: must be an object with id, type, target and details"))
        elif not ("id" in recipient or {"type", "target"} <= set(recipient)):
            problems.append((field, f"{field}: name the recipient by id (or the deprecated type and target)"))
        elif "type" in recipient and recipient["type"] not in RECIPIENT_TYPES:
            problems.append((f"{field}.type", f"{field}.type: must be one of {', '.join(sorted(RECIPIENT_TYPES))}"))
        elif recipient.get("details", {}).get("pagerduty_severity", "critical") not in PAGERDUTY_SEVERITIES:
            problems.append((f"{field}.details", f"{field}.details.pagerduty_severity: is not a severity"))
    return problems


# OTLP's SpanKind numbers as husky names them.
SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS_ERROR = 2


def honeycomb_event(span: Any) -> dict[str, Any]:
    """The event Honeycomb stores for ``span`` (an ``otlp.ReceivedSpan``), its columns and values."""
    event: dict[str, Any] = {
        "trace.trace_id": span.trace_id,
        "trace.span_id": span.span_id,
        "name": span.name,
        "span.kind": SPAN_KINDS.get(span.kind, "unspecified"),
        "duration_ms": span.duration_ms,
        "status_code": span.status_code,
        "meta.signal_type": "trace",
    }
    if span.parent_span_id:
        event["trace.parent_id"] = span.parent_span_id
    if span.status_code == STATUS_ERROR:
        event["error"] = True
    return {**event, **span.resource, **span.attributes}


def matches(event: dict[str, Any], filters: list[dict[str, Any]]) -> bool:
    """Whether ``event`` passes every filter (the AND combination) of a query."""
    comparisons = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
    for item in filters:
        op, present = item["op"], item["column"] in event
        value, wanted = event.get(item["column"]), item.get("value")
        if op in ("exists", "does-not-exist"):
            passed = present == (op == "exists")
        elif op in ("=", "!="):
            passed = (present and value == wanted) == (op == "=")
        elif op in ("in", "not-in"):
            passed = (present and value in wanted) == (op == "in")
        elif op in comparisons:
            passed = present and isinstance(value, (int, float)) and comparisons[op](value, wanted)
        elif op in ("starts-with", "contains"):
            passed = isinstance(value, str) and (value.startswith(wanted) if op == "starts-with" else wanted in value)
        else:
            raise ValueError(f"filter op {op!r} is not evaluated here")
        if not passed:
            return False
    return True


def _prefix(column: str) -> str:
    return next((p for p in RELATIONAL_PREFIXES if column.startswith(p)), "")


def what_the_spans_lack(spec: dict[str, Any], events: list[dict[str, Any]], *, prefix: str = "") -> list[str]:
    """What of ``spec`` the stored ``events`` fail, as sentences; empty when the query finds them with every column it
    reads.

    ``prefix`` says which of the query's spans ``events`` are: those it
    queries (``""``) or those its ``child.`` (or ``parent.``...) fields
    describe. The filters of that span must select some events; each column
    the query reads from that span must be on one of them; a ``root.``
    column must be on the root span of each selected span's trace.
    """
    filters = [
        {**f, "column": f["column"][len(prefix) :]} for f in spec.get("filters", []) if _prefix(f["column"]) == prefix
    ]
    selected = [event for event in events if matches(event, filters)]
    if not selected:
        return [f"no span passes the filters {filters}"]
    calculated = [c["column"] for c in spec.get("calculations", []) if c.get("column")]
    ordered = [o["column"] for o in spec.get("orders", []) if o.get("column")]
    traces = {event["trace.trace_id"] for event in selected}
    roots = [e for e in events if "trace.parent_id" not in e and e["trace.trace_id"] in traces]
    lacking = []
    for column in dict.fromkeys([*spec.get("breakdowns", []), *calculated, *ordered]):
        if _prefix(column) == prefix and not any(column[len(prefix) :] in event for event in selected):
            lacking.append(f"{column} is on none of the {len(selected)} spans selected")
        elif _prefix(column) == "root." and prefix == "" and not (roots and all(column[5:] in root for root in roots)):
            lacking.append(f"{column} is not on the root span of every trace selected")
    return lacking
