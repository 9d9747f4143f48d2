"""The ADOT collector's configuration, rendered from the environment and kept in SSM.

The collector receives OTLP from the app on 4317 (gRPC) and 4318 (HTTP)
only; ADOT's default ECS configuration also binds UDP 2000 for X-Ray
segments, which this configuration never opens. Traces go to Honeycomb
(``otlphttp`` with the ``x-honeycomb-team`` header). Where X-Ray gets them
depends on ``export_to_xray`` (the environment's ``telemetry.xray_path``):

- X-Ray SDK and daemon (the default): the SDK's segments reach X-Ray
  through the daemon, so the collector does not export to X-Ray: each
  backend gets each trace once, and X-Ray shows one node for the service.
- OpenTelemetry collector: the collector exports the spans to X-Ray's OTLP
  endpoint (``otlphttp/xray`` to ``https://xray.<region>.amazonaws.com/v1/traces``,
  signed by the ``sigv4auth/xray`` extension for service ``xray`` in the
  task's region) and serves the sampling rules and targets to the app on
  TCP 2000 (the ``awsproxy`` extension), where the daemon would. The OTLP
  endpoint takes spans only in an account with CloudWatch Transaction
  Search enabled; the ``awsxray`` exporter, which turned spans into segments
  for ``PutTraceSegments``, is not used: its ADOT page is deprecated in
  favour of this endpoint, and an account without Transaction Search keeps
  the default path, whose daemon needs none.

The collector built by ``make sidecars`` (``sidecars/collector``) has
exactly the components used here; ``tests/infra/test_collector_loads.py``
loads every synthesized configuration in it.

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

COLLECTOR_HEALTH_PORT = 13133
# The signature is for X-Ray in the task's region, whatever host the endpoint names.
XRAY_SIGV4_SERVICE = "xray"
XRAY_OTLP_TRACES_ENDPOINT = "https://xray.${env:AWS_REGION}.amazonaws.com/v1/traces"


def collector_config(*, honeycomb_endpoint: str, export_to_xray: bool) -> dict[str, Any]:
    """The collector configuration as a plain mapping: OTLP in, Honeycomb out, and X-Ray too when ``export_to_xray``."""
    to_xray = export_to_xray
    extensions: dict[str, Any] = {"health_check": {"endpoint": f"0.0.0.0:{COLLECTOR_HEALTH_PORT}"}}
    exporters: dict[str, Any] = {
        "otlphttp/honeycomb": {
            "endpoint": honeycomb_endpoint,
            "headers": {"x-honeycomb-team": "${env:" + contract.SECRET_HONEYCOMB_API_KEY + "}"},
            "compression": "gzip",
        }
    }
    if to_xray:
        # The app's sampler polls this as it would the daemon's TCP port; loopback only.
        extensions["awsproxy"] = {
            "endpoint": f"127.0.0.1:{contract.XRAY_DAEMON_PORT}",
            "region": "${env:AWS_REGION}",
        }
        extensions["sigv4auth/xray"] = {"region": "${env:AWS_REGION}", "service": XRAY_SIGV4_SERVICE}
        exporters["otlphttp/xray"] = {
            "traces_endpoint": XRAY_OTLP_TRACES_ENDPOINT,
            "auth": {"authenticator": "sigv4auth/xray"},
            "compression": "gzip",
        }
    return {
        "extensions": extensions,
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"0.0.0.0:{contract.OTLP_GRPC_PORT}"},
                    "http": {"endpoint": f"0.0.0.0:{contract.OTLP_HTTP_PORT}"},
                }
            }
        },
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
            "resourcedetection": {"detectors": ["env", "ecs"], "timeout": "2s", "override": False},
            "batch/traces": {"timeout": "1s", "send_batch_size": 256},
        },
        "exporters": exporters,
        "service": {
            "extensions": list(extensions),
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "resourcedetection", "batch/traces"],
                    "exporters": list(exporters),
                }
            },
        },
    }


def collector_config_parameter_name(parameter_path: str) -> str:
    """Where the collector configuration lives in SSM, under the environment's ``parameter_path``."""
    return f"{parameter_path}/otel-collector-config"


def render_collector_config(*, honeycomb_endpoint: str, export_to_xray: bool) -> str:
    """The collector configuration as YAML text."""
    return yaml.safe_dump(
        collector_config(honeycomb_endpoint=honeycomb_endpoint, export_to_xray=export_to_xray), sort_keys=False
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
        export_to_xray: bool,
        description: str,
    ) -> None:
        """Render the configuration and store it at ``<parameter_path>/otel-collector-config``."""
        super().__init__(scope, construct_id)
        self.yaml = render_collector_config(honeycomb_endpoint=honeycomb_endpoint, export_to_xray=export_to_xray)
        self.parameter = ssm.StringParameter(
            self,
            "Parameter",
            parameter_name=collector_config_parameter_name(parameter_path),
            description=description,
            string_value=self.yaml,
            tier=ssm.ParameterTier.STANDARD,
        )
