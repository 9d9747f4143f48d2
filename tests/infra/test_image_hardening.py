"""At synth, an image built from a Dockerfile must run as the task's app user: its final stage says USER <app.user>."""

from __future__ import annotations

from pathlib import Path

import pytest

from flask_aws_telemetry_cdk import AppConfig, ConfigError, EnvironmentConfig, ImagesConfig
from flask_aws_telemetry_cdk.config.image_hardening import check_image_runs_as


def _dockerfile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


COMPLIANT = {
    "one stage": 'FROM python:3.11-slim\nRUN useradd --uid 10001 app\nUSER 10001\nCMD ["gunicorn"]\n',
    "a build stage as root, the final one not": (
        "FROM python:3.11 AS build\nRUN pip wheel -w /w flask\n\nFROM python:3.11-slim\nCOPY --from=build /w /w\n"
        "user 10001:10001\n"
    ),
    "a continued line and comments": (
        "# syntax=docker/dockerfile:1\nFROM python:3.11-slim\nRUN apt-get update \\\n    # a comment inside\n"
        "    && true\nUSER 10001\n"
    ),
}


@pytest.mark.parametrize("text", COMPLIANT.values(), ids=list(COMPLIANT))
def test_a_final_stage_running_as_the_app_user_passes(tmp_path, text):
    """Given a Dockerfile whose final stage says USER 10001, the check passes."""
    check_image_runs_as(_dockerfile(tmp_path, text), "10001")


NON_COMPLIANT = {
    "no USER": (
        'FROM python:3.11-slim\nCMD ["gunicorn"]\n',
        "sets no USER",
        "add the line 'USER 10001' after that FROM",
    ),
    "USER only in a build stage": (
        "FROM python:3.11 AS build\nUSER 10001\nFROM python:3.11-slim\nCOPY --from=build /w /w\n",
        "the final stage (FROM on line 3) sets no USER",
        "add the line 'USER 10001'",
    ),
    "root": ("FROM python:3.11-slim\nUSER root\n", "line 2: 'USER root' runs the app as root", "'USER 10001'"),
    "another user": (
        "FROM python:3.11-slim\nUSER 10001\nUSER 20002\n",
        "line 3: 'USER 20002' is not the task's app user '10001'",
        "change it to 'USER 10001', or set app.user",
    ),
}


@pytest.mark.parametrize(("text", "what", "fix"), NON_COMPLIANT.values(), ids=list(NON_COMPLIANT))
def test_a_final_stage_not_running_as_the_app_user_is_one_sentence(tmp_path, text, what, fix):
    """Given a Dockerfile that would run the app as root or another user, one sentence names it and the line."""
    path = _dockerfile(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        check_image_runs_as(path, "10001")
    message = str(error.value)
    assert message.startswith(str(path))
    assert what in message
    assert fix in message
    assert "\n" not in message


def test_the_environment_refuses_an_image_that_would_run_as_root(tmp_path):
    """Built at synth: the environment names itself, the Dockerfile and the line to add."""
    _dockerfile(tmp_path, 'FROM python:3.11-slim\nCMD ["gunicorn"]\n')
    with pytest.raises(ConfigError) as error:
        EnvironmentConfig(
            name="dev",
            short_name="orders",
            service_name="orders-api",
            images=ImagesConfig(app_directory=str(tmp_path)),
            app=AppConfig(wsgi_app="app:create_app()"),
        )
    assert str(error.value).startswith(f"environment 'dev': {tmp_path / 'Dockerfile'}: the final stage")
    assert "add the line 'USER 10001' after that FROM" in str(error.value)


def test_a_prebuilt_image_is_not_read(tmp_path):
    """An image by URI has no Dockerfile here: nothing to check (the library checks the user at start)."""
    config = EnvironmentConfig(
        name="dev",
        short_name="orders",
        service_name="orders-api",
        images=ImagesConfig(app_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.0"),
        app=AppConfig(wsgi_app="app:create_app()"),
    )
    assert config.images.app_uri is not None


@pytest.mark.parametrize("dockerfile", ["service/Dockerfile", "examples/week2-backend/Dockerfile"])
def test_the_repositorys_images_run_as_their_app_user(dockerfile):
    """Cruddur's image and the week-2 example's pass the check they are synthesized with."""
    check_image_runs_as(Path(dockerfile), "10001")
