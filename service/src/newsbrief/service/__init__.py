"""newsbrief service: the gRPC server, its pipeline and backends."""

__version__ = "0.1.0"
