"""MANUAL"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .extension import Operation, Telemetry, operation

__all__ = ["Operation", "Telemetry", "operation"]


def __getattr__(name: str) -> Any:
    """``Telemetry``, ``Operation`` and ``operation``, imported on first use.

    The package itself imports nothing, so ``flask_aws_telemetry.contract``
    can be imported without Flask or OpenTelemetry (the CDK app does).
    """
    if name in __all__:
        from . import extension

        return getattr(extension, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
