"""``make cost`` (``python -m cost``) runs on every environment it accepts; one it cannot price is one sentence."""

from __future__ import annotations

import json

from cost.cli import main
from cost.usage import load_usage
from infra.environments import ENVIRONMENTS


def test_make_cost_prices_every_environment_with_a_usage_profile(capsys):
    """Given the shipped environments, make cost prices each one that has a usage profile, and names the others."""
    assert main(["--format", "json"]) == 0
    captured = capsys.readouterr()
    priced = {estimate["environment"] for estimate in json.loads(captured.out)["estimates"]}
    profiled = {name for name in ENVIRONMENTS if name in load_usage()}
    assert priced == profiled
    assert {"dev", "staging", "prod"} <= priced
    for name in set(ENVIRONMENTS) - profiled:
        assert f"note: environment '{name}' has no usage profile in " in captured.err
    assert "Traceback" not in captured.err


def test_an_environment_without_a_usage_profile_is_one_sentence(tmp_path, capsys):
    """Given a usage file without dev, pricing dev says so in one sentence, before synthesizing anything."""
    usage = tmp_path / "usage.yaml"
    usage.write_text("{}\n")
    assert main(["--env", "dev", "--usage", str(usage)]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        f"error: environment 'dev' has no usage profile in {usage}; add one (the traffic it is assumed to see, "
        "as the others there) to price it"
    )


def test_an_unknown_environment_lists_the_valid_ones(capsys):
    """A typo in --env names it and every environment there is."""
    assert main(["--env", "prd"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"error: unknown environment 'prd'; valid environments are {', '.join(ENVIRONMENTS)}"
