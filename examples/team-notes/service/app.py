"""The notes service: a Flask app with a health check, a greeting and notes kept in DynamoDB, traced by the library."""

import os

import boto3
from flask import Flask, request

from flask_aws_telemetry import Telemetry


def create_app() -> Flask:
    """Build the app: its routes, its table (named by TABLE_NAME), then the telemetry around them."""
    app = Flask(__name__)
    notes = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])

    @app.get("/health")
    def health():
        return {"ok": True}

    @app.get("/hello/<name>")
    def hello(name: str):
        return {"message": f"Hello, {name}!"}

    @app.route("/notes/<note_id>", methods=["GET", "PUT"])
    def note(note_id: str):
        if request.method == "PUT":
            notes.put_item(Item={"id": note_id, "text": request.get_json()["text"]})
        item = notes.get_item(Key={"id": note_id}).get("Item")
        return item if item else ({"error": f"no note {note_id}"}, 404)

    Telemetry.install(app, aws_clients=[notes.meta.client])
    return app
