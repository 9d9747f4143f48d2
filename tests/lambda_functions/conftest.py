"""Load the handlers by path (``lambda`` is a Python keyword) and give them moto."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from moto import mock_aws

from flask_aws_telemetry_cdk.components.lambda_code import LAMBDA_ROOT


def load_handler(function: str):
    """``lambda_functions/<function>/handler.py`` as a fresh module, with its client cache empty."""
    name = f"lambda_{function}_handler"
    spec = importlib.util.spec_from_file_location(name, LAMBDA_ROOT / function / "handler.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def aws(fake_aws_credentials):
    """moto for SSM, X-Ray and CloudWatch, with fake credentials and a region."""
    with mock_aws():
        yield
