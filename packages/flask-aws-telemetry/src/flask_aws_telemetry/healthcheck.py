"""The container's health check: is the app answering its health path on loopback?

    python -m flask_aws_telemetry.healthcheck

GET ``http://127.0.0.1:$PORT$HEALTH_CHECK_PATH`` (``ProcessSettings``):
exit 0 when it answers 2xx within ``TIMEOUT_SECONDS``; otherwise exit 1
with one line on stderr saying what it got. No proxy is asked and no
redirect followed: the check is about this container's own server. The
task definition's health check and a Dockerfile's ``HEALTHCHECK`` run this
command (``contract.HEALTH_CHECK_COMMAND``).
"""

from __future__ import annotations

import http.client
import os
import sys

from .settings import ProcessSettings, SettingsError

# Inside ECS's and Docker's default health-check timeout (5 s), so the check reports its own reason.
TIMEOUT_SECONDS = 3.0


def probe(port: int, path: str, *, timeout_seconds: float = TIMEOUT_SECONDS) -> str | None:
    """None when GET ``path`` on 127.0.0.1:``port`` answers 2xx; otherwise why not, in one line."""
    url = f"http://127.0.0.1:{port}{path}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_seconds)
    try:
        connection.request("GET", path, headers={"User-Agent": "flask-aws-telemetry-healthcheck"})
        status = connection.getresponse().status
    except TimeoutError:
        return f"GET {url}: no answer within {timeout_seconds:g} s"
    except (OSError, http.client.HTTPException) as error:
        return f"GET {url}: {getattr(error, 'strerror', None) or error or type(error).__name__}"
    finally:
        connection.close()
    if 200 <= status < 300:
        return None
    return f"GET {url} answered {status}"


def main() -> int:
    """Check the app this container runs; 0 when healthy, 1 with the reason on stderr."""
    try:
        process = ProcessSettings.from_environ(os.environ)
    except SettingsError as error:
        reason: str | None = str(error)
    else:
        reason = probe(process.port, process.health_check_path)
    if reason is None:
        return 0
    print(f"unhealthy: {reason}", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
