from aws_cdk import App

from flask_aws_telemetry_cdk import (
    AppConfig,
    EdgeConfig,
    EnvironmentConfig,
    FlaskAppStacks,
    ImagesConfig,
    TelemetryConfig,
)

app = App()
# The stages, each with its frontend's origin; each stage is three stacks: week2-<stage>-network, ...
for stage, frontend_url in {"dev": "http://localhost:3000", "prod": "https://cruddur.example.com"}.items():
    config = EnvironmentConfig(
        name=stage,
        short_name="week2",
        service_name="week2-backend-flask",
        images=ImagesConfig(app_directory="service"),
        app=AppConfig(wsgi_app="app:create_app()", port=5000, health_check_path="/api/health-check"),
        edge=EdgeConfig(frontend_origins=(frontend_url,)),  # the task sets FRONTEND_URL: CORS on /api/* allows it
        telemetry=TelemetryConfig(rollbar=True),  # /rollbar/test fails on purpose: its error reaches Rollbar
    )
    FlaskAppStacks(app, config)
app.synth()
