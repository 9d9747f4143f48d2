"""python -m scripts.pinned_images: every sidecar pin of every environment, as the pull-request workflow resolves
them.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from infra.environments import ENVIRONMENTS, load_environment
from scripts import pinned_images
from scripts.pinned_images import PinnedImage, distinct_references
from testsupport import REPO_ROOT


def test_every_environment_lists_each_sidecar_pin_with_its_release():
    """One row per environment and sidecar, the reference ECS gets and the release beside it."""
    images = pinned_images.pinned_images()
    assert [(i.environment, i.field) for i in images] == [
        (name, field) for name in ENVIRONMENTS for field in ("images.xray_daemon", "images.collector")
    ]
    for image in images:
        section = load_environment(image.environment).images
        name = image.field.removeprefix("images.")
        assert (image.reference, image.release) == (getattr(section, name), getattr(section, f"{name}_release"))


def test_a_pin_names_its_repository_and_release_tag():
    """The tagged name is the repository without the digest, at the release."""
    image = PinnedImage("dev", "images.collector", f"public.ecr.aws/a/b@sha256:{'c' * 64}", "v1.2.3")
    assert image.repository == "public.ecr.aws/a/b"
    assert image.tagged == "public.ecr.aws/a/b:v1.2.3"


def test_distinct_references_keep_one_line_per_image_and_every_disagreement():
    """Environments sharing a pin give one line; an environment labelling the same digest otherwise gives its own."""
    digest = "@sha256:" + "d" * 64
    images = [
        PinnedImage("dev", "images.collector", f"r.example/c{digest}", "v1"),
        PinnedImage("prod", "images.collector", f"r.example/c{digest}", "v1"),
        PinnedImage("staging", "images.collector", f"r.example/c{digest}", "v2"),
    ]
    assert distinct_references(images) == [
        (f"r.example/c{digest}", "r.example/c:v1"),
        (f"r.example/c{digest}", "r.example/c:v2"),
    ]


@pytest.mark.parametrize(("arguments", "lines"), [([], 2 * len(ENVIRONMENTS)), (["--references"], 2)])
def test_the_module_prints_from_the_repository_root(arguments, lines):
    """Run as the workflow runs it: the table, or each distinct reference with its tagged name."""
    result = subprocess.run(
        [sys.executable, "-m", "scripts.pinned_images", *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    assert len(printed) == lines
    if arguments:
        assert printed[0] == (
            "public.ecr.aws/xray/aws-xray-daemon"
            "@sha256:b67576293f4d3a0a155f807244957ed0aa4bc945df1573d62d81380a1d548071 "
            "public.ecr.aws/xray/aws-xray-daemon:3.7.0"
        )
    else:
        assert printed[1].split("\t") == [
            "dev",
            "images.collector",
            "public.ecr.aws/aws-observability/aws-otel-collector@sha256:7968fb60db6a2390a47ba6a2df029745638486e285c9b2487da1b722d0855a3e",
            "v0.50.0",
        ]
