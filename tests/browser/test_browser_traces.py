"""A real browser in the trace: headless Chromium loads the test page, the backend runs as the dev task says.

The page (``tests/browser/page``, shaped like the course's home feed) is
bundled with esbuild from ``frontend/src/tracing.js`` and the npm packages
of ``frontend/package.json``, and served on its own loopback port: another
origin than the backend's, so CORS is real. The backend is the synthesized
dev task's app container under gunicorn, with ``/v1/traces`` on (dev with
``BrowserTracesConfig(enabled=True)``, ``tests/conftest.py``'s
``dev-browser``) and the page's origin as its frontend origin; the OTLP stand-in listens where the collector's
OTLP/HTTP receiver would, so what it receives is what the collector would
send to Honeycomb. Skipped, with the reason, where Chromium or the npm
packages are missing (``make chromium``, ``make test`` installs both).
"""

from __future__ import annotations

import functools
import http.server
import json
import secrets
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from cruddur import contract
from scripts.honeycomb_queries import load_queries
from testsupport import templates
from testsupport.gunicorn import start_gunicorn, stop, task_environment
from testsupport.standins.aws import MotoServer, create_service_table
from testsupport.standins.honeycomb_api import honeycomb_event, what_the_spans_lack
from testsupport.standins.otlp import OtlpReceiver, ReceivedSpan
from testsupport.standins.rollbar import RollbarApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.standins.xray_sampling_api import XRaySamplingApi
from testsupport.waiting import closed_port, wait_until

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
# Debian's chromium (make chromium); else a Chrome already installed (GitHub's Ubuntu runners have one).
CHROMIUM = next(
    (Path(found) for found in map(shutil.which, ("chromium", "google-chrome", "google-chrome-stable")) if found),
    Path("/usr/bin/chromium"),
)
FRONTEND_SERVICE = "cruddur-frontend-react-js"
SPAN_KIND_CLIENT = 3


def _node() -> str | None:
    project_node = REPO / "node_modules" / ".bin" / "node"
    return str(project_node) if project_node.exists() else shutil.which("node")


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}: run 'make chromium' (apt-get install chromium, as root)"
    if not (FRONTEND / "node_modules" / "playwright-core").is_dir():
        return "frontend/node_modules is not installed: run 'make install' (npm ci in frontend/)"
    if _node() is None:
        return "no node on PATH"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


class StaticSite:
    """A directory served on its own loopback port (its own origin)."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StaticSite:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """The test page bundled with esbuild: frontend/src/tracing.js and its npm packages, as a user's build would."""
    out = tmp_path_factory.mktemp("page")
    shutil.copy(Path(__file__).parent / "page" / "index.html", out / "index.html")
    subprocess.run(
        [str(FRONTEND / "node_modules" / ".bin" / "esbuild"), str(Path(__file__).parent / "page" / "main.js"),
         "--bundle", "--format=iife", "--target=es2020", "--log-level=warning", f"--outfile={out / 'main.js'}"],
        check=True, cwd=FRONTEND, timeout=120,
    )  # fmt: skip
    return out


def drive_chromium(urls: list[str]) -> list[dict]:
    """Each URL opened in headless Chromium until its page says it is done; what each page recorded."""
    completed = subprocess.run(
        [_node(), str(Path(__file__).parent / "drive.mjs"), json.dumps(urls), str(CHROMIUM)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def post_batch(port: int, origin: str, body: bytes) -> tuple[int, dict[str, str]]:
    """POST an OTLP/JSON batch to /v1/traces from ``origin``; the status and headers."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{contract.BROWSER_TRACES_PATH}",
        data=body,
        headers={"Content-Type": "application/json", "Origin": origin},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def trace_table(spans: list[ReceivedSpan]) -> str:
    """The trace as text: each span with its service, parent, start (ms from the first) and duration."""
    first = min(span.start_ns for span in spans)
    names = {span.span_id: span.name for span in spans}
    lines = [f"{'span':<34} {'service':<26} {'parent':<34} {'start ms':>9} {'ms':>8}"]
    for span in sorted(spans, key=lambda s: (s.start_ns, s.end_ns)):
        parent = names.get(span.parent_span_id, span.parent_span_id or "-")
        lines.append(
            f"{span.name:<34} {span.resource.get('service.name', ''):<26} {parent:<34} "
            f"{(span.start_ns - first) / 1e6:>9.1f} {(span.end_ns - span.start_ns) / 1e6:>8.1f}"
        )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def dev_app(synthesized_environments) -> dict:
    """The app container of the synthesized dev task definition with the frontend's spans on, and its sampling rules."""
    dev = synthesized_environments("dev-browser")
    return {
        "app": templates.app_container(dev),
        "rules": templates.sampling_rules(dev),
        "source_per_minute": dev.config.browser_traces.source_per_minute,
    }


def test_one_trace_runs_from_the_browser_to_dynamodb(dev_app, page, tmp_path):
    """Browser spans and backend spans share one trace id; the fetch span is the server span's parent; bad batches,
    another origin and too many batches are refused, and nothing refused reaches the collector."""
    app = dev_app["app"]
    with MotoServer(tmp_path / "moto.log") as moto, OtlpReceiver() as collector, XRayDaemon() as daemon, \
            RollbarApi() as rollbar, XRaySamplingApi(dev_app["rules"]) as proxy, \
            StaticSite(page) as site, StaticSite(page) as foreign_site:  # fmt: skip
        table_ref = templates.environment(app)[contract.DYNAMODB_TABLE_NAME.name]["Ref"]
        environ = task_environment(app, {table_ref: create_service_table(moto.url, f"browser-{table_ref}")})
        assert environ[contract.BROWSER_TRACES_ENABLED.name] == "true"
        environ.update(
            {
                # where the test machine's stand-ins listen
                contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: collector.url,
                contract.XRAY_DAEMON_ADDRESS.name: daemon.address,
                contract.XRAY_SAMPLING_ENDPOINT.name: proxy.url,
                contract.ROLLBAR_ENDPOINT.name: rollbar.endpoint,
                contract.AWS_ENDPOINT_URL_DYNAMODB.name: moto.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                # the page's origin (a port of this machine) in place of the configured frontend origin
                contract.FRONTEND_URL.name: site.origin,
            }
        )
        port = closed_port()
        backend = f"http://127.0.0.1:{port}"
        process = start_gunicorn(environ, port, command=app["Command"])
        message = f"from the browser {uuid.uuid4().hex[:8]}"
        try:
            assert wait_until(lambda: _healthy(backend), timeout=30), "the service did not become healthy"
            query = urllib.parse.urlencode({"backend": backend, "message": message})
            home, foreign = drive_chromium(
                [f"{site.origin}/index.html?{query}", f"{foreign_site.origin}/index.html?{query}&mode=foreign"]
            )
            # the rate limit: one source's batches beyond its share of the minute are refused
            burst = [post_batch(port, site.origin, _valid_batch()) for _ in range(dev_app["source_per_minute"] + 10)]
            assert wait_until(lambda: _server_span(collector, "POST /api/activities") is not None, timeout=15)
        finally:
            stdout, stderr = stop(process)
        assert process.returncode == 0, stderr[-3000:]

    result = home["result"]
    assert "error" not in result, (result, home["console"])
    assert result["home"]["status"] == 200 and result["home"]["activities"] > 0
    assert result["posted"]["status"] == 200
    # oversized and malformed batches: a 4xx the page could read (CORS headers on errors too), nothing sent on
    assert result["oversized"] == {"status": 413}
    assert result["malformed"] == {"status": 400}
    names = {span.name for span in collector.spans}
    assert not {"oversized-marker", "malformed-marker", "foreign-marker"} & names

    # another origin: the browser refuses both the API's answer and the span batch (CORS), no status seen
    assert set(foreign["result"]) == {"home", "traces"}
    assert all("error" in outcome for outcome in foreign["result"].values()), foreign["result"]

    statuses = [status for status, _ in burst]
    assert set(statuses) == {200, 429}
    assert statuses.count(200) <= dev_app["source_per_minute"]
    assert all(headers.get("Retry-After") for status, headers in burst if status == 429)
    refusals = [line for line in stdout.splitlines() if "refused a browser span batch" in line]
    assert 0 < len(refusals) <= 5 * contract.GUNICORN_WORKERS  # logged at a bounded rate, per worker

    # one trace: pageView > documentLoad, and pageView > fetch > server span > DynamoDB
    home_server = _server_span(collector, "GET /api/activities/home")
    post_server = _server_span(collector, "POST /api/activities")
    assert home_server is not None and post_server is not None
    trace_id = home_server.trace_id
    trace = [span for span in collector.spans if span.trace_id == trace_id]
    by_id = {span.span_id: span for span in trace}
    browser = [span for span in trace if span.resource.get("service.name") == FRONTEND_SERVICE]
    browser_names = {span.name for span in browser}
    assert {"pageView", "documentLoad", "documentFetch"} <= browser_names, browser_names
    assert post_server.trace_id == trace_id
    for server, path in ((home_server, "/api/activities/home"), (post_server, "/api/activities")):
        fetch_span = by_id[server.parent_span_id]
        assert fetch_span.resource["service.name"] == FRONTEND_SERVICE
        assert fetch_span.kind == SPAN_KIND_CLIENT
        assert any(str(value).endswith(path) for value in fetch_span.attributes.values()), fetch_span.attributes
    page_view = next(span for span in browser if span.name == "pageView")
    document_load = next(span for span in browser if span.name == "documentLoad")
    assert document_load.parent_span_id == page_view.span_id
    assert by_id[home_server.parent_span_id].parent_span_id == page_view.span_id
    dynamodb = {span.name for span in trace if span.attributes.get("rpc.service") == "DynamoDB"}
    assert {"DynamoDB.Query", "DynamoDB.PutItem"} <= dynamodb, dynamodb
    # the saved Honeycomb query "Browser-to-backend network time" selects these fetch spans, with every column it reads
    (network,) = [
        q for q in load_queries(home_server.resource["service.name"]) if q.name == "Browser-to-backend network time"
    ]
    assert what_the_spans_lack(network.spec, [honeycomb_event(span) for span in browser]) == []
    # the X-Ray SDK's segments carry the browser's trace id too (dev's path)
    assert f"1-{trace_id[:8]}-{trace_id[8:]}" in {segment["trace_id"] for segment in daemon.segments}
    # the ingest requests themselves are never traced
    assert not [span for span in collector.spans if contract.BROWSER_TRACES_PATH in span.name]
    # the CORS preflights the traceparent header makes the browser send: traces of their own (no traceparent on them)
    first = min(span.start_ns for span in trace)
    preflights = [
        f"{span.name} at {(span.start_ns - first) / 1e6:.1f} ms, {(span.end_ns - span.start_ns) / 1e6:.1f} ms"
        for span in collector.spans
        if span.name.startswith("OPTIONS") and span.trace_id != trace_id
    ]
    print(f"\nbrowser-to-backend trace {trace_id}:\n{trace_table(trace)}\npreflights: {preflights}")


def _healthy(backend: str) -> bool:
    try:
        with urllib.request.urlopen(f"{backend}{contract.HEALTH_CHECK_PATH}", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _server_span(collector: OtlpReceiver, name: str) -> ReceivedSpan | None:
    spans = [span for span in collector.spans_named(name) if span.parent_span_id]
    return spans[0] if spans else None


def _valid_batch() -> bytes:
    span = {"traceId": secrets.token_hex(16), "spanId": secrets.token_hex(8), "name": "burst", "kind": 1}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
