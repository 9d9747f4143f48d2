"""The manual's frontend recipe (docs/frontend.md) is the code the browser test runs: the module, the packages."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPE = (REPO / "docs" / "frontend.md").read_text()
PACKAGE = json.loads((REPO / "frontend" / "package.json").read_text())


def test_the_recipe_copies_tracing_js_itself():
    """The recipe has the reader copy frontend/src/tracing.js (the module the browser test bundles), not a listing."""
    assert "copy `frontend/src/tracing.js` into `src/`" in RECIPE
    listings = re.findall(r"```js\n(.*?)```", RECIPE, re.DOTALL)
    assert listings and all(len(listing.splitlines()) <= 2 for listing in listings)


def test_the_recipe_installs_the_pinned_packages():
    """npm install in the recipe names every runtime package of frontend/package.json at its pinned version."""
    command = re.search(r"npm install --save-exact \\\n(.*?)\n```", RECIPE, re.DOTALL)
    assert command is not None, "docs/frontend.md has no npm install command for the frontend"
    installed = dict(re.findall(r"(@?[\w./-]+)@(\d[\w.-]*)", command[1]))
    assert installed == PACKAGE["dependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in PACKAGE["dependencies"].values())
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in PACKAGE["devDependencies"].values())


def test_the_test_page_starts_tracing_as_the_recipe_does():
    """The page imports the module itself and calls the function the recipe's index.js lines call."""
    page = (Path(__file__).parent / "page" / "main.js").read_text()
    assert "import { startTracing } from '../../../frontend/src/tracing.js';" in page
    assert "startTracing({ backendUrl: process.env.REACT_APP_BACKEND_URL });" in RECIPE
