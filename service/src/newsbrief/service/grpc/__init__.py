"""The gRPC transport: converters, servicer, interceptors and server. No business rule lives here."""
