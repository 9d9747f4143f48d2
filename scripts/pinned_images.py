"""Print every pinned sidecar image of every environment, for the pull-request workflow to resolve.

    python -m scripts.pinned_images               # ENVIRONMENT  FIELD  REFERENCE  RELEASE, one line each
    python -m scripts.pinned_images --references  # REFERENCE  REPOSITORY:RELEASE, each distinct image once

The pins are the environments' ``images`` sections (``config/sections.py``),
each a ``repository@sha256:...`` reference with the release it was read from.
The workflow resolves every reference against its registry with
``docker buildx imagetools inspect`` (a miss fails the pull request) and
compares the release's tag with the pinned digest. Reads the configuration
only: no CDK, no network.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from infra.environments import ENVIRONMENTS, load_environment


@dataclass(frozen=True)
class PinnedImage:
    """One sidecar image pinned in one environment."""

    environment: str
    field: str
    reference: str  # repository@sha256:..., what ECS pulls
    release: str  # the tag the digest was read from

    @property
    def repository(self) -> str:
        """The reference without its digest."""
        return self.reference.split("@", 1)[0]

    @property
    def tagged(self) -> str:
        """The release's tag in the same repository, as people name the image."""
        return f"{self.repository}:{self.release}"


def pinned_images() -> list[PinnedImage]:
    """Every sidecar pin of every environment, in the order of ``ENVIRONMENTS`` and of the images section."""
    return [
        PinnedImage(name, f"images.{field}", reference, release)
        for name in ENVIRONMENTS
        for field, (reference, release) in load_environment(name).images.pinned_sidecars.items()
    ]


def distinct_references(images: list[PinnedImage]) -> list[tuple[str, str]]:
    """Each (reference, repository:release) once, in first-seen order; two releases named for one digest are both
    kept.
    """
    seen: dict[tuple[str, str], None] = {}
    for image in images:
        seen.setdefault((image.reference, image.tagged), None)
    return list(seen)


def main(argv: list[str] | None = None) -> int:
    """Print the pins as a table, or each distinct reference with its tagged name."""
    parser = argparse.ArgumentParser(prog="python -m scripts.pinned_images", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--references", action="store_true", help="each distinct image once: REFERENCE REPOSITORY:RELEASE"
    )
    args = parser.parse_args(argv)
    images = pinned_images()
    if args.references:
        for reference, tagged in distinct_references(images):
            print(f"{reference} {tagged}")
    else:
        for image in images:
            print(f"{image.environment}\t{image.field}\t{image.reference}\t{image.release}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
