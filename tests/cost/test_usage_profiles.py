"""make cost on an environment without a usage profile: the default profile, or one sentence naming what to add."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from cost.estimate import estimates_for
from cost.usage import DEFAULT_PROFILE, DEFAULT_USAGE, UsageError, load_usage, profile_for
from tests.cost.test_estimate import PRICES, TEMPLATE, USAGE
from testsupport import REPO_ROOT


def test_the_shipped_file_has_a_default_profile_equal_to_devs():
    """cost/usage.yaml prices an environment it does not name with dev's traffic."""
    usage = load_usage()
    assert usage[DEFAULT_PROFILE] == usage["dev"]


def test_an_environment_without_its_own_profile_is_priced_with_the_default_and_says_so():
    """Given no 'week2' entry but a default, week2's estimates use the default and their variant names it."""
    results = estimates_for({"week2": [TEMPLATE]}, {DEFAULT_PROFILE: USAGE}, PRICES)
    assert [r.variant for r in results] == ["always on, default usage profile", "on schedule, default usage profile"]
    same = estimates_for({"fixture": [TEMPLATE]}, {"fixture": USAGE}, PRICES)
    assert [r.total for r in results] == [r.total for r in same]


def test_an_environment_with_its_own_profile_never_gets_the_default():
    """Its own entry wins; the variant is unchanged."""
    profile, is_default = profile_for({"dev": USAGE, DEFAULT_PROFILE: None}, "dev")  # type: ignore[dict-item]
    assert profile is USAGE and not is_default


def test_no_profile_and_no_default_is_one_sentence_naming_the_entry_and_the_file():
    """Without a default, the error names the environment, the entry to add and the file."""
    with pytest.raises(UsageError) as raised:
        estimates_for({"week2": [TEMPLATE]}, {"dev": USAGE}, PRICES)
    message = str(raised.value)
    assert message.startswith("no usage profile for environment 'week2': add an entry 'week2:'")
    assert str(DEFAULT_USAGE) in message and "\n" not in message


def test_the_command_says_it_in_one_line_without_a_traceback(tmp_path):
    """python -m cost --env prod, its usage file lacking prod and a default: exit 2, one error line, no synthesis."""
    usage = yaml.safe_load(DEFAULT_USAGE.read_text())
    del usage["prod"], usage[DEFAULT_PROFILE]
    path = tmp_path / "usage.yaml"
    path.write_text(yaml.safe_dump(usage))
    result = subprocess.run(
        [sys.executable, "-m", "cost", "--usage", str(path), "--env", "prod"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: no usage profile for environment 'prod': add an entry 'prod:' (or 'default:') to {path} "
        "with the fields the others have"
    ]
    assert "Traceback" not in result.stderr and result.stdout == ""
