"""Logging: request ids from a context variable, text or JSON lines.

No control character reaches a log line, whatever a caller sent: both formatters escape C0
characters (CR, LF, ESC...), DEL, C1 characters, the Unicode line and paragraph separators and
the bidirectional overrides (:func:`escape_controls`) in the message, in every field and in the
exception's message, so one record is always one line (JSON) or one line plus its traceback,
whose every line the formatter itself started (text). Backslashes are left as they are: an
escape written by a caller reads like one made here, which is ambiguous but cannot forge a line.
"""

from __future__ import annotations

import collections.abc
import contextvars
import json
import logging
import re
import sys
import time
import traceback
from collections.abc import Iterator
from types import TracebackType
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

#: What never reaches a log line raw: C0 (with TAB, CR, LF, ESC), DEL, C1 (with NEL), the
#: Unicode line and paragraph separators, and the bidirectional overrides and isolates (they
#: reorder what a terminal or log viewer shows).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROLS_BUT_LF = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control character written as an escape (``\\n``, ``\\x1b``,
    ``\\u2028``): what it says stays readable, and it cannot start a line or drive a terminal."""
    return _CONTROLS.sub(_escape_one, text)


def _escape_but_lines(text: str) -> str:
    """Like :func:`escape_controls`, keeping LF: for text whose lines this module made."""
    return _CONTROLS_BUT_LF.sub(_escape_one, text)


def _escaped_value(value: Any) -> Any:
    """A JSON field's value with its strings (keys too, nested ones too) escaped."""
    if isinstance(value, str):
        return escape_controls(value)
    if isinstance(value, dict):
        return {escape_controls(str(k)): _escaped_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped_value(v) for v in value]
    return value


def format_exception(exc_info: ExcInfo) -> str:
    """A traceback as Python prints it, except that each exception's message and notes (what a
    caller's input may have shaped) are escaped whole, so they never start a line; the lines
    between (frames, chain messages) come from code and keep their newlines."""
    _, exc, tb = exc_info
    if exc is None:
        return ""
    top = traceback.TracebackException(type(exc), exc, tb, compact=True)
    seen: set[int] = set()
    todo = [top]
    while todo:  # every exception of the chain and of groups, once
        te = todo.pop()
        if id(te) in seen:
            continue
        seen.add(id(te))
        te.format_exception_only = _escaped_exception_only(te)  # type: ignore[method-assign]
        todo.extend(t for t in (te.__cause__, te.__context__) if t is not None)
        todo.extend(te.exceptions or ())
    text = "".join(top.format(chain=True))
    return _escape_but_lines(text.rstrip("\n"))


def _escaped_exception_only(te: traceback.TracebackException) -> Any:
    original = te.format_exception_only

    def escaped() -> Iterator[str]:
        notes = te.__notes__
        te.__notes__ = None  # the standard way splits a note into lines: escaped whole below
        try:
            chunks = list(original())
        finally:
            te.__notes__ = notes
        for chunk in chunks:  # each one line ending "\n" (a SyntaxError makes several)
            yield escape_controls(chunk.removesuffix("\n")) + "\n"
        if isinstance(notes, collections.abc.Sequence) and not isinstance(notes, str):
            for note in notes:
                yield escape_controls(str(note)) + "\n"
        elif notes is not None:
            yield escape_controls(repr(notes)) + "\n"

    return escaped


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class TextFormatter(logging.Formatter):
    """``time level logger [request id] message``; the whole line escaped, then the traceback
    (see :func:`format_exception`) and the stack, when the record has them."""

    def __init__(
        self, fmt: str = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
    ) -> None:
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        line = escape_controls(self.formatMessage(record))
        extra = _exception_text(record)
        if extra:
            line += "\n" + extra
        if record.stack_info:
            line += "\n" + _escape_but_lines(self.formatStack(record.stack_info))
        return line

    def formatException(self, ei: Any) -> str:
        return format_exception(ei)


def _exception_text(record: logging.LogRecord) -> str:
    """The record's traceback, made here (never the text another formatter cached on the
    record, which may hold a caller's newlines; without ``exc_info`` it is escaped whole)."""
    if record.exc_info:
        return format_exception(record.exc_info)
    if record.exc_text:
        return escape_controls(record.exc_text)
    return ""


_CORE_KEYS = frozenset({"ts", "level", "logger", "msg"})
# json.dumps(ensure_ascii=False) escapes C0 but writes these raw (all are inside strings).
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class JsonFormatter(logging.Formatter):
    """One JSON object per line; a record's ``fields`` (``extra={"fields": {...}}``) become
    top-level keys (the access log's method, code, latency_ms, peer and request_id). Every
    string is escaped (:func:`escape_controls`) before encoding; ``exc`` keeps the lines of its
    traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": escape_controls(record.name),
            "msg": escape_controls(record.getMessage()),
            "request_id": escape_controls(str(getattr(record, "request_id", "-"))),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in _escaped_value(fields).items():
                if key not in _CORE_KEYS:
                    out[key] = value
        exc = _exception_text(record)
        if exc:
            out["exc"] = exc
        if record.stack_info:
            out["stack"] = _escape_but_lines(self.formatStack(record.stack_info))
        line = json.dumps(out, ensure_ascii=False, default=str)
        return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    """Configure the root logger once (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_newsbrief", False):
            root.removeHandler(old)
    handler._newsbrief = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
