"""What an operator watches: Prometheus metrics, request-scoped logs, optional OpenTelemetry traces."""
