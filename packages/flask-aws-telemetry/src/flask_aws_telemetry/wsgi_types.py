"""The types of the request path: a WSGI app, and a layer (a middleware as a function of the app it wraps)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# A WSGI middleware as a function of the app it wraps.
Layer = Callable[[WSGIApp], WSGIApp]
