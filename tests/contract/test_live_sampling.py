"""The sampling rules the stack deploys decide what is traced, live, in both tracers.

The service runs under gunicorn as the synthesized dev task definition says;
an X-Ray sampling API stand-in (``POST /GetSamplingRules``,
``POST /SamplingTargets``, as the daemon proxies them on TCP 2000) serves
the rules read from the synthesized template, and answers X-Ray's targets
interval (10 s). Each worker samples on its own, as each task does; the
stand-in gives every worker a rule's whole reservoir.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.cruddur import contract
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
        self, app: dict, collector: OtlpReceiver, daemon: XRayDaemon, sampling_endpoint: str, dynamodb: MotoServer
    ) -> None:
        table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
        environ = task_environment(app, {table_ref: create_service_table(dynamodb.url)})
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
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status

    def healthy(self) -> bool:
        try:
            return self.get(contract.HEALTH_CHECK_PATH) == 200
        except OSError:
            return False

    def sampled_ids(self, prefix: str) -> set[str]:
        """The ids of the requests starting with ``prefix`` that have a server span."""
        ids = set()
        for span in self.collector.spans:
            query = urllib.parse.parse_qs(span.attributes.get("url.query", ""))
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


def _burst(service: Service, prefix: str, count: int) -> tuple[list[str], float]:
    ids = [f"{prefix}{index:04d}" for index in range(count)]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(lambda request_id: service.get(HOME, request_id), ids)) == {200}
    return ids, time.monotonic() - started


def _after(service: Service, ids: list[str], moment: float) -> list[str]:
    return [request_id for request_id in ids if service.sent[request_id] >= moment]


def test_the_deployed_rules_decide_live_in_both_tracers(dev_task, dynamodb):
    """Rules fetched; health never sampled; the reservoir at low traffic, the rate in a burst; targets followed live."""
    rules = dev_task["rules"]
    health, catch_all = _rule(rules, catch_all=False), _rule(rules, catch_all=True)
    assert health["URLPath"] == contract.HEALTH_CHECK_PATH and health["FixedRate"] == 0 and health["ReservoirSize"] == 0
    reservoir, rate = catch_all["ReservoirSize"], catch_all["FixedRate"]
    assert reservoir >= 1 and 0 < rate < 0.5

    with OtlpReceiver() as collector, XRayDaemon() as daemon, XRaySamplingApi(rules, interval_seconds=TARGETS_INTERVAL_SECONDS) as proxy:
        service = Service(dev_task["app"], collector, daemon, proxy.url, dynamodb)
        try:
            assert wait_until(service.healthy, timeout=20), "the service did not become healthy"
            # Given the rules fetched by each worker, and a second for its reservoir to fill
            assert wait_until(lambda: proxy.rule_requests >= contract.GUNICORN_WORKERS, timeout=10)
            time.sleep(1.2)
            # When health checks come: their rule applies, never sampled
            for _ in range(20):
                assert service.get(contract.HEALTH_CHECK_PATH) == 200
            # When one request a second comes (before the first targets, ten seconds in): the reservoir takes each
            slow = _paced(service, "slow", 5, 1.1)
            # When a burst comes: the fixed rate, beyond what the reservoirs take
            burst, burst_seconds = _burst(service, "burst", 400)
            # When X-Ray turns the rule down to nothing, then up to everything, through SamplingTargets
            assert wait_until(lambda: proxy.statistics_of(catch_all["RuleName"]), timeout=TARGETS_INTERVAL_SECONDS + 5)
            proxy.set_target(catch_all["RuleName"], fixed_rate=0.0, reservoir_quota=0)
            turned_down = time.monotonic()
            down = _paced(service, "down", int(FOLLOW_WITHIN_SECONDS * 8) + 24, 0.125)
            proxy.set_target(catch_all["RuleName"], fixed_rate=1.0, reservoir_quota=0)
            turned_up = time.monotonic()
            up = _paced(service, "up", int(FOLLOW_WITHIN_SECONDS * 8) + 24, 0.125)
        finally:
            service.stop()

        assert not [s for s in collector.spans if "health" in s.name]
        assert service.sampled_ids("slow") == set(slow)
        sampled_in_burst = len(service.sampled_ids("burst"))
        reservoir_most = contract.GUNICORN_WORKERS * reservoir * (burst_seconds + 1)
        expected, spread = rate * len(burst), 4 * (rate * (1 - rate) * len(burst)) ** 0.5
        assert expected - spread - reservoir_most <= sampled_in_burst <= expected + spread + reservoir_most
        assert sampled_in_burst < len(burst) / 2
        # Within one targets interval, the new target holds for every request
        assert service.sampled_ids("down") & set(_after(service, down, turned_down + FOLLOW_WITHIN_SECONDS)) == set()
        late_up = _after(service, up, turned_up + FOLLOW_WITHIN_SECONDS)
        assert len(late_up) >= 16 and set(late_up) <= service.sampled_ids("up")
        # The statistics X-Ray needs were reported: requests and samples per rule, per worker
        reported = proxy.statistics_of(catch_all["RuleName"])
        assert {doc["ClientID"] for doc in reported} and sum(doc["RequestCount"] for doc in reported) > 0
        # OpenTelemetry and the X-Ray SDK made the same decisions on the same trace ids
        server_spans = [s for s in collector.spans if s.name == SERVER_SPAN]
        assert wait_until(lambda: len(daemon.segments) >= len(server_spans))
        assert {s["trace_id"] for s in daemon.segments} == {f"1-{s.trace_id[:8]}-{s.trace_id[8:]}" for s in server_spans}


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
    reservoir_most = contract.GUNICORN_WORKERS * (burst_seconds + 1)
    expected, spread = rate * len(burst), 4 * (rate * (1 - rate) * len(burst)) ** 0.5
    assert expected - spread - reservoir_most <= sampled <= expected + spread + reservoir_most
    fallback_lines = [
        line for line in stdout.splitlines() if line.startswith("{") and "fallback rules" in json.loads(line)["message"]
    ]
    assert len(fallback_lines) == contract.GUNICORN_WORKERS  # logged once per worker
