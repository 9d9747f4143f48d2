"""The keys under which the app keeps its parts in ``app.extensions``, defined once.

    app.extensions[extensions.SETTINGS]   the parsed Settings (cruddur.settings)
    app.extensions[extensions.STORE]      the DynamoDB Store (cruddur.store)
    app.extensions[extensions.TELEMETRY]  the app's Telemetry (cruddur.telemetry)

This module imports nothing, so gunicorn's master can read a key without
loading the app or its telemetry.
"""

SETTINGS = "cruddur.settings"
STORE = "cruddur.store"
TELEMETRY = "cruddur.telemetry"
