"""The transport-free serving layer: the service's calls (protobuf in, protobuf out, with a call
context), the one call policy both doors share (API keys, quotas, admission, draining, idle
streams), the error table and the converters between protobuf and domain types. ``grpc/`` and
``http/`` are adapters over this package and never import each other."""
