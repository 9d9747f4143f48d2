"""The project's plain values, shared by the configuration, the constructs, ``make cost`` and the benchmarks.

No CDK import anywhere in this package: ``config/`` builds and checks
an environment from these without loading the CDK, so ``make secrets``,
``make cost`` and the benchmarks read an environment in milliseconds.

* ``sampling_policy``: the X-Ray sampling rules and every form they take.
* ``fargate``: where requests enter, the night schedule, what the sidecars reserve.
* ``app_environment``: the app container's environment, by the service's contract.
* ``aws_limits``: AWS's fixed limits the configuration checks against.
* ``alarm_thresholds``: when each alarm fires (the environment's ``alarms`` section).
* ``app_container``: what the app container runs (the environment's ``app`` section).
* ``table_index``: a global secondary index of the app's table (the environment's ``table`` section).
* ``collector_xray``: what the collector does for X-Ray on each X-Ray path.
"""
