"""The gRPC transport: converters, servicer, interceptors. No business rule lives here."""
