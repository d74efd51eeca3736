"""The HTTP/JSON front end over real HTTP against the real server: the same briefs as gRPC, the
error table as JSON with HTTP statuses, keys, quotas, request ids, probes, the page and the
OpenAPI document."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import json_format
from openapi_spec_validator import validate

from newsbrief.client import Client, ResourceExhaustedError
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.v1 import newsbrief_pb2 as pb
from newsbrief.v1 import newsbrief_pb2_grpc as pb_grpc
from tests.conftest import REPO, RunningServer, make_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARTICLE = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
KO_ARTICLE = (FIXTURES / "ko_article.txt").read_text(encoding="utf-8")
PAGE = (FIXTURES / "en_page.html").read_text(encoding="utf-8")
SERVICE = "/newsbrief.v1.SummarizerService"
OPENAPI = REPO / "service" / "src" / "newsbrief" / "service" / "http" / "openapi.json"


def post(base: str, method: str, body: Any, **headers: str) -> httpx.Response:
    return httpx.post(f"{base}{SERVICE}/{method}", json=body, headers=headers, timeout=30)


def violations(reply: httpx.Response) -> list[str]:
    """The field names of a JSON error's google.rpc.BadRequest detail."""
    details = reply.json().get("details", [])
    return [
        v["field"]
        for d in details
        if d["type"] == "google.rpc.BadRequest"
        for v in d["debug"]["fieldViolations"]
    ]


def debug(reply: httpx.Response, type_name: str) -> dict[str, Any]:
    found = [d["debug"] for d in reply.json().get("details", []) if d["type"] == type_name]
    assert found, reply.text
    return found[0]


@pytest.fixture(scope="module")
def stub(server: RunningServer) -> Iterator[pb_grpc.SummarizerServiceStub]:
    with grpc.insecure_channel(server.target) as channel:
        yield pb_grpc.SummarizerServiceStub(channel)


@pytest.mark.parametrize(
    "request_json",
    [
        {"text": ARTICLE, "clientReference": "cms-42", "length": "SUMMARY_LENGTH_SHORT"},
        {"html": PAGE, "maxKeyPoints": 2},
        {"text": KO_ARTICLE, "method": "SUMMARY_METHOD_EXTRACTIVE"},
    ],
)
def test_http_brief_is_the_grpc_brief_field_by_field(
    server: RunningServer, stub: pb_grpc.SummarizerServiceStub, request_json: dict[str, Any]
) -> None:
    request = json_format.ParseDict(request_json, pb.SummarizeRequest())
    over_grpc = stub.Summarize(request)
    reply = post(server.http_url, "Summarize", request_json)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    over_http = json_format.Parse(reply.text, pb.SummarizeResponse())
    assert over_http.brief.summary
    # Timings and the cache flag describe the call, not the brief.
    for field in pb.SummarizeResponse.DESCRIPTOR.fields:
        if field.name in ("timings", "cached"):
            continue
        assert getattr(over_http, field.name) == getattr(over_grpc, field.name), field.name
    body = reply.json()  # proto3 JSON mapping: lowerCamelCase names
    assert body["brief"]["keyPoints"] == list(over_grpc.brief.key_points)
    assert body["sourceLanguage"]["code"] == over_grpc.source_language.code


def test_accepts_proto_field_names_too(server: RunningServer) -> None:
    reply = post(server.http_url, "Summarize", {"text": ARTICLE, "max_key_points": 1})
    assert reply.status_code == 200, reply.text
    assert len(reply.json()["brief"]["keyPoints"]) == 1


def test_detect_language_over_http_and_grpc(
    server: RunningServer, stub: pb_grpc.SummarizerServiceStub
) -> None:
    reply = post(server.http_url, "DetectLanguage", {"text": KO_ARTICLE})
    assert reply.status_code == 200, reply.text
    language = reply.json()["language"]
    assert language["code"] == "ko" and language["confidence"] > 0.5
    over_grpc = stub.DetectLanguage(pb.DetectLanguageRequest(text=ARTICLE))
    assert over_grpc.language.code == "en"
    with Client(server.target) as c:
        result = c.detect_language(KO_ARTICLE)
    assert result.language.code == "ko" and result.language.confidence == language["confidence"]
    short = post(server.http_url, "DetectLanguage", {"text": "ok"}).json()
    assert short["language"]["code"] == "und"
    assert [w["code"] for w in short["warnings"]] == ["LANGUAGE_UNDETERMINED"]
    empty = post(server.http_url, "DetectLanguage", {"text": "  "})
    assert empty.status_code == 400 and violations(empty) == ["text"]


def test_server_info_over_http(server: RunningServer, stub: pb_grpc.SummarizerServiceStub) -> None:
    reply = post(server.http_url, "GetServerInfo", {})
    assert reply.status_code == 200
    over_http = json_format.Parse(reply.text, pb.GetServerInfoResponse())
    assert over_http == stub.GetServerInfo(pb.GetServerInfoRequest())


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"text": ""}, ["text"]),
        ({"text": ARTICLE, "targetLanguages": ["zz"]}, ["target_languages[0]"]),
        (
            {"text": ARTICLE, "sourceLanguage": "xx", "title": "t" * 1001},
            ["title", "source_language"],
        ),
        ({"text": "x" * 100_001}, ["text"]),
    ],
)
def test_bad_request_is_400_naming_the_field(
    server: RunningServer, body: dict[str, Any], fields: list[str]
) -> None:
    reply = post(server.http_url, "Summarize", body)
    assert reply.status_code == 400
    error = reply.json()
    assert error["code"] == "invalid_argument"
    assert sorted(violations(reply)) == sorted(fields)
    assert reply.headers["x-request-id"]
    assert post(server.http_url, "Summarize", {"text": ARTICLE}).status_code == 200


def test_malformed_json_is_400_and_wrong_type_is_400(server: RunningServer) -> None:
    url = f"{server.http_url}{SERVICE}/Summarize"
    reply = httpx.post(url, content=b'{"text": ', headers={"content-type": "application/json"})
    assert reply.status_code == 400 and reply.json()["code"] == "invalid_argument"
    reply = post(server.http_url, "Summarize", {"text": ARTICLE, "maxKeyPoints": "many"})
    assert reply.status_code == 400
    reply = httpx.post(url, content=b"text=hello", headers={"content-type": "text/plain"})
    assert reply.status_code == 415


def test_a_body_over_the_message_limit_is_413(server: RunningServer) -> None:
    limit = server.settings.max_message_bytes
    reply = httpx.post(
        f"{server.http_url}{SERVICE}/Summarize",
        content=b'{"text": "' + b"a" * limit + b'"}',
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert reply.status_code == 413
    assert reply.json()["code"] == "resource_exhausted" and str(limit) in reply.json()["message"]
    assert post(server.http_url, "Summarize", {"text": ARTICLE}).status_code == 200


def test_missing_translator_is_failed_precondition_with_how_to_install(
    server: RunningServer,
) -> None:
    reply = post(
        server.http_url, "Translate", {"texts": ["Hello there."], "targetLanguages": ["ko"]}
    )
    assert reply.status_code == 400  # Connect sends failed_precondition as 400
    assert reply.json()["code"] == "failed_precondition"
    violation = debug(reply, "google.rpc.PreconditionFailure")["violations"][0]
    assert violation["subject"] == "translate" and "download" in violation["description"]


def test_request_id_is_echoed_or_made(server: RunningServer) -> None:
    mine = post(server.http_url, "Summarize", {"text": ARTICLE}, **{"x-request-id": "cms-req-7"})
    assert mine.headers["x-request-id"] == "cms-req-7"
    made = post(server.http_url, "Summarize", {"text": ""})
    assert len(made.headers["x-request-id"]) == 32
    assert httpx.get(f"{server.http_url}/healthz").headers["x-request-id"]


def test_probes_page_and_openapi(server: RunningServer) -> None:
    base = server.http_url
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "SERVING"}
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="article"' in page.text and "/static/app.js" in page.text
    assets = [httpx.get(f"{base}/static/{name}") for name in ("app.js", "style.css")]
    assert [a.status_code for a in assets] == [200, 200]
    for text in (page.text, *(a.text for a in assets)):
        assert "://" not in text  # nothing from a CDN or any other host
    served = httpx.get(f"{base}/openapi.json")
    assert served.status_code == 200
    document = served.json()
    assert document == json.loads(OPENAPI.read_text(encoding="utf-8"))
    validate(document)  # a valid OpenAPI 3.1 document
    assert document["openapi"] == "3.1.0"
    for method in ("Summarize", "Translate", "GetServerInfo", "DetectLanguage"):
        assert f"{SERVICE}/{method}" in document["paths"]
    request = document["components"]["schemas"]["SummarizeRequest"]["properties"]
    assert {"text", "html", "targetLanguages", "maxKeyPoints", "clientReference"} <= set(request)


def test_http_port_zero_is_off() -> None:
    with RunningServer(make_settings()) as running:
        assert running.app.http_port == 0


# --- keys and quotas --------------------------------------------------------------------------

KEY = "cms-key-1"


@pytest.fixture(scope="module")
def keyed() -> Iterator[RunningServer]:
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    running = RunningServer(
        make_settings(http_port=-1, auth={"api_key_hashes": [digest], "requests_per_minute": 3})
    )
    try:
        yield running
    finally:
        running.stop()


def test_keys_bearer_or_x_api_key_401_403_and_429_with_retry_after(keyed: RunningServer) -> None:
    base = keyed.http_url
    missing = post(base, "Summarize", {"text": ARTICLE})
    assert missing.status_code == 401 and missing.json()["code"] == "unauthenticated"
    assert "Authorization: Bearer" in missing.json()["message"]
    wrong = post(base, "Summarize", {"text": ARTICLE}, authorization="Bearer guess")
    assert wrong.status_code == 403 and wrong.json()["code"] == "permission_denied"
    assert httpx.get(f"{base}/readyz").status_code == 200  # probes need no key
    assert httpx.get(f"{base}/openapi.json").status_code == 200
    assert (
        post(base, "Summarize", {"text": ARTICLE}, authorization=f"Bearer {KEY}").status_code == 200
    )
    assert post(base, "Summarize", {"text": ARTICLE}, **{"x-api-key": KEY}).status_code == 200
    assert post(base, "GetServerInfo", {}, **{"x-api-key": KEY}).status_code == 200
    over = post(base, "Summarize", {"text": ARTICLE}, **{"x-api-key": KEY})
    assert over.status_code == 429
    assert over.json()["code"] == "resource_exhausted"
    retry_after = int(over.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert debug(over, "google.rpc.RetryInfo")["retryDelay"].endswith("s")
    assert debug(over, "google.rpc.QuotaFailure")["violations"][0]["subject"].startswith("api-key:")


def test_grpc_quota_error_carries_the_same_retry_delay(keyed: RunningServer) -> None:
    """The quota is per key across both front ends; gRPC's error has the RetryInfo too."""
    with Client(keyed.target, api_key=KEY, retries=0) as c:
        with pytest.raises(ResourceExhaustedError) as info:
            for _ in range(4):
                c.summarize(ARTICLE)
        assert info.value.retry_delay is not None and 0 < info.value.retry_delay <= 60


# --- readiness, overload and internal errors --------------------------------------------------


class _GatedPipeline(Pipeline):
    """The real pipeline, warming up only when told, and failing a brief on demand."""

    def __init__(self) -> None:
        super().__init__(make_settings())
        self.warm = threading.Event()
        self.fail_with: Exception | None = None
        self.hold: threading.Event | None = None  # set: briefs wait for it
        self.holding = threading.Event()

    async def start(self) -> None:
        await asyncio.to_thread(self.warm.wait, 60)
        await super().start()

    async def brief(
        self, article: Any, options: Any, *, deadline: float | None = None, tenant: str = ""
    ) -> Any:
        if self.ready and self.fail_with is not None:
            raise self.fail_with
        if self.ready and self.hold is not None:
            self.holding.set()
            await asyncio.to_thread(self.hold.wait, 60)
        return await super().brief(article, options, deadline=deadline, tenant=tenant)


def test_readyz_follows_the_grpc_health_state_and_errors_stay_json(caplog: Any) -> None:
    pipeline = _GatedPipeline()
    running = RunningServer(make_settings(http_port=-1), pipeline=pipeline, wait_ready=False)
    try:
        base = running.http_url
        assert httpx.get(f"{base}/healthz").status_code == 200
        not_ready = httpx.get(f"{base}/readyz")
        assert not_ready.status_code == 503 and not_ready.json() == {"status": "NOT_SERVING"}
        starting = post(base, "Summarize", {"text": ARTICLE})
        assert starting.status_code == 503 and starting.json()["code"] == "unavailable"
        assert int(starting.headers["retry-after"]) >= 1
        pipeline.warm.set()
        running.call(running.app.wait_ready())
        assert httpx.get(f"{base}/readyz").status_code == 200

        pipeline.fail_with = RuntimeError("secret stack detail /etc/passwd")
        failed = post(base, "Summarize", {"text": ARTICLE})
        assert failed.status_code == 500
        error = failed.json()
        assert error["code"] == "internal" and "secret" not in failed.text
        assert failed.headers["x-request-id"] in error["message"]
        assert any("secret stack detail" in str(r.exc_info) for r in caplog.records if r.exc_info)
        pipeline.fail_with = None
        assert post(base, "Summarize", {"text": ARTICLE}).status_code == 200

        running.call(running.app.health.enter_graceful_shutdown())
        assert httpx.get(f"{base}/readyz").status_code == 503  # draining
    finally:
        pipeline.warm.set()
        running.stop()


def test_summarize_stream_over_connect(server: RunningServer) -> None:
    """Bulk jobs over HTTP: the Connect client streams articles; each gets its own status."""
    from connectrpc.compat import google_protobuf_json_codec

    from newsbrief.v1.newsbrief_connect import SummarizerServiceClient

    async def run() -> list[pb.SummarizeStreamResponse]:
        async def requests() -> Any:
            for i, text in enumerate([ARTICLE, "", KO_ARTICLE]):
                yield pb.SummarizeStreamRequest(
                    request=pb.SummarizeRequest(text=text, client_reference=str(i))
                )

        client = SummarizerServiceClient(server.http_url, codec=google_protobuf_json_codec())
        return [item async for item in client.summarize_stream(requests())]

    items = {item.client_reference: item for item in asyncio.run(run())}
    assert sorted(items) == ["0", "1", "2"]
    assert items["0"].status.code == 0 and items["0"].response.source_language.code == "en"
    assert items["2"].status.code == 0 and items["2"].response.source_language.code == "ko"
    assert items["1"].status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert [v.field for v in items["1"].status.field_violations] == ["text"]


def test_requests_over_the_in_flight_limit_are_429_with_retry_after() -> None:
    pipeline = _GatedPipeline()
    pipeline.warm.set()
    running = RunningServer(make_settings(http_port=-1, max_concurrent_rpcs=1), pipeline=pipeline)
    try:
        pipeline.hold = threading.Event()
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(post, running.http_url, "Summarize", {"text": ARTICLE})
            assert pipeline.holding.wait(30)
            over = post(running.http_url, "Summarize", {"text": ARTICLE})
            assert over.status_code == 429 and over.json()["code"] == "resource_exhausted"
            assert int(over.headers["retry-after"]) >= 1
            assert debug(over, "google.rpc.RetryInfo")["retryDelay"]
            pipeline.hold.set()
            assert first.result(30).status_code == 200
        assert post(running.http_url, "Summarize", {"text": ARTICLE}).status_code == 200
    finally:
        if pipeline.hold is not None:
            pipeline.hold.set()
        running.stop()
