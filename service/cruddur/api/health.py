"""GET /api/health-check: the load balancer's and the container's health probe."""

from __future__ import annotations

from flask import Blueprint

from .. import contract

bp = Blueprint("health", __name__)


@bp.get(contract.HEALTH_CHECK_PATH)
def health_check():
    """Healthy whenever the process serves requests; telemetry state is deliberately not consulted."""
    return {"success": True}, 200
