"""Telemetry overhead: throughput and latency of the service under gunicorn, per telemetry configuration.

    make bench            # or: .venv/bin/python bench/overhead.py --rounds 3 --seconds 8

Each configuration starts the service as the task does (gunicorn, 2 workers)
with stand-ins on loopback for the collector (OTLP/HTTP), the X-Ray daemon
(UDP), CloudWatch Logs (moto_server) and Rollbar, so exporting is real work.
Load comes from wrk in a separate process. Configurations alternate round
by round so that drift of the machine affects all alike; the table reports
the median of the rounds and each figure as a ratio to telemetry off.
Writes bench/RESULTS.md. This is a benchmark: nothing here is a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from stacks.environments import load_environment  # noqa: E402
from tests.processes import start_gunicorn, stop  # noqa: E402
from tests.standins import CloudWatchLogsApi, OtlpReceiver, RollbarApi, XRayDaemon, closed_port, wait_until  # noqa: E402

ENDPOINTS = {
    "GET /api/activities/home": [],
    "POST /api/activities": ["-s", str(REPO_ROOT / "bench" / "post_activity.lua")],
}
CONFIGURATIONS = ("telemetry off", "prod", "all sampled", "prod, backends down", "prod, collector slow")
SLOW_COLLECTOR_SECONDS = 1.0
LOAD_CPU, SERVICE_CPU = 0, 1


def environ_for(name: str, collector: OtlpReceiver, daemon: XRayDaemon, logs_url: str, rollbar: RollbarApi) -> dict[str, str]:
    """The contract's variables for one configuration."""
    base = {"OTEL_SERVICE_NAME": "cruddur-backend-flask", "DEPLOYMENT_ENVIRONMENT": "bench", "LOG_LEVEL": "INFO"}
    if name == "telemetry off":
        return base
    ratio = load_environment("prod").otel_sampling_ratio
    environ = {
        **base,
        "TELEMETRY_OTEL_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_TRACES_SAMPLER_ARG": "1.0" if name == "all sampled" else f"{ratio:g}",
        "TELEMETRY_XRAY_ENABLED": "true",
        "AWS_XRAY_DAEMON_ADDRESS": daemon.address,
        "TELEMETRY_WATCHTOWER_ENABLED": "true",
        "WATCHTOWER_LOG_GROUP": "/bench/watchtower",
        "AWS_ENDPOINT_URL_LOGS": logs_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TELEMETRY_ROLLBAR_ENABLED": "true",
        "ROLLBAR_ACCESS_TOKEN": "bench-token",
        "ROLLBAR_ENDPOINT": rollbar.endpoint,
    }
    if name == "prod, backends down":
        port = closed_port()
        environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"
        environ["AWS_XRAY_DAEMON_ADDRESS"] = f"127.0.0.1:{port}"
        environ["AWS_ENDPOINT_URL_LOGS"] = f"http://127.0.0.1:{port}"
        environ["ROLLBAR_ENDPOINT"] = f"http://127.0.0.1:{port}/api/1/"
    return environ


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> dict[str, float]:
    """Requests per second and the p50 and p99 latency (ms) from wrk --latency output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    latency = {}
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        latency[percentile] = float(match[1]) * _UNITS[match[2]]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "p50_ms": latency["50"], "p99_ms": latency["99"], "non_2xx": float(errors[1]) if errors else 0.0}


def run_wrk(url: str, extra: list[str], seconds: int, connections: int) -> dict[str, float]:
    """One wrk run against ``url``."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", *extra, url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    return parse_wrk(result.stdout)


def measure(name: str, port: int, stand_ins: tuple, seconds: int, connections: int, log_path: Path) -> dict[str, dict[str, float]]:
    """Start the service in configuration ``name``, warm it up, load each endpoint, stop it."""
    collector, daemon, logs, rollbar = stand_ins
    collector.delay_seconds = SLOW_COLLECTOR_SECONDS if name == "prod, collector slow" else 0.0
    output = open(log_path, "a")  # stdout and stderr, as the awslogs driver would take them
    # The service (master and workers inherit it at fork) runs on SERVICE_CPU; this process,
    # the stand-ins and wrk stay on LOAD_CPU, so the load generator never competes with the service.
    os.sched_setaffinity(0, {SERVICE_CPU})
    try:
        process = start_gunicorn(environ_for(name, collector, daemon, logs.url, rollbar), port, output=output)
    finally:
        os.sched_setaffinity(0, {LOAD_CPU})
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{base}/api/health-check", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        if not wait_until(healthy, timeout=30):
            raise RuntimeError(f"{name}: the service did not start")
        run_wrk(f"{base}/api/activities/home", [], 2, connections)  # warm-up
        results = {}
        for endpoint, extra in ENDPOINTS.items():
            path = endpoint.split(" ", 1)[1]
            results[endpoint] = run_wrk(f"{base}{path}", extra, seconds, connections)
        return results
    finally:
        stop(process)
        output.close()


def machine() -> str:
    """A one-line description of this machine."""
    model = "unknown CPU"
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    """Run every configuration for ``--rounds`` alternating rounds and write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--configuration",
        action="append",
        choices=CONFIGURATIONS,
        help="run only this configuration (repeatable); telemetry off always runs, as the reference",
    )
    args = parser.parse_args(argv)
    chosen = set(args.configuration or CONFIGURATIONS)
    configurations = tuple(c for c in CONFIGURATIONS if c == "telemetry off" or c in chosen)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed; install it with: apt-get install -y wrk", file=sys.stderr)
        return 2
    if len(os.sched_getaffinity(0)) < 2:
        print("error: the benchmark needs two CPUs: one for the service, one for the load", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {LOAD_CPU})

    samples: dict[str, dict[str, list[dict[str, float]]]] = {c: {e: [] for e in ENDPOINTS} for c in configurations}
    started = time.monotonic()
    # The stand-ins accept without decoding: in production the collector and the
    # daemon have CPU of their own, here they would take it from the service.
    with tempfile.TemporaryDirectory() as scratch, OtlpReceiver(decode=False) as collector, XRayDaemon(
        decode=False
    ) as daemon, RollbarApi() as rollbar, CloudWatchLogsApi() as logs:
        for round_number in range(args.rounds):
            for name in configurations:
                port = closed_port()
                print(f"round {round_number + 1}/{args.rounds}: {name}", flush=True)
                log_path = Path(scratch) / f"{name.replace(' ', '-').replace(',', '')}.log"
                stand_ins = (collector, daemon, logs, rollbar)
                for endpoint, result in measure(name, port, stand_ins, args.seconds, args.connections, log_path).items():
                    samples[name][endpoint].append(result)
    elapsed = time.monotonic() - started

    report = render(samples, args, elapsed)
    args.output.write_text(report)
    print(report)
    return 0


def _median(results: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def render(samples: dict[str, dict[str, list[dict[str, float]]]], args: argparse.Namespace, elapsed: float) -> str:
    """RESULTS.md: the command, the machine, and a table per endpoint."""
    lines = [
        "# Telemetry overhead",
        "",
        f"Measured {dt.date.today().isoformat()} with `make bench` "
        f"(`bench/overhead.py --rounds {args.rounds} --seconds {args.seconds} --connections {args.connections}`), "
        f"{elapsed / 60:.1f} minutes.",
        "",
        f"Machine: {machine()}. gunicorn with 2 workers (gthread, 4 threads each) as in the task definition, "
        f"pinned to CPU {SERVICE_CPU}; wrk (1 thread) and the stand-ins pinned to CPU {LOAD_CPU}, so the load never "
        "competes with the service; stand-ins on loopback for the collector (OTLP/HTTP, accepted "
        "without decoding), the daemon (UDP), CloudWatch Logs (CreateLogStream/PutLogEvents) and Rollbar. "
        "Medians of the rounds; ratios are to telemetry off.",
        "",
        "Configurations: *prod* is prod's sampling ratio "
        f"({load_environment('prod').otel_sampling_ratio:g}) with OpenTelemetry, the X-Ray SDK, watchtower and Rollbar on; "
        "*all sampled* is the same at ratio 1; *backends down* points every exporter at a closed port; "
        f"*collector slow* answers OTLP after {SLOW_COLLECTOR_SECONDS:g} s.",
        "",
    ]
    for endpoint in ENDPOINTS:
        off = samples["telemetry off"][endpoint]
        off_rps, off_p50, off_p99 = (_median(off, k) for k in ("rps", "p50_ms", "p99_ms"))
        lines += [
            f"## {endpoint}",
            "",
            "| configuration | req/s | p50 ms | p99 ms | req/s ratio | p50 ratio | p99 ratio | non-2xx |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name in samples:
            results = samples[name][endpoint]
            rps, p50, p99 = (_median(results, k) for k in ("rps", "p50_ms", "p99_ms"))
            errors = sum(r["non_2xx"] for r in results)
            lines.append(
                f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {rps / off_rps:.2f} | {p50 / off_p50:.2f} | {p99 / off_p99:.2f} | {errors:.0f} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
