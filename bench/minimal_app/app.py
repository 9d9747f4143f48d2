"""The baseline for bench/synth_time.py: one ApplicationLoadBalancedFargateService, nothing else."""

from aws_cdk import App, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns

app = App()
stack = Stack(app, "MinimalService")
ecs_patterns.ApplicationLoadBalancedFargateService(
    stack,
    "Service",
    task_image_options=ecs_patterns.ApplicationLoadBalancedTaskImageOptions(
        image=ecs.ContainerImage.from_registry("public.ecr.aws/nginx/nginx:1.27")
    ),
)
app.synth()
