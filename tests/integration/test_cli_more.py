"""The CLI commands and behaviours a new user looks for: translate, detect, --version, errors
naming the CLI flag once, a hint when no server answers, --help with every option and examples,
and batch input lines with extra keys (ignored and counted, or refused with --strict)."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
from google.protobuf import json_format

from newsbrief.client import bulk, cli
from newsbrief.v1 import newsbrief_pb2 as pb
from tests.conftest import RunningServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARTICLE = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")


def run(server: RunningServer, *args: str) -> int:
    return cli.main(["--target", server.target, "--retries", "0", *args])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == "newsbrief 0.1.0"


def test_detect(server: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    ko = (FIXTURES / "ko_article.txt").read_text(encoding="utf-8")
    assert run(server, "detect", ko) == 0
    assert capsys.readouterr().out.startswith("ko (confidence ")
    assert run(server, "detect", "--file", str(FIXTURES / "ms_article.txt"), "--json") == 0
    response = json_format.Parse(capsys.readouterr().out, pb.DetectLanguageResponse())
    assert response.language.code == "ms"


def test_translate_errors_name_the_flag_once(
    server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(server, "translate", "Hello there.", "--to", "ko,zz") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: INVALID_ARGUMENT: --to (2nd value): 'zz' is not a supported")
    assert "target_languages" not in err and err.count("'zz'") == 1
    # No translator installed: what to do is said, once.
    assert run(server, "translate", "Hello there.", "--to", "ko") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: FAILED_PRECONDITION: ")
    assert "CAPABILITY translate:" in err and "models download" in err
    assert run(server, "translate", "--to", "ko") == 2
    assert "give TEXT arguments or --file" in capsys.readouterr().err


def test_unreachable_server_gets_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--target", "127.0.0.1:1", "--retries", "0", "--timeout", "5", "info"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: UNAVAILABLE: cannot reach a newsbrief server at 127.0.0.1:1\n")
    assert "make run" in err and "--target" in err


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no commands")


def test_help_has_a_line_for_every_option_and_examples() -> None:
    parser = cli.build_parser()
    commands = _subparsers(parser)
    assert set(commands) == {"summarize", "batch", "translate", "detect", "info", "health", "jobs"}
    nested = {
        f"{name} {sub}": command
        for name, parent in commands.items()
        for sub, command in (
            _subparsers(parent).items()
            if any(isinstance(a, argparse._SubParsersAction) for a in parent._actions)
            else ()
        )
    }
    for name, command in {**commands, **nested}.items():
        for action in command._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
        text = command.format_help()
        assert "examples:\n  newsbrief " in text, name
    assert "examples:" in parser.format_help()


def test_batch_ignores_and_counts_extra_keys_or_refuses_them_with_strict(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        {"id": "a", "text": ARTICLE, "cms_section": "city", "author_id": 7},
        {"id": "b", "text": ARTICLE, "key_points": 1},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run(server, "batch", str(source), str(out)) == 0
    err = capsys.readouterr().err
    assert (
        "1 input lines had keys this command does not use, ignored: author_id, cms_section" in err
    )
    records = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    brief = records["a"]["response"]["brief"]
    assert brief["key_points"] and "keyPoints" not in brief  # snake_case, like the input
    assert records["a"]["response"]["source_language"]["code"] == "en"
    assert len(records["b"]["response"]["brief"]["key_points"]) == 1

    strict_out = tmp_path / "strict.jsonl"
    assert run(server, "batch", str(source), str(strict_out), "--strict") == 1
    strict = {r["id"]: r for r in map(json.loads, strict_out.read_text().splitlines())}
    assert strict["a"]["error"]["field_violations"][0]["field"] == "author_id"
    assert "response" in strict["b"]


def test_progress_shows_an_eta() -> None:
    stream = io.StringIO()
    progress = bulk.Progress(total=10, stream=stream, enabled=True)
    progress.add(ok=True)
    assert "1/10" in stream.getvalue() and " ETA " in stream.getvalue()
    assert bulk._duration(75.2) == "1m15s" and bulk._duration(3700) == "1h01m"
