"""docs/xray-after-2027.md quotes what `make cost XRAY_PATH=<path>` prints for each of the four paths.

A change that moves a path's total moves the page's table with it: each row is compared with `make cost`'s JSON
for that path, run here as a reader types it.
"""

from __future__ import annotations

import json
import re

import pytest

from flask_aws_telemetry_cdk import XRayPath
from tests.docs.test_make_targets import make
from testsupport import REPO_ROOT

PAGE = REPO_ROOT / "docs" / "xray-after-2027.md"
COLUMNS = (("dev", "always on"), ("dev", "on schedule"), ("staging", "always on"), ("prod", "always on"))


def quoted_rows() -> dict[str, list[str]]:
    """The cost table's figures by path value, in the columns' order."""
    text = PAGE.read_text()
    table = text[text.index("| path | dev, running all day |") :].split("\n\n", 1)[0]
    rows = {}
    for line in table.splitlines()[2:]:
        path = re.match(r"\| `([a-z-]+)`", line)
        assert path, line
        rows[path[1]] = re.findall(r"\| ([\d,]+\.\d\d)", line)
    return rows


def test_the_page_prices_every_path():
    """One row per XRayPath, four figures each."""
    rows = quoted_rows()
    assert set(rows) == {path.value for path in XRayPath}
    assert all(len(figures) == len(COLUMNS) for figures in rows.values())


@pytest.mark.parametrize("path", [path.value for path in XRayPath])
def test_each_paths_row_is_what_make_cost_prints(path):
    """`make cost FORMAT=json XRAY_PATH=<path>`: its totals, in the table's columns."""
    result = make("cost", "FORMAT=json", f"XRAY_PATH={path}")
    assert result.returncode == 0, result.stderr[-3000:]
    estimates = json.loads(result.stdout[result.stdout.index("\n{") :])["estimates"]
    totals = {
        (estimate["environment"].removesuffix(f" on {path}"), estimate["variant"]): estimate["total_usd"]
        for estimate in estimates
    }
    printed = [f"{float(totals[column]):,.2f}" for column in COLUMNS]
    assert quoted_rows()[path] == printed
