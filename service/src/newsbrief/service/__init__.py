"""newsbrief service: the gRPC server, its pipeline and models."""

__version__ = "0.1.0"
