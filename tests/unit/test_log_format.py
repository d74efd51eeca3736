"""No control character reaches a log line: the text and JSON formatters escape C0 (CR, LF, ESC),
DEL, C1, U+2028/2029 and bidi controls in the message, in every field and in exception text; a
traceback keeps its own lines, and a caller's newline in an exception's message or note never
starts one. Request ids from callers are taken only in a safe set of characters."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest

from newsbrief.service.observability.logs import JsonFormatter, TextFormatter, escape_controls
from newsbrief.service.serving.access import request_id

FORGED = "FORGED"
HOSTILE = (
    f"a\n{FORGED} lf",
    f"a\r{FORGED} cr",
    f"a\x1b[31m{FORGED}",
    f"a\u2028{FORGED} ls",
    f"a\u2029{FORGED} ps",
    f"a\x85{FORGED} nel",
    f"a\x7f{FORGED} del",
    f"a\x1c{FORGED} fs",
    f"a\x0b{FORGED} vt",
    f"a\u202e{FORGED} rlo",
)
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def record(
    msg: str, *args: object, exc: BaseException | None = None, **extra: object
) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    rec = logging.LogRecord("newsbrief.test", logging.ERROR, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def no_forged_line(text: str) -> None:
    """No line (by any line break Python knows) starts with the forged prefix; nothing raw."""
    assert not [line for line in text.splitlines() if line.lstrip().startswith(FORGED)]
    assert not RAW.search(text), ascii(text)


@pytest.mark.parametrize("hostile", HOSTILE, ids=ascii)
def test_escape_controls_keeps_one_line(hostile: str) -> None:
    escaped = escape_controls(hostile)
    assert escaped.splitlines() == [escaped]
    assert not RAW.search(escaped) and FORGED in escaped
    assert escape_controls("ok: 한국어, café, \\n stays") == "ok: 한국어, café, \\n stays"


@pytest.mark.parametrize("hostile", HOSTILE, ids=ascii)
def test_text_format_escapes_message_args_and_request_id(hostile: str) -> None:
    line = TextFormatter().format(record("got %s", hostile, request_id=hostile))
    assert line.count("\n") == 0
    no_forged_line(line)
    assert line.count(FORGED) == 2


@pytest.mark.parametrize("hostile", HOSTILE, ids=ascii)
def test_json_format_escapes_message_fields_and_request_id(hostile: str) -> None:
    fields = {"peer": hostile, hostile: 1, "nested": {"k": [hostile]}, "latency_ms": 1.5}
    line = JsonFormatter().format(record(f"msg {hostile}", request_id=hostile, fields=fields))
    assert line.splitlines() == [line]
    no_forged_line(line)
    parsed = json.loads(line)
    for value in (parsed["msg"], parsed["peer"], parsed["nested"]["k"][0], parsed["request_id"]):
        # escaped before encoding: no raw control once parsed either
        assert FORGED in value and not RAW.search(value) and "\n" not in value
    assert parsed["latency_ms"] == 1.5


def chained() -> BaseException:
    try:
        raise KeyError(f"inner\n{FORGED} context")
    except KeyError as inner:
        outer = ValueError(f"bad input\n{FORGED} 2026-01-01 INFO x\r\x1b[2K")
        outer.add_note(f"note\n{FORGED} note")
        try:
            raise outer from inner
        except ValueError as caught:
            return caught


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()], ids=["text", "json"])
def test_exception_messages_and_notes_never_start_a_line(formatter: logging.Formatter) -> None:
    out = formatter.format(record("failed", exc=chained(), request_id="r"))
    text = json.loads(out)["exc"] if isinstance(formatter, JsonFormatter) else out
    if isinstance(formatter, JsonFormatter):
        assert out.splitlines() == [out]
    no_forged_line(text)
    lines = text.split("\n")
    # still a readable traceback: the chain, the frames, the message with its escapes
    assert "Traceback (most recent call last):" in lines
    assert "The above exception was the direct cause of the following exception:" in lines
    assert any(line.startswith("  File ") for line in lines)
    assert f"ValueError: bad input\\n{FORGED} 2026-01-01 INFO x\\r\\x1b[2K" in lines
    assert f"note\\n{FORGED} note" in lines


def test_an_exception_group_and_a_text_cached_by_another_formatter() -> None:
    group = raised(ExceptionGroup(f"g\n{FORGED}", [ValueError(f"v\n{FORGED}")]))
    no_forged_line(TextFormatter().format(record("group", exc=group)))
    rec = record("failed", exc=raised(ValueError(f"x\n{FORGED}")))
    rec.exc_text = logging.Formatter().formatException(rec.exc_info)  # type: ignore[arg-type]
    assert f"\n{FORGED}" in rec.exc_text  # what the standard formatter does
    no_forged_line(TextFormatter().format(rec))
    rec.exc_info = None  # only the cached text (a record from elsewhere): escaped whole
    no_forged_line(TextFormatter().format(rec))
    assert sys.exc_info() == (None, None, None)


@pytest.mark.parametrize(
    "given",
    ["abc", "req-42_a.b:c/d+e=f@g", "x" * 128, "0f8fad5b-d9cb-469f-a165-70867728950e"],
)
def test_a_safe_request_id_is_taken_as_it_is(given: str) -> None:
    assert request_id(given) == given


@pytest.mark.parametrize(
    "given", [*HOSTILE, "x" * 129, "ünï", "has space", "tab\there", "semi;colon", 'quote"', ""]
)
def test_any_other_request_id_is_replaced(given: str) -> None:
    made = request_id(given)
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert request_id("x" * 20, max_chars=19) != "x" * 20
