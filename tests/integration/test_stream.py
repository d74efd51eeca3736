"""SummarizeStream: one result per article with its own status; a bad article does not end it."""

from __future__ import annotations

from pathlib import Path

import grpc

from newsbrief.client import Client, InvalidArgumentError
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import RunningServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _article(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def test_a_bad_article_in_the_middle_gets_its_own_error(server: RunningServer) -> None:
    requests = [
        {"text": _article("en_article.txt"), "client_reference": "a"},
        {"text": _article("ko_article.txt"), "client_reference": "b"},
        {"text": "", "client_reference": "bad"},
        {"text": _article("en_article.txt"), "source_language": "xx", "client_reference": "bad2"},
        {"text": _article("ms_article.txt"), "client_reference": "c"},
    ]
    with Client(server.target) as c:
        items = list(c.summarize_many(requests))

    assert sorted(i.index for i in items) == [0, 1, 2, 3, 4]
    by_ref = {i.client_reference: i for i in items}
    assert set(by_ref) == {"a", "b", "bad", "bad2", "c"}
    for ref, lang in (("a", "en"), ("b", "ko"), ("c", "ms")):
        assert by_ref[ref].ok
        result = by_ref[ref].result
        assert result is not None
        assert result.source_language.code == lang
        assert result.client_reference == ref
    assert isinstance(by_ref["bad"].error, InvalidArgumentError)
    assert ("text", "must not be empty (send text or html)") in by_ref["bad"].error.field_violations
    assert isinstance(by_ref["bad2"].error, InvalidArgumentError)
    assert by_ref["bad2"].error.field_violations[0][0] == "source_language"


def test_stream_over_raw_grpc_reports_status_codes(server: RunningServer) -> None:
    """What a non-Python caller sees: index, client_reference and google.rpc codes per item."""
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.SummarizerServiceStub(channel)
        requests = [
            pb.SummarizeStreamRequest(request=pb.SummarizeRequest(text=t, client_reference=str(i)))
            for i, t in enumerate([_article("en_article.txt"), "", _article("ms_article.txt")])
        ]
        responses = list(stub.SummarizeStream(iter(requests), timeout=30))
    codes = {r.index: r.status.code for r in responses}
    assert codes == {0: 0, 1: grpc.StatusCode.INVALID_ARGUMENT.value[0], 2: 0}
    assert {r.client_reference for r in responses} == {"0", "1", "2"}
    assert all(r.response.brief.summary for r in responses if r.status.code == 0)


def test_an_empty_stream_ends_cleanly(server: RunningServer) -> None:
    with Client(server.target) as c:
        assert list(c.summarize_many([])) == []


def test_a_long_stream_keeps_every_article(server: RunningServer) -> None:
    text = _article("en_article.txt")
    with Client(server.target) as c:
        items = list(
            c.summarize_many({"text": text, "client_reference": str(i)} for i in range(60))
        )
    assert sorted(int(i.client_reference) for i in items) == list(range(60))
    assert all(i.ok for i in items)
