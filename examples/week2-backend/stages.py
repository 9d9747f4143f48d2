"""The week-2 backend's stages, dev and prod, each its own stacks: week2-dev-network, -observability, -service.

cdk synth                      # both stages
cdk deploy 'week2-dev-*'       # one (Rollbar's token first: see README.md)
"""

from aws_cdk import App

from flask_aws_telemetry_cdk import AppConfig, EnvironmentConfig, FlaskAppStacks, ImagesConfig, TelemetryConfig

# The course's frontend, which reads this API from the browser (CORS on /api/*).
FRONTEND_URL = {"dev": "http://localhost:3000", "prod": "https://cruddur.example.com"}

app = App()
for stage, frontend_url in FRONTEND_URL.items():
    config = EnvironmentConfig(
        name=stage,
        short_name="week2",
        service_name="week2-backend-flask",
        images=ImagesConfig(app_directory="service"),
        app=AppConfig(
            wsgi_app="app:create_app()",
            port=5000,
            health_check_path="/api/health-check",
            environment={"FRONTEND_URL": frontend_url},
        ),
        # /rollbar/test fails on purpose: its error reaches Rollbar with the request's trace id.
        telemetry=TelemetryConfig(rollbar=True),
    )
    FlaskAppStacks(app, config)
app.synth()
