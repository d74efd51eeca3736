"""The `newsbrief` CLI end to end against the real server: summarize (text, HTML, stdin, --json),
info, health, and a batch that is killed mid-run and resumed without losing or duplicating an
article."""

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

from newsbrief.service.domain import Article
from newsbrief.v1 import newsbrief_pb2 as pb
from tests.conftest import RunningServer, make_settings
from tests.fakes import HookedPipeline

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def cli(target: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsbrief.client.cli", "--target", target, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_summarize_prints_a_readable_brief(server: RunningServer) -> None:
    out = cli(server.target, "summarize", str(FIXTURES / "en_article.txt"))
    assert out.returncode == 0, out.stderr
    assert "riverside" in out.stdout.lower()
    assert "en" in out.stdout


def test_summarize_json_is_the_protobuf_json_mapping(server: RunningServer) -> None:
    out = cli(server.target, "summarize", str(FIXTURES / "ko_article.txt"), "--json")
    assert out.returncode == 0, out.stderr
    response = json_format.Parse(out.stdout, pb.SummarizeResponse())
    assert response.source_language.code == "ko"
    assert response.brief.summary


def test_summarize_html_from_stdin(server: RunningServer) -> None:
    page = (FIXTURES / "en_page.html").read_text(encoding="utf-8")
    out = cli(server.target, "summarize", "-", "--json", stdin=page)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "riverside" in data["brief"]["summary"].lower()
    assert "Copyright" not in out.stdout


def test_summarize_article_text(server: RunningServer) -> None:
    page = (FIXTURES / "en_page.html").read_text(encoding="utf-8")
    plain = cli(server.target, "summarize", "-", stdin=page)
    assert plain.returncode == 0, plain.stderr
    assert "Article text:" not in plain.stdout
    out = cli(server.target, "summarize", "-", "--article-text", stdin=page)
    assert out.returncode == 0, out.stderr
    _, _, article = out.stdout.partition("Article text:")
    assert "riverside" in article.lower() and "Copyright" not in article
    assert len(article.strip().split("\n\n")) >= 2  # paragraphs, one blank line between


def test_summarize_errors_are_one_clear_line(server: RunningServer) -> None:
    out = cli(server.target, "summarize", "-", "--lang", "xx", stdin="Some text here.")
    assert out.returncode != 0
    assert out.stderr.startswith("error: INVALID_ARGUMENT: --lang: 'xx' is not a supported")
    assert "source_language" not in out.stderr and out.stderr.count("'xx'") == 1
    assert "Traceback" not in out.stderr
    out = cli(server.target, "summarize", str(FIXTURES / "en_article.txt"), "--to", "ko,ms")
    assert out.returncode != 0
    assert "FAILED_PRECONDITION" in out.stderr


def test_info_and_health(server: RunningServer) -> None:
    out = cli(server.target, "info", "--json")
    assert out.returncode == 0, out.stderr
    assert "extractive" in out.stdout
    assert cli(server.target, "health").returncode == 0


def test_health_fails_when_nothing_listens() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = cli(f"127.0.0.1:{port}", "--timeout", "2", "--retries", "0", "health")
    assert out.returncode != 0


class _SlowPipeline(HookedPipeline):
    """The real pipeline, slowed down so a batch can be killed half-way."""

    async def before_brief(self, article: Article, deadline: float | None) -> None:
        await self.wait(0.05)


def test_batch_killed_and_resumed_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    texts = [
        (FIXTURES / n).read_text(encoding="utf-8") for n in ("en_article.txt", "ms_article.txt")
    ]
    n = 60
    lines = []
    for i in range(n):
        if i == 7:
            lines.append(json.dumps({"id": "bad-7", "text": ""}))
        elif i == 8:
            lines.append("{not json")
        else:
            lines.append(json.dumps({"id": f"a{i}", "text": texts[i % 2]}))
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    settings = make_settings(stream_concurrency=2)
    with RunningServer(settings, pipeline=_SlowPipeline(settings)) as running:
        args = [sys.executable, "-m", "newsbrief.client.cli", "--target", running.target]
        proc = subprocess.Popen(
            [*args, "batch", str(src), str(dst), "--concurrency", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if dst.exists() and dst.read_text(encoding="utf-8").count("\n") >= 15:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        done_before = dst.read_text(encoding="utf-8").count("\n")
        assert 15 <= done_before < n, "the kill should land mid-run"

        resumed = subprocess.run(
            [*args, "batch", str(src), str(dst), "--concurrency", "4"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert resumed.returncode == 1, resumed.stderr  # some articles failed (on purpose)

    records = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "an article was written twice"
    assert len(ids) == n, "an article was lost"
    by_id = {r["id"]: r for r in records}
    assert by_id["bad-7"]["error"]["code"] == "INVALID_ARGUMENT"
    errors = [r for r in records if "error" in r]
    assert len(errors) == 2  # the empty article and the line that is not JSON
    for i in (0, 1, 30, 59):
        assert by_id[f"a{i}"]["response"]["brief"]["summary"]


@pytest.mark.parametrize("command", [["--help"], ["summarize", "--help"], ["batch", "--help"]])
def test_help_works_without_a_server(command: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "newsbrief.client.cli", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    assert "usage" in out.stdout
