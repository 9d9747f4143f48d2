"""Cruddur backend: a small micro-blogging API, traced end to end.

The application factory is ``cruddur.app.create_app``; this package's
``__init__`` imports nothing so that ``cruddur.contract`` can be imported
without Flask (the CDK app does).
"""
