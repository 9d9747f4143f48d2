"""The keys under which the app keeps its parts in ``app.extensions``, defined once.

    app.extensions[extensions.SETTINGS]   the parsed Settings (cruddur.settings)
    app.extensions[extensions.STORE]      the DynamoDB Store (cruddur.store)
    app.extensions[extensions.TELEMETRY]  the app's Telemetry (flask_aws_telemetry, which names its own key)

This module imports nothing but the telemetry's key, so gunicorn's master can
read a key without loading the app or its telemetry.
"""

from flask_aws_telemetry import EXTENSION_KEY

SETTINGS = "cruddur.settings"
STORE = "cruddur.store"
TELEMETRY = EXTENSION_KEY
