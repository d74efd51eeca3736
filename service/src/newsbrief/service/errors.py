"""Domain errors of newsbrief. This module imports no grpc: the transport maps these to statuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request, named as the API names it (e.g. ``target_languages[1]``)."""

    field: str
    description: str


class NewsbriefError(Exception):
    """Base of every error the service raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # raised in a pipeline worker process and re-raised here: rebuilt from its attributes,
        # since the subclasses' constructors do not take their message back
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[NewsbriefError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidArgument(NewsbriefError):
    """The request is bad: empty, too long, a bad language code or option."""

    def __init__(self, violations: list[FieldViolation] | FieldViolation) -> None:
        if isinstance(violations, FieldViolation):
            violations = [violations]
        self.violations = list(violations)
        text = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(f"invalid request: {text}")


class CapabilityUnavailable(NewsbriefError):
    """A capability the request needs is not installed or configured (e.g. no translation model)."""

    def __init__(self, capability: str, message: str, how_to_fix: str = "") -> None:
        super().__init__(message)
        self.capability = capability
        self.how_to_fix = how_to_fix


class NotReady(NewsbriefError):
    """The server is starting or draining; the caller should retry later."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class WorkerLost(NotReady):
    """The worker process running a stage of this request died (it has been replaced)."""


class Overloaded(NewsbriefError):
    """A bounded queue is full; the caller should retry later."""

    def __init__(self, message: str, retry_after_s: float = 0.5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class MessageTooLarge(NewsbriefError):
    """A request message is larger than the server accepts (retrying it cannot help)."""


class QuotaExceeded(NewsbriefError):
    """A per-key quota is spent; ``retry_after_s`` says when the key may call again."""

    def __init__(self, subject: str, message: str, retry_after_s: float = 60.0) -> None:
        super().__init__(message)
        self.subject = subject
        self.retry_after_s = retry_after_s


class Unauthenticated(NewsbriefError):
    """No API key, or an unknown one."""


class PermissionDenied(NewsbriefError):
    """A known key that may not do this."""


class DeadlineExceeded(NewsbriefError):
    """The caller's deadline passed before the work was done; the work was cancelled."""


class NotFound(NewsbriefError):
    """The thing named does not exist, or belongs to another API key (never told apart)."""


class AlreadyExists(NewsbriefError):
    """What the request would create exists already with other content (an idempotency key
    reused for another request)."""
