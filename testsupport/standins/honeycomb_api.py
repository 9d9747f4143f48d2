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

UNAUTHORIZED = {"error": "unknown API key - check your credentials"}
PROBLEM = "application/problem+json"


class HoneycombApi(LoopbackHttpServer):
    """Queries and query annotations of the ``datasets`` named, for one configuration key.

    ``queries`` (id -> {"dataset", "spec"}), ``annotations`` (id -> the
    annotation) and ``markers`` (each with its ``_dataset``) are what was created; ``refused`` lists every refusal as
    (status, answer); ``fail_next`` holds (status, answer) pairs answered,
    in order, before any other handling (Honeycomb down, rate limiting).
    """

    def __init__(self, *, configuration_key: str, datasets: tuple[str, ...]) -> None:
        super().__init__()
        self._key = configuration_key
        self.datasets = set(datasets)
        self.queries: dict[str, dict[str, Any]] = {}
        self.annotations: dict[str, dict[str, Any]] = {}
        self.markers: list[dict[str, Any]] = []
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
        match = re.fullmatch(r"/1/(queries|query_annotations|markers)/([^/?]+)(?:/([^/?]+))?", path)
        if match is None:
            return self._refuse(404, {"error": "not found"})
        kind, dataset, item = match.groups()
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
