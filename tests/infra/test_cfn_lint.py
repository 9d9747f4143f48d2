"""cfn-lint finds no error in any synthesized template."""

from __future__ import annotations

import json

from cfnlint.api import lint_all

from flask_aws_telemetry_cdk.assembly import STACK_KEYS


def test_templates_have_no_cfn_lint_errors(any_env):
    """Errors (E-rules) fail; warnings and informational matches are reported by cfn-lint's own CLI."""
    for key in STACK_KEYS:
        matches = lint_all(json.dumps(any_env.templates[key]))
        errors = [f"{m.rule.id} {m.message} ({m.path_string})" for m in matches if m.rule.id.startswith("E")]
        assert errors == [], f"{any_env.stack_names[key]}: {errors}"
