"""``newsbrief``: the command-line client of the newsbrief service.

``main(argv)`` returns the exit code, so it can run in-process. Expected errors are printed as
``error: <STATUS>: <message>`` (plus field violations) on stderr, never as a traceback.

``--json`` output is protobuf's standard proto3 JSON mapping (``json_format.MessageToJson`` with
lowerCamelCase field names, e.g. ``keyPoints``, ``sourceLanguage``; fields at their default value
are omitted), so ``json_format.Parse(output, SummarizeResponse())`` reads it back.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO

from google.protobuf import json_format

from newsbrief.client.bulk import batch_request, languages, run_bulk
from newsbrief.client.client import Client
from newsbrief.client.errors import (
    AuthenticationError,
    DeadlineExceededError,
    NewsbriefError,
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
            target_languages=languages(args.to),
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
        result = client.translate(texts, languages(args.to), args.source)
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


def _cmd_batch(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    report = run_bulk(
        lambda: _make_client(args),
        args.input,
        args.output,
        concurrency=args.concurrency,
        stream_timeout=args.stream_timeout,
        reconnects=args.reconnects,
        retry_errors=args.retry_errors,
        strict=args.strict,
        progress=args.progress or sys.stderr.isatty(),
    )
    done = report.already_done
    print(
        f"{report.ok} ok, {report.failed} failed"
        f"{f', {done} already done' if done else ''} -> {args.output}",
        file=sys.stderr,
    )
    if report.ignored_lines:
        print(
            f"{len(report.ignored_lines)} input lines had keys this command does not use, "
            f"ignored: {', '.join(sorted(report.ignored_keys))} (first on line "
            f"{report.ignored_lines[0]}; --strict refuses them)",
            file=sys.stderr,
        )
    return EXIT_FAILED if report.failures else EXIT_OK


# --- jobs --------------------------------------------------------------------------------------


def job_requests(path: str, to: str) -> list[SummarizeRequest]:
    """The articles of ``jobs create``: a .jsonl file holds one article per line (the keys of
    ``batch``); any other file is one article (text or HTML). ``to`` (ko,ms) applies to every
    article that names no languages of its own."""
    content = _read_input(path)
    targets = languages(to)
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
        _end_options(p, "print JSON")
    ls = _command(
        jsub,
        "list",
        "this key's jobs, newest first",
        "  newsbrief jobs list --state running\n  newsbrief jobs list --json",
    )
    ls.add_argument("--state", choices=list(JOB_STATES), default=None, help="only jobs in S")
    _end_options(c, "print the job as JSON")
    _end_options(ls, "one JSON object per line")
    _end_options(j)


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


_JSON_HELP = "print the response as JSON"


def _end_options(parser: argparse.ArgumentParser, json_help: str = "") -> None:
    """The last options of every command: ``--json`` (where ``json_help`` says what it
    prints), then the connection options."""
    if json_help:
        parser.add_argument("--json", action="store_true", help=json_help)
    _add_connection_options(parser, top=False)


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
    _end_options(s, _JSON_HELP)

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
    _end_options(b)

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
    _end_options(t, _JSON_HELP)

    d = _command(
        sub,
        "detect",
        "detect the language of a text",
        '  newsbrief detect "Banjir melanda ibu kota semalam."\n'
        "  newsbrief detect --file article.txt --json",
    )
    d.add_argument("texts", nargs="*", metavar="TEXT", help="the text (or --file)")
    d.add_argument("--file", metavar="FILE", help="read the text from FILE (- = stdin)")
    _end_options(d, _JSON_HELP)

    i = _command(
        sub,
        "info",
        "languages, models, limits and capabilities",
        "  newsbrief info\n  newsbrief info --json",
    )
    _end_options(i, _JSON_HELP)

    h = _command(
        sub,
        "health",
        "health status; exit 0 only when SERVING",
        "  newsbrief health\n  newsbrief --target pod-1:50051 health --service "
        "newsbrief.v1.SummarizerService",
    )
    h.add_argument("--service", default="", help="service name (default: the whole server)")
    _end_options(h)
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
