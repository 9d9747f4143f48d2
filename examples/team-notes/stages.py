from aws_cdk import App

from flask_aws_telemetry_cdk import (
    AppConfig,
    EnvironmentConfig,
    FlaskAppStacks,
    ImagesConfig,
    ScalingConfig,
    TableConfig,
)

app = App()
for stage, tasks in {"dev": 1, "prod": 2}.items():  # each stage is three stacks: notes-<stage>-network, ...
    config = EnvironmentConfig(
        name=stage,
        short_name="notes",
        service_name="notes-service",
        images=ImagesConfig(app_directory="service"),
        app=AppConfig(wsgi_app="app:create_app()"),
        table=TableConfig(partition_key="id"),
        scaling=ScalingConfig(desired_count=tasks, min_capacity=tasks, max_capacity=2 * tasks),
    )
    FlaskAppStacks(app, config)
app.synth()
