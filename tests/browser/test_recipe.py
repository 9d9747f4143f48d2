"""The README's frontend recipe is the code the browser test runs: the module, the packages and their versions."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
PACKAGE = json.loads((REPO / "frontend" / "package.json").read_text())


def test_the_readme_shows_tracing_js_as_it_is():
    """The module in the README is frontend/src/tracing.js, byte for byte."""
    listing = re.search(r"<code>frontend/src/tracing.js</code>.*?\n```js\n(.*?)```\n", README, re.DOTALL)
    assert listing is not None, "README has no tracing.js listing"
    assert listing[1] == (REPO / "frontend" / "src" / "tracing.js").read_text()


def test_the_readme_installs_the_pinned_packages():
    """npm install in the recipe names every runtime package of frontend/package.json at its pinned version."""
    command = re.search(r"npm install --save-exact \\\n(.*?)\n```", README, re.DOTALL)
    assert command is not None, "README has no npm install command for the frontend"
    installed = dict(re.findall(r"(@?[\w./-]+)@(\d[\w.-]*)", command[1]))
    assert installed == PACKAGE["dependencies"]
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in PACKAGE["dependencies"].values())
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in PACKAGE["devDependencies"].values())


def test_the_test_page_starts_tracing_as_the_recipe_does():
    """The page imports the module itself and calls the function the README's index.js lines call."""
    page = (Path(__file__).parent / "page" / "main.js").read_text()
    assert "import { startTracing } from '../../../frontend/src/tracing.js';" in page
    assert "startTracing({ backendUrl: process.env.REACT_APP_BACKEND_URL });" in README
