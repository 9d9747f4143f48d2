"""The task definition and the service agree on every environment variable, port and path.

Names are defined once, the telemetry's in ``flask_aws_telemetry/contract.py``
and Cruddur's in ``service/cruddur/contract.py`` (which re-exports the
telemetry's, and holds Cruddur's values of the library's process variables);
here both sides are checked against them: what the synthesized task
definition sets, and what the code of both packages reads.
"""

from __future__ import annotations

import ast
from pathlib import Path

from cruddur import contract
from cruddur.settings import Settings
from flask_aws_telemetry import TelemetrySettings
from flask_aws_telemetry import contract as telemetry_contract
from testsupport import templates

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIR = REPO_ROOT / "service"
LIBRARY_DIR = REPO_ROOT / "packages" / "flask-aws-telemetry" / "src" / "flask_aws_telemetry"
# The app and the telemetry library it installs: the contract covers the code of both.
SERVICE_PACKAGES = (SERVICE_DIR / "cruddur", LIBRARY_DIR)
# Set by the ECS agent itself, not by our task definition.
PLATFORM_VARIABLES = {var.name for var in contract.PLATFORM_VARIABLES}


def _task_environ(env) -> dict[str, object]:
    container = templates.app_container(env)
    environ = templates.environment(container)
    environ.update({secret["Name"]: "<from SSM>" for secret in container.get("Secrets", [])})
    return environ


def _resolved(environ: dict[str, object]) -> dict[str, str]:
    """CloudFormation tokens replaced by test values, as ECS would resolve them."""
    return {name: value if isinstance(value, str) else f"resolved-{name.lower()}" for name, value in environ.items()}


def test_every_variable_the_task_sets_is_read_by_the_service(any_env):
    """No variable in the task definition is unknown to the contract."""
    assert set(_task_environ(any_env)) <= contract.NAMES


def test_every_variable_without_a_default_is_set_where_its_part_is_on(any_env):
    """Required variables are set: the service name and the table always, the watchtower group and Rollbar token with
    their parts.
    """
    environ = _task_environ(any_env)
    parts = any_env.config.telemetry
    required = {contract.SERVICE_NAME.name, contract.DYNAMODB_TABLE_NAME.name}
    if parts.watchtower:
        required.add(contract.WATCHTOWER_LOG_GROUP.name)
    if parts.rollbar:
        required.add(contract.ROLLBAR_ACCESS_TOKEN.name)
    assert required <= set(environ)
    defaults_missing = {v.name for v in contract.ALL if v.default is None}
    assert defaults_missing <= required | {contract.ROLLBAR_ACCESS_TOKEN.name, contract.WATCHTOWER_LOG_GROUP.name}


def test_the_service_parses_the_task_environment(any_env):
    """The task's environment is valid settings, and they point where the sidecars listen."""
    settings = Settings.from_environ(_resolved(_task_environ(any_env))).telemetry
    config = any_env.config
    assert settings.service_name == config.service_name
    assert settings.environment == config.name
    # the fallback rules are the deployed rules, as X-Ray's API spells them
    deployed = templates.sampling_rules(any_env)
    expected = sorted(deployed, key=lambda r: r["Priority"])
    assert [
        {k: rule.get(k) for k in want} for rule, want in zip(settings.sampling_rules, expected, strict=True)
    ] == expected
    assert settings.sampling_endpoint == contract.XRAY_SAMPLING_PROXY_URL
    assert settings.otel_enabled and settings.rollbar_enabled
    assert settings.xray_enabled == config.telemetry.xray_sdk
    # anomaly capture: the X-Ray slow group's threshold, and the environment's limit per task
    assert settings.slow_request_seconds == config.xray_groups.slow_request_seconds
    assert settings.anomaly_capture_per_second == config.telemetry.anomaly_capture_per_second
    # Every app log line reaches CloudWatch once, through stdout and the awslogs driver (README).
    assert settings.watchtower_enabled is config.telemetry.watchtower is False
    # OTLP/HTTP goes to the collector's http receiver port
    collector = templates.collector_configuration(any_env)
    http_receiver_port = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].rsplit(":", 1)[1]
    assert settings.otlp_traces_url == f"http://localhost:{http_receiver_port}/v1/traces"
    containers = templates.containers(any_env)
    if config.telemetry.xray_sdk:
        # segments go to the daemon container's UDP port; the sampler asks its TCP port
        daemon = containers[contract.XRAY_DAEMON_CONTAINER_NAME]
        assert settings.xray_daemon_address.endswith(f":{daemon['PortMappings'][0]['ContainerPort']}")
        assert settings.sampling_endpoint.endswith(f":{daemon['PortMappings'][0]['ContainerPort']}")
    else:
        # no daemon: the sampler asks the collector's awsproxy, on the same port
        assert contract.XRAY_DAEMON_CONTAINER_NAME not in containers
        assert settings.sampling_endpoint.endswith(collector["extensions"]["awsproxy"]["endpoint"].rsplit(":", 1)[1])


def test_the_service_name_is_what_xray_rules_and_groups_match(any_env):
    """OTEL_SERVICE_NAME equals every sampling rule's ServiceName and every group's service("...")."""
    name = _task_environ(any_env)[contract.SERVICE_NAME.name]
    for rule in any_env.resources("observability", "AWS::XRay::SamplingRule").values():
        assert rule["Properties"]["SamplingRule"]["ServiceName"] == name
    for group in any_env.resources("observability", "AWS::XRay::Group").values():
        assert group["Properties"]["FilterExpression"].startswith(f'service("{name}")')


def _log_writes(env) -> list[dict]:
    return [s for s in templates.policy_statements(env, "TaskRole") if "logs:PutLogEvents" in s["Action"]]


def test_without_watchtower_the_task_writes_no_log_group_itself(any_env):
    """Every environment ships app lines once (awslogs): no watchtower group, variable or permission."""
    assert contract.WATCHTOWER_LOG_GROUP.name not in _task_environ(any_env)
    assert _log_writes(any_env) == []
    assert not [lid for lid in any_env.resources("service", "AWS::Logs::LogGroup") if "Watchtower" in lid]


def test_the_watchtower_group_is_the_one_the_task_may_write(staging_tls):
    """With watchtower on, WATCHTOWER_LOG_GROUP refers to the log group the task role may
    CreateLogStream/PutLogEvents on.
    """
    any_env = staging_tls
    group_ref = _task_environ(any_env)[contract.WATCHTOWER_LOG_GROUP.name]
    (writable,) = [s["Resource"]["Fn::GetAtt"][0] for s in _log_writes(any_env)]
    assert group_ref == {"Ref": writable}


def _environment_reads(tree: ast.AST) -> set[str]:
    """String literals passed to os.environ.get / os.getenv / os.environ[...] in a module."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func in ("os.environ.get", "os.getenv"):
                names.add(node.args[0].value)
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
    return names


def _service_modules() -> list[Path]:
    return [path for package in SERVICE_PACKAGES for path in sorted(package.rglob("*.py"))]


def test_the_app_contract_holds_the_telemetry_contract_unchanged():
    """cruddur.contract holds every variable of the telemetry's contract, the same objects, and adds its own; it
    re-exports each under its name, but the process variables, whose names hold Cruddur's values.
    """
    assert set(telemetry_contract.ALL) <= set(contract.ALL)
    assert telemetry_contract.NAMES <= contract.NAMES
    exported = {name: value for name, value in vars(telemetry_contract).items() if isinstance(value, contract.EnvVar)}
    assert {var.name for var in exported.values()} == telemetry_contract.NAMES
    process = {var.name for var in (*telemetry_contract.PROCESS_VARIABLES, telemetry_contract.TELEMETRY_LOGGER_PREFIX)}
    assert all(getattr(contract, name, var) is var for name, var in exported.items() if name not in process)
    assert contract.DYNAMODB_TABLE_NAME.name in contract.NAMES - telemetry_contract.NAMES
    assert set(contract.PROCESS_ENVIRONMENT) == process


def test_the_process_variables_are_in_the_contract_and_cruddur_s_values_parse():
    """PORT, WEB_CONCURRENCY, HEALTH_CHECK_PATH, APP_WRITABLE_PATH and TELEMETRY_LOGGER_PREFIX are contract variables
    with defaults; Cruddur's values are valid settings, and the ones its health route and metric filter use.
    """
    for var in (*telemetry_contract.PROCESS_VARIABLES, telemetry_contract.TELEMETRY_LOGGER_PREFIX):
        assert var in telemetry_contract.ALL and var.default
    assert not hasattr(telemetry_contract, "GUNICORN_WORKERS") and not hasattr(telemetry_contract, "ANOMALY_LOGGER")
    settings = TelemetrySettings.from_environ({contract.SERVICE_NAME.name: "svc", **contract.PROCESS_ENVIRONMENT})
    assert settings.process.port == contract.CONTAINER_PORT
    assert settings.process.health_check_path == contract.HEALTH_CHECK_PATH
    assert settings.process.web_concurrency == contract.WORKERS
    assert settings.anomaly_logger == contract.ANOMALY_LOGGER == "cruddur.anomalies"


def test_the_platform_variables_are_read_through_the_settings_with_a_default():
    """ECS_CONTAINER_METADATA_URI_V4 is a contract variable with a default, parsed into the settings (no module reads
    it itself).
    """
    assert PLATFORM_VARIABLES == {"ECS_CONTAINER_METADATA_URI_V4"}
    assert all(var.default is not None for var in contract.PLATFORM_VARIABLES)
    base = {contract.SERVICE_NAME.name: "svc", contract.DYNAMODB_TABLE_NAME.name: "table"}
    assert Settings.from_environ(base).telemetry.on_ecs is False
    on_ecs = {**base, "ECS_CONTAINER_METADATA_URI_V4": "http://169.254.170.2/v4/task"}
    assert Settings.from_environ(on_ecs).telemetry.on_ecs is True


def test_the_service_reads_no_variable_outside_the_contract():
    """Every literal environment read in the app and the telemetry is a contract name; the platform's go through the
    settings.
    """
    probe = "os.environ.get('A')\nos.getenv('B')\nos.environ['C']"
    assert _environment_reads(ast.parse(probe)) == {"A", "B", "C"}  # the scanner sees the reads that exist
    reads = set()
    for path in _service_modules():
        tree = ast.parse(path.read_text())
        reads |= _environment_reads(tree)
        # Reads go through the os module, so the scan above sees them all
        # (a bare ``environ`` in the service is a WSGI request's, not the process's).
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "os"]
        assert not imports, f"{path}: import os and read os.environ, so the contract scan sees the read"
    assert reads <= contract.NAMES - PLATFORM_VARIABLES, reads - (contract.NAMES - PLATFORM_VARIABLES)


_ENVIRON_MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}


def _environment_writes(tree: ast.AST) -> list[str]:
    """The statements of a module that change the process environment (os.environ, os.putenv, os.unsetenv)."""
    writes = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.Delete)):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        if any(isinstance(t, ast.Subscript) and ast.unparse(t.value) == "os.environ" for t in targets):
            writes.append(ast.unparse(node))
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if func in ("os.putenv", "os.unsetenv") or func in {f"os.environ.{m}" for m in _ENVIRON_MUTATORS}:
                writes.append(ast.unparse(node))
    return writes


def test_the_service_never_writes_the_process_environment():
    """The environment is read once, into Settings: no module of the service, gunicorn.conf.py included, changes it."""
    assert (
        _environment_writes(ast.parse("os.environ['X'] = '1'\nos.environ.update(X='1')")) != []
    )  # the scanner sees writes
    for path in [*_service_modules(), SERVICE_DIR / "gunicorn.conf.py"]:
        assert _environment_writes(ast.parse(path.read_text())) == [], path


def test_ports_and_paths_agree(any_env):
    """Container port, health path and stop timeout in the template are the contract's."""
    container = templates.app_container(any_env)
    assert container["PortMappings"][0]["ContainerPort"] == contract.CONTAINER_PORT
    assert container["HealthCheck"]["Command"][1:] == list(contract.APP_HEALTHCHECK_COMMAND)
    for group in any_env.resources("service", "AWS::ElasticLoadBalancingV2::TargetGroup").values():
        assert group["Properties"]["HealthCheckPath"] == contract.HEALTH_CHECK_PATH


def test_the_frontend_origins_of_an_environment_reach_cors(tmp_path):
    """frontend_origins in the config become FRONTEND_URL in the task, and the service parses the same origins back."""
    from flask_aws_telemetry_cdk.assembly import synthesize
    from infra.environments import load_environment

    origins = ("https://cruddur.example.com", "http://localhost:3000")
    config = load_environment("dev").with_changes(edge={"frontend_origins": origins})
    environ = _resolved(_task_environ(synthesize(config, tmp_path)))
    assert environ[contract.FRONTEND_URL.name] == ",".join(origins)
    assert Settings.from_environ(environ).telemetry.frontend_origins == origins
