"""What the X-Ray console gets on each of the four X-Ray paths, for the same three requests.

The dev task runs once per path with its real sidecars (the runner of
``test_task_with_real_sidecars``), and sends:

* a sampled request: ``POST /api/activities`` with a sampled W3C
  ``traceparent`` (its DynamoDB calls: ``GetItem``, ``PutItem``);
* a captured anomaly: X-Ray turns the catch-all rule to nothing (fixed rate
  0, no reservoir) and every worker has followed; then
  ``GET /api/activities/@broken`` raises (an unhandled 500), unsampled,
  exported by anomaly capture;
* a boosted burst: X-Ray answers the rule's targets with a ``SamplingBoost``
  of 1.0; once every worker has it, ``GET /api/activities/@andrewbrown``
  a few times, each sampled by the boost.

What X-Ray received on that path (the daemon's frames, PutTraceSegments
documents, or OTLP spans) is read as one view per trace
(``testsupport.xray_console``), and the tests assert what must hold on
every path: one trace id per request, the service's segment with the HTTP
request and response, the DynamoDB calls with operation, table and region,
a fault on the 5xx only, parent ids that make one tree, the X-Ray groups
each trace lands in (their filter expressions from the template) and its
trace map. What differs between the paths is asserted as each path really
does it, and tabled in docs/xray-paths.md ("What the console gets, path by
path").

The daemon column is what the X-Ray SDK sent, read by the runner's tap
(``run.sdk_frames``) where the frames leave the app: the daemon forwards
the documents as they are, and where it cannot be built (its Go module is
refused by the module proxy) the collector's receiver reads the frames in
its place, whose view is the collector-as-daemon column's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import pytest

from cruddur import contract
from flask_aws_telemetry import contract as telemetry_contract
from flask_aws_telemetry_cdk.config import XRayPath
from testsupport import templates
from testsupport.traffic import BROKEN_HANDLE, http_status, new_trace_id, post_status, xray_trace_id
from testsupport.waiting import wait_until
from testsupport.xray_console import (
    CLIENT_NODE,
    ConsoleTrace,
    filter_matches,
    groups_of,
    traces_of_documents,
    traces_of_spans,
)

from .test_task_with_real_sidecars import REGION, TaskRun, _run_task

# The environment each path runs as (tests/conftest.py synthesizes them).
PATH_ENVIRONMENTS = {
    XRayPath.XRAY_SDK_AND_DAEMON: "dev",
    XRayPath.XRAY_SDK_AND_COLLECTOR: "dev-sdk-collector",
    XRayPath.OPENTELEMETRY_PUT_TRACE_SEGMENTS: "dev-otel-segments",
    XRayPath.OPENTELEMETRY_COLLECTOR: "dev-otel",
}
BOOSTED_REQUESTS = 6
WARM_UP_REQUESTS = 20
TARGETS_INTERVAL_SECONDS = 10
FOLLOW_WITHIN_SECONDS = TARGETS_INTERVAL_SECONDS + 5  # a worker's next report, its jitter and a busy machine
SAMPLED_PATH = "/api/activities"
ANOMALY_PATH = f"/api/activities/@{BROKEN_HANDLE}"
BOOSTED_PATH = "/api/activities/@andrewbrown"
USER_FEED_ROUTE = "/api/activities/@<handle>"
CALLER_SPAN_ID = "1" * 16  # the parent span id of the traceparent post_status sends


@dataclass
class Cases:
    """The three cases one run sent, and what the service answered."""

    sampled: str = ""  # W3C trace id, sent in the traceparent
    statuses: dict[str, list[int]] = field(default_factory=dict)
    boost_until: float = 0.0


@dataclass
class ConsoleRun:
    """One path's run: the task run, the cases, and X-Ray's view of every trace it received."""

    path: XRayPath
    run: TaskRun
    cases: Cases
    service: str
    groups: dict[str, str]
    traces: dict[str, ConsoleTrace]
    anomaly: str  # W3C trace id, from the app's unhandled-exception line
    workers: int  # gunicorn's workers: each samples on its own
    boosted: list[str]  # W3C trace ids, from the app's request lines

    def trace(self, trace_id: str) -> ConsoleTrace:
        """X-Ray's view of the W3C trace ``trace_id`` (fails naming the path if X-Ray never got it)."""
        found = self.traces.get(xray_trace_id(trace_id))
        assert found is not None, f"{self.path.value}: X-Ray has no trace {xray_trace_id(trace_id)}"
        return found

    def every_case(self) -> dict[str, ConsoleTrace]:
        """Each case's trace by a readable name: sampled, anomaly, boosted 0, boosted 1, ..."""
        traces = {"sampled": self.trace(self.cases.sampled), "anomaly": self.trace(self.anomaly)}
        traces |= {f"boosted {i}": self.trace(trace_id) for i, trace_id in enumerate(self.boosted)}
        return traces


def _catch_all(rules: list[dict]) -> dict:
    (rule,) = [r for r in rules if r["URLPath"] == "*"]
    return rule


def _boostable(rules: list[dict]) -> list[dict]:
    """The deployed rules, the catch-all one with a SamplingRateBoost (as once a boost is configured on it)."""
    rules = [dict(rule) for rule in rules]
    _catch_all(rules)["SamplingRateBoost"] = {"MaxRate": 1.0, "CooldownWindowMinutes": 1}
    return rules


def _reported_since(sampling, rule_name: str, moment: float) -> set[str]:
    return {doc["ClientID"] for doc in sampling.statistics_of(rule_name) if doc["Timestamp"] > moment}


def _console_traffic(cases: Cases, rule_name: str, workers: int) -> Callable[[TaskRun, int], None]:
    """The three cases, sent to the task on ``port`` while X-Ray's targets change on the way."""

    def traffic(run: TaskRun, port: int) -> None:
        base = f"http://127.0.0.1:{port}"
        sampling = run.xray  # X-Ray's stand-in: every sidecar proxies the sampling API to it
        cases.sampled = new_trace_id()
        cases.statuses["sampled"] = [post_status(port, f"console {cases.sampled}", cases.sampled)]
        # X-Ray turns the rule to nothing; requests until every worker has reported (and so been answered) since.
        sampling.set_target(rule_name, fixed_rate=0.0, reservoir_quota=0)
        turned = time.time()
        for _ in range(3):
            cases.statuses.setdefault("warm-up", []).extend(
                http_status(f"{base}/api/activities/home") for _ in range(WARM_UP_REQUESTS)
            )
            if wait_until(lambda: len(_reported_since(sampling, rule_name, turned)) >= workers, FOLLOW_WITHIN_SECONDS):
                break
        assert len(_reported_since(sampling, rule_name, turned)) >= workers, "a worker never took the 0 target"
        time.sleep(0.5)  # the answer applied
        cases.statuses["anomaly"] = [http_status(f"{base}{ANOMALY_PATH}")]
        # X-Ray answers a boost; once every worker has it, a burst.
        cases.boost_until = sampling.set_boost(rule_name, boost_rate=1.0, ttl_seconds=120)
        asked = time.time()
        assert wait_until(lambda: len(_reported_since(sampling, rule_name, asked)) >= workers, FOLLOW_WITHIN_SECONDS), (
            "a worker never reported after the boost was answered"
        )
        time.sleep(0.5)
        cases.statuses["boosted"] = [http_status(f"{base}{BOOSTED_PATH}") for _ in range(BOOSTED_REQUESTS)]

    return traffic


def _xray_traces(path: XRayPath, run: TaskRun) -> dict[str, ConsoleTrace]:
    """What X-Ray received on ``path``, one view per trace."""
    if path is XRayPath.OPENTELEMETRY_COLLECTOR:
        return traces_of_spans(run.xray.otlp_spans)
    if path is XRayPath.XRAY_SDK_AND_DAEMON:
        # The daemon forwards the SDK's documents as they are: what the SDK sent is what X-Ray gets (where the
        # daemon cannot be built, the receiver in its place would show the collector-as-daemon column instead).
        assert run.sdk_frames is not None
        return traces_of_documents(run.sdk_frames.segments)
    return traces_of_documents(run.xray.segments)


@pytest.fixture(scope="module")
def console_runs(synthesized_environments, tmp_path_factory):
    """Each path's run, at most once per module, when a test first asks for it."""
    runs: dict[XRayPath, ConsoleRun] = {}

    def run_of(path: XRayPath) -> ConsoleRun:
        if path not in runs:
            name = PATH_ENVIRONMENTS[path]
            env = synthesized_environments(name)
            app = templates.app_container(env)
            variables = templates.environment(app)
            concurrency = telemetry_contract.WEB_CONCURRENCY
            workers = int(variables.get(concurrency.name, concurrency.default or "1"))
            rules = _boostable(templates.sampling_rules(env))
            cases = Cases()
            traffic = _console_traffic(cases, _catch_all(rules)["RuleName"], workers)
            run = _run_task(name, synthesized_environments, tmp_path_factory, traffic=traffic, rules=rules)
            unhandled = [line for line in run.app_log if line.get("message") == "unhandled exception"]
            boosted = [
                line["trace_id"]
                for line in run.app_log
                if line.get("http_route") == USER_FEED_ROUTE and line.get("http_status") == 200
            ]
            runs[path] = ConsoleRun(
                path=path, run=run, cases=cases, service=variables[contract.SERVICE_NAME.name],
                groups=templates.xray_groups(env), traces=_xray_traces(path, run),
                anomaly=unhandled[0]["trace_id"] if unhandled else "", workers=workers, boosted=boosted,
            )  # fmt: skip
        return runs[path]

    return run_of


@pytest.fixture(params=list(PATH_ENVIRONMENTS), ids=[path.value for path in PATH_ENVIRONMENTS])
def console(request, console_runs) -> ConsoleRun:
    """One path's run: what holds on every path."""
    return console_runs(request.param)


def _path(url: str) -> str:
    return unquote(urlsplit(url).path)


# The requests


def test_each_case_got_its_answer(console):
    """The sampled POST and the boosted GETs are 200, the anomaly a 500; warm-up requests are answered; every worker
    took the boost.
    """
    statuses = console.cases.statuses
    assert statuses["sampled"] == [200] and statuses["anomaly"] == [500]
    assert statuses["boosted"] == [200] * BOOSTED_REQUESTS
    assert set(statuses["warm-up"]) == {200}
    assert len(console.boosted) == BOOSTED_REQUESTS and console.anomaly
    # Each worker took X-Ray's boost (the line the dashboard counts): the burst was sampled by it, not by the rule
    boosts = [
        line
        for line in console.run.app_log
        if line.get("message", "").startswith(f"{telemetry_contract.SAMPLING_BOOST_MESSAGE_PREFIX} by X-Ray")
    ]
    assert len(boosts) == console.workers, boosts


# Every path: the same trace, whole


def test_every_case_reaches_x_ray_under_the_trace_id_the_request_carried(console):
    """The sampled request, the captured anomaly and every boosted request are X-Ray traces with their own ids."""
    for case, trace in console.every_case().items():
        assert {e.trace_id for e in trace.entities} == {trace.trace_id}, case


def test_the_parent_ids_make_one_tree_rooted_in_the_services_segment(console):
    """Each trace has one root, the service's segment; every other segment or subsegment hangs under it."""
    for case, trace in console.every_case().items():
        assert trace.tree_problems() == [], case
        (root,) = trace.roots
        assert (root.name, root.subsegment) == (console.service, False), case
        # Its parent is the caller's span: the sampled POST's traceparent; the other cases had no caller
        assert root.parent_id == (CALLER_SPAN_ID if case == "sampled" else None), case


def test_the_services_segment_names_the_service(console):
    """X-Ray's node for the service is the service's name on every path (the groups select it by that name)."""
    for case, trace in console.every_case().items():
        assert trace.service_segment(console.service).name == console.service, case


def test_the_http_request_and_response_are_the_requests(console):
    """Method, path and status of each case, as the service answered it."""
    expected = {"sampled": ("POST", SAMPLED_PATH, 200), "anomaly": ("GET", ANOMALY_PATH, 500)}
    for case, trace in console.every_case().items():
        segment = trace.service_segment(console.service)
        method, path, status = expected.get(case, ("GET", BOOSTED_PATH, 200))
        assert segment.request.get("method") == method, case
        assert _path(segment.request.get("url", "")) == path, case
        assert segment.response.get("status") == status, case


def test_each_dynamodb_call_has_its_operation_table_and_region(console):
    """The DynamoDB subsegments: the sampled POST's GetItem and PutItem, the anomaly's GetItem, the feed's reads."""
    expected = {"sampled": {"GetItem", "PutItem"}, "anomaly": {"GetItem"}}
    tables = set()
    for case, trace in console.every_case().items():
        calls = trace.aws_calls("dynamodb")
        assert {c.aws.get("operation") for c in calls} >= expected.get(case, {"GetItem"}), case
        assert {c.aws.get("region") for c in calls} == {REGION}, case
        tables |= {c.aws.get("table_name") for c in calls}
    (table,) = tables
    assert table and table.startswith("cruddur-test-")


def test_only_the_5xx_is_a_fault(console):
    """The anomaly's segment is a fault (not an error); no other case's segment is either."""
    for case, trace in console.every_case().items():
        segment = trace.service_segment(console.service)
        assert (segment.fault, segment.error) == (case == "anomaly", False), case


def test_the_5xx_lands_in_the_errors_group_and_nothing_else_in_a_group(console):
    """The groups' filter expressions (from the template) on each trace: the anomaly in -errors; the rest in none."""
    (errors,) = [name for name in console.groups if name.endswith("-errors")]
    for case, trace in console.every_case().items():
        assert groups_of(trace, console.groups) == ({errors} if case == "anomaly" else set()), case


def test_the_trace_map_is_the_caller_the_service_and_dynamodb(console):
    """Each trace draws client -> service -> DynamoDB (the DynamoDB node's name differs in case between paths)."""
    for case, trace in console.every_case().items():
        edges = {(a, b.lower() if a == console.service else b) for a, b in trace.trace_map()}
        assert edges == {(CLIENT_NODE, console.service), (console.service, "dynamodb")}, case


def test_everything_the_path_sent_x_ray_is_what_x_ray_accepts(console):
    """No request off X-Ray's model, no bad signature, no segment off the schema, on any path."""
    console.run.xray.assert_clean()
    if console.run.sdk_frames is not None:
        console.run.sdk_frames.assert_segments_valid()


# What differs by path, asserted as each path does it (docs/xray-paths.md tables it)

# The filter that finds captured anomalies on the X-Ray SDK's paths (its segments' annotations).
CAPTURED_FILTER = "annotation.anomaly_captured = true"


def test_the_captured_anomaly_is_marked_by_an_annotation_wherever_x_ray_gets_segments(console):
    """Annotations anomaly_captured and anomaly_reason on the three PutTraceSegments paths (the exporter's indexed
    attributes, its dot gate off, give the SDK's keys); on the OTLP path the mark is metadata, which no X-Ray filter
    reads.
    """
    anomaly = console.trace(console.anomaly)
    segment = anomaly.service_segment(console.service)
    sampled = console.trace(console.cases.sampled)
    if console.path is XRayPath.OPENTELEMETRY_COLLECTOR:
        assert segment.metadata["default"]["anomaly.captured"] is True and not segment.annotations
        assert not filter_matches(CAPTURED_FILTER, anomaly)
    else:
        assert dict(segment.annotations) == {"anomaly_captured": True, "anomaly_reason": "exception"}
        assert filter_matches(CAPTURED_FILTER, anomaly) and not filter_matches(CAPTURED_FILTER, sampled)


def test_the_services_own_attributes_are_annotations_except_on_the_otlp_path(console):
    """app.result_length, set by the user feed's operation: annotation app_result_length where X-Ray gets segments
    (the SDK's, or the exporter's indexed attributes); metadata on the OTLP path.
    """
    for trace_id in console.boosted:
        trace = console.trace(trace_id)
        (operation,) = [e for e in trace.entities if e.name == "user-activities"]
        if console.path is XRayPath.OPENTELEMETRY_COLLECTOR:
            assert "app_result_length" not in trace.annotations
            assert "app.result_length" in operation.metadata["default"]
        else:
            assert isinstance(operation.annotations["app_result_length"], int)
