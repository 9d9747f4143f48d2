"""Holding a stand-in's requests to AWS's published model of the API (botocore's service models).

A stand-in we wrote agrees with our idea of AWS; this module makes it agree
with AWS's own description instead. ``AwsModel("xray")`` loads botocore's
``xray/<version>/service-2.json``; ``check(method, path, body)`` finds the
operation by its HTTP method and request URI (rest-json APIs such as X-Ray)
or by ``X-Amz-Target`` (json APIs), decodes the body and validates it with
botocore's own ``ParamValidator`` (required members, types, ranges, no
unknown members). A violation is answered as AWS answers it (HTTP 400 with
``__type`` ``ValidationException``, or ``SerializationException`` for a body
that is not JSON) and kept in ``violations`` so that the test fails naming
the field: ``assert_clean()``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel
from botocore.validate import ParamValidator


@dataclass(frozen=True)
class ModelViolation:
    """One request the model refuses: which operation, and botocore's sentence naming each field."""

    operation: str
    error_type: str
    message: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.error_type}: {self.message}"


@dataclass
class AwsModel:
    """botocore's model of one AWS API, and every violation seen by the stand-in that uses it."""

    service_name: str
    violations: list[ModelViolation] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        session = botocore.session.get_session()
        loader = session.get_component("data_loader")
        self.service_model = ServiceModel(loader.load_service_model(self.service_name, "service-2"), self.service_name)
        self._by_uri = {
            (op.http["method"], op.http["requestUri"].split("?")[0]): op
            for op in (self.service_model.operation_model(name) for name in self.service_model.operation_names)
        }
        self._lock = threading.Lock()

    def operation_for(self, method: str, path: str, headers: dict[str, str] | None = None) -> OperationModel | None:
        """The operation a request addresses: by ``X-Amz-Target`` (json protocol) or by method and URI (rest-json)."""
        target = {k.lower(): v for k, v in (headers or {}).items()}.get("x-amz-target")
        if target:
            name = target.rsplit(".", 1)[-1]
            return self.service_model.operation_model(name) if name in self.service_model.operation_names else None
        return self._by_uri.get((method.upper(), path.split("?")[0]))

    def check(
        self, method: str, path: str, body: bytes, headers: dict[str, str] | None = None
    ) -> tuple[OperationModel | None, dict[str, Any] | None, tuple[int, bytes] | None]:
        """(operation, decoded parameters, None) for a valid request; (operation, None, AWS's 400 answer) otherwise."""
        operation = self.operation_for(method, path, headers)
        if operation is None:
            return None, None, None
        try:
            params = json.loads(body or b"{}")
            if not isinstance(params, dict):
                raise ValueError("the body is not a JSON object")
        except ValueError as error:
            return operation, None, self._refuse(operation.name, "SerializationException", str(error))
        report = ParamValidator().validate(params, operation.input_shape)
        if report.has_errors():
            return operation, None, self._refuse(operation.name, "ValidationException", report.generate_report())
        with self._lock:
            self.checked[operation.name] = self.checked.get(operation.name, 0) + 1
        return operation, params, None

    def _refuse(self, operation: str, error_type: str, message: str) -> tuple[int, bytes]:
        with self._lock:
            self.violations.append(ModelViolation(operation, error_type, message))
        return 400, json.dumps({"__type": error_type, "message": message}).encode()

    def assert_clean(self) -> None:
        """Fail, naming each operation and field, if any request broke the model."""
        with self._lock:
            violations = list(self.violations)
        assert not violations, f"requests off {self.service_name}'s published model:\n" + "\n".join(
            map(str, violations)
        )
