"""The ``newsbrief`` CLI against the fake servicer: in-process ``main(argv)`` and a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from google.protobuf import json_format

from newsbrief.client import cli
from newsbrief.v1 import newsbrief_pb2 as pb
from tests.integration.fake_server import FakeServer

REPO = Path(__file__).resolve().parents[2]


def run(fake: FakeServer, *argv: str) -> int:
    return cli.main(["--target", fake.target, "--timeout", "10", *argv])


def read_out(path: Path) -> list[dict]:
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"", "the output must end with a whole line"
    return [json.loads(line) for line in lines[:-1]]


def test_summarize_text_human(
    fake: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Seoul said on Monday that the plan would go ahead", encoding="utf-8")
    code = run(fake, "summarize", str(article), "--to", "ko,ms", "--length", "short")
    out = capsys.readouterr().out
    assert code == 0
    assert "Seoul said on Monday that" in out
    assert "Key points:" in out and "  - Seoul said on" in out
    assert "Language: en (confidence 0.90)" in out
    assert "FAKE: made by the fake server" in out
    assert "[ko]" in out and "[ms]" in out
    request = fake.servicer.requests[0]
    assert request.WhichOneof("content") == "text"
    assert list(request.target_languages) == ["ko", "ms"]


def test_summarize_html_detected_and_json(
    fake: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html><body><p>Kuala Lumpur floods</p></body></html>")
    code = run(fake, "summarize", str(page), "--json", "--api-key", "k", "--lang", "ms")
    out = capsys.readouterr().out
    assert code == 0
    response = json_format.Parse(out, pb.SummarizeResponse())
    assert response.brief.summary == "Kuala Lumpur floods"
    assert response.source_language.given
    assert '"keyPoints"' in out  # the standard lowerCamelCase mapping
    assert fake.servicer.requests[0].WhichOneof("content") == "html"
    assert fake.servicer.metadata[0]["x-api-key"] == "k"


def test_summarize_error_is_printed_without_traceback(
    fake: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text("invalid")
    code = run(fake, "summarize", "--text", str(article))
    err = capsys.readouterr().err
    assert code == 1
    # Each problem once, named by the CLI's own flag or argument, not the API field.
    assert err == (
        "error: INVALID_ARGUMENT: 2 problems\n"
        "  FILE: must not be empty\n"
        "  --to (1st value): unknown language 'xx'\n"
    )
    assert "Traceback" not in err


def test_usage_and_connection_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summarize", str(tmp_path / "missing.txt")]) == 2
    assert cli.main(["--target", "127.0.0.1:1", "--retries", "0", "health"]) == 2
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "error: UNAVAILABLE" in err and "Traceback" not in err


def test_info_and_health(fake: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(fake, "info") == 0
    assert "fake-1.0" in capsys.readouterr().out
    assert run(fake, "info", "--json") == 0
    info = json_format.Parse(capsys.readouterr().out, pb.GetServerInfoResponse())
    assert info.version == "fake-1.0"
    assert run(fake, "health") == 0
    assert capsys.readouterr().out.strip() == "SERVING"
    assert run(fake, "health", "--service", "newsbrief.v1.SummarizerService") == 1
    assert capsys.readouterr().out.strip() == "NOT_SERVING"


def test_batch_with_errors_in_the_middle_and_resume(
    fake: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "text": "first article text"}),
                json.dumps({"id": "b", "text": "bad"}),
                "{not json",
                json.dumps({"text": "no id so the line number", "to": ["ko"]}),
                json.dumps({"id": "e", "length": "huge", "text": "x"}),
                json.dumps({"id": 6, "html": "<p>an html one</p>", "title": "T"}),
            ]
        )
        + "\n"
    )
    assert run(fake, "batch", str(src), str(out), "--progress") == 1
    records = {json.dumps(r["id"]): r for r in read_out(out)}
    assert set(records) == {'"a"', '"b"', "3", "4", '"e"', "6"}
    assert records['"b"']["error"] == {
        "code": "INVALID_ARGUMENT",
        "message": "bad article",
        "field_violations": [{"field": "text", "description": "bad"}],
    }
    assert records["3"]["error"]["code"] == "INVALID_ARGUMENT"
    assert records['"e"']["error"]["field_violations"][0]["field"] == "length"
    response = json_format.ParseDict(records["6"]["response"], pb.SummarizeResponse())
    assert response.brief.headline == "T"
    assert records["4"]["response"]["translations"][0]["language"] == "ko"
    assert "6/6" in capsys.readouterr().err
    sent = fake.servicer.stream_requests
    assert sent == 4

    # a re-run sends nothing and changes nothing; --retry-errors re-runs only the failures
    before = out.read_bytes()
    assert run(fake, "batch", str(src), str(out)) == 1
    assert fake.servicer.stream_requests == sent and out.read_bytes() == before
    assert run(fake, "batch", str(src), str(out), "--retry-errors") == 1
    assert fake.servicer.stream_requests == sent + 1  # only "b" went to the server again
    ids = [json.dumps(r["id"]) for r in read_out(out)]
    assert sorted(ids) == sorted(records)


def test_batch_killed_midway_then_resumed(fake: FakeServer, tmp_path: Path) -> None:
    total = 150
    src = tmp_path / "in.jsonl"
    out = tmp_path / "out.jsonl"
    src.write_text(
        "".join(
            json.dumps({"id": f"n{i}", "text": f"article {i} " * 5}) + "\n" for i in range(total)
        )
    )
    fake.servicer.stream_delay = 0.01
    env = {**os.environ, "PYTHONPATH": str(REPO / "client" / "src")}
    argv = [sys.executable, "-m", "newsbrief.client.cli", "--target", fake.target]
    proc = subprocess.Popen(
        [*argv, "batch", str(src), str(out), "--concurrency", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= 20:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, "the batch finished before it could be killed"
    first_run = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert 20 <= len(first_run) < total
    with out.open("ab") as fh:  # simulate a torn last line from a kill mid-write
        fh.write(b'{"id": "n149", "respo')

    assert cli.main(["--target", fake.target, "batch", str(src), str(out)]) == 0
    ids = [r["id"] for r in read_out(out)]
    assert len(ids) == total and set(ids) == {f"n{i}" for i in range(total)}
    assert all("response" in r for r in read_out(out))
