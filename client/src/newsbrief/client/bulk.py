"""The resumable bulk job of ``newsbrief batch`` as a library function: :func:`run_bulk` reads
articles from a JSON-lines file, summarises them over one stream at a time (reconnecting when a
stream breaks) and appends one result line per article to an output file that a later run
resumes from.

Uses the standard library and :class:`~newsbrief.client.Client` only.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from google.protobuf import json_format

from newsbrief.client.client import Client
from newsbrief.client.errors import ResourceExhaustedError, UnavailableError
from newsbrief.client.types import LENGTHS, METHODS, SummarizeRequest
from newsbrief.v1 import newsbrief_pb2 as pb


class BulkInputError(ValueError):
    """An input or output file of the bulk job cannot be read."""


@dataclass(frozen=True)
class BulkReport:
    """What one run of :func:`run_bulk` did."""

    ok: int
    """Articles answered with a brief in this run."""
    failed: int
    """Articles answered with an error in this run (refused lines included)."""
    already_done: int
    """Articles skipped because the output already held them."""
    previous_failures: int
    """Of those, how many were errors (kept: not run again without ``retry_errors``)."""
    ignored_lines: tuple[int, ...] = ()
    """Input lines that had keys the job does not use (ignored unless ``strict``)."""
    ignored_keys: frozenset[str] = frozenset()

    @property
    def failures(self) -> int:
        """Errors in the output: this run's and those kept from before."""
        return self.previous_failures + self.failed


def languages(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Language codes from a list or a comma-separated string (``"ko, ms"``)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if not all(isinstance(v, str) for v in value):
        raise ValueError("languages must be strings")
    return tuple(value)


def _snake_case(raw: bytes) -> dict[str, Any]:
    """A response as JSON with the proto's own snake_case field names, like the input lines
    (``key_points``, ``source_language``); ``json_format.Parse`` reads either spelling."""
    message = pb.SummarizeResponse.FromString(raw)
    out: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return out


def _id_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _error_record(
    id_: Any, code: str, message: str, violations: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    return {
        "id": id_,
        "error": {
            "code": code,
            "message": message,
            "field_violations": [{"field": f, "description": d} for f, d in violations],
        },
    }


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_done(path: str, retry_errors: bool) -> dict[str, bool]:
    """Read an existing OUT.jsonl: id key -> True (ok) / False (error).

    A torn last line (a kill mid-write) and unreadable lines are dropped, and with
    ``retry_errors`` so are error lines; when anything is dropped the file is rewritten
    atomically (temporary file, fsync, rename), so appending afterwards never duplicates an id.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise BulkInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    done: dict[str, bool] = {}
    keep: list[bytes] = []
    changed = False
    for line in data.splitlines(keepends=True):
        record: Any = None
        if line.endswith(b"\n"):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
        if not (
            isinstance(record, dict)
            and "id" in record
            and ("response" in record or "error" in record)
        ):
            changed = True  # torn or unreadable: the article is run again
            continue
        key = _id_key(record["id"])
        ok = "response" in record
        if key in done or (retry_errors and not ok):
            changed = True
            continue
        done[key] = ok
        keep.append(line)
    if changed:
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as fh:
            fh.write(b"".join(keep))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path)
    return done


class _Output:
    """Appends one JSON line per record, flushed and fsynced, so a kill leaves whole lines."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


def _duration(seconds: float) -> str:
    """``75.2`` -> ``1m15s``; ``3700`` -> ``1h01m``."""
    whole = int(seconds + 0.5)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


class Progress:
    """A one-line progress bar on a stream (redrawn at most ten times a second)."""

    def __init__(self, total: int, stream: TextIO, enabled: bool, done: int = 0) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled
        self.ok = 0
        self.failed = 0
        self.start_done = done
        self._started = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    def add(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self.ok += 1
            else:
                self.failed += 1
            self._draw(force=False)

    def _draw(self, force: bool) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        done = self.start_done + self.ok + self.failed
        total = max(self.total, done)
        width = 30
        filled = int(width * done / total) if total else width
        rate = (self.ok + self.failed) / max(now - self._started, 1e-6)
        left = total - done
        eta = f" ETA {_duration(left / rate)}" if left and rate > 0 else ""
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
            f" ok {self.ok} failed {self.failed} {rate:.1f}/s{eta}  "
        )
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            with self._lock:
                self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()


#: The keys of an input line of :func:`run_bulk` (and of ``newsbrief jobs create``).
BATCH_KEYS = {
    "id",
    "text",
    "html",
    "title",
    "lang",
    "to",
    "length",
    "sentences",
    "words",
    "method",
    "key_points",
    "reference",
    "article_text",
}


def batch_request(record: dict[str, Any], id_: Any, *, strict: bool = False) -> SummarizeRequest:
    """One input line -> a request (ValueError with a field name prefix when wrong). Keys this
    command does not know are ignored (the caller counts them), or refused with ``strict``."""

    def text_field(name: str) -> str | None:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name}: must be a string")
        return value

    def int_field(name: str) -> int:
        value = record.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name}: must be a non-negative integer")
        return value

    def bool_field(name: str) -> bool:
        value = record.get(name, False)
        if not isinstance(value, bool):
            raise ValueError(f"{name}: must be true or false")
        return value

    unknown = set(record) - BATCH_KEYS
    if unknown and strict:
        raise ValueError(f"{sorted(unknown)[0]}: unknown key (--strict)")
    text, html = text_field("text"), text_field("html")
    if (text is None) == (html is None):
        raise ValueError("text: give exactly one of text or html")
    length = record.get("length")
    if length is not None and length not in LENGTHS:
        raise ValueError(f"length: must be one of {', '.join(LENGTHS)}")
    method = record.get("method", "auto")
    if method not in METHODS:
        raise ValueError(f"method: must be one of {', '.join(METHODS)}")
    try:
        targets = languages(record.get("to"))
    except (TypeError, ValueError):
        raise ValueError(
            "to: must be a list of language codes or a comma-separated string"
        ) from None
    return SummarizeRequest(
        text=text,
        html=html,
        title=text_field("title") or "",
        source_language=text_field("lang") or "",
        target_languages=targets,
        length=length,
        max_sentences=int_field("sentences"),
        max_words=int_field("words"),
        method=method,
        max_key_points=int_field("key_points"),
        client_reference=text_field("reference") or str(id_),
        include_article_text=bool_field("article_text"),
    )


def _reconnect_delay(asked: float | None, attempt: int) -> float:
    """The server's retry delay when it gave one, else 0.5 s doubling per failed attempt (at
    most 30 s)."""
    if asked is not None:
        return min(max(asked, 0.0), 60.0)
    return min(0.5 * 2 ** max(attempt - 1, 0), 30.0)


def run_bulk(
    connect: Callable[[], Client],
    input_path: str,
    output_path: str,
    *,
    concurrency: int = 8,
    stream_timeout: float | None = None,
    reconnects: int = 10,
    retry_errors: bool = False,
    strict: bool = False,
    progress: bool = False,
    log: TextIO | None = None,
) -> BulkReport:
    """Summarise every article of ``input_path`` (one JSON object a line, the keys of
    :data:`BATCH_KEYS`) over one stream of ``connect()``'s client at a time, appending one line
    per article to ``output_path`` (``{"id", "response"}`` or ``{"id", "error"}``).

    Resumable: ids already in ``output_path`` are skipped (with ``retry_errors``, failed ones
    run again), a torn last line is dropped first, and every line is fsynced as it is written.
    A stream that breaks (UNAVAILABLE, or RESOURCE_EXHAUSTED with a retry delay) is opened
    again after the server's delay (else 0.5 s doubling, at most 30 s) and its unanswered
    articles are sent first; after ``reconnects`` attempts in a row that answer nothing the
    error is raised. Notes and a progress bar (``progress``) go to ``log`` (stderr).
    Raises :class:`BulkInputError` (a ValueError) when ``input_path`` cannot be read."""
    log = log if log is not None else sys.stderr
    try:
        with open(input_path, "rb") as fh:
            total = sum(1 for line in fh if line.strip())
    except OSError as exc:
        raise BulkInputError(f"cannot read {input_path}: {exc.strerror or exc}") from exc
    done = load_done(output_path, retry_errors)
    previous_failures = sum(1 for ok in done.values() if not ok)
    bar = Progress(total, log, enabled=progress, done=len(done))
    output = _Output(output_path)
    seen: set[str] = set()
    ignored_lines: list[int] = []
    ignored_keys: set[str] = set()

    def record_local_error(id_: Any, message: str, field: str = "") -> None:
        violations = [(field, message)] if field else []
        output.write(_error_record(id_, "INVALID_ARGUMENT", message, violations))
        bar.add(ok=False)

    def work() -> Iterator[tuple[Any, SummarizeRequest]]:
        with open(input_path, encoding="utf-8", errors="replace") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    id_: Any = lineno
                    if _id_key(id_) in done or _id_key(id_) in seen:
                        continue
                    seen.add(_id_key(id_))
                    record_local_error(id_, f"line {lineno}: bad JSON: {exc}")
                    continue
                if not isinstance(record, dict):
                    record = {"id": lineno, "_not_an_object": True}
                id_ = record.get("id", lineno)
                key = _id_key(id_)
                if key in done:
                    continue
                if key in seen:
                    print(f"warning: line {lineno}: duplicate id {key} skipped", file=log)
                    continue
                seen.add(key)
                if record.get("_not_an_object"):
                    record_local_error(id_, f"line {lineno}: not a JSON object")
                    continue
                try:
                    request = batch_request(record, id_, strict=strict)
                    extra = set(record) - BATCH_KEYS
                    if extra:
                        ignored_lines.append(lineno)
                        ignored_keys.update(extra)
                except ValueError as exc:
                    field, _, message = str(exc).partition(": ")
                    record_local_error(id_, f"line {lineno}: {exc}", field if message else "")
                    continue
                yield id_, request

    try:
        items = work()
        first = next(items, None)
        # Articles sent on the current stream and not yet answered, by their index on it: when
        # the stream breaks (UNAVAILABLE: a restart, a connection rotation; RESOURCE_EXHAUSTED
        # with a retry delay: a quota) they are sent again first on a new stream.
        unanswered: dict[int, tuple[Any, SummarizeRequest]] = {}
        resend: list[tuple[Any, SummarizeRequest]] = [first] if first is not None else []
        attempts = 0
        # grpc pulls requests() from its own thread, which may still be inside it as a broken
        # stream is given up: pulling from ``items`` is serialised, and a given-up stream's
        # requests() pulls no more.
        pulling = threading.Lock()
        closed: list[bool] = []
        while resend:
            with connect() as client:
                unanswered.clear()
                answered = 0
                # articles the server could not take yet (UNAVAILABLE: starting, draining):
                # sent again on the next stream, after the delay the server asked for
                later: list[tuple[Any, SummarizeRequest]] = []
                later_delay: float | None = None
                closed = []
                pulled = [0]  # how many entries this attempt's requests() has taken
                again = resend

                def requests(
                    closed: list[bool] = closed,
                    again: list[Any] = again,
                    pulled: list[int] = pulled,
                ) -> Iterator[SummarizeRequest]:
                    for index in itertools.count():
                        with pulling:
                            if closed:
                                return
                            if index < len(again):
                                entry = again[index]
                            else:
                                entry = next(items, None)
                                if entry is None:
                                    return
                            unanswered[index] = entry
                            pulled[0] = index + 1
                        yield entry[1]

                try:
                    for item in client.summarize_many(
                        requests(), timeout=stream_timeout, max_in_flight=concurrency
                    ):
                        taken = unanswered.pop(item.index)
                        id_ = taken[0]
                        if item.result is None and isinstance(item.error, UnavailableError):
                            later.append(taken)
                            later_delay = item.error.retry_delay
                            continue
                        answered += 1
                        if item.result is not None:
                            output.write({"id": id_, "response": _snake_case(item.result.raw)})
                            bar.add(ok=True)
                        else:
                            err = item.error
                            output.write(
                                _error_record(
                                    id_,
                                    err.status_name if err else "UNKNOWN",
                                    err.message if err else "no result",
                                    err.field_violations if err else (),
                                )
                            )
                            bar.add(ok=False)
                    resend = later
                    if later:
                        attempts = 0 if answered else attempts + 1
                        if attempts > reconnects:
                            for id_, _ in later:
                                output.write(
                                    _error_record(id_, "UNAVAILABLE", "the server was not ready")
                                )
                                bar.add(ok=False)
                            break
                        delay = _reconnect_delay(later_delay, attempts)
                        print(
                            f"{len(later)} articles not taken (UNAVAILABLE); sending them again "
                            f"in {delay:.1f} s",
                            file=log,
                        )
                        time.sleep(delay)
                except (UnavailableError, ResourceExhaustedError) as exc:
                    with pulling:
                        closed.append(True)
                    retryable = isinstance(exc, UnavailableError) or exc.retry_delay is not None
                    attempts = 0 if answered else attempts + 1
                    if not retryable or attempts > reconnects:
                        raise
                    # the unanswered ones, then those to resend that this attempt never took
                    resend = (
                        later + [unanswered[i] for i in sorted(unanswered)] + again[pulled[0] :]
                    )
                    if not resend:
                        entry = next(items, None)
                        resend = [entry] if entry is not None else []
                    delay = _reconnect_delay(exc.retry_delay, attempts)
                    print(
                        f"stream ended ({exc.status_name}: {exc.message}); resuming "
                        f"{len(resend)} unanswered in {delay:.1f} s",
                        file=log,
                    )
                    time.sleep(delay)
    finally:
        bar.close()
        output.close()
    return BulkReport(
        ok=bar.ok,
        failed=bar.failed,
        already_done=len(done),
        previous_failures=previous_failures,
        ignored_lines=tuple(ignored_lines),
        ignored_keys=frozenset(ignored_keys),
    )
