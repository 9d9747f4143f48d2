"""Cruddur's own deployment: its environments (dev, staging, prod), built with flask_aws_telemetry_cdk."""
