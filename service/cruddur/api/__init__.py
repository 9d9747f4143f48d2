"""HTTP blueprints, one per feature, and the JSON error handlers."""
