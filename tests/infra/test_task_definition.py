"""The task definition: the app, the X-Ray daemon and the ADOT collector, wired by the contract."""

from __future__ import annotations

import re
import subprocess
import sys
from types import SimpleNamespace

import pytest
import yaml

from cruddur import contract
from flask_aws_telemetry_cdk.models.collector_xray import CollectorXRay
from flask_aws_telemetry_cdk.models.fargate import (
    APP_MIN_CPU_UNITS,
    APP_MIN_MEMORY_MIB,
    COLLECTOR_CPU_UNITS,
    COLLECTOR_MEMORY_RESERVATION_MIB,
    XRAY_DAEMON_CPU_UNITS,
    XRAY_DAEMON_MEMORY_RESERVATION_MIB,
)
from testsupport import templates
from testsupport.gunicorn import SERVICE_DIR


def _secret_names(container: dict) -> dict[str, str]:
    """Secret variable -> the parameter path its ARN ends with."""
    names = {}
    for secret in container.get("Secrets", []):
        parts = secret["ValueFrom"]["Fn::Join"][1]
        names[secret["Name"]] = parts[-1].removeprefix(":parameter")
    return names


def test_app_container_runs_gunicorn_as_non_root_on_the_contract_port(any_env):
    """Command, user and port come from Cruddur's contract; the health check is the library's, told the port."""
    app = templates.app_container(any_env)
    assert app["Essential"] is True
    assert app["Command"] == list(contract.APP_COMMAND)
    assert app["User"] == contract.APP_USER and app["User"] != "0"
    assert app["PortMappings"] == [{"ContainerPort": contract.CONTAINER_PORT, "Protocol": "tcp"}]
    assert app["HealthCheck"]["Command"] == ["CMD", "python", "-m", "flask_aws_telemetry.healthcheck"]
    variables = templates.environment(app)
    assert (variables["PORT"], variables["HEALTH_CHECK_PATH"]) == (
        str(contract.CONTAINER_PORT),
        contract.HEALTH_CHECK_PATH,
    )
    assert app["StopTimeout"] == contract.STOP_TIMEOUT_SECONDS


def test_app_starts_even_when_sidecars_are_unhealthy(any_env):
    """The app waits for the sidecars to START, never to be HEALTHY."""
    app = templates.app_container(any_env)
    expected = {contract.COLLECTOR_CONTAINER_NAME: "START"}
    if any_env.config.telemetry.xray_sdk:
        expected[contract.XRAY_DAEMON_CONTAINER_NAME] = "START"
    assert {d["ContainerName"]: d["Condition"] for d in app["DependsOn"]} == expected


def test_xray_daemon_sidecar(any_env):
    """Pinned by digest (ECS's documented form), UDP 2000, non-essential, with its CPU and memory reservations;
    absent on the OpenTelemetry path.
    """
    containers = templates.containers(any_env)
    if not any_env.config.telemetry.xray_sdk:
        assert set(containers) == {contract.APP_CONTAINER_NAME, contract.COLLECTOR_CONTAINER_NAME}
        return
    daemon = containers[contract.XRAY_DAEMON_CONTAINER_NAME]
    assert daemon["Image"] == any_env.config.images.xray_daemon
    assert re.fullmatch(r"public\.ecr\.aws/xray/aws-xray-daemon@sha256:[0-9a-f]{64}", daemon["Image"])
    assert daemon["Essential"] is False
    assert daemon["PortMappings"] == [{"ContainerPort": 2000, "Protocol": "udp"}]
    assert (daemon["Cpu"], daemon["MemoryReservation"]) == (XRAY_DAEMON_CPU_UNITS, XRAY_DAEMON_MEMORY_RESERVATION_MIB)


def test_collector_sidecar(any_env):
    """ADOT pinned by digest (ECS's documented form), non-essential, health-checked, configured from SSM, OTLP ports
    only.
    """
    collector = templates.containers(any_env)[contract.COLLECTOR_CONTAINER_NAME]
    assert collector["Image"] == any_env.config.images.collector
    assert re.fullmatch(
        r"public\.ecr\.aws/aws-observability/aws-otel-collector@sha256:[0-9a-f]{64}", collector["Image"]
    )
    assert collector["Essential"] is False
    assert (collector["Cpu"], collector["MemoryReservation"]) == (COLLECTOR_CPU_UNITS, COLLECTOR_MEMORY_RESERVATION_MIB)
    assert collector["HealthCheck"]["Command"] == ["CMD", "/healthcheck"]
    ports = {(p["ContainerPort"], p["Protocol"]) for p in collector["PortMappings"]}
    assert ports == {(4317, "tcp"), (4318, "tcp")}
    secrets = _secret_names(collector)
    assert secrets["AOT_CONFIG_CONTENT"] == f"{any_env.config.parameter_path}/otel-collector-config"


def test_honeycomb_key_reaches_only_the_collector_and_rollbar_token_only_the_app(any_env):
    """Each secret is referenced by name from the container that needs it, and nowhere else."""
    containers = templates.containers(any_env)
    path = any_env.config.parameter_path
    assert _secret_names(containers[contract.COLLECTOR_CONTAINER_NAME])[contract.SECRET_HONEYCOMB_API_KEY] == (
        f"{path}/HONEYCOMB_API_KEY"
    )
    assert _secret_names(containers[contract.APP_CONTAINER_NAME]) == {
        contract.SECRET_ROLLBAR_ACCESS_TOKEN: f"{path}/ROLLBAR_ACCESS_TOKEN"
    }
    assert contract.SECRET_HONEYCOMB_API_KEY not in _secret_names(containers[contract.APP_CONTAINER_NAME])
    if contract.XRAY_DAEMON_CONTAINER_NAME in containers:
        assert _secret_names(containers[contract.XRAY_DAEMON_CONTAINER_NAME]) == {}
    assert contract.SECRET_ROLLBAR_ACCESS_TOKEN not in _secret_names(containers[contract.COLLECTOR_CONTAINER_NAME])


def test_task_size_fits_the_containers_reservations(any_env):
    """Only the sidecars reserve; what they leave the app is at least its minimum, and most of the task's memory."""
    task = templates.task_definition(any_env)["Properties"]
    assert int(task["Cpu"]) == any_env.config.task.cpu and int(task["Memory"]) == any_env.config.task.memory_mib
    app = templates.app_container(any_env)
    assert "Cpu" not in app and "MemoryReservation" not in app  # the app takes what the sidecars leave
    sidecars = templates.sidecars(any_env).values()
    left_cpu = int(task["Cpu"]) - sum(c["Cpu"] for c in sidecars)
    left_memory = int(task["Memory"]) - sum(c["MemoryReservation"] for c in sidecars)
    assert left_cpu >= APP_MIN_CPU_UNITS and left_memory >= APP_MIN_MEMORY_MIB
    assert left_memory >= int(task["Memory"]) // 2


def test_no_secure_string_is_created_by_cloudformation(any_env):
    """The only SSM parameter in the templates is the collector configuration, a plain String."""
    parameters = any_env.all_resources("AWS::SSM::Parameter")
    assert len(parameters) == 1
    (parameter,) = parameters.values()
    assert parameter["Properties"]["Type"] == "String"
    assert parameter["Properties"]["Name"] == f"{any_env.config.parameter_path}/otel-collector-config"


@pytest.fixture
def collector_yaml(any_env) -> dict:
    """The collector configuration as stored in SSM."""
    return templates.collector_configuration(any_env)


def test_collector_receives_otlp_only_and_never_binds_udp_2000(collector_yaml, any_env):
    """ADOT's default ECS config binds UDP 2000 for X-Ray segments; this one has no receiver but OTLP.

    On the OpenTelemetry path TCP 2000 is the awsproxy extension (sampling
    rules and targets, on loopback); on the SDK path the daemon has port 2000.
    """
    assert set(collector_yaml["receivers"]) == {"otlp"}
    protocols = collector_yaml["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    proxy = collector_yaml["extensions"].pop("awsproxy", None)
    if any_env.config.telemetry.collector_exports_to_xray:
        assert proxy == {"endpoint": f"127.0.0.1:{contract.XRAY_DAEMON_PORT}", "region": "${env:AWS_REGION}"}
        assert "awsproxy" in collector_yaml["service"]["extensions"]
    else:
        assert proxy is None
    assert ":2000" not in yaml.safe_dump(collector_yaml)


def test_each_backend_gets_each_trace_once(collector_yaml, any_env):
    """Honeycomb always; X-Ray through the collector only on the OpenTelemetry path (the daemon carries the SDK's)."""
    honeycomb = collector_yaml["exporters"]["otlphttp/honeycomb"]
    assert honeycomb["endpoint"] == "https://api.honeycomb.io"
    assert honeycomb["headers"] == {"x-honeycomb-team": "${env:HONEYCOMB_API_KEY}"}
    pipeline = collector_yaml["service"]["pipelines"]["traces"]
    if any_env.config.telemetry.collector_exports_to_xray:
        assert pipeline["exporters"] == ["otlphttp/honeycomb", "otlphttp/xray"]
    else:
        assert pipeline["exporters"] == ["otlphttp/honeycomb"]
        assert "otlphttp/xray" not in collector_yaml["exporters"]
    for kind in ("receivers", "processors", "exporters"):
        for component in pipeline[kind]:
            assert component in collector_yaml[kind], f"{kind} {component} is used but not defined"
    for extension in collector_yaml["service"]["extensions"]:
        assert extension in collector_yaml["extensions"], f"extension {extension} is used but not defined"


def test_the_opentelemetry_path_sends_spans_to_xrays_otlp_endpoint_signed_for_xray(collector_yaml, any_env):
    """OTLP/HTTP to https://xray.<region>.amazonaws.com/v1/traces, SigV4 for service xray in the task's region.

    The region and service are set on the authenticator, not taken from the
    endpoint's host name, so the signature stays right wherever the endpoint
    points (a VPC endpoint's name, a loopback stand-in in the tests).
    """
    if any_env.config.telemetry.xray_path.collector_xray is not CollectorXRay.OTLP:
        assert "sigv4auth/xray" not in collector_yaml["extensions"]
        assert "otlphttp/xray" not in collector_yaml["exporters"]
        return
    exporter = collector_yaml["exporters"]["otlphttp/xray"]
    assert exporter["traces_endpoint"] == "https://xray.${env:AWS_REGION}.amazonaws.com/v1/traces"
    assert exporter["auth"] == {"authenticator": "sigv4auth/xray"}
    assert collector_yaml["extensions"]["sigv4auth/xray"] == {"region": "${env:AWS_REGION}", "service": "xray"}
    assert "sigv4auth/xray" in collector_yaml["service"]["extensions"]
    # Each span reaches X-Ray once: on the OTLP path the awsxray exporter (PutTraceSegments) is not also there.
    assert "awsxray" not in collector_yaml["exporters"]


def test_every_container_is_hardened(any_env):
    """Read-only root, tini as PID 1, every capability dropped and none added, in every container."""
    for name, container in templates.containers(any_env).items():
        assert container["ReadonlyRootFilesystem"] is True, name
        linux = container["LinuxParameters"]
        assert linux["InitProcessEnabled"] is True, name
        assert linux["Capabilities"] == {"Drop": ["ALL"]}, name
        assert container.get("Privileged") is not True, name


def test_only_the_app_writes_and_only_its_temporary_directory(any_env):
    """One empty task volume, at the app's APP_TEMP_DIR (gunicorn's worker files, tempfile); sidecars write nothing."""
    volumes = templates.task_definition(any_env)["Properties"]["Volumes"]
    assert volumes == [{"Name": "app-tmp"}]  # no host path: Fargate ephemeral storage
    assert templates.app_container(any_env)["MountPoints"] == [
        {"ContainerPath": contract.APP_TEMP_DIR, "ReadOnly": False, "SourceVolume": "app-tmp"}
    ]
    for name, sidecar in templates.sidecars(any_env).items():
        assert not sidecar.get("MountPoints"), name


def test_sidecar_images_are_pinned_by_digest_in_the_form_ecs_documents(any_env):
    """'repository@sha256:...', the digest that makes it immutable; the release a reader recognises stays in the
    config.
    """
    pinned = {image for image, _ in any_env.config.images.pinned_sidecars.values()}
    for name, sidecar in templates.sidecars(any_env).items():
        assert re.fullmatch(r"public\.ecr\.aws/[\w/.-]+@sha256:[0-9a-f]{64}", sidecar["Image"]), name
        assert sidecar["Image"] in pinned, name


def test_gunicorn_writes_only_the_declared_temporary_directory():
    """gunicorn's worker heartbeat files go to the one writable path the task declares."""
    read = "import runpy; print(runpy.run_path('gunicorn.conf.py')['worker_tmp_dir'])"
    result = subprocess.run([sys.executable, "-c", read], cwd=SERVICE_DIR, capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == contract.APP_TEMP_DIR, result.stderr


def test_a_telemetry_part_runs_exactly_when_the_app_is_told_of_it():
    """Given the X-Ray SDK on and the rest off, the task must get the daemon and nothing else, or it refuses."""
    from flask_aws_telemetry_cdk.components.task_definition import check_telemetry_parts
    from flask_aws_telemetry_cdk.models.app_environment import AppEnvironment, ProcessSettings

    telemetry = AppEnvironment(
        service_name="app",
        environment_name="dev",
        log_level="INFO",
        opentelemetry=False,
        xray_sdk=True,
        watchtower=False,
        rollbar=False,
        sampling_rules_json="[]",
        slow_request_seconds=1.0,
        anomaly_capture_per_second=0.0,
        process=ProcessSettings(port=8000, web_concurrency=2, health_check_path="/health", writable_path="/tmp"),
        logger_prefix="flask_aws_telemetry",
    )
    daemon, collector = object(), SimpleNamespace(xray=CollectorXRay.NONE)
    check_telemetry_parts(telemetry, daemon, None, None, None)
    with pytest.raises(
        ValueError, match=r"^telemetry\.xray_sdk is True but xray_daemon is None: give both or neither$"
    ):
        check_telemetry_parts(telemetry, None, None, None, None)
    with pytest.raises(ValueError, match=r"^telemetry\.opentelemetry is False but collector is given"):
        check_telemetry_parts(telemetry, daemon, collector, None, None)
