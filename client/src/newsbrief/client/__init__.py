"""newsbrief client: ``from newsbrief.client import Client``.

Imports only the standard library, grpcio and protobuf.
"""

from newsbrief.client.client import AsyncClient, Client
from newsbrief.client.errors import (
    AuthenticationError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NewsbriefError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnavailableError,
    from_rpc_error,
)
from newsbrief.client.types import (
    ArticleMetadata,
    Brief,
    Capability,
    DetectedLanguage,
    Faithfulness,
    LanguageResult,
    Limits,
    ModelInfo,
    Notice,
    ServerInfo,
    StreamItem,
    SummarizeRequest,
    SummarizeResult,
    Timings,
    TranslateResult,
    Translation,
)

__all__ = [
    "ArticleMetadata",
    "AsyncClient",
    "AuthenticationError",
    "Brief",
    "Capability",
    "Client",
    "DeadlineExceededError",
    "DetectedLanguage",
    "FailedPreconditionError",
    "Faithfulness",
    "InternalError",
    "InvalidArgumentError",
    "LanguageResult",
    "Limits",
    "ModelInfo",
    "NewsbriefError",
    "NotFoundError",
    "Notice",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "ServerInfo",
    "StreamItem",
    "SummarizeRequest",
    "SummarizeResult",
    "Timings",
    "TranslateResult",
    "Translation",
    "UnavailableError",
    "from_rpc_error",
]
