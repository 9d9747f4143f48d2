"""The container's health check: exit 0 when the app answers its health endpoint on this host.

    python healthcheck.py

Standard library only, so the check every few seconds starts fast; ``app.py`` takes the path from here.
"""

from __future__ import annotations

import os
import sys
import urllib.request

HEALTH_CHECK_PATH = "/api/health-check"
# gunicorn.conf.py binds the same variable, with the same default.
PORT = "PORT"
DEFAULT_PORT = 5000


def healthy(port: int, timeout_seconds: float = 3.0) -> bool:
    """True when GET /api/health-check on 127.0.0.1:``port`` answers 200."""
    url = f"http://127.0.0.1:{port}{HEALTH_CHECK_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_seconds) as response:
            return bool(response.status == 200)
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if healthy(int(os.environ.get(PORT, DEFAULT_PORT))) else 1)
