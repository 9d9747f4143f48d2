"""The sampling rules the stack deploys decide what is traced, live, in both tracers.

The service runs under gunicorn as the synthesized dev task definition says;
an X-Ray sampling API stand-in (``POST /GetSamplingRules``,
``POST /SamplingTargets``, as the daemon proxies them on TCP 2000) serves
the rules read from the synthesized template, and answers X-Ray's targets
interval (10 s). Each worker samples on its own, as each task does; the
stand-in gives every worker a rule's whole reservoir, and holds every
request to X-Ray's published model (the test fails naming the field).
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import boto3
import pytest

from cruddur import contract
from flask_aws_telemetry import contract as telemetry_contract
from testsupport import templates
from testsupport.gunicorn import start_gunicorn, stop, task_environment
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.standins.xray_sampling_api import XRaySamplingApi
from testsupport.waiting import closed_port, wait_until

TARGETS_INTERVAL_SECONDS = 10
HOME = "/api/activities/home"
SERVER_SPAN = f"GET {HOME}"
# A request sent this long after a target changed must follow it: one targets
# interval, the poller's jitter and the span batch delay.
FOLLOW_WITHIN_SECONDS = TARGETS_INTERVAL_SECONDS + 1.5


@pytest.fixture(scope="module")
def dev_task(dev) -> dict:
    """The app container of dev's task definition and the sampling rules of its template."""
    return {"app": templates.app_container(dev), "rules": templates.sampling_rules(dev)}


@pytest.fixture(scope="module")
def dynamodb(tmp_path_factory):
    """moto_server on loopback standing in for DynamoDB."""
    with MotoServer(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


def _rule(rules: list[dict], *, catch_all: bool) -> dict:
    (rule,) = [r for r in rules if (r["URLPath"] == "*") == catch_all]
    return rule


class Service:
    """The task's app under gunicorn, with its telemetry pointed at loopback stand-ins."""

    def __init__(
        self,
        app: dict,
        collector: OtlpReceiver,
        daemon: XRayDaemon,
        sampling_endpoint: str,
        dynamodb: MotoServer,
        overrides: dict[str, str] | None = None,
    ) -> None:
        table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
        self.table = create_service_table(dynamodb.url)
        environ = task_environment(app, {table_ref: self.table})
        # gunicorn's worker count, which the task sets; each worker samples on its own
        workers = telemetry_contract.WEB_CONCURRENCY
        self.workers = int(environ.get(workers.name, workers.default or ""))
        for name in (contract.WATCHTOWER_ENABLED.name, contract.ROLLBAR_ENABLED.name):
            environ[name] = "false"  # not what this test is about; the contract test runs them
        environ.update(
            {
                contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
                contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
                contract.XRAY_SAMPLING_ENDPOINT.name: sampling_endpoint,
                contract.AWS_ENDPOINT_URL_DYNAMODB.name: dynamodb.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                **(overrides or {}),
            }
        )
        self.collector, self.daemon = collector, daemon
        self.port = closed_port()
        # A line per request on stdout: into a file, as a pipe read only at the end would fill and block the workers.
        self._output = tempfile.TemporaryFile("w+")
        self.process = start_gunicorn(environ, self.port, command=app["Command"], output=self._output)
        self.sent: dict[str, float] = {}  # request id -> when it was sent

    def get(self, path: str, request_id: str | None = None) -> int:
        """GET ``path`` (tagged with ``request_id`` in the query); the status."""
        url = f"http://127.0.0.1:{self.port}{path}"
        if request_id is not None:
            self.sent[request_id] = time.monotonic()
            url += "?" + urllib.parse.urlencode({"id": request_id})
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def healthy(self) -> bool:
        try:
            return self.get(contract.HEALTH_CHECK_PATH) == 200
        except OSError:
            return False

    def sampled_ids(self, prefix: str) -> set[str]:
        """The ids of the requests starting with ``prefix`` that head sampling recorded (not anomaly capture)."""
        ids = set()
        for span in self.collector.spans:
            query = urllib.parse.parse_qs(span.attributes.get("url.query", ""))
            if span.attributes.get("anomaly.captured"):
                continue
            if span.name == SERVER_SPAN and query.get("id", [""])[0].startswith(prefix):
                ids.add(query["id"][0])
        return ids

    def stop(self) -> str:
        stop(self.process)
        self._output.seek(0)
        output = self._output.read()
        self._output.close()
        assert self.process.returncode == 0, output[-3000:]
        return output


def _paced(service: Service, prefix: str, count: int, every_seconds: float) -> list[str]:
    ids = []
    for index in range(count):
        started = time.monotonic()
        ids.append(f"{prefix}{index:04d}")
        assert service.get(HOME, ids[-1]) == 200
        time.sleep(max(0.0, every_seconds - (time.monotonic() - started)))
    return ids


def _burst(service: Service, prefix: str, count: int, status: int = 200) -> tuple[list[str], float]:
    ids = [f"{prefix}{index:04d}" for index in range(count)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(lambda request_id: service.get(HOME, request_id), ids)) == {status}
    return ids, time.monotonic() - started


def _after(service: Service, ids: list[str], moment: float) -> list[str]:
    return [request_id for request_id in ids if service.sent[request_id] >= moment]


@dataclass
class LiveRun:
    """One run of the service under the deployed rules, X-Ray changing its targets on the way (see ``live``)."""

    rules: list[dict]
    health_statuses: list[int]
    slow: list[str]  # one request a second, before the first targets
    burst: list[str]
    burst_seconds: float
    down: list[str]  # after X-Ray turned the catch-all rule down to nothing
    turned_down: float
    up: list[str]  # after X-Ray turned it up to everything
    turned_up: float
    quiet: list[str]  # a burst after it was turned down to nothing during a quiet spell
    service: Service
    statistics: list[dict]  # the catch-all rule's statistics documents that reached the proxy
    segments: list[dict]  # at the daemon

    @property
    def catch_all(self) -> dict:
        return _rule(self.rules, catch_all=True)


@pytest.fixture(scope="module")
def live(dev_task, dynamodb) -> LiveRun:
    """The task under gunicorn with the deployed rules, run once through the scenario the tests below read.

    Given the rules fetched by each worker: health checks; one request a
    second (before the first targets, ten seconds in); a burst; X-Ray turns
    the catch-all rule down to nothing, then up to everything, through
    SamplingTargets; then down to nothing again during a quiet spell, and a
    burst follows.
    """
    rules = dev_task["rules"]
    catch_all = _rule(rules, catch_all=True)
    with (
        OtlpReceiver() as collector,
        XRayDaemon() as daemon,
        XRaySamplingApi(rules, interval_seconds=TARGETS_INTERVAL_SECONDS) as proxy,
    ):
        service = Service(dev_task["app"], collector, daemon, proxy.url, dynamodb)
        try:
            assert wait_until(service.healthy, timeout=20), "the service did not become healthy"
            # Given the rules fetched by each worker, and a second for its reservoir to fill
            assert wait_until(lambda: proxy.rule_requests >= service.workers, timeout=10)
            time.sleep(1.2)
            health_statuses = [service.get(contract.HEALTH_CHECK_PATH) for _ in range(20)]
            slow = _paced(service, "slow", 5, 1.1)
            burst, burst_seconds = _burst(service, "burst", 400)
            assert wait_until(lambda: proxy.statistics_of(catch_all["RuleName"]), timeout=TARGETS_INTERVAL_SECONDS + 5)
            proxy.set_target(catch_all["RuleName"], fixed_rate=0.0, reservoir_quota=0)
            turned_down = time.monotonic()
            down = _paced(service, "down", int(FOLLOW_WITHIN_SECONDS * 8) + 24, 0.125)
            proxy.set_target(catch_all["RuleName"], fixed_rate=1.0, reservoir_quota=0)
            turned_up = time.monotonic()
            up = _paced(service, "up", int(FOLLOW_WITHIN_SECONDS * 8) + 24, 0.125)
            proxy.set_target(catch_all["RuleName"], fixed_rate=0.0, reservoir_quota=0)
            time.sleep(FOLLOW_WITHIN_SECONDS)
            quiet, _ = _burst(service, "quiet", 200)
        finally:
            service.stop()
        server_spans = [s for s in collector.spans if s.name == SERVER_SPAN]
        wait_until(lambda: len(daemon.segments) >= len(server_spans))
        return LiveRun(
            rules=rules, health_statuses=health_statuses, slow=slow, burst=burst, burst_seconds=burst_seconds,
            down=down, turned_down=turned_down, up=up, turned_up=turned_up, quiet=quiet, service=service,
            statistics=proxy.statistics_of(catch_all["RuleName"]), segments=list(daemon.segments),
        )  # fmt: skip


def test_the_deployed_health_rule_never_samples_the_health_path(dev_task):
    """The rule for the health-check path has a fixed rate and a reservoir of 0."""
    health = _rule(dev_task["rules"], catch_all=False)
    assert health["URLPath"] == contract.HEALTH_CHECK_PATH and health["FixedRate"] == 0 and health["ReservoirSize"] == 0


def test_the_deployed_catch_all_rule_has_a_reservoir_and_samples_a_fraction(dev_task):
    """The catch-all rule keeps at least one request a second and a fixed rate under one half of the rest."""
    catch_all = _rule(dev_task["rules"], catch_all=True)
    assert catch_all["ReservoirSize"] >= 1 and 0 < catch_all["FixedRate"] < 0.5


def test_health_checks_are_answered_and_never_sampled(live):
    """Given the health rule, when 20 health checks come, then each is a 200 and none is traced."""
    assert live.health_statuses == [200] * 20
    assert not [s for s in live.service.collector.spans if "health" in s.name]


def test_at_one_request_a_second_the_reservoir_takes_each(live):
    """When one request a second comes before the first targets, every one of them is sampled."""
    assert live.service.sampled_ids("slow") == set(live.slow)


def test_in_a_burst_the_fixed_rate_decides_beyond_the_reservoirs(live):
    """When 400 requests come at once, the rule's rate samples them (within 4 sigma, plus what the reservoirs took)."""
    reservoir, rate = live.catch_all["ReservoirSize"], live.catch_all["FixedRate"]
    sampled = len(live.service.sampled_ids("burst"))
    reservoir_most = live.service.workers * reservoir * (live.burst_seconds + 1)
    expected, spread = rate * len(live.burst), 4 * (rate * (1 - rate) * len(live.burst)) ** 0.5
    assert expected - spread - reservoir_most <= sampled <= expected + spread + reservoir_most
    assert sampled < len(live.burst) / 2


def test_a_target_of_nothing_holds_within_one_targets_interval(live):
    """When X-Ray turns the rule down to nothing, no request sent one targets interval later is sampled."""
    late = _after(live.service, live.down, live.turned_down + FOLLOW_WITHIN_SECONDS)
    assert live.service.sampled_ids("down") & set(late) == set()


def test_a_target_of_everything_holds_within_one_targets_interval(live):
    """When X-Ray turns the rule up to everything, every request sent one targets interval later is sampled."""
    late = _after(live.service, live.up, live.turned_up + FOLLOW_WITHIN_SECONDS)
    assert len(late) >= 16 and set(late) <= live.service.sampled_ids("up")


def test_a_target_changed_while_idle_holds_from_the_first_request_after_it(live):
    """When the rule is turned down during a quiet spell, no request of the burst that follows is sampled.

    Every rule that matched is reported, so the new target reaches each worker before its next request.
    """
    assert live.service.sampled_ids("quiet") == set()


def test_the_statistics_x_ray_needs_are_reported_per_rule_per_worker(live):
    """The catch-all rule's statistics documents name their workers (ClientID) and counted requests."""
    assert {doc["ClientID"] for doc in live.statistics}
    assert sum(doc["RequestCount"] for doc in live.statistics) > 0


def test_opentelemetry_and_the_x_ray_sdk_made_the_same_decisions(live):
    """Every trace the OpenTelemetry server spans have, and no other, has an X-Ray segment."""
    server_spans = [s for s in live.service.collector.spans if s.name == SERVER_SPAN]
    assert {s["trace_id"] for s in live.segments} == {f"1-{s.trace_id[:8]}-{s.trace_id[8:]}" for s in server_spans}


def test_with_the_proxy_down_every_request_succeeds_and_the_fallback_rules_decide(dev_task, dynamodb):
    """No proxy: nothing waits, health checks follow the health rule, a burst the catch-all rule's rate."""
    rate = _rule(dev_task["rules"], catch_all=True)["FixedRate"]
    with OtlpReceiver() as collector, XRayDaemon() as daemon:
        service = Service(dev_task["app"], collector, daemon, f"http://127.0.0.1:{closed_port()}", dynamodb)
        try:
            assert wait_until(service.healthy, timeout=20), "the service did not become healthy"
            for _ in range(20):
                assert service.get(contract.HEALTH_CHECK_PATH) == 200
            burst, burst_seconds = _burst(service, "burst", 400)
        finally:
            stdout = service.stop()

    assert not [s for s in collector.spans if "health" in s.name]
    sampled = len(service.sampled_ids("burst"))
    # X-Ray's borrowing reservoir (one a second per worker) until targets arrive, which they never do here
    reservoir_most = service.workers * (burst_seconds + 1)
    expected, spread = rate * len(burst), 4 * (rate * (1 - rate) * len(burst)) ** 0.5
    assert expected - spread - reservoir_most <= sampled <= expected + spread + reservoir_most
    fallback_lines = [
        line for line in stdout.splitlines() if line.startswith("{") and "fallback rules" in json.loads(line)["message"]
    ]
    assert len(fallback_lines) == service.workers  # logged once per worker


def _reported_since(proxy: XRaySamplingApi, rule_name: str, moment: float) -> set[str]:
    """The workers (client ids) that reported ``rule_name`` after ``moment`` (epoch seconds)."""
    return {doc["ClientID"] for doc in proxy.statistics_of(rule_name) if doc["Timestamp"] > moment}


# Every request an anomaly (slower than a microsecond), none exported by anomaly capture: what is
# sampled is what the rules decide, and every request is counted in the boost statistics.
EVERY_REQUEST_AN_ANOMALY = {
    contract.SLOW_REQUEST_SECONDS.name: "0.000001",
    contract.ANOMALY_CAPTURE_PER_SECOND.name: "0",
}


def _boosted(rules: list[dict], max_rate: float) -> tuple[list[dict], dict]:
    """``rules`` with a boost on the catch-all rule (as the account has it once one is configured), and that rule."""
    rules = [dict(rule) for rule in rules]
    catch_all = _rule(rules, catch_all=True)
    catch_all["SamplingRateBoost"] = {"MaxRate": max_rate, "CooldownWindowMinutes": 1}
    return rules, catch_all


def test_anomalies_reported_get_a_boost_that_raises_the_rate_in_both_tracers_until_its_ttl(dev_task, dynamodb):
    """Anomalies in the boost statistics; rate 0, then a SamplingBoost of 1.0: the next burst sampled in both
    tracers; after its TTL none.
    """
    rules, catch_all = _boosted(dev_task["rules"], max_rate=1.0)
    name = catch_all["RuleName"]
    boost_seconds = 2 * TARGETS_INTERVAL_SECONDS + 5
    with (
        OtlpReceiver() as collector,
        XRayDaemon() as daemon,
        XRaySamplingApi(rules, interval_seconds=TARGETS_INTERVAL_SECONDS) as proxy,
    ):
        proxy.set_target(name, fixed_rate=0.0, reservoir_quota=0)
        service = Service(dev_task["app"], collector, daemon, proxy.url, dynamodb, EVERY_REQUEST_AN_ANOMALY)
        try:
            assert wait_until(service.healthy, timeout=20), "the service did not become healthy"
            # Every worker decides by the rules X-Ray gave before the first burst: a request the fallback rules
            # decided is in no TotalCount, yet its anomaly is counted by the rules in force when it ends.
            assert wait_until(lambda: proxy.rule_requests >= service.workers, timeout=20)
            time.sleep(0.5)  # the answer applied
            # Given every worker on the rule's target of nothing, and anomalies reported
            started = time.time()
            workers = lambda: len(_reported_since(proxy, name, started)) == service.workers  # noqa: E731
            # gunicorn does not promise to spread a burst over its workers: burst again (at most three
            # times) until every worker has matched the rule and reported it.
            warm = 0
            for attempt in range(3):
                warm += len(_burst(service, f"warm{attempt}", 40)[0])
                if wait_until(workers, timeout=FOLLOW_WITHIN_SECONDS + 5):
                    break
            assert workers(), "a worker never matched the rule in three bursts"
            time.sleep(0.5)  # the answer to that report applied
            assert sum(doc["AnomalyCount"] for doc in proxy.boost_statistics_of(name)) > 0
            base, _ = _burst(service, "base", 100)
            # When X-Ray answers a boost to 1.0 and every worker has fetched it
            boost_until = proxy.set_boost(name, boost_rate=1.0, ttl_seconds=boost_seconds)
            asked = time.time()
            workers = lambda: len(_reported_since(proxy, name, asked)) == service.workers  # noqa: E731
            assert wait_until(workers, timeout=FOLLOW_WITHIN_SECONDS + 5)
            time.sleep(0.5)  # the answer to that report applied
            boosted, _ = _burst(service, "boosted", 100)
            # And once its TTL has passed
            time.sleep(max(0.0, boost_until - time.time()) + 0.5)
            after, _ = _burst(service, "after", 100)

            # Then every request the rule matched is counted in its boost statistics, each an anomaly (counted when
            # it ends, so perhaps an interval after the request was counted)
            def totals() -> list[int]:
                return [
                    sum(doc[count] for doc in proxy.boost_statistics_of(name))
                    for count in ("TotalCount", "AnomalyCount")
                ]

            expected = warm + 300
            assert wait_until(lambda: totals() == [expected, expected], timeout=2 * TARGETS_INTERVAL_SECONDS + 5), (
                totals()
            )
        finally:
            stdout = service.stop()

    reported = proxy.boost_statistics_of(name)
    sampled = {prefix: len(service.sampled_ids(prefix)) for prefix in ("warm", "base", "boosted", "after")}
    assert sum(doc["SampledAnomalyCount"] for doc in reported) == sum(sampled.values()), sampled

    assert service.sampled_ids("base") == set()
    assert service.sampled_ids("boosted") == set(boosted)
    assert service.sampled_ids("after") == set()
    # Each worker logged the boost X-Ray answered once (the dashboard's SamplingBoosts metric counts these lines)
    messages = [json.loads(line)["message"] for line in stdout.splitlines() if line.startswith("{")]
    boosts = [
        m
        for m in messages
        if m.startswith(f"{contract.SAMPLING_BOOST_MESSAGE_PREFIX} by X-Ray: rule {name} samples 1.0")
    ]
    assert len(boosts) == service.workers, boosts
    # The boost statistics X-Ray decides on: requests per boosted rule, per worker, on X-Ray's model
    assert {doc["ServiceName"] for doc in proxy.boost_statistics_of(name)} == {catch_all["ServiceName"]}
    # OpenTelemetry and the X-Ray SDK followed the same decisions
    server_spans = [s for s in collector.spans if s.name == SERVER_SPAN]
    assert wait_until(lambda: len(daemon.segments) >= len(server_spans))
    assert {s["trace_id"] for s in daemon.segments} == {f"1-{s.trace_id[:8]}-{s.trace_id[8:]}" for s in server_spans}


def test_with_the_proxy_down_the_fallback_rules_boost_after_anomalies(dev_task, dynamodb):
    """No proxy: 5xx answers (the table gone) raise the boosted fallback rule to MaxRate in both tracers."""
    rules, catch_all = _boosted(dev_task["rules"], max_rate=1.0)
    # Only the 503s are anomalies (not a request slowed by a busy machine), and none is exported by anomaly capture
    overrides = {
        contract.XRAY_SAMPLING_RULES.name: json.dumps(rules),
        contract.SLOW_REQUEST_SECONDS.name: "60",
        contract.ANOMALY_CAPTURE_PER_SECOND.name: "0",
    }
    with OtlpReceiver() as collector, XRayDaemon() as daemon:
        service = Service(dev_task["app"], collector, daemon, f"http://127.0.0.1:{closed_port()}", dynamodb, overrides)
        try:
            assert wait_until(service.healthy, timeout=20), "the service did not become healthy"
            # Given the fallback rule's own rate
            base, base_seconds = _burst(service, "base", 200)
            # When the table is gone and requests fail with 503 on every worker
            boto3.client(
                "dynamodb",
                endpoint_url=dynamodb.url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            ).delete_table(TableName=service.table)
            _burst(service, "failing", 20, status=503)
            # Then the next burst is sampled at MaxRate
            boosted, _ = _burst(service, "boosted", 100, status=503)
        finally:
            stdout = service.stop()

    rate = catch_all["FixedRate"]
    reservoir_most = service.workers * (base_seconds + 1)
    assert len(service.sampled_ids("base")) <= rate * 200 + 4 * (rate * (1 - rate) * 200) ** 0.5 + reservoir_most
    assert service.sampled_ids("boosted") == set(boosted)
    boosts = [
        line
        for line in stdout.splitlines()
        if line.startswith("{") and "boosted locally" in json.loads(line)["message"]
    ]
    assert len(boosts) == service.workers  # once per worker, within its cooldown window
    server_spans = [s for s in collector.spans if s.name == SERVER_SPAN]
    assert wait_until(lambda: len(daemon.segments) >= len(server_spans))
    assert {s["trace_id"] for s in daemon.segments} == {f"1-{s.trace_id[:8]}-{s.trace_id[8:]}" for s in server_spans}
