"""Loopback stand-ins for the service's backends, each speaking its real protocol; one module per backend.

    from testsupport.standins.otlp import OtlpReceiver
    from testsupport.standins.xray_daemon import XRayDaemon

    with OtlpReceiver() as collector, XRayDaemon() as daemon:
        environ = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "XRAY_DAEMON_ADDRESS": daemon.address}
        ...
        collector.spans_named("home-activities"), daemon.segments_of(trace_id)

* ``otlp.OtlpReceiver``: an HTTP server that decodes OTLP/HTTP protobuf
  (``ExportTraceServiceRequest``) with opentelemetry-proto.
* ``xray_daemon.XRayDaemon``: a UDP socket that reads X-Ray daemon frames
  (a ``{"format": "json", "version": 1}`` header line, then the document);
  ``all_subsegments`` walks a segment.
* ``xray_sampling_api.XRaySamplingApi``: X-Ray's sampling API as the daemon
  (and the collector's awsproxy) serve it on TCP 2000:
  ``POST /GetSamplingRules`` and ``POST /SamplingTargets``, with X-Ray's JSON,
  every request held to X-Ray's published model (``aws_model.AwsModel``);
  a test sets a rule's target and its ``SamplingBoost``.
* ``rollbar.RollbarApi``: Rollbar's item API.
* ``aws``: ``MotoServer`` (moto_server, any AWS API), ``create_service_table``,
  ``FailingDynamoDb`` and ``CloudWatchLogsApi`` (a counter for benchmarks).
* ``moto_server``: the program ``MotoServer`` runs.

Each listens on 127.0.0.1 only, can answer with errors or slowly
(``status``, ``delay_seconds``), and every wait is bounded. Every stand-in is
a context manager: it listens on entry and is gone on exit.
"""
