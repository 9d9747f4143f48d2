"""The week-2 backend's stages, dev and prod: three stacks each (week2-dev-network, -observability, -service)."""

from aws_cdk import App

from flask_aws_telemetry_cdk import AppConfig, EnvironmentConfig, FlaskAppStacks, ImagesConfig, TelemetryConfig

app = App()
for stage, frontend_url in {"dev": "http://localhost:3000", "prod": "https://cruddur.example.com"}.items():
    config = EnvironmentConfig(
        name=stage,
        short_name="week2",
        service_name="week2-backend-flask",
        images=ImagesConfig(app_directory="service"),
        app=AppConfig(
            wsgi_app="app:create_app()",
            port=5000,
            health_check_path="/api/health-check",
            environment={"FRONTEND_URL": frontend_url},  # the frontend's origin, allowed by CORS on /api/*
        ),
        telemetry=TelemetryConfig(rollbar=True),  # /rollbar/test fails on purpose: its error reaches Rollbar
    )
    FlaskAppStacks(app, config)
app.synth()
