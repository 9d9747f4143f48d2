"""make cost on an environment without a usage profile of its own: the default profile (errors: test_cli.py)."""

from __future__ import annotations

import pytest

from cost.estimate import estimates_for
from cost.usage import DEFAULT_PROFILE, DEFAULT_USAGE, UsageError, load_usage, profile_for
from tests.cost.test_estimate import PRICES, TEMPLATE, USAGE


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


def test_no_profile_and_no_default_is_one_sentence_naming_the_environment_and_the_file():
    """Without a default, the error names the environment, the file and what to add (python -m cost prints it)."""
    with pytest.raises(UsageError) as raised:
        estimates_for({"week2": [TEMPLATE]}, {"dev": USAGE}, PRICES)
    assert str(raised.value) == (
        f"environment 'week2' has no usage profile in {DEFAULT_USAGE}; add one (the traffic it is assumed to see, "
        "as the others there) to price it"
    )
