"""The container health check: exit 0 when the service answers its health endpoint.

python -m cruddur.healthcheck
"""

from __future__ import annotations

import sys
import urllib.request

from . import contract


def check(port: int = contract.CONTAINER_PORT, timeout_seconds: float = 3.0) -> bool:
    """True when GET /api/health-check on localhost:``port`` returns 200."""
    url = f"http://127.0.0.1:{port}{contract.HEALTH_CHECK_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_seconds) as response:
            return response.status == 200
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if check() else 1)
