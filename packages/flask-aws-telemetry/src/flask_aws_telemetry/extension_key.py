"""The key under which an app keeps its Telemetry: ``app.extensions[EXTENSION_KEY]``.

A module of its own, importing nothing, so that gunicorn's master and an
app's own registry of keys can name it without loading the telemetry.
"""

EXTENSION_KEY = "flask_aws_telemetry"
