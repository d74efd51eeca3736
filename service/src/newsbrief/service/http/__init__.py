"""The HTTP/JSON front end: the same SummarizerService over the Connect protocol (JSON or binary
protobuf, also gRPC-Web) beside the gRPC port, with health/readiness probes, the OpenAPI document
and the editor's web page. It calls the same servicer (convert -> pipeline -> convert) and applies
the same API keys, quotas, request ids and error table as the gRPC front end."""
