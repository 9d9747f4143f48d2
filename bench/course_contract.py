"""The course's own variables: what its docker-compose set for the week-2 backend, beside the project's contract.

``bench/course_app.py`` reads them inside the service; ``bench/overhead.py``
sets them for the course setup. Standard library only, so the benchmark
imports it without the service's packages.
"""

from __future__ import annotations

# The course's service name, for OpenTelemetry (OTEL_SERVICE_NAME) and the X-Ray recorder alike.
SERVICE_NAME = "backend-flask"
# The course's variable for X-Ray's dynamic naming: a host pattern.
XRAY_URL_VARIABLE = "AWS_XRAY_URL"
