"""What the tests and the benchmarks share: stand-ins, the service under gunicorn, and template reading.

Both ``tests/`` and ``bench/`` import it as a package from the repository
root (``pytest.ini`` sets ``pythonpath = .``; benchmarks and scripts run as
``python -m bench.overhead``), so no file edits the import path.

* ``testsupport.standins``: the backends the service talks to, on
  loopback, speaking their real protocols (one module per backend):
  ``otlp`` (the collector's OTLP/HTTP receiver), ``xray_daemon`` (the
  daemon's UDP frames), ``xray_sampling_api`` (the sampling API on TCP
  2000), ``rollbar`` (Rollbar's item API), ``aws`` (moto_server for any
  AWS API, a table of the service's design, DynamoDB that fails, a
  counting CloudWatch Logs), and ``moto_server`` (the program ``aws.MotoServer``
  runs: moto with the CloudFormation fixes the emulator deploy cycle needs).
* ``testsupport.waiting``: ``wait_until`` (bounded polling) and
  ``closed_port`` (a loopback port nothing listens on).
* ``testsupport.gunicorn``: the service started the way the task starts it
  (``start_gunicorn``), stopped the way ECS stops it (``stop``), given a
  synthesized container's environment (``task_environment``), and sent the
  frontend's post (``post_activity``).
* ``testsupport.templates``: reading a synthesized environment
  (``flask_aws_telemetry_cdk.assembly.SynthesizedEnvironment``): its task definition, the
  app container and the sidecars, the deployed sampling rules, the
  collector's configuration, alarms, role policies.

The package holds no test and no fixture: fixtures stay in the
``conftest.py`` next to the tests that use them.
"""

from pathlib import Path

# The repository's root: the tests run the CDK app, the Makefile and the examples from here.
REPO_ROOT = Path(__file__).resolve().parents[1]
