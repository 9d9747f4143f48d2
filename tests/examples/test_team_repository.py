"""A team's own repository, outside this tree: the two packages from their wheels, its CDK app, its task on loopback.

Each folder of ``examples/`` is such a repository. For each, once per test run (``team_repository``):

1. both distributions are built as wheels (``python -m build --wheel``) from copies of ``packages/``;
2. the example is copied into a new git repository in a temporary folder (nothing else of this project goes
   with it) and committed;
3. a fresh virtualenv holds our two packages from the wheels alone (no index); the repository's
   ``requirements.txt`` is installed into it as a team's ``pip install -r requirements.txt`` does, everything the
   packages depend on coming from the package index (one virtualenv serves every example: the second install
   finds all but its own few requirements in place);
4. ``cdk synth`` runs there with the pinned CDK CLI: the package's cdk-nag checks run in it and fail it on any
   unacknowledged finding; cfn-lint then reads every template.

For the notes service (``examples/team-notes``), its dev stage's task then runs on loopback as ECS runs it
(``task_run``): the app container's command and environment under gunicorn in the repository's ``service/``
folder (the image's working directory) with the virtualenv's Python, the real collector with the synthesized
configuration, the X-Ray daemon (or, where it cannot be built here, its UDP stand-in), moto's DynamoDB holding a
table made from the template's key schema. It answers a note written and read back with one trace id in the OTLP
spans, the X-Ray segments and its log lines; its health probes leave no span and no segment, and the sampler's
own statistics count every one of them under the never-sample rule.

Under pytest-xdist the workers share each result (``_once``): the first to ask builds it under a file lock. What
the tests read is kept as JSON; each repository is removed when its run ends, the virtualenv when the last is.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint_all

from flask_aws_telemetry import contract
from flask_aws_telemetry_cdk.assembly import SynthesizedEnvironment
from testsupport import sidecars, templates
from testsupport.ecs_task import ContainerProcess, collector_config_on_loopback, program, xray_daemon_command
from testsupport.gunicorn import task_environment
from testsupport.standins.aws import MotoServer
from testsupport.standins.otlp import OtlpReceiver
from testsupport.standins.xray_api import XRayApi
from testsupport.standins.xray_daemon import XRayDaemon
from testsupport.standins.xray_sampling_api import XRaySamplingApi
from testsupport.waiting import closed_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO_ROOT / "examples"
EXAMPLES = sorted(path.name for path in EXAMPLES_DIR.iterdir() if (path / "cdk.json").is_file())
PACKAGES = {
    "flask-aws-telemetry": REPO_ROOT / "packages" / "flask-aws-telemetry",
    "flask-aws-telemetry-cdk": REPO_ROOT / "packages" / "flask-aws-telemetry-cdk",
}
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
# What running an example leaves in its folder, and each example's .gitignore keeps out of git.
LEFT_BY_A_RUN = {"__pycache__", ".venv", "cdk.out"}
CDK_APP_MAX_LINES = 25
STACK_KEYS = ("network", "observability", "service")
NOTES = "team-notes"
NOTES_STAGE = "dev"

REGION = "us-east-1"  # what the task's AWS::Region resolves to (testsupport.gunicorn.task_environment)
TASK_ROLE = {
    "AWS_ACCESS_KEY_ID": "ASIATEAMREPOTEST0001",
    "AWS_SECRET_ACCESS_KEY": "task-role-secret-for-the-team-repository-test",
    "AWS_SESSION_TOKEN": "task-role-session-token-for-the-team-repository-test",
}
HONEYCOMB_HOST = r"api\.honeycomb\.io"
XRAY_HOST = r"xray\.(\$\{env:AWS_REGION\}|" + re.escape(REGION) + r")\.amazonaws\.com"
COLLECTOR_CONFIG_VARIABLE = "AOT_CONFIG_CONTENT"  # where ADOT reads its whole configuration
# The rule every account has, which X-Ray serves after the account's own (reservoir 1 a second, then 5 %).
XRAY_DEFAULT_RULE = {
    "RuleName": "Default", "ResourceARN": "*", "Priority": 10000, "FixedRate": 0.05, "ReservoirSize": 1,
    "ServiceName": "*", "ServiceType": "*", "Host": "*", "HTTPMethod": "*", "URLPath": "*", "Version": 1,
}  # fmt: skip
HEALTH_PROBES = 20
UNTRACED_REQUESTS = 3  # sent without a trace header, as the load balancer passes a client's: the rules decide
TRACED_NOTE = "n-7"
# Bounds of the steps (seconds): a cold pip cache downloads aws-cdk-lib and its jsii runtime.
BUILD_SECONDS = 180
INSTALL_SECONDS = 600
SYNTH_SECONDS = 300
SEGMENTS_WITHIN_SECONDS = 15
STATISTICS_WITHIN_SECONDS = 40  # the sampler reports every 10 s; its first report may wait for a request


@dataclasses.dataclass
class Step:
    """One command the test ran: its arguments, exit status, output and duration."""

    command: list[str]
    returncode: int
    output: str
    seconds: float


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float) -> Step:
    """Run ``command`` to its end (bounded by ``timeout``), stdout and stderr together."""
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return Step(command, result.returncode, result.stdout + result.stderr, round(time.monotonic() - started, 1))


def checked(step: Step) -> Step:
    """``step``, or the test failed with its command and the end of its output."""
    assert step.returncode == 0, f"{' '.join(step.command)} exited {step.returncode}:\n{step.output[-4000:]}"
    return step


def _shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder every xdist worker of this run sees (as tests/conftest.py shares syntheses)."""
    if worker_id == "master":
        return tmp_path_factory.mktemp("team-repository")
    shared = tmp_path_factory.getbasetemp().parent / "team-repository-shared"
    shared.mkdir(exist_ok=True)
    return shared


def _once(shared: Path, name: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``build()``'s JSON result, computed by the first worker that asks and read back by the others."""
    summary = shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if summary.exists():
            return dict(json.loads(summary.read_text()))
        result = build()
        summary.write_text(json.dumps(result))
        return result


def tool_environment(venv: Path) -> dict[str, str]:
    """What a developer's shell has in the team's repository: its virtualenv, then the pinned CDK CLI, first."""
    return {
        "PATH": os.pathsep.join([str(venv / "bin"), str(CDK_CLI.parent), os.environ["PATH"]]),
        "HOME": os.environ.get("HOME", "/tmp"),
        "VIRTUAL_ENV": str(venv),
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def build_wheels(outdir: Path) -> dict[str, Any]:
    """Both wheels, each built from a copy of its package (the build leaves nothing in this tree)."""
    sources = outdir.parent / "sources"
    wheels, seconds = {}, 0.0
    for name, package in PACKAGES.items():
        source = sources / package.name
        shutil.copytree(package, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        step = checked(
            run([sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(source)], cwd=source,
                timeout=BUILD_SECONDS)
        )  # fmt: skip
        seconds += step.seconds
        (wheel,) = outdir.glob(f"{name.replace('-', '_')}-*.whl")
        wheels[name] = str(wheel)
    shutil.rmtree(sources)
    return {"folder": str(outdir), "wheels": wheels, "seconds": seconds}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """This module's folder, shared by the xdist workers."""
    return _shared_dir(tmp_path_factory, worker_id)


@pytest.fixture(scope="module")
def wheels(shared: Path) -> dict[str, Any]:
    """The two wheels (name -> path) and how long building them took."""
    return _once(shared, "wheels", lambda: build_wheels(shared / "wheels"))


def make_virtualenv(venv: Path, wheels: dict[str, Any]) -> dict[str, Any]:
    """A fresh virtualenv holding our two packages from their wheels alone (never from an index, where a release of
    the same name would be someone else's); each repository's requirements are installed into it next.
    """
    steps = {"venv": checked(run([sys.executable, "-m", "venv", str(venv)], cwd=venv.parent, timeout=120))}
    steps["install wheels"] = checked(
        run([*pip_install(venv), "--no-index", "--no-deps", "--find-links", wheels["folder"],
             *(f"{name}=={version}" for name, version in package_versions().items())],
            cwd=venv.parent, env=tool_environment(venv), timeout=INSTALL_SECONDS)
    )  # fmt: skip
    return {"venv": str(venv), "steps": {name: dataclasses.asdict(step) for name, step in steps.items()}}


def pip_install(venv: Path) -> list[str]:
    """``pip install`` of ``venv``, quiet, compiling nothing ahead (Python compiles what it imports)."""
    return [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile"]


@pytest.fixture(scope="module")
def virtualenv(shared: Path, wheels: dict[str, Any]) -> dict[str, Any]:
    """The team's virtualenv, shared by the examples' repositories; removed when the last of them is done."""
    return _once(shared, "virtualenv", lambda: make_virtualenv(shared / "venv", wheels))


def make_team_repository(example: str, venv: Path, wheels: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """The example as a team's git repository outside this tree: installed, synthesized and, for the notes service,
    its dev task run. Everything the tests read is returned; the repository is then removed.
    """
    repo = Path(tempfile.mkdtemp(prefix=f"{example}-")) / example
    try:
        return _make_team_repository(example, repo, venv, wheels, workdir)
    finally:
        shutil.rmtree(repo.parent, ignore_errors=True)


def _make_team_repository(
    example: str, repo: Path, venv: Path, wheels: dict[str, Any], workdir: Path
) -> dict[str, Any]:
    shutil.copytree(EXAMPLES_DIR / example, repo, ignore=shutil.ignore_patterns(*LEFT_BY_A_RUN))
    git = ["git", "-c", "user.name=A Team", "-c", "user.email=team@example.com", "-c", "init.defaultBranch=main"]
    checked(run([*git, "init", "-q"], cwd=repo, timeout=30))
    checked(run([*git, "add", "-A"], cwd=repo, timeout=30))
    checked(run([*git, "commit", "-q", "-m", f"{example}: the app, its image and its stages"], cwd=repo, timeout=30))
    files = checked(run(["git", "ls-files"], cwd=repo, timeout=30)).output.split()

    env = tool_environment(venv)
    # The repository's requirements, which the wheels satisfy for our packages; their dependencies from the index.
    # One pip at a time in the shared virtualenv.
    with open(venv.parent / "pip.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        steps = {
            "install requirements": checked(
                run(
                    [*pip_install(venv), "--find-links", wheels["folder"], "-r", "requirements.txt"],
                    cwd=repo,
                    env=env,
                    timeout=INSTALL_SECONDS,
                )
            )  # fmt: skip
        }
    where = checked(
        run([str(venv / "bin" / "python"), "-c",
             "import json, flask_aws_telemetry as a, flask_aws_telemetry_cdk as b, importlib.util as u;"
             " print(json.dumps({'telemetry': a.__file__, 'constructs': b.__file__,"
             " 'cruddur': bool(u.find_spec('cruddur'))}))"], cwd=repo, env=env, timeout=120)
    )  # fmt: skip
    steps["synth"] = run([str(CDK_CLI), "synth", "--quiet", "--no-notices"], cwd=repo, env=env, timeout=SYNTH_SECONDS)
    result: dict[str, Any] = {
        "example": example,
        "repo": str(repo),
        "venv": str(venv),
        "files": files,
        "imported_from": json.loads(where.output.strip().splitlines()[-1]),
        "steps": {name: dataclasses.asdict(step) for name, step in steps.items()},
        "stacks": {},
        "image_assets": [],
        "task": None,
    }
    if steps["synth"].returncode != 0:
        return result
    result["stacks"] = cloud_assembly(repo / "cdk.out")
    result["image_assets"] = [
        sorted(path.relative_to(asset).as_posix() for path in asset.rglob("*") if path.is_file())
        for asset in sorted((repo / "cdk.out").glob("asset.*"))
        if (asset / "Dockerfile").is_file()
    ]
    if example == NOTES:
        try:
            result["task"] = run_notes_task(repo, venv, result["stacks"], workdir)
        except (Exception, pytest.fail.Exception):  # noqa: BLE001  # the task's tests fail with it, the synthesis's run
            result["task_failure"] = traceback.format_exc()
    return result


def package_versions() -> dict[str, str]:
    """Each distribution's version, from its pyproject.toml."""
    return {
        name: tomllib.loads((package / "pyproject.toml").read_text())["project"]["version"]
        for name, package in PACKAGES.items()
    }


@pytest.fixture(scope="module", params=EXAMPLES)
def team_repository(
    request: pytest.FixtureRequest, shared: Path, wheels: dict[str, Any], virtualenv: dict[str, Any]
) -> dict[str, Any]:
    """One example made into a team's repository, installed, synthesized and run (see the module's docstring)."""
    return _example_run(request.param, shared, wheels, virtualenv)


def _example_run(example: str, shared: Path, wheels: dict[str, Any], virtualenv: dict[str, Any]) -> dict[str, Any]:
    workdir = shared / f"{example}-logs"
    workdir.mkdir(exist_ok=True)
    venv = Path(virtualenv["venv"])
    result = _once(shared, example, lambda: make_team_repository(example, venv, wheels, workdir))
    if all((shared / f"{name}.json").exists() for name in EXAMPLES):  # every example is done with the virtualenv
        shutil.rmtree(venv, ignore_errors=True)
    return result


def cloud_assembly(outdir: Path) -> dict[str, dict[str, Any]]:
    """The templates ``cdk synth`` wrote into ``outdir`` (cdk.out), by stack name."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    stacks = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] == "aws:cloudformation:stack":
            template = outdir / artifact["properties"]["templateFile"]
            stacks[template.name.removesuffix(".template.json")] = json.loads(template.read_text())
    return stacks


def stage_environment(stacks: dict[str, dict[str, Any]], stage: str) -> SynthesizedEnvironment:
    """One stage's three stacks, read as this repository's own tests read a synthesized environment."""
    names = {key: next(name for name in stacks if name.endswith(f"-{stage}-{key}")) for key in STACK_KEYS}
    return SynthesizedEnvironment(
        config=None,  # type: ignore[arg-type]  # the team's config lives in its CDK app; only templates are read
        outdir=Path("cdk.out"),
        stack_names=names,
        templates={key: stacks[name] for key, name in names.items()},
    )


# ---- what the team writes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_cdk_app_is_short(example):
    """The CDK app cdk.json names is at most 25 lines: configuration, not a copy of the platform."""
    command = json.loads((EXAMPLES_DIR / example / "cdk.json").read_text())["app"]
    (script,) = [word for word in command.split() if word.endswith(".py")]
    lines = (EXAMPLES_DIR / example / script).read_text().splitlines()
    assert len(lines) <= CDK_APP_MAX_LINES, f"{example}/{script}: {len(lines)} lines"


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_example_gitignore_keeps_out_what_a_run_leaves(example):
    """Each example ignores its virtualenv, its cloud assembly and Python's caches, as a team's repository does."""
    ignored = {line.strip().strip("/") for line in (EXAMPLES_DIR / example / ".gitignore").read_text().splitlines()}
    assert LEFT_BY_A_RUN <= ignored


# ---- the repository, its install and its synthesis ------------------------------------------------------------


def test_the_repository_lies_outside_this_tree_and_holds_only_what_the_team_wrote(team_repository):
    """The repository is a git repository of its own, outside this tree, with the example's files and no others."""
    repo = Path(team_repository["repo"])
    assert not repo.is_relative_to(REPO_ROOT)
    expected = sorted(
        path.relative_to(EXAMPLES_DIR / team_repository["example"]).as_posix()
        for path in (EXAMPLES_DIR / team_repository["example"]).rglob("*")
        if path.is_file() and not LEFT_BY_A_RUN.intersection(path.parts)
    )
    assert sorted(team_repository["files"]) == expected


def test_the_packages_come_from_the_wheels_into_the_team_virtualenv(team_repository):
    """Both packages import from the team's virtualenv (not from this tree); Cruddur is not installed."""
    venv = Path(team_repository["venv"])
    imported = team_repository["imported_from"]
    for name in ("telemetry", "constructs"):
        assert Path(imported[name]).is_relative_to(venv), imported
        assert not Path(imported[name]).is_relative_to(REPO_ROOT), imported
    assert imported["cruddur"] is False


def test_the_requirements_pin_the_released_packages(team_repository):
    """The repository names our packages by name and version, never by path or URL."""
    example = EXAMPLES_DIR / team_repository["example"]
    lines = [
        line.split("#", 1)[0].strip()
        for name in team_repository["files"]
        if name.endswith("requirements.txt")
        for line in (example / name).read_text().splitlines()
    ]
    named = {line for line in lines if line.startswith("flask-aws-telemetry")}
    assert named == {f"{name}=={version}" for name, version in package_versions().items()}
    assert not [line for line in lines if "/" in line and not line.startswith("-r ")]


def test_cdk_synth_passes_with_the_package_compliance_checks(team_repository):
    """``cdk synth`` exits 0 with cdk-nag's AwsSolutions checks applied: every acknowledged finding names a reason."""
    synth = team_repository["steps"]["synth"]
    assert synth["returncode"] == 0, synth["output"][-4000:]
    stacks = team_repository["stacks"]
    acknowledged = [
        rule
        for template in stacks.values()
        for resource in template["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
        if rule["id"].startswith("AwsSolutions-")
    ]
    assert acknowledged, "no cdk-nag metadata in the templates: the compliance checks did not run"
    assert all(len(rule["reason"]) > 20 for rule in acknowledged), acknowledged


def test_every_stage_names_its_own_stacks(team_repository):
    """Each stage of the team's CDK app has its network, observability and service stacks, named for the app."""
    stacks = team_repository["stacks"]
    stages = {name.rsplit("-", 2)[-2] for name in stacks if name.endswith(STACK_KEYS)}
    assert len(stages) >= 2, sorted(stacks)
    for stage in stages:
        assert {key for key in STACK_KEYS if any(n.endswith(f"-{stage}-{key}") for n in stacks)} == set(STACK_KEYS)
    assert not [name for name in stacks if name.startswith("cruddur")]


def test_the_templates_have_no_cfn_lint_errors(team_repository):
    """cfn-lint finds no error (E-rule) in any template, as tests/infra/test_cfn_lint.py holds Cruddur's."""
    for name, template in team_repository["stacks"].items():
        matches = lint_all(json.dumps(template))
        errors = [f"{m.rule.id} {m.message} ({m.path_string})" for m in matches if m.rule.id.startswith("E")]
        assert errors == [], f"{name}: {errors}"


def test_the_image_asset_is_the_service_folder_as_the_team_wrote_it(team_repository):
    """The app's image asset holds exactly the files of service/ (its Dockerfile's folder): nothing of this project."""
    service = EXAMPLES_DIR / team_repository["example"] / "service"
    written = [path for path in service.rglob("*") if path.is_file() and not LEFT_BY_A_RUN.intersection(path.parts)]
    assert team_repository["image_assets"] == [sorted(path.relative_to(service).as_posix() for path in written)]


def test_the_image_runs_the_command_the_task_runs_as_the_task_user(team_repository):
    """The Dockerfile's CMD is the synthesized app container's command, and its USER the task's user."""
    dockerfile = (EXAMPLES_DIR / team_repository["example"] / "service" / "Dockerfile").read_text()
    (cmd,) = re.findall(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    (user,) = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    app = templates.app_container(stage_environment(team_repository["stacks"], "dev"))
    assert json.loads(cmd) == app["Command"]
    assert user == app["User"]


# ---- the notes service's task, run on loopback ----------------------------------------------------------------


@dataclasses.dataclass
class TaskRun:
    """What one run of the dev task left: what each backend received, the app's log lines and the exit statuses."""

    table: dict[str, Any]
    health_path: str = ""
    trace_id: str = ""
    note: dict[str, Any] = dataclasses.field(default_factory=dict)
    missing_note_status: int = 0
    hello: dict[str, Any] = dataclasses.field(default_factory=dict)
    health_statuses: list[int] = dataclasses.field(default_factory=list)
    health_check_command: dict[str, Any] = dataclasses.field(default_factory=dict)
    otlp_spans: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    segments: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    app_log: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    exit_status: dict[str, int | None] = dataclasses.field(default_factory=dict)
    rule_statistics: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)  # rule -> counts reported
    xray_daemon: str = ""  # "real", or why the UDP stand-in took its place
    seconds: float = 0.0


def _request(url: str, *, method: str = "GET", body: Any = None, trace_id: str | None = None) -> tuple[int, Any]:
    """``method url`` with a JSON body and a sampled W3C trace context when given; the status and the JSON answer."""
    headers = {"Content-Type": "application/json"}
    if trace_id is not None:
        headers["traceparent"] = f"00-{trace_id}-{'1' * 16}-01"
    data = None if body is None else json.dumps(body).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
    except OSError:
        return 0, None


def _create_table(moto_url: str, properties: dict[str, Any]) -> str:
    """The template's table (its key schema and attribute definitions) created in moto; its name."""
    name = f"notes-test-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "dynamodb", endpoint_url=moto_url, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
    ).create_table(
        TableName=name,
        KeySchema=properties["KeySchema"],
        AttributeDefinitions=properties["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _xray_trace_id(trace_id: str) -> str:
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def run_notes_task(repo: Path, venv: Path, stacks: dict[str, dict[str, Any]], workdir: Path) -> dict[str, Any]:
    """The dev stage's task: the app under gunicorn with its sidecars and stand-ins, asked, then stopped."""
    started = time.monotonic()
    env = stage_environment(stacks, NOTES_STAGE)
    app = templates.app_container(env)
    containers = templates.sidecars(env)
    ((table_ref, table),) = env.resources("service", "AWS::DynamoDB::Table").items()
    run = TaskRun(table=table["Properties"])
    collector_text = templates.collector_configuration_text(env)
    exporters = json.dumps(templates.collector_configuration(env)["exporters"])
    collector_container = containers[contract.COLLECTOR_CONTAINER_NAME]
    secrets = {
        s["Name"]: f"test-value-for-{s['Name'].lower()}"
        for s in collector_container.get("Secrets", [])
        if s["Name"] != COLLECTOR_CONFIG_VARIABLE  # the configuration's own text, from the templates
    }
    rules = [*templates.sampling_rules(env), XRAY_DEFAULT_RULE]
    collector_environ = sidecars.collector_environment(env, secrets=secrets) | TASK_ROLE
    xray_sdk = contract.XRAY_DAEMON_CONTAINER_NAME in containers

    with ExitStack() as stack:
        dynamodb = stack.enter_context(MotoServer(workdir / "moto.log"))
        xray = stack.enter_context(
            XRayApi(rules, region=REGION, access_key=TASK_ROLE["AWS_ACCESS_KEY_ID"],
                    secret_key=TASK_ROLE["AWS_SECRET_ACCESS_KEY"], session_token=TASK_ROLE["AWS_SESSION_TOKEN"])
        )  # fmt: skip
        otlp = stack.enter_context(OtlpReceiver())
        table_name = _create_table(dynamodb.url, run.table)
        backends = {}
        if re.search(HONEYCOMB_HOST, exporters):
            backends[HONEYCOMB_HOST] = otlp.url
        if not xray_sdk:
            backends[XRAY_HOST] = xray.url
        config_text, ports = collector_config_on_loopback(collector_text, backends=backends, xray_endpoint=xray.url)
        collector_environ[COLLECTOR_CONFIG_VARIABLE] = config_text
        running: list[ContainerProcess] = []

        def start(name: str, start_process: Any) -> ContainerProcess:
            running.append(stack.enter_context(ContainerProcess(name, workdir / f"{name}.log", start_process)))
            return running[-1]

        # What ECS sets in every task's containers besides the definition's variables: the region (boto3 reads
        # AWS_DEFAULT_REGION) and the task role's credentials (here as variables; ECS serves them from an endpoint).
        environ = task_environment(app, {table_ref: table_name}) | TASK_ROLE | {"AWS_DEFAULT_REGION": REGION}
        udp_daemon, sampling_api = None, xray
        if xray_sdk:
            try:
                daemon_binary = sidecars.xray_daemon()
            except sidecars.SidecarUnavailable as missing:
                run.xray_daemon = str(missing)
                udp_daemon = stack.enter_context(XRayDaemon())
                environ[contract.XRAY_DAEMON_ADDRESS.name] = udp_daemon.address
                sampling_api = stack.enter_context(XRaySamplingApi(rules))
                environ[contract.XRAY_SAMPLING_ENDPOINT.name] = sampling_api.url
            else:
                run.xray_daemon = "real"
                daemon_container = containers[contract.XRAY_DAEMON_CONTAINER_NAME]
                udp_port, tcp_port = closed_port(), closed_port()
                command = xray_daemon_command(daemon_binary, udp_port=udp_port, tcp_port=tcp_port, region=REGION,
                                              endpoint=xray.url, config_dir=workdir)  # fmt: skip
                daemon = start(daemon_container["Name"],
                               program(command, task_environment(daemon_container, {}) | TASK_ROLE))  # fmt: skip
                daemon.wait_ready(lambda: _tcp_open(tcp_port))
                environ[contract.XRAY_DAEMON_ADDRESS.name] = f"127.0.0.1:{udp_port}"
                environ[contract.XRAY_SAMPLING_ENDPOINT.name] = f"http://127.0.0.1:{tcp_port}"
        else:
            run.xray_daemon = "none: the collector sends to X-Ray"
            environ[contract.XRAY_SAMPLING_ENDPOINT.name] = f"http://127.0.0.1:{ports['awsproxy']}"
        collector = start(contract.COLLECTOR_CONTAINER_NAME, program([str(sidecars.collector())], collector_environ))
        health_check = [str(sidecars.healthcheck()), "--port", str(ports["health_check"])]
        collector.wait_ready(lambda: subprocess.run(health_check, capture_output=True, timeout=10).returncode == 0)

        port = closed_port()
        environ |= {
            contract.PORT.name: str(port),  # only the port moves: gunicorn binds it, the health check asks it
            contract.OTEL_EXPORTER_OTLP_ENDPOINT.name: f"http://127.0.0.1:{ports['otlp_http']}",
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb.url,
        }
        environ |= {"PATH": tool_environment(venv)["PATH"], "HOME": "/tmp"}
        base = f"http://127.0.0.1:{port}"
        service = start(
            app["Name"],
            lambda out: subprocess.Popen(app["Command"], cwd=repo / "service", env=environ, stdout=out,
                                         stderr=subprocess.STDOUT, text=True),
        )  # fmt: skip
        health_path = run.health_path = environ[contract.HEALTH_CHECK_PATH.name]
        service.wait_ready(lambda: _request(f"{base}{health_path}")[0] == 200, timeout=60)

        # The load balancer's probes carry no trace header: the sampling rules decide, and never sample them.
        run.health_statuses = [_request(f"{base}{health_path}")[0] for _ in range(HEALTH_PROBES)]
        check = app["HealthCheck"]["Command"]
        check_command = check[1:] if check[0] == "CMD" else ["sh", "-c", check[1]]
        finished = subprocess.run(check_command, cwd=repo / "service", env=environ, capture_output=True, text=True,
                                  timeout=30)  # fmt: skip
        run.health_check_command = {"command": check, "returncode": finished.returncode}
        run.trace_id = f"7e47{uuid.uuid4().hex[4:]}"
        status, _ = _request(f"{base}/notes/{TRACED_NOTE}", method="PUT", body={"text": "buy milk"},
                             trace_id=run.trace_id)  # fmt: skip
        assert status == 200
        _, run.note = _request(f"{base}/notes/{TRACED_NOTE}")
        run.missing_note_status, _ = _request(f"{base}/notes/none-such")
        _, run.hello = _request(f"{base}/hello/team")

        # The sampler reports each rule's counts with its next SamplingTargets call (every 10 s, from each worker):
        # every probe (and the readiness probe and the container's health check), every request without a header.
        def counted(rule: str, field: str) -> int:
            return sum(document[field] for document in sampling_api.statistics_of(rule))

        (health_rule,) = [rule["RuleName"] for rule in rules if rule["URLPath"] == health_path]
        others = [rule["RuleName"] for rule in rules if rule["RuleName"] != health_rule]
        if not wait_until(
            lambda: (
                counted(health_rule, "RequestCount") >= HEALTH_PROBES + 2
                and sum(counted(rule, "RequestCount") for rule in others) >= UNTRACED_REQUESTS
            ),
            timeout=STATISTICS_WITHIN_SECONDS,
        ):
            pytest.fail(f"the sampler reported no statistics of every request within {STATISTICS_WITHIN_SECONDS} s")
        run.rule_statistics = {
            rule["RuleName"]: {field: counted(rule["RuleName"], field) for field in ("RequestCount", "SampledCount")}
            for rule in rules
        }
        for process in running:
            process.assert_running()

        def received() -> list[dict[str, Any]]:
            return list(udp_daemon.segments) if udp_daemon is not None else list(xray.segments)

        run.exit_status[service.name] = service.stop()
        for sidecar in running[:-1]:  # after the app, as ECS orders a stop by the containers' dependencies
            run.exit_status[sidecar.name] = sidecar.stop()
        wait_until(lambda: bool(received()), timeout=SEGMENTS_WITHIN_SECONDS)
        run.segments = received()
        run.otlp_spans = [dataclasses.asdict(span) for span in otlp.spans] + [
            dataclasses.asdict(span) for span in xray.otlp_spans
        ]
        log = service.log()
    run.app_log = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    run.seconds = round(time.monotonic() - started, 1)
    return dataclasses.asdict(run)


def _tcp_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def task_run(shared: Path, wheels: dict[str, Any], virtualenv: dict[str, Any]) -> TaskRun:
    """The notes service's dev task, run once on loopback with its sidecars (see the module's docstring)."""
    notes = _example_run(NOTES, shared, wheels, virtualenv)
    assert notes["steps"]["synth"]["returncode"] == 0, notes["steps"]["synth"]["output"][-4000:]
    assert notes["task"] is not None, notes["task_failure"]
    return TaskRun(**notes["task"])


def _segment_trace_ids(run: TaskRun) -> set[str]:
    return {segment["trace_id"] for segment in run.segments}


def test_the_note_route_writes_and_reads_dynamodb(task_run):
    """A note PUT is read back from the table the template declares; an unknown note answers 404."""
    assert task_run.note == {"id": TRACED_NOTE, "text": "buy milk"}
    assert task_run.missing_note_status == 404
    assert task_run.hello == {"message": "Hello, team!"}


def test_one_trace_id_across_otlp_spans_x_ray_segments_and_log_lines(task_run):
    """The note written under a sampled trace context has that trace id in OTLP, in X-Ray and in its log lines."""
    trace_id = task_run.trace_id
    otlp = [span for span in task_run.otlp_spans if span["trace_id"] == trace_id]
    assert otlp, f"no OTLP span of trace {trace_id}"
    assert _xray_trace_id(trace_id) in _segment_trace_ids(task_run)
    logged = [line for line in task_run.app_log if line.get("trace_id") == trace_id]
    assert logged, f"no log line of trace {trace_id}"


def test_the_dynamodb_call_is_a_span_of_the_same_trace(task_run):
    """The boto3 calls the route made are client spans in the request's trace."""
    calls = [
        span
        for span in task_run.otlp_spans
        if span["trace_id"] == task_run.trace_id and span["attributes"].get("rpc.service") == "DynamoDB"
    ]
    assert {span["attributes"].get("rpc.method") for span in calls} >= {"PutItem", "GetItem"}


def test_health_probes_are_answered_and_never_sampled(task_run):
    """Every probe answers 200; no OTLP span and no X-Ray segment names the health-check path."""
    assert task_run.health_statuses == [200] * HEALTH_PROBES
    assert task_run.health_check_command["returncode"] == 0, task_run.health_check_command
    health_spans = [span for span in task_run.otlp_spans if task_run.health_path in json.dumps(span["attributes"])]
    health_segments = [s for s in task_run.segments if task_run.health_path in json.dumps(s.get("http", {}))]
    assert health_spans == [] and health_segments == []


def test_health_probes_fall_to_the_never_sample_rule_and_other_requests_to_the_others(task_run):
    """The sampler's own statistics: every probe matched the health rule and none was sampled; the requests without
    a trace header that were not probes fell to the other rules (X-Ray's Default here).
    """
    health_rule = next(name for name in task_run.rule_statistics if name.endswith("-health"))
    health = task_run.rule_statistics.pop(health_rule)
    assert health["RequestCount"] >= HEALTH_PROBES and health["SampledCount"] == 0, health
    assert sum(counts["RequestCount"] for counts in task_run.rule_statistics.values()) >= UNTRACED_REQUESTS


def test_health_probes_write_no_log_line_and_other_requests_one_each(task_run):
    """The library keeps the health check quiet (HEALTH_CHECK_PATH, set by the task); every other request logs."""
    request_lines = [line for line in task_run.app_log if line.get("logger", "").endswith(".request")]
    assert not [line for line in request_lines if task_run.health_path in line["message"]]
    assert len(request_lines) == 1 + UNTRACED_REQUESTS, [line["message"] for line in request_lines]


def test_every_container_stops_with_status_0(task_run):
    """SIGTERM stops the app, then the sidecars, each within the stop timeout, with status 0."""
    assert task_run.exit_status == dict.fromkeys(task_run.exit_status, 0), task_run.exit_status
