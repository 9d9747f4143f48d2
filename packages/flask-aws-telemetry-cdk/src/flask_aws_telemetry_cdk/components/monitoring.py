"""The monitoring facade: one SNS topic, the alarms every resource family raises into it, named from one prefix.

Split as cdk-monitoring-constructs splits it: this facade holds the topic
and the thresholds (one ``AlarmThresholds``, from the environment's
``alarms`` section); one monitoring class per resource family creates its
alarms and metric filters in the facade and hands its metrics to the
dashboard:

    service_monitoring.py        the service's tasks and its app log lines
    load_balancer_monitoring.py  the load balancer and its target group
    http_api_monitoring.py       the HTTP API
    slo_monitoring.py            the objectives at the entry point and their burn-rate alarms
    dashboard.py                 the dashboard that shows them

Like cdk-monitoring-constructs' ``Monitoring`` classes, the families are not
constructs: their alarms are the facade's children, named ``<prefix>-<Alarm>``.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from flask_aws_telemetry_cdk.models.alarm_thresholds import AlarmThresholds


class MonitoringFacade(Construct):
    """``topic``, which every alarm that pages notifies (alarm and OK), ``notice_topic`` for the slow burn of an
    objective's budget (lower severity: subscribe a ticket queue, not a pager), and ``alarms`` and
    ``composite_alarms`` by name; ``alarm_email`` subscribed to both topics.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        thresholds: AlarmThresholds,
        alarm_email: str | None = None,
    ) -> None:
        """Alarms named ``<name_prefix>-<Alarm>`` fire by ``thresholds``; ``alarm_email`` (default none) is told."""
        super().__init__(scope, construct_id)
        self.name_prefix = name_prefix
        self.thresholds = thresholds
        self.period = Duration.minutes(thresholds.period_minutes)
        self.topic = sns.Topic(self, "AlarmTopic", display_name=f"{name_prefix} alarms", enforce_ssl=True)
        self.notice_topic = sns.Topic(
            self, "NoticeTopic", display_name=f"{name_prefix} notices (no page)", enforce_ssl=True
        )
        if alarm_email is not None:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
            self.notice_topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.composite_alarms: dict[str, cloudwatch.CompositeAlarm] = {}

    def alarm(self, alarm_id: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> cloudwatch.Alarm:
        """An alarm at or above ``threshold`` for the thresholds' evaluation periods; no data is not a breach."""
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            alarm_name=f"{self.name_prefix}-{alarm_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=self.thresholds.evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = cloudwatch_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms[alarm_id] = alarm
        return alarm
