"""checkov over every synthesized template: no failed check but those accepted, with reasons, in one file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import SYNTHESIZED
from testsupport import REPO_ROOT

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
ACCEPTED_FILE = REPO_ROOT / "checkov-accepted.yaml"


def _failed_checks(assembly_dirs: list[Path]) -> dict[str, dict[str, set[str]]]:
    """assembly directory name -> check id -> the resources failing it, in one checkov run over every directory."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run 'make install' (make test does it)")
    templates = sorted(str(p) for d in assembly_dirs for p in d.glob("*.template.json"))
    command = [str(CHECKOV), "--framework", "cloudformation", "--skip-download", "--quiet", "--compact", "-o", "json"]
    for template in templates:
        command += ["-f", template]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1 means "some check failed"
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed: dict[str, dict[str, set[str]]] = {}
    for report in reports:
        if "summary" not in report:  # no check applies to any resource: checkov prints only its counts
            assert (report["parsing_errors"], report["failed"]) == (0, 0), report
            continue
        assert report["summary"]["parsing_errors"] == 0, report["summary"]
        for check in report["results"]["failed_checks"]:
            by_check = failed.setdefault(Path(check["file_path"]).parent.name, {})
            by_check.setdefault(check["check_id"], set()).add(check["resource"])
    return failed


def _reason(entry: str | dict) -> str:
    return entry if isinstance(entry, str) else entry["reason"]


@pytest.fixture(scope="session")
def accepted() -> dict[str, str]:
    """The accepted findings and their reasons."""
    return {check: _reason(entry) for check, entry in yaml.safe_load(ACCEPTED_FILE.read_text()).items()}


@pytest.fixture(scope="session")
def accepted_with_certificate() -> dict[str, str]:
    """The accepted findings that still hold where the environment has a domain and certificate."""
    entries = yaml.safe_load(ACCEPTED_FILE.read_text())
    return {
        check: _reason(entry)
        for check, entry in entries.items()
        if not (isinstance(entry, dict) and entry.get("only_without_certificate"))
    }


@pytest.fixture(scope="session")
def failed_by_env(synthesized_environments) -> dict[str, dict[str, set[str]]]:
    """checkov's failed checks for each synthesized environment (one checkov run for all)."""
    outdirs = {name: synthesized_environments(name).outdir for name in SYNTHESIZED}
    by_directory = _failed_checks(list(outdirs.values()))
    return {name: by_directory.get(outdir.name, {}) for name, outdir in outdirs.items()}


@pytest.fixture(scope="session")
def failed_with_certificate(synthesized_environments) -> dict[str, dict[str, set[str]]]:
    """checkov's failed checks for each environment configured with a domain and certificate."""
    from tests.conftest import VARIANTS

    result = {}
    for name in VARIANTS:
        by_file = _failed_checks([synthesized_environments(name).outdir])
        checks: dict[str, set[str]] = {}
        for file_checks in by_file.values():
            for check, resources in file_checks.items():
                checks.setdefault(check, set()).update(resources)
        result[name] = checks
    return result


@pytest.mark.parametrize("variant", ["dev-tls", "staging-tls", "prod-tls"])
def test_with_a_certificate_the_tls_acceptances_do_not_apply(
    failed_with_certificate, accepted_with_certificate, variant
):
    """HTTPS listener and TLS policy pass; nothing else new fails."""
    failed = failed_with_certificate[variant]
    assert "CKV_AWS_2" not in failed and "CKV_AWS_103" not in failed
    unexpected = {check: sorted(r) for check, r in failed.items() if check not in accepted_with_certificate}
    assert unexpected == {}


def test_every_accepted_finding_has_a_reason(accepted):
    """Each entry explains itself."""
    for check_id, reason in accepted.items():
        assert check_id.startswith("CKV_"), check_id
        assert isinstance(reason, str) and len(reason) > 60, check_id


@pytest.mark.parametrize("env_name", list(SYNTHESIZED))
def test_no_failed_check_but_the_accepted_ones(failed_by_env, accepted, env_name):
    """A new finding fails here, naming the check and the resources."""
    unexpected = {
        check: sorted(resources) for check, resources in failed_by_env[env_name].items() if check not in accepted
    }
    assert unexpected == {}


def test_no_accepted_entry_is_stale(failed_by_env, accepted):
    """Every accepted check still fails somewhere; a fixed one must leave the list."""
    seen = set().union(*(set(failed) for failed in failed_by_env.values()))
    assert set(accepted) - seen == set()
