"""The ADOT collector's configuration, rendered from the environment and kept in SSM.

The collector receives OTLP from the app on 4317 (gRPC) and 4318 (HTTP).
Traces go to Honeycomb (``otlphttp`` with the ``x-honeycomb-team`` header)
in the ``traces`` pipeline on every path. What the collector does for X-Ray
is ``xray`` (a ``CollectorXRay``: the environment's
``telemetry.xray_path.collector_xray``):

- ``NONE`` (X-Ray SDK and daemon, the default): the SDK's segments reach
  X-Ray through the daemon, so the collector does not export to X-Ray: each
  backend gets each trace once, and X-Ray shows one node for the service.
- ``SDK_SEGMENTS`` (X-Ray SDK, the collector as the daemon): the ``awsxray``
  receiver reads the SDK's segments on UDP 2000 and answers its sampling
  calls on TCP 2000 (``proxy_server``, which signs them for ``xray`` in the
  task's region and forwards them to X-Ray); the ``awsxray`` exporter sends
  the segments with ``PutTraceSegments``, in a ``traces/xray`` pipeline of
  their own. Those segments do not go to Honeycomb: the app's OpenTelemetry
  spans already carry the same requests there, and the SDK's segments would
  arrive a second time as other spans of other traces' ids (X-Ray's).
- ``OTLP`` (OpenTelemetry, X-Ray's OTLP endpoint): the ``traces`` pipeline
  also exports to ``otlphttp/xray`` (``https://xray.<region>.amazonaws.com/v1/traces``,
  signed by ``sigv4auth/xray``); the endpoint takes spans only in an account
  with CloudWatch Transaction Search. ``awsproxy`` serves the sampling rules
  and targets to the app on TCP 2000, where the daemon would.
- ``OTEL_SEGMENTS`` (OpenTelemetry, ``PutTraceSegments``): the app's spans
  go to the ``awsxray`` exporter, which turns them into segments (no
  Transaction Search needed); the span attributes in ``indexed_attributes``
  become X-Ray annotations (searchable in filter expressions), the others
  metadata. ``awsproxy`` serves sampling as on ``OTLP``.

The ``awsxray`` exporter always has a pipeline of its own, after the
``batch`` processor: it changes the spans it is given (it removes
``aws.xray.inprogress`` from their attributes), but does not declare that it
does. The collector hands one batch to several exporters of a pipeline as
shared, read-only data, and an exporter that changes shared data panics
("invalid access to shared data"), as the debug exporter beside it showed.
Alone in its pipeline it is the batch's only consumer and gets data it may
change; ``shares_no_data_with_the_xray_exporter`` checks a configuration for that.

Every listener of the X-Ray paths is on loopback (127.0.0.1): the app, which
sends to ``127.0.0.1:2000`` (``AWS_XRAY_DAEMON_ADDRESS``), shares the task's
network namespace (awsvpc), and nothing outside the task may send segments
or ask for rules in the task role's name.

The collector built by ``make sidecars`` (``sidecars/collector``) has
exactly the components used here; ``tests/sidecars/test_collector_config_loads.py``
validates and starts every configuration, on every path, in it.

The Honeycomb key is an environment reference (``${env:HONEYCOMB_API_KEY}``),
filled in by ECS from the SecureString parameter; the rendered YAML holds no
secret.
"""

from __future__ import annotations

from typing import Any

import yaml
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay

COLLECTOR_HEALTH_PORT = 13133
# The signature is for X-Ray in the task's region, whatever host the endpoint names.
XRAY_SIGV4_SERVICE = "xray"
XRAY_OTLP_TRACES_ENDPOINT = "https://xray.${env:AWS_REGION}.amazonaws.com/v1/traces"


# The X-Ray segments' own pipeline, where the awsxray exporter is the batch's only consumer.
XRAY_PIPELINE = "traces/xray"
XRAY_EXPORTER = "awsxray"
XRAY_RECEIVER = "awsxray"


# The awsxray exporter keeps dots in annotation keys (its exporter.xray.allowDot gate, on by default since
# v0.98.0): "anomaly.captured" would be the key, where the X-Ray SDK path writes "anomaly_captured" and X-Ray's
# segment document schema allows letters, digits and underscores. Turned off, the exporter writes underscores,
# so the groups' and a user's filter expressions (annotation.anomaly_captured) read the same on every path.
XRAY_EXPORTER_FEATURE_GATES = "-exporter.xray.allowDot"


def collector_command(xray: CollectorXRay) -> list[str] | None:
    """The collector container's command (after the image's entrypoint), or None for the image's own.

    Where the ``awsxray`` exporter runs, its annotation keys are made X-Ray's
    (``--feature-gates``); the configuration still comes from ``AOT_CONFIG_CONTENT``.
    """
    return [f"--feature-gates={XRAY_EXPORTER_FEATURE_GATES}"] if xray.puts_trace_segments else None


def _xray_listener() -> str:
    return f"127.0.0.1:{contract.XRAY_DAEMON_PORT}"


def collector_config(
    *, honeycomb_endpoint: str, xray: CollectorXRay, indexed_attributes: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The collector configuration as a plain mapping: OTLP in, Honeycomb out, and X-Ray's part as ``xray`` says.

    ``indexed_attributes``: the span attributes the ``awsxray`` exporter makes
    annotations of; only ``CollectorXRay.OTEL_SEGMENTS`` exports spans as segments.
    """
    if indexed_attributes and xray is not CollectorXRay.OTEL_SEGMENTS:
        raise ValueError(
            f"indexed_attributes {list(indexed_attributes)} apply only to the collector's "
            f"{CollectorXRay.OTEL_SEGMENTS.value!r} X-Ray part, not {xray.value!r}: pass () there"
        )
    extensions: dict[str, Any] = {"health_check": {"endpoint": f"0.0.0.0:{COLLECTOR_HEALTH_PORT}"}}
    receivers: dict[str, Any] = {
        "otlp": {
            "protocols": {
                "grpc": {"endpoint": f"0.0.0.0:{contract.OTLP_GRPC_PORT}"},
                "http": {"endpoint": f"0.0.0.0:{contract.OTLP_HTTP_PORT}"},
            }
        }
    }
    exporters: dict[str, Any] = {
        "otlphttp/honeycomb": {
            "endpoint": honeycomb_endpoint,
            "headers": {"x-honeycomb-team": "${env:" + contract.SECRET_HONEYCOMB_API_KEY + "}"},
            "compression": "gzip",
        }
    }
    honeycomb_processors = ["memory_limiter", "resourcedetection", "batch/traces"]
    pipelines: dict[str, Any] = {
        "traces": {"receivers": ["otlp"], "processors": honeycomb_processors, "exporters": ["otlphttp/honeycomb"]}
    }
    if xray in (CollectorXRay.OTLP, CollectorXRay.OTEL_SEGMENTS):
        # The app's sampler polls this as it would the daemon's TCP port; loopback only.
        extensions["awsproxy"] = {"endpoint": _xray_listener(), "region": "${env:AWS_REGION}"}
    if xray is CollectorXRay.OTLP:
        extensions["sigv4auth/xray"] = {"region": "${env:AWS_REGION}", "service": XRAY_SIGV4_SERVICE}
        exporters["otlphttp/xray"] = {
            "traces_endpoint": XRAY_OTLP_TRACES_ENDPOINT,
            "auth": {"authenticator": "sigv4auth/xray"},
            "compression": "gzip",
        }
        pipelines["traces"]["exporters"].append("otlphttp/xray")
    if xray.puts_trace_segments:
        # Its counters (segments sent, refused, connection errors) go to PutTelemetryRecords once a minute, as the
        # daemon's do; without instance metadata, which Fargate does not serve.
        exporters[XRAY_EXPORTER] = {"region": "${env:AWS_REGION}", "telemetry": {"enabled": True}}
    if xray is CollectorXRay.OTEL_SEGMENTS:
        if indexed_attributes:
            exporters[XRAY_EXPORTER]["indexed_attributes"] = list(indexed_attributes)
        # The same spans as Honeycomb's, through processors of this pipeline's own (each pipeline has its instances).
        pipelines[XRAY_PIPELINE] = {
            "receivers": ["otlp"],
            "processors": list(honeycomb_processors),
            "exporters": [XRAY_EXPORTER],
        }
    if xray is CollectorXRay.SDK_SEGMENTS:
        # The X-Ray daemon's two ports: the SDK's segments (UDP) and its sampling calls, signed for X-Ray (TCP).
        receivers[XRAY_RECEIVER] = {
            "endpoint": _xray_listener(),
            "transport": "udp",
            "proxy_server": {
                "endpoint": _xray_listener(),
                "region": "${env:AWS_REGION}",
                "service_name": XRAY_SIGV4_SERVICE,
            },
        }
        # The SDK's segments as the daemon sends them: no resource detection (the SDK's plugins set the origin).
        pipelines[XRAY_PIPELINE] = {
            "receivers": [XRAY_RECEIVER],
            "processors": ["memory_limiter", "batch/traces"],
            "exporters": [XRAY_EXPORTER],
        }
    return {
        "extensions": extensions,
        "receivers": receivers,
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
            "resourcedetection": {"detectors": ["env", "ecs"], "timeout": "2s", "override": False},
            "batch/traces": {"timeout": "1s", "send_batch_size": 256},
        },
        "exporters": exporters,
        "service": {"extensions": list(extensions), "pipelines": pipelines},
    }


def shares_no_data_with_the_xray_exporter(config: dict[str, Any]) -> list[str]:
    """Each pipeline of ``config`` where the ``awsxray`` exporter could be handed shared data; [] when none.

    It must be its pipeline's only exporter, after a ``batch`` processor
    (which hands on batches of its own making, never the receiver's data).
    """
    problems = []
    for name, pipeline in config["service"]["pipelines"].items():
        exporters = pipeline["exporters"]
        if not any(exporter.split("/")[0] == XRAY_EXPORTER for exporter in exporters):
            continue
        if len(exporters) != 1:
            problems.append(f"pipeline {name}: the awsxray exporter beside {exporters[:-1] or exporters[1:]}")
        if not pipeline["processors"] or pipeline["processors"][-1].split("/")[0] != "batch":
            problems.append(f"pipeline {name}: the awsxray exporter not after a batch processor")
    return problems


def collector_config_parameter_name(parameter_path: str) -> str:
    """Where the collector configuration lives in SSM, under the environment's ``parameter_path``."""
    return f"{parameter_path}/otel-collector-config"


def render_collector_config(
    *, honeycomb_endpoint: str, xray: CollectorXRay, indexed_attributes: tuple[str, ...] = ()
) -> str:
    """The collector configuration as YAML text."""
    return yaml.safe_dump(
        collector_config(honeycomb_endpoint=honeycomb_endpoint, xray=xray, indexed_attributes=indexed_attributes),
        sort_keys=False,
    )


class CollectorConfiguration(Construct):
    """A String parameter holding the collector's YAML, read by ECS as AOT_CONFIG_CONTENT."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        parameter_path: str,
        honeycomb_endpoint: str,
        xray: CollectorXRay,
        indexed_attributes: tuple[str, ...] = (),
        description: str,
    ) -> None:
        """Render the configuration and store it at ``<parameter_path>/otel-collector-config``."""
        super().__init__(scope, construct_id)
        self.yaml = render_collector_config(
            honeycomb_endpoint=honeycomb_endpoint, xray=xray, indexed_attributes=indexed_attributes
        )
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=collector_config_parameter_name(parameter_path),
            description=description,
            string_value=self.yaml,
            tier=ssm.ParameterTier.STANDARD,
        )
