"""What the X-Ray console shows of a trace, whichever of the four paths carried it there.

    from testsupport import xray_console

    traces = xray_console.traces_of_documents(xray.segments)    # PutTraceSegments documents, or the daemon's frames
    traces = xray_console.traces_of_spans(xray.otlp_spans)       # what X-Ray's OTLP endpoint received
    trace = traces["1-6b01...-..."]
    trace.service_segment("cruddur-backend-flask").http          # {"request": {...}, "response": {...}}
    trace.aws_calls("dynamodb")                                  # the DynamoDB subsegments: operation, table, region
    trace.tree_problems()                                        # [] when the parent ids form one tree
    xray_console.groups_of(trace, {"cruddur-dev-errors": 'service("cruddur-backend-flask") { fault OR error }'})
    trace.trace_map()                                            # {("client", "cruddur-backend-flask"), ...}

Each path delivers a trace differently: the daemon one document per
request with its subsegments nested; the ``awsxray`` exporter one document
per span (a subsegment sent on its own names its ``parent_id``); X-Ray's
OTLP endpoint takes spans. This module turns each into the same ``Entity``
(a segment or a subsegment) and groups them by trace (``ConsoleTrace``), so
a test compares the paths field by field.

X-Ray's view of an OTLP span (``entity_of_span``). What AWS documents: the
span's resource ``service.name`` names the service's node; "By default,
OpenTelemetry span attributes are converted to metadata in X-Ray raw data.
To convert specific attributes to annotations instead, add their keys to the
``aws.xray.annotations`` attributes list" (X-Ray developer guide, "Migrating
from X-Ray instrumentation to OpenTelemetry"). What AWS does not publish,
taken here from the mapping AWS maintains in the collector's ``awsxray``
exporter (``exporter/awsxrayexporter/internal/translator``, v0.159.0), which
is inferred to be the one X-Ray applies: the HTTP block from ``http.*``,
``url.*`` and ``server.*``; fault for a 5xx or an ERROR status without an
HTTP status, error for a 4xx, throttle for a 429; an AWS SDK call's
subsegment (``rpc.system = aws-api``) in namespace ``aws``, named after
``rpc.service``, with ``operation`` from ``rpc.method``, ``table_name`` from
``aws.dynamodb.table_names`` (one table) and ``region`` from ``aws.region``
only (not ``cloud.region``); every other attribute is metadata in the
``default`` namespace.

The X-Ray groups (``groups_of``): their filter expressions, evaluated on a
trace for the terms the groups use (``service("name")`` with an optional
``{ ... }`` that applies to that service's segments, ``fault``, ``error``,
``throttle``, ``ok``, ``responsetime`` and ``duration`` compared with a
number, ``annotation.<key>`` compared with a value, ``AND``, ``OR``, ``NOT``
and parentheses). No library evaluates X-Ray filter expressions; the
meanings are the developer guide's ("Using filter expressions"): a keyword
outside braces is about the trace (``fault``: any segment of it had a
fault; ``responsetime``: its root segment's duration), inside a service's
braces about that service's segments.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from testsupport.standins.otlp import ReceivedSpan

SERVER_KIND, CLIENT_KIND, PRODUCER_KIND, CONSUMER_KIND = 2, 3, 4, 5
ERROR_STATUS = 2
ANNOTATIONS_ATTRIBUTE = "aws.xray.annotations"
CLIENT_NODE = "client"  # the node X-Ray draws for the caller of a root segment


@dataclass(frozen=True)
class Entity:
    """One segment or subsegment as X-Ray holds it: where it sits in its trace and what the console shows of it."""

    trace_id: str  # 1-<8 hex>-<24 hex>
    id: str
    parent_id: str | None
    name: str
    subsegment: bool
    start_time: float
    end_time: float
    namespace: str | None = None
    origin: str | None = None
    http: Mapping[str, Any] = field(default_factory=dict)
    aws: Mapping[str, Any] = field(default_factory=dict)
    annotations: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    fault: bool = False
    error: bool = False
    throttle: bool = False
    has_cause: bool = False

    @property
    def duration(self) -> float:
        """Seconds from start to end."""
        return self.end_time - self.start_time

    @property
    def request(self) -> Mapping[str, Any]:
        """The HTTP request block (method, url, user_agent, client_ip, x_forwarded_for)."""
        return self.http.get("request") or {}

    @property
    def response(self) -> Mapping[str, Any]:
        """The HTTP response block (status, content_length)."""
        return self.http.get("response") or {}

    @property
    def remote(self) -> bool:
        """X-Ray draws a node of its own for it (an inferred segment): an AWS call or a call to a remote service."""
        return self.subsegment and self.namespace in ("aws", "remote")


# -- segment documents (the daemon's frames, PutTraceSegments) ---------------------------------------------------


def _entities_of_document(
    document: Mapping[str, Any], *, trace_id: str, parent_id: str | None, subsegment: bool
) -> list[Entity]:
    cause = document.get("cause")
    entity = Entity(
        trace_id=trace_id,
        id=document["id"],
        parent_id=parent_id or None,
        name=document["name"],
        subsegment=subsegment,
        start_time=float(document["start_time"]),
        end_time=float(document.get("end_time", document["start_time"])),
        namespace=document.get("namespace") or None,
        origin=document.get("origin") or None,
        http=document.get("http") or {},
        aws=document.get("aws") or {},
        annotations=document.get("annotations") or {},
        metadata=document.get("metadata") or {},
        fault=bool(document.get("fault")),
        error=bool(document.get("error")),
        throttle=bool(document.get("throttle")),
        has_cause=bool(cause),
    )
    entities = [entity]
    for child in document.get("subsegments") or []:
        entities += _entities_of_document(child, trace_id=trace_id, parent_id=entity.id, subsegment=True)
    return entities


def entities_of_document(document: Mapping[str, Any]) -> list[Entity]:
    """A segment document's segment (or its subsegment sent on its own) and every subsegment nested in it."""
    return _entities_of_document(
        document,
        trace_id=document["trace_id"],
        parent_id=document.get("parent_id"),
        subsegment=document.get("type") == "subsegment",
    )


def traces_of_documents(documents: Iterable[Mapping[str, Any]]) -> dict[str, ConsoleTrace]:
    """The traces of segment documents as X-Ray assembles them, by X-Ray trace id; in-progress documents left out."""
    return _traces(e for d in documents if not d.get("in_progress") for e in entities_of_document(d))


# -- OTLP spans (X-Ray's OTLP endpoint) ---------------------------------------------------------------------------


def xray_trace_id(trace_id: str) -> str:
    """A 32-hex-digit OTLP trace id as X-Ray writes it."""
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def _http_of_span(span: ReceivedSpan) -> dict[str, Any]:
    a = span.attributes
    request: dict[str, Any] = {}
    response: dict[str, Any] = {}
    method = a.get("http.request.method", a.get("http.method"))
    status = a.get("http.response.status_code", a.get("http.status_code"))
    if method is not None:
        request["method"] = method
    if status is not None:
        response["status"] = int(status)
    for key in ("user_agent.original", "http.user_agent"):
        if key in a:
            request["user_agent"] = a[key]
    client = a.get("client.address", a.get("http.client_ip"))
    if client is not None:
        request["client_ip"] = client
    url = a.get("url.full", a.get("http.url"))
    hosts = ("http.host", "http.server_name", "net.host.name", "host.name", "server.address")
    host = next((a[k] for k in hosts if k in a), None)
    if url is None and host is not None:
        # The exporter's constructServerURL: a port is added to any host but http.host's (which carries its own).
        port = None if "http.host" in a else a.get("net.host.port", a.get("server.port"))
        scheme = a.get("http.scheme", a.get("url.scheme", "http"))
        default_port = {"http": 80, "https": 443}.get(scheme)
        url = f"{scheme}://{host}" + (f":{port}" if port is not None and int(port) != default_port else "")
        url += a.get("http.target") or a.get("url.path", "/")
        if "http.target" not in a and a.get("url.query"):
            url += "?" + a["url.query"].lstrip("?")
    if url is not None:
        request["url"] = url
    if not request and not response:
        return {}
    return {"request": request, "response": response}


def _aws_of_span(span: ReceivedSpan) -> dict[str, Any]:
    a = span.attributes
    aws: dict[str, Any] = {}
    operation = a.get("aws.operation", a.get("rpc.method"))
    if operation is not None:
        aws["operation"] = operation
    if "aws.region" in a:
        aws["region"] = a["aws.region"]
    tables = a.get("aws.dynamodb.table_names")
    if isinstance(tables, list) and len(tables) == 1:
        aws["table_name"] = tables[0]
    elif isinstance(tables, str):
        aws["table_name"] = tables
    elif "aws.table_name" in a:
        aws["table_name"] = a["aws.table_name"]
    if "aws.request_id" in a:
        aws["request_id"] = a["aws.request_id"]
    return aws


def entity_of_span(span: ReceivedSpan) -> Entity:
    """X-Ray's view of one OTLP span (the module docstring says what is documented and what is inferred)."""
    a = span.attributes
    aws_call = a.get("rpc.system") == "aws-api"
    subsegment = span.kind not in (SERVER_KIND, CONSUMER_KIND) and bool(span.parent_span_id)
    if span.kind == SERVER_KIND:
        name = a.get("aws.local.service") or span.resource.get("service.name") or span.name
    else:
        name = a.get("peer.service") or (a.get("rpc.service") if aws_call else None) or span.name
    namespace = "aws" if aws_call else ("remote" if span.kind in (CLIENT_KIND, PRODUCER_KIND) else None)
    http = _http_of_span(span)
    status = http.get("response", {}).get("status")
    fault = (status is not None and 500 <= status <= 599) or (
        span.status_code == ERROR_STATUS and (status is None or not 400 <= status <= 599)
    )
    error = status is not None and 400 <= status <= 499
    indexed = set(a.get(ANNOTATIONS_ATTRIBUTE) or ())
    annotations = {k: v for k, v in a.items() if k in indexed}
    metadata = {k: v for k, v in a.items() if k not in indexed and k != ANNOTATIONS_ATTRIBUTE}
    return Entity(
        trace_id=xray_trace_id(span.trace_id),
        id=span.span_id,
        parent_id=span.parent_span_id or None,
        name=name,
        subsegment=subsegment,
        start_time=span.start_ns / 1e9,
        end_time=span.end_ns / 1e9,
        namespace=namespace,
        http=http,
        aws=_aws_of_span(span) if aws_call else {},
        annotations=annotations,
        metadata={"default": metadata} if metadata else {},
        fault=fault,
        error=error,
        throttle=status == 429,
        has_cause=span.status_code == ERROR_STATUS or "exception" in span.events,
    )


def traces_of_spans(spans: Iterable[ReceivedSpan]) -> dict[str, ConsoleTrace]:
    """The traces X-Ray builds from OTLP spans, by X-Ray trace id."""
    return _traces(entity_of_span(span) for span in spans)


# -- one trace -----------------------------------------------------------------------------------------------------


def _traces(entities: Iterable[Entity]) -> dict[str, ConsoleTrace]:
    by_trace: dict[str, list[Entity]] = {}
    for entity in entities:
        by_trace.setdefault(entity.trace_id, []).append(entity)
    return {trace_id: ConsoleTrace(trace_id, tuple(found)) for trace_id, found in by_trace.items()}


@dataclass(frozen=True)
class ConsoleTrace:
    """One trace as X-Ray assembled it from what it received: its segments and subsegments."""

    trace_id: str
    entities: tuple[Entity, ...]

    @property
    def segments(self) -> list[Entity]:
        """The segments (the services' own records, not their subsegments)."""
        return [e for e in self.entities if not e.subsegment]

    @property
    def roots(self) -> list[Entity]:
        """The entities whose parent is not in the trace (its caller's, or none): one in a whole trace."""
        ids = {e.id for e in self.entities}
        return [e for e in self.entities if e.parent_id is None or e.parent_id not in ids]

    @property
    def response_time(self) -> float:
        """The root segment's duration: X-Ray's ``responsetime``."""
        return max((e.duration for e in self.roots if not e.subsegment), default=0.0)

    @property
    def duration(self) -> float:
        """From the first start to the last end of anything in the trace: X-Ray's ``duration``."""
        return max(e.end_time for e in self.entities) - min(e.start_time for e in self.entities)

    @property
    def fault(self) -> bool:
        """Any segment had a fault."""
        return any(e.fault for e in self.segments)

    @property
    def error(self) -> bool:
        """Any segment had an error."""
        return any(e.error for e in self.segments)

    @property
    def annotations(self) -> dict[str, Any]:
        """Every annotation of the trace's segments and subsegments, by key."""
        return {k: v for e in self.entities for k, v in e.annotations.items()}

    def service_segment(self, name: str) -> Entity:
        """The one segment of the service ``name`` (fails naming the segments there are)."""
        found = [e for e in self.segments if e.name == name]
        assert len(found) == 1, f"trace {self.trace_id}: {len(found)} segments of {name!r}; segments: " + ", ".join(
            repr(e.name) for e in self.segments
        )
        return found[0]

    def aws_calls(self, service: str) -> list[Entity]:
        """The subsegments of calls to the AWS service ``service`` (``dynamodb``; X-Ray's node, any case)."""
        return [e for e in self.entities if e.remote and e.namespace == "aws" and e.name.lower() == service.lower()]

    def tree_problems(self) -> list[str]:
        """Each way the parent ids fail to make one tree: more than one root, or an entity's id used twice."""
        problems = []
        ids = [e.id for e in self.entities]
        problems += [f"id {i} is used by {ids.count(i)} entities" for i in sorted(set(ids)) if ids.count(i) > 1]
        if len(self.roots) != 1:
            problems.append(
                f"{len(self.roots)} roots (entities whose parent is not in the trace): "
                + ", ".join(f"{e.name!r} {e.id} (parent {e.parent_id})" for e in self.roots)
            )
        return problems

    def trace_map(self) -> set[tuple[str, str]]:
        """The trace map's edges: the caller to the root's service, each service to the remote nodes it called."""
        by_id = {e.id: e for e in self.entities}

        def service_of(entity: Entity) -> str:
            while entity.subsegment and entity.parent_id in by_id:
                entity = by_id[entity.parent_id]
            return entity.name

        edges = {(CLIENT_NODE, e.name) for e in self.roots if not e.subsegment}
        edges |= {(service_of(e), e.name) for e in self.entities if e.remote}
        return edges


# -- X-Ray groups: filter expressions ----------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|=|<|>)
      | (?P<punct>[(){}])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_Predicate = Callable[[ConsoleTrace, list[Entity] | None], bool]  # the trace, and a service's segments inside braces


def _tokens(expression: str) -> list[str]:
    tokens, position = [], 0
    expression = expression.rstrip()
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None or match.end() == position:
            raise ValueError(f"filter expression {expression!r}: cannot read from {expression[position:]!r}")
        tokens.append(match.group(match.lastgroup or ""))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.position = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token.upper() != expected.upper()):
            raise ValueError(f"filter expression {self.expression!r}: expected {expected or 'more'}, got {token!r}")
        self.position += 1
        return token

    def parse(self) -> _Predicate:
        predicate = self._or()
        if self._peek() is not None:
            raise ValueError(f"filter expression {self.expression!r}: unexpected {self._peek()!r}")
        return predicate

    def _or(self) -> _Predicate:
        parts = [self._and()]
        while (self._peek() or "").upper() == "OR":
            self._take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda t, s: any(p(t, s) for p in parts))

    def _and(self) -> _Predicate:
        parts = [self._not()]
        while (self._peek() or "").upper() == "AND":
            self._take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else (lambda t, s: all(p(t, s) for p in parts))

    def _not(self) -> _Predicate:
        if (self._peek() or "").upper() == "NOT":
            self._take()
            inner = self._not()
            return lambda t, s: not inner(t, s)
        if self._peek() == "(":
            self._take("(")
            inner = self._or()
            self._take(")")
            return inner
        return self._term()

    def _value(self) -> Any:
        token = self._take()
        if token.startswith('"'):
            return token[1:-1].replace('\\"', '"')
        if token.lower() in ("true", "false"):
            return token.lower() == "true"
        try:
            return float(token)
        except ValueError:
            raise ValueError(f"filter expression {self.expression!r}: {token!r} is not a value") from None

    def _term(self) -> _Predicate:
        word = self._take()
        keyword = word.lower()
        if keyword == "service":
            self._take("(")
            name = self._value()
            self._take(")")
            inner: _Predicate | None = None
            if self._peek() == "{":
                self._take("{")
                inner = self._or()
                self._take("}")

            def in_service(trace: ConsoleTrace, _scope: list[Entity] | None) -> bool:
                segments = [e for e in trace.segments if e.name == name]
                return bool(segments) and (inner is None or any(inner(trace, [e]) for e in segments))

            return in_service
        if keyword in ("fault", "error", "throttle", "ok"):

            def flag(trace: ConsoleTrace, scope: list[Entity] | None) -> bool:
                segments = trace.segments if scope is None else scope
                if keyword == "ok":
                    return not any(e.fault or e.error or e.throttle for e in segments)
                return any(getattr(e, keyword) for e in segments)

            return flag
        if keyword in ("responsetime", "duration") or keyword.startswith("annotation."):
            compare = _COMPARE[self._take()]
            value = self._value()

            def measured(trace: ConsoleTrace, scope: list[Entity] | None) -> bool:
                if keyword.startswith("annotation."):
                    key = word.split(".", 1)[1]
                    entities = trace.entities if scope is None else scope
                    return any(key in e.annotations and compare(e.annotations[key], value) for e in entities)
                if scope is not None:
                    return any(compare(e.duration, value) for e in scope)
                return compare(trace.response_time if keyword == "responsetime" else trace.duration, value)

            return measured
        raise ValueError(f"filter expression {self.expression!r}: {word!r} is not a term this evaluator knows")


def filter_matches(expression: str, trace: ConsoleTrace) -> bool:
    """Whether X-Ray's filter ``expression`` selects ``trace`` (``ValueError`` for a term it does not know)."""
    return _Parser(expression).parse()(trace, None)


def groups_of(trace: ConsoleTrace, groups: Mapping[str, str]) -> set[str]:
    """The names of the ``groups`` (name -> filter expression) whose filter selects ``trace``."""
    return {name for name, expression in groups.items() if filter_matches(expression, trace)}
