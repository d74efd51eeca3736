"""``newsbrief``: the command-line client of the newsbrief service.

``main(argv)`` returns the exit code, so it can run in-process. Expected errors are printed as
``error: <STATUS>: <message>`` (plus field violations) on stderr, never as a traceback.

``--json`` output is protobuf's standard proto3 JSON mapping (``json_format.MessageToJson`` with
lowerCamelCase field names, e.g. ``keyPoints``, ``sourceLanguage``; fields at their default value
are omitted), so ``json_format.Parse(output, SummarizeResponse())`` reads it back.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO

from google.protobuf import json_format

from newsbrief.client.client import Client
from newsbrief.client.errors import (
    AuthenticationError,
    DeadlineExceededError,
    NewsbriefError,
    ResourceExhaustedError,
    UnavailableError,
)
from newsbrief.client.types import (
    JOB_STATES,
    LENGTHS,
    METHODS,
    Job,
    SummarizeRequest,
    SummarizeResult,
)
from newsbrief.v1 import newsbrief_pb2 as pb

DEFAULT_TARGET = "localhost:50051"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

_HTML_START = re.compile(r"^\s*(<!doctype\s+html|<html\b|<head\b|<body\b|<!--)", re.IGNORECASE)
_HTML_TAGS = re.compile(r"<(p|div|article|br|h[1-6]|span|section|a)\b[^>]*>", re.IGNORECASE)


class UsageError(Exception):
    """A bad command line or input file (exit code 2)."""


# --- output helpers --------------------------------------------------------------------------


# API field -> the command-line flag or argument that sets it, per command (errors name the flag).
SUMMARIZE_FLAGS = {
    "text": "FILE",
    "html": "FILE",
    "title": "--title",
    "source_language": "--lang",
    "target_languages": "--to",
    "length": "--length",
    "max_sentences": "--sentences",
    "max_words": "--words",
    "max_key_points": "--key-points",
    "method": "--method",
    "client_reference": "--reference",
}
TRANSLATE_FLAGS = {"texts": "TEXT", "source_language": "--from", "target_languages": "--to"}
DETECT_FLAGS = {"text": "TEXT"}
_INDEX = re.compile(r"^(?P<name>[a-z_]+)\[(?P<index>\d+)\]$")


def cli_name(field: str, flags: dict[str, str]) -> str:
    """``target_languages[1]`` -> ``--to (2nd value)``; fields without a flag keep their name."""
    match = _INDEX.match(field)
    name, index = (match["name"], int(match["index"])) if match else (field, None)
    flag = flags.get(name)
    if flag is None:
        return field
    if index is None:
        return flag
    n = index + 1
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{flag} ({n}{suffix} value)"


def _print_error(
    error: NewsbriefError,
    stream: TextIO,
    flags: dict[str, str] | None = None,
    target: str = "",
) -> None:
    """One report per error: bad fields are named by their CLI flag, and the server's message
    (which repeats them) is left out; an unreachable server gets a hint."""
    violations = [(cli_name(f, flags or {}), d) for f, d in error.field_violations]
    if len(violations) == 1:
        print(f"error: {error.status_name}: {violations[0][0]}: {violations[0][1]}", file=stream)
    elif violations:
        print(f"error: {error.status_name}: {len(violations)} problems", file=stream)
        for name, description in violations:
            print(f"  {name}: {description}", file=stream)
    elif isinstance(error, UnavailableError) and error.retry_delay is None:
        print(f"error: UNAVAILABLE: cannot reach a newsbrief server at {target}", file=stream)
        print(f"  ({error.message})", file=stream)
        print(
            "  hint: start one with `make run` (or `newsbrief-server`), or point --target "
            "(or $NEWSBRIEF_TARGET) at yours",
            file=stream,
        )
        return
    else:
        print(f"error: {error.status_name}: {error.message}", file=stream)
    for subject, description in error.quota_violations:
        print(f"  quota {subject}: {description}", file=stream)
    for kind, subject, description in error.precondition_violations:
        print(f"  {kind} {subject}: {description}", file=stream)
    if error.retry_delay is not None:
        print(f"  retry after {error.retry_delay:g}s", file=stream)
    if error.request_id and not violations:
        print(f"  request id: {error.request_id}", file=stream)


def _error_exit_code(error: NewsbriefError) -> int:
    """Connection-level failures (unreachable, timed out, not authenticated) exit 2, others 1."""
    if isinstance(error, UnavailableError | DeadlineExceededError | AuthenticationError):
        return EXIT_USAGE
    return EXIT_FAILED


def _message_json(raw: bytes, message_type: Any) -> str:
    message = message_type()
    message.ParseFromString(raw)
    return str(json_format.MessageToJson(message, indent=2))


def looks_like_html(content: str) -> bool:
    """True when ``content`` starts like an HTML document or is mostly markup."""
    if _HTML_START.match(content):
        return True
    return content.lstrip().startswith("<") and bool(_HTML_TAGS.search(content))


def _print_result(result: SummarizeResult, out: TextIO) -> None:
    brief = result.brief
    if brief.headline:
        print(brief.headline, file=out)
        print("=" * min(len(brief.headline), 78), file=out)
    if brief.summary:
        print(brief.summary, file=out)
    if brief.key_points:
        print("\nKey points:", file=out)
        for point in brief.key_points:
            print(f"  - {point}", file=out)
    lang = result.source_language
    how = "given" if lang.given else f"confidence {lang.confidence:.2f}"
    print(f"\nLanguage: {lang.code or 'und'} ({how})", file=out)
    if result.method:
        print(f"Method: {result.method}{' (cached)' if result.cached else ''}", file=out)
    if result.faithfulness.issues:
        print("Faithfulness issues:", file=out)
        for issue in result.faithfulness.issues:
            print(f"  ! {issue}", file=out)
    if result.warnings:
        print("Warnings:", file=out)
        for warning in result.warnings:
            print(f"  ! {warning.code}: {warning.message}", file=out)
    for translation in result.translations:
        print(f"\n[{translation.language}] {translation.brief.headline}", file=out)
        if translation.brief.summary:
            print(translation.brief.summary, file=out)
        for point in translation.brief.key_points:
            print(f"  - {point}", file=out)
    if result.article_text:
        print("\nArticle text:\n", file=out)
        print(result.article_text, file=out)


def _languages(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if not all(isinstance(v, str) for v in value):
        raise ValueError("languages must be strings")
    return tuple(value)


# --- commands ----------------------------------------------------------------------------------


def _make_client(args: argparse.Namespace) -> Client:
    return Client(
        args.target,
        api_key=args.api_key or None,
        timeout=args.timeout,
        tls=args.tls,
        root_certificates=args.ca,
        private_key=args.key,
        certificate_chain=args.cert,
        retries=args.retries,
    )


def _read_input(path: str) -> str:
    try:
        if path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8: {exc}") from exc


def _cmd_summarize(args: argparse.Namespace) -> int:
    content = _read_input(args.file)
    is_html = args.html or (not args.text and looks_like_html(content))
    with _make_client(args) as client:
        result = client.summarize(
            None if is_html else content,
            html=content if is_html else None,
            title=args.title,
            source_language=args.lang,
            target_languages=_languages(args.to),
            length=args.length,
            max_sentences=args.sentences,
            max_words=args.words,
            method=args.method,
            max_key_points=args.key_points,
            client_reference=args.reference,
            include_article_text=args.article_text,
        )
    if args.json:
        print(_message_json(result.raw, pb.SummarizeResponse))
    else:
        _print_result(result, sys.stdout)
    return EXIT_OK


def _cmd_info(args: argparse.Namespace) -> int:
    with _make_client(args) as client:
        info = client.server_info()
    if args.json:
        print(_message_json(info.raw, pb.GetServerInfoResponse))
        return EXIT_OK
    print(f"newsbrief server {info.version or '(unknown version)'}")
    print(f"summary languages:     {', '.join(info.summary_languages) or '-'}")
    print(f"translation languages: {', '.join(info.translation_languages) or '-'}")
    if info.models:
        print("models:")
        for m in info.models:
            state = "ready" if m.ready else f"NOT READY ({m.detail})" if m.detail else "NOT READY"
            licence = f", licence {m.licence}" if m.licence else ""
            print(f"  {m.role:<18} {m.id} [{m.backend or '?'}{licence}] {state}")
    if info.capabilities:
        print("capabilities:")
        for c in info.capabilities:
            state = "ready" if c.ready else "not ready"
            print(f"  {c.name:<24} {state}{': ' + c.detail if c.detail else ''}")
    lim = info.limits
    print(
        "limits: "
        f"text {lim.max_text_chars} chars, html {lim.max_html_bytes} bytes, "
        f"{lim.max_target_languages} target languages, {lim.max_translate_texts} texts/translate"
    )
    return EXIT_OK


def _cmd_health(args: argparse.Namespace) -> int:
    with _make_client(args) as client:
        status = client.health(args.service)
    print(status)
    return EXIT_OK if status == "SERVING" else EXIT_FAILED


def _texts(args: argparse.Namespace) -> list[str]:
    """TEXT arguments, or the non-blank lines of --file (``-`` = stdin)."""
    if args.texts and args.file:
        raise UsageError("give TEXT arguments or --file, not both")
    if args.file:
        return [line.strip() for line in _read_input(args.file).splitlines() if line.strip()]
    if not args.texts:
        raise UsageError("nothing to do: give TEXT arguments or --file FILE")
    return list(args.texts)


def _print_warnings(warnings: Sequence[Any], out: TextIO) -> None:
    for warning in warnings:
        print(f"  ! {warning.code}: {warning.message}", file=out)


def _cmd_translate(args: argparse.Namespace) -> int:
    texts = _texts(args)
    with _make_client(args) as client:
        result = client.translate(texts, _languages(args.to), args.source)
    if args.json:
        print(_message_json(result.raw, pb.TranslateResponse))
        return EXIT_OK
    lang = result.source_language
    how = "given" if lang.given else f"detected, confidence {lang.confidence:.2f}"
    print(f"from {lang.code} ({how})")
    for language, translated in result.translations.items():
        print(f"\n[{language}]")
        for text in translated:
            print(text)
    _print_warnings(result.warnings, sys.stdout)
    return EXIT_OK


def _cmd_detect(args: argparse.Namespace) -> int:
    text = "\n".join(_texts(args))
    with _make_client(args) as client:
        result = client.detect_language(text)
    if args.json:
        print(_message_json(result.raw, pb.DetectLanguageResponse))
        return EXIT_OK
    lang = result.language
    print(f"{lang.code} (confidence {lang.confidence:.2f})")
    _print_warnings(result.warnings, sys.stdout)
    return EXIT_OK


# --- batch -------------------------------------------------------------------------------------


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
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
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


_BATCH_KEYS = {
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

    unknown = set(record) - _BATCH_KEYS
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
        targets = _languages(record.get("to"))
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


def _cmd_batch(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    try:
        with open(args.input, "rb") as fh:
            total = sum(1 for line in fh if line.strip())
    except OSError as exc:
        raise UsageError(f"cannot read {args.input}: {exc.strerror or exc}") from exc
    done = load_done(args.output, args.retry_errors)
    previous_failures = sum(1 for ok in done.values() if not ok)
    progress = Progress(
        total,
        sys.stderr,
        enabled=args.progress or sys.stderr.isatty(),
        done=len(done),
    )
    output = _Output(args.output)
    seen: set[str] = set()
    ignored_lines: list[int] = []
    ignored_keys: set[str] = set()

    def record_local_error(id_: Any, message: str, field: str = "") -> None:
        violations = [(field, message)] if field else []
        output.write(_error_record(id_, "INVALID_ARGUMENT", message, violations))
        progress.add(ok=False)

    def work() -> Iterator[tuple[Any, SummarizeRequest]]:
        with open(args.input, encoding="utf-8", errors="replace") as fh:
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
                    print(f"warning: line {lineno}: duplicate id {key} skipped", file=sys.stderr)
                    continue
                seen.add(key)
                if record.get("_not_an_object"):
                    record_local_error(id_, f"line {lineno}: not a JSON object")
                    continue
                try:
                    request = batch_request(record, id_, strict=args.strict)
                    extra = set(record) - _BATCH_KEYS
                    if extra:
                        ignored_lines.append(lineno)
                        ignored_keys.update(extra)
                except ValueError as exc:
                    field, _, message = str(exc).partition(": ")
                    record_local_error(id_, f"line {lineno}: {exc}", field if message else "")
                    continue
                yield id_, request

    failures = 0
    try:
        items = work()
        first = next(items, None)
        # Articles sent on the current stream and not yet answered, by their index on it: when
        # the stream breaks (UNAVAILABLE: a restart, a connection rotation; RESOURCE_EXHAUSTED
        # with a retry delay: a quota) they are sent again first on a new stream.
        unanswered: dict[int, tuple[Any, SummarizeRequest]] = {}
        resend: list[tuple[Any, SummarizeRequest]] = [first] if first is not None else []
        reconnects = 0
        # grpc pulls requests() from its own thread, which may still be inside it as a broken
        # stream is given up: pulling from ``items`` is serialised, and a given-up stream's
        # requests() pulls no more.
        pulling = threading.Lock()
        closed: list[bool] = []
        while resend:
            with _make_client(args) as client:
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
                        requests(), timeout=args.stream_timeout, max_in_flight=args.concurrency
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
                            progress.add(ok=True)
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
                            progress.add(ok=False)
                    resend = later
                    if later:
                        reconnects = 0 if answered else reconnects + 1
                        if reconnects > args.reconnects:
                            for id_, _ in later:
                                output.write(
                                    _error_record(id_, "UNAVAILABLE", "the server was not ready")
                                )
                                progress.add(ok=False)
                            break
                        delay = _reconnect_delay(later_delay, reconnects)
                        print(
                            f"{len(later)} articles not taken (UNAVAILABLE); sending them again "
                            f"in {delay:.1f} s",
                            file=sys.stderr,
                        )
                        time.sleep(delay)
                except (UnavailableError, ResourceExhaustedError) as exc:
                    with pulling:
                        closed.append(True)
                    retryable = isinstance(exc, UnavailableError) or exc.retry_delay is not None
                    reconnects = 0 if answered else reconnects + 1
                    if not retryable or reconnects > args.reconnects:
                        raise
                    # the unanswered ones, then those to resend that this attempt never took
                    resend = (
                        later + [unanswered[i] for i in sorted(unanswered)] + again[pulled[0] :]
                    )
                    if not resend:
                        entry = next(items, None)
                        resend = [entry] if entry is not None else []
                    delay = _reconnect_delay(exc.retry_delay, reconnects)
                    print(
                        f"stream ended ({exc.status_name}: {exc.message}); resuming "
                        f"{len(resend)} unanswered in {delay:.1f} s",
                        file=sys.stderr,
                    )
                    time.sleep(delay)
    finally:
        progress.close()
        output.close()
    failures = previous_failures + progress.failed
    print(
        f"{progress.ok} ok, {progress.failed} failed"
        f"{f', {len(done)} already done' if done else ''} -> {args.output}",
        file=sys.stderr,
    )
    if ignored_lines:
        print(
            f"{len(ignored_lines)} input lines had keys this command does not use, ignored: "
            f"{', '.join(sorted(ignored_keys))} (first on line {ignored_lines[0]}; "
            "--strict refuses them)",
            file=sys.stderr,
        )
    return EXIT_FAILED if failures else EXIT_OK


# --- jobs --------------------------------------------------------------------------------------


def job_requests(path: str, to: str) -> list[SummarizeRequest]:
    """The articles of ``jobs create``: a .jsonl file holds one article per line (the keys of
    ``batch``); any other file is one article (text or HTML). ``to`` (ko,ms) applies to every
    article that names no languages of its own."""
    content = _read_input(path)
    targets = _languages(to)
    if not path.endswith(".jsonl"):
        html = looks_like_html(content)
        return [
            SummarizeRequest(
                text=None if html else content,
                html=content if html else None,
                target_languages=targets,
            )
        ]
    out: list[SummarizeRequest] = []
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("must be a JSON object")
            if targets and "to" not in record:
                record = {**record, "to": list(targets)}
            out.append(batch_request(record, record.get("id", number)))
        except ValueError as exc:
            raise UsageError(f"{path}:{number}: {exc}") from None
    if not out:
        raise UsageError(f"{path} holds no article")
    return out


def _print_job(job: Job, out: TextIO, *, as_json: bool, articles: bool = True) -> None:
    if as_json:
        print(json.dumps(job.to_dict(), ensure_ascii=False), file=out)
        return
    done = job.succeeded_count + job.failed_count
    print(
        f"{job.id}  {job.state}  {done}/{job.article_count} done "
        f"({job.succeeded_count} ok, {job.failed_count} failed)",
        file=out,
    )
    if job.webhook is not None:
        codes = ", ".join(str(c) for c in job.webhook.attempts) or "no attempt yet"
        print(f"  webhook {job.webhook.delivery_id}: {job.webhook.state} ({codes})", file=out)
    if not articles:
        return
    for article in job.articles:
        ref = f" [{article.client_reference}]" if article.client_reference else ""
        if article.result is not None:
            print(f"  {article.index}{ref}: {article.result.brief.headline}", file=out)
        elif article.error is not None:
            print(
                f"  {article.index}{ref}: {article.error.status_name}: {article.error.message}",
                file=out,
            )
        else:
            print(f"  {article.index}{ref}: {article.state}", file=out)


def _cmd_jobs(args: argparse.Namespace) -> int:
    with _make_client(args) as client:
        if args.jobs_command == "create":
            requests = job_requests(args.file, args.to)
            job = client.create_job(
                requests, idempotency_key=args.idempotency_key, callback_url=args.callback
            )
        elif args.jobs_command == "get":
            job = client.get_job(args.job_id)
        elif args.jobs_command == "cancel":
            job = client.cancel_job(args.job_id)
        elif args.jobs_command == "wait":
            job = client.wait_job(args.job_id, poll_s=args.poll, timeout=args.wait_timeout)
            _print_job(job, sys.stdout, as_json=args.json)
            return EXIT_OK if job.state == "succeeded" else EXIT_FAILED
        else:
            token = ""
            while True:
                jobs, token = client.list_jobs(args.state, page_token=token)
                for job in jobs:
                    _print_job(job, sys.stdout, as_json=args.json, articles=False)
                if not token:
                    return EXIT_OK
    _print_job(job, sys.stdout, as_json=args.json)
    return EXIT_OK


def _add_jobs_parser(sub: Any) -> None:
    j = _command(
        sub,
        "jobs",
        "background jobs: create, get, wait, cancel, list",
        "  newsbrief jobs create articles.jsonl --to ko,ms --idempotency-key cms-4711\n"
        "  newsbrief jobs wait job_0123... --json\n"
        "  newsbrief jobs list --state running",
        description="Jobs brief articles in the background on the server; they survive a "
        "restart, and a callback URL gets the finished job, signed. With --json a job prints as "
        "one JSON object (id, state: queued, running, succeeded, failed, cancelled; articles "
        "with their response or status when done).",
    )
    jsub = j.add_subparsers(
        dest="jobs_command",
        metavar="ACTION",
        required=True,
        help="create, get, wait, cancel or list",
    )
    c = _command(
        jsub,
        "create",
        "queue a job: FILE is one article, or .jsonl of many",
        "  newsbrief jobs create articles.jsonl --to ko,ms --idempotency-key cms-4711\n"
        "  newsbrief jobs create story.html --callback https://cms.example.org/hooks/brief --json",
    )
    c.add_argument(
        "file",
        metavar="FILE",
        help="an article (text or HTML) or a .jsonl file of articles (keys as in batch)",
    )
    c.add_argument("--to", default="", metavar="LANGS", help="translate every brief, e.g. ko,ms")
    c.add_argument(
        "--idempotency-key",
        default=None,
        metavar="KEY",
        help="the same key and articles return the same job (default: a new key)",
    )
    c.add_argument("--callback", default="", metavar="URL", help="POST the finished job here")
    for name, text in (
        ("get", "the job with its articles"),
        ("wait", "wait until the job is finished; exit 0 only when it succeeded"),
        ("cancel", "cancel a queued or running job"),
    ):
        p = _command(jsub, name, text, f"  newsbrief jobs {name} job_0123... --json")
        p.add_argument("job_id", metavar="JOB_ID", help="the job's id (from jobs create or list)")
        if name == "wait":
            p.add_argument("--poll", type=float, default=1.0, metavar="S", help="poll every S s")
            p.add_argument(
                "--wait-timeout",
                type=float,
                default=None,
                metavar="S",
                help="give up after S seconds (default: wait)",
            )
        jsub.choices[name].add_argument("--json", action="store_true", help="print JSON")
        _add_connection_options(p, top=False)
    ls = _command(
        jsub,
        "list",
        "this key's jobs, newest first",
        "  newsbrief jobs list --state running\n  newsbrief jobs list --json",
    )
    ls.add_argument("--state", choices=list(JOB_STATES), default=None, help="only jobs in S")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    c.add_argument("--json", action="store_true", help="print the job as JSON")
    _add_connection_options(c, top=False)
    _add_connection_options(ls, top=False)
    _add_connection_options(j, top=False)


# --- parser ------------------------------------------------------------------------------------


def _add_connection_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    def default(value: Any) -> Any:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("connection")
    group.add_argument(
        "--target",
        default=default(os.environ.get("NEWSBRIEF_TARGET") or DEFAULT_TARGET),
        help="server address HOST:PORT or dns:///HOST:PORT "
        "(default: $NEWSBRIEF_TARGET or localhost:50051)",
    )
    group.add_argument(
        "--api-key",
        default=default(os.environ.get("NEWSBRIEF_API_KEY")),
        help="API key sent as x-api-key (default: $NEWSBRIEF_API_KEY)",
    )
    group.add_argument("--tls", action="store_true", default=default(False), help="use TLS")
    group.add_argument("--ca", metavar="FILE", default=default(None), help="CA certificate (PEM)")
    group.add_argument(
        "--cert", metavar="FILE", default=default(None), help="client certificate (mTLS)"
    )
    group.add_argument("--key", metavar="FILE", default=default(None), help="client key (mTLS)")
    group.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        default=default(30.0),
        help="deadline of each call in seconds (default 30)",
    )
    group.add_argument(
        "--retries",
        type=int,
        metavar="N",
        default=default(3),
        help="retries when the server is unavailable (default 3)",
    )


def _version() -> str:
    try:
        return version("newsbrief-client")
    except PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


def _command(
    sub: Any, name: str, help_text: str, examples: str, description: str = ""
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=help_text,
        description=description or help_text[0].upper() + help_text[1:] + ".",
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbrief",
        description="Command-line client of the newsbrief service: briefs (headline, summary, "
        "key points) of news articles, translations, language detection.",
        epilog="examples:\n"
        "  newsbrief summarize article.txt --to ko,ms\n"
        "  newsbrief --target news-nlp:50051 info\n"
        "run `newsbrief COMMAND --help` for each command's options and examples.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"newsbrief {_version()}", help="print the version"
    )
    _add_connection_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = _command(
        sub,
        "summarize",
        "brief one article (text or HTML)",
        "  newsbrief summarize article.txt\n"
        "  curl -s https://example.com/story | newsbrief summarize - --html --to ko,ms\n"
        "  newsbrief summarize article.txt --length short --key-points 2 --json",
    )
    s.add_argument("file", metavar="FILE", help="article file (text or HTML), or - for stdin")
    kind = s.add_mutually_exclusive_group()
    kind.add_argument("--html", action="store_true", help="the input is HTML (default: detect)")
    kind.add_argument("--text", action="store_true", help="the input is plain text")
    s.add_argument("--title", default="", help="title of the article (the headline prefers it)")
    s.add_argument("--lang", default="", help="language of the article, e.g. en (default: detect)")
    s.add_argument("--to", default="", metavar="LANGS", help="translate the brief into, e.g. ko,ms")
    s.add_argument(
        "--length", choices=list(LENGTHS), default=None, help="summary length (default: medium)"
    )
    s.add_argument("--sentences", type=int, default=0, metavar="N", help="summary sentence budget")
    s.add_argument("--words", type=int, default=0, metavar="N", help="summary word budget")
    s.add_argument(
        "--key-points", type=int, default=0, metavar="N", help="most key points (default: 3)"
    )
    s.add_argument(
        "--method", choices=list(METHODS), default="auto", help="summariser (default: auto)"
    )
    s.add_argument("--reference", default="", help="client reference echoed by the server")
    s.add_argument(
        "--article-text",
        action="store_true",
        help="also print the cleaned article text the brief was made from (with --json, "
        "each summary sentence and key point carries its source span of that text: "
        "brief.summaryLines, brief.keyPointLines)",
    )
    s.add_argument("--json", action="store_true", help="print the response as JSON")
    _add_connection_options(s, top=False)

    b = _command(
        sub,
        "batch",
        "brief a JSONL file of articles into a JSONL file (resumable)",
        "  newsbrief batch articles.jsonl briefs.jsonl --progress\n"
        "  newsbrief batch articles.jsonl briefs.jsonl --retry-errors --concurrency 16",
        description='Each input line is {"id": ..., "text"|"html": ..., optional "title", '
        '"lang", "to", "length", "sentences", "words", "method", "key_points", "reference", '
        '"article_text"}; '
        "other keys are ignored and counted (--strict refuses them). Output lines are "
        '{"id", "response"} or {"id", "error"}, with snake_case keys like the input; a re-run '
        "skips ids already in OUT.",
    )
    b.add_argument("input", metavar="IN.jsonl", help="input: one JSON article per line")
    b.add_argument("output", metavar="OUT.jsonl", help="output: appended, one result per line")
    b.add_argument(
        "--concurrency", type=int, default=8, metavar="N", help="articles in flight (default 8)"
    )
    b.add_argument("--retry-errors", action="store_true", help="run ids that failed before again")
    b.add_argument("--strict", action="store_true", help="refuse input lines with unknown keys")
    b.add_argument("--progress", action="store_true", help="progress bar even without a TTY")
    b.add_argument(
        "--reconnects",
        type=int,
        default=10,
        metavar="N",
        help="when the stream ends with UNAVAILABLE (or a quota with a retry delay), reconnect "
        "and resume; give up after N attempts in a row that answer nothing (10)",
    )
    b.add_argument(
        "--stream-timeout",
        type=float,
        default=None,
        metavar="S",
        help="deadline of the whole stream in seconds (default: none)",
    )
    _add_connection_options(b, top=False)

    t = _command(
        sub,
        "translate",
        "translate texts into other languages",
        '  newsbrief translate "Floods closed the main road." --to ko,ms\n'
        "  newsbrief translate --file captions.txt --to ms --from en --json",
    )
    t.add_argument("texts", nargs="*", metavar="TEXT", help="texts to translate (or --file)")
    t.add_argument(
        "--file", metavar="FILE", help="read the texts from FILE (- = stdin), one per line"
    )
    t.add_argument(
        "--to", required=True, metavar="LANGS", help="target languages, e.g. ko,ms (required)"
    )
    t.add_argument(
        "--from",
        dest="source",
        default="",
        metavar="LANG",
        help="language of the texts (default: detect)",
    )
    t.add_argument("--json", action="store_true", help="print the response as JSON")
    _add_connection_options(t, top=False)

    d = _command(
        sub,
        "detect",
        "detect the language of a text",
        '  newsbrief detect "Banjir melanda ibu kota semalam."\n'
        "  newsbrief detect --file article.txt --json",
    )
    d.add_argument("texts", nargs="*", metavar="TEXT", help="the text (or --file)")
    d.add_argument("--file", metavar="FILE", help="read the text from FILE (- = stdin)")
    d.add_argument("--json", action="store_true", help="print the response as JSON")
    _add_connection_options(d, top=False)

    i = _command(
        sub,
        "info",
        "languages, models, limits and capabilities",
        "  newsbrief info\n  newsbrief info --json",
    )
    i.add_argument("--json", action="store_true", help="print the response as JSON")
    _add_connection_options(i, top=False)

    h = _command(
        sub,
        "health",
        "health status; exit 0 only when SERVING",
        "  newsbrief health\n  newsbrief --target pod-1:50051 health --service "
        "newsbrief.v1.SummarizerService",
    )
    h.add_argument("--service", default="", help="service name (default: the whole server)")
    _add_connection_options(h, top=False)
    _add_jobs_parser(sub)
    return parser


_COMMANDS = {
    "summarize": _cmd_summarize,
    "batch": _cmd_batch,
    "translate": _cmd_translate,
    "detect": _cmd_detect,
    "info": _cmd_info,
    "health": _cmd_health,
    "jobs": _cmd_jobs,
}
_FLAGS = {"summarize": SUMMARIZE_FLAGS, "translate": TRANSLATE_FLAGS, "detect": DETECT_FLAGS}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 failed, 2 usage or connection error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NewsbriefError as exc:
        _print_error(exc, sys.stderr, _FLAGS.get(args.command), args.target)
        if args.command == "health" and not isinstance(exc, UnavailableError):
            return EXIT_USAGE if isinstance(exc, DeadlineExceededError) else EXIT_FAILED
        return EXIT_USAGE if args.command == "batch" else _error_exit_code(exc)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
