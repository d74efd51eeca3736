"""What the service says about itself: logs and request ids (:mod:`.logs`), and metrics and
traces behind one facade (:mod:`.telemetry`, over :mod:`.metrics` and :mod:`.tracing`)."""
