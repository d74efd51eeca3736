"""Result types from protobuf and request validation (the client's import hygiene, in a fresh
interpreter: tests/integration/test_client_imports.py)."""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf import json_format

from newsbrief.client import (
    InvalidArgumentError,
    ServerInfo,
    StreamItem,
    SummarizeRequest,
    SummarizeResult,
    TranslateResult,
)
from newsbrief.client.client import channel_options, service_config, to_request_pb
from newsbrief.v1 import newsbrief_pb2 as pb


def _response() -> pb.SummarizeResponse:
    return pb.SummarizeResponse(
        brief=pb.Brief(headline="H", summary="S", key_points=["a", "b"]),
        source_language=pb.DetectedLanguage(code="ko", confidence=0.75),
        translations=[pb.Translation(language="ms", brief=pb.Brief(headline="Hm"))],
        faithfulness=pb.Faithfulness(passed=False, issues=["number 42 not in source"]),
        models=[pb.ModelInfo(role="summarizer", id="extractive", languages=["en"], ready=True)],
        warnings=[pb.Warning(code="BOILERPLATE_REMOVED", message="m")],
        timings=pb.Timings(stages_ms={"brief": 2.5}, total_ms=3.0),
        cached=True,
        client_reference="ref-1",
        method="extractive",
        metadata=pb.ArticleMetadata(title="T", characters=10, sentences=2, paragraphs=1),
    )


def test_summarize_result_from_pb() -> None:
    result = SummarizeResult.from_pb(_response())
    assert result.brief.key_points == ("a", "b")
    assert result.source_language.code == "ko" and result.source_language.confidence == 0.75
    assert result.translation("ms") is not None and result.translation("ms").headline == "Hm"  # type: ignore[union-attr]
    assert result.translation("ko") is None
    assert result.faithfulness.issues == ("number 42 not in source",)
    assert result.models[0].languages == ("en",)
    assert result.warnings[0].code == "BOILERPLATE_REMOVED"
    assert result.timings.stages_ms == {"brief": 2.5}
    assert result.cached and result.client_reference == "ref-1" and result.method == "extractive"
    assert result.metadata.sentences == 2
    with pytest.raises(AttributeError):
        result.cached = False  # type: ignore[misc]


def test_to_dict_is_the_standard_json_mapping() -> None:
    data = SummarizeResult.from_pb(_response()).to_dict()
    assert data["brief"]["keyPoints"] == ["a", "b"]
    assert data["sourceLanguage"]["code"] == "ko"
    parsed = json_format.Parse(json.dumps(data), pb.SummarizeResponse())
    assert parsed == _response()


def test_stream_item_ok_and_error() -> None:
    ok = StreamItem.from_pb(
        pb.SummarizeStreamResponse(index=2, client_reference="r", response=_response())
    )
    assert ok.ok and ok.index == 2 and ok.result is not None and ok.error is None
    bad = StreamItem.from_pb(
        pb.SummarizeStreamResponse(
            index=3,
            status=pb.ItemStatus(
                code=3,
                message="too long",
                field_violations=[pb.FieldViolation(field="text", description="too long")],
            ),
        )
    )
    assert not bad.ok and bad.result is None
    assert isinstance(bad.error, InvalidArgumentError)
    assert bad.error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert bad.error.field_violations == [("text", "too long")]


def test_translate_and_server_info() -> None:
    result = TranslateResult.from_pb(
        pb.TranslateResponse(
            translations=[pb.TranslatedTexts(language="ko", texts=["가", "나"])],
        )
    )
    assert result.translations == {"ko": ("가", "나")}
    info = ServerInfo.from_pb(
        pb.GetServerInfoResponse(
            version="1",
            limits=pb.Limits(max_text_chars=5),
            capabilities=[pb.Capability(name="translate", ready=False, detail="d")],
        )
    )
    assert info.limits.max_text_chars == 5
    assert info.capabilities[0].detail == "d"
    assert info.to_dict()["limits"]["maxTextChars"] == 5


def test_request_options_map_to_enums() -> None:
    msg = SummarizeRequest(html="<p>x</p>", length="short", method="abstractive").to_pb()
    assert msg.WhichOneof("content") == "html"
    assert msg.length == pb.SUMMARY_LENGTH_SHORT
    assert msg.method == pb.SUMMARY_METHOD_ABSTRACTIVE
    assert to_request_pb({"text": "t", "target_languages": ["ko"]}).target_languages == ["ko"]
    assert SummarizeRequest(text="t").to_pb().length == pb.SUMMARY_LENGTH_UNSPECIFIED


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"text": "a", "html": "b"},
        {"text": "a", "length": "huge"},
        {"text": "a", "method": "magic"},
        {"text": "a", "target_languages": "ko"},
    ],
)
def test_bad_requests_raise_value_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SummarizeRequest(**kwargs).to_pb()  # type: ignore[arg-type]


def test_unknown_dict_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="colour"):
        to_request_pb({"text": "a", "colour": "red"})


def test_service_config_retries_unavailable_and_balances() -> None:
    config = service_config(3)
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    method = config["methodConfig"][0]
    assert {"service": "newsbrief.v1.SummarizerService"} in method["name"]
    assert {"service": "grpc.health.v1.Health"} in method["name"]
    assert method["retryPolicy"]["maxAttempts"] == 4
    assert method["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert service_config(10)["methodConfig"][0]["retryPolicy"]["maxAttempts"] == 5
    assert "retryPolicy" not in service_config(0)["methodConfig"][0]
    options = dict(channel_options(3, [("grpc.max_receive_message_length", 1)]))
    assert options["grpc.enable_retries"] == 1
    assert options["grpc.max_receive_message_length"] == 1
    assert json.loads(options["grpc.service_config"]) == config
