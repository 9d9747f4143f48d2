"""Server spans named after the request's route: "{method} {route}", and http.route, once Flask has matched it;
and ``peer_address``, the one attribute of a server span the WSGI instrumentation leaves out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry import trace
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE
from opentelemetry.semconv.attributes.network_attributes import NETWORK_PEER_ADDRESS

from .wsgi_types import WSGIApp

log = logging.getLogger("flask_aws_telemetry.route_naming")


def peer_address(environ: dict[str, Any]) -> dict[str, str]:
    """``network.peer.address``: the connection's peer (``REMOTE_ADDR``), which the WSGI instrumentation writes only
    as ``client.address``; without it X-Ray (the ``awsxray`` exporter's translator) flags the client address as
    taken from X-Forwarded-For on every request.
    """
    remote = environ.get("REMOTE_ADDR")
    return {NETWORK_PEER_ADDRESS: remote} if remote else {}


class RouteNamedSpan:
    """Inside the server span: name it after the request's route and set http.route.

    The HTTP conventions name a server span "{method} {route}", and only
    "{method}" when no route matched, so that a scanner probing random paths
    cannot create a span name per path. Flask has matched the route by the
    time it starts the response, and werkzeug keeps the request object in the
    environ (``werkzeug.request``) until the request ends.
    """

    def __init__(self, wsgi_app: WSGIApp) -> None:
        """Wrap ``wsgi_app``."""
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Name the current span when the app starts its response."""
        span = trace.get_current_span()

        def naming_start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            name_after_route(span, environ)
            return start_response(status, headers, *exc_info)

        return self.wsgi_app(environ, naming_start_response)


def name_after_route(span: trace.Span, environ: dict[str, Any]) -> None:
    """Name ``span`` "{method} {route}" and set http.route, or "{method}" when no route matched."""
    try:
        method = environ.get("REQUEST_METHOD") or "HTTP"
        rule = getattr(environ.get("werkzeug.request"), "url_rule", None)
        if rule is None:
            span.update_name(method)
        else:
            span.update_name(f"{method} {rule.rule}")
            span.set_attribute(HTTP_ROUTE, rule.rule)
    except Exception:
        log.exception("could not name the server span")
