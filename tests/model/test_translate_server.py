"""Translations through the real server: a tiny M2M100 checkpoint laid out in a Hugging Face
cache at the preset's pinned revision (so the production resolution path finds it), briefs with
``--to ko,ms`` over gRPC and through the ``newsbrief`` CLI, and a configured model that is absent
under ``HF_HUB_OFFLINE=1``: FAILED_PRECONDITION naming the model and the command, while briefs
keep working and health says SERVING."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsbrief.client import Client, FailedPreconditionError
from newsbrief.service.models.presets import PRESETS
from tests.conftest import RunningServer, make_settings
from tests.model.conftest import install_in_hf_cache

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ARTICLE = (FIXTURES / "en_article.txt").read_text(encoding="utf-8")
M2M = PRESETS["m2m100-418m"]
NLLB = PRESETS["nllb-600m"]
FAST = {"num_beams": 1, "max_new_tokens": 8}


@pytest.fixture(scope="module")
def hf_cache(m2m100_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = tmp_path_factory.mktemp("hf-cache")
    install_in_hf_cache(m2m100_checkpoint, cache, M2M.hub_id, M2M.revision)
    return cache


@pytest.fixture(scope="module")
def tiny_server(hf_cache: Path) -> Iterator[RunningServer]:
    settings = make_settings(
        models={
            "cache_dir": str(hf_cache),
            "translator": {"preset": "m2m100-418m", "threads": 1, "decoding": FAST},
        }
    )
    with RunningServer(settings) as running:
        yield running


@pytest.fixture(scope="module")
def absent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    empty = tmp_path_factory.mktemp("empty-hf-cache")
    settings = make_settings(
        models={"cache_dir": str(empty), "translator": {"preset": "nllb-600m"}}
    )
    with RunningServer(settings) as running:
        yield running


def test_the_preset_resolves_from_the_hf_cache_and_is_reported(tiny_server: RunningServer) -> None:
    with Client(tiny_server.target) as client:
        info = client.server_info()
    capabilities = {c.name: c for c in info.capabilities}
    assert capabilities["translate"].ready, capabilities["translate"].detail
    translator = next(m for m in info.models if m.role == "translator")
    assert translator.id == "facebook/m2m100_418M"
    assert translator.revision == M2M.revision
    assert translator.licence == "MIT"
    assert {"en", "ko", "ms"} <= set(translator.languages)
    assert translator.ready and translator.backend == "transformers"
    assert translator.parameters["num_beams"] == "1"  # decoding from settings, recorded
    assert translator.parameters["max_new_tokens"] == "8"
    assert translator.parameters["do_sample"] == "false"
    assert {"ko", "ms"} <= set(info.translation_languages)


def test_brief_with_two_translations(tiny_server: RunningServer) -> None:
    with Client(tiny_server.target, timeout=60) as client:
        result = client.summarize(ARTICLE, target_languages=["ko", "ms"])
    assert result.brief.summary
    assert [t.language for t in result.translations] == ["ko", "ms"]
    for translation in result.translations:
        # one translation per field: headline, summary, each key point
        assert isinstance(translation.brief.headline, str)
        assert isinstance(translation.brief.summary, str)
        assert len(translation.brief.key_points) == len(result.brief.key_points)
    assert any(m.role == "translator" and m.id == "facebook/m2m100_418M" for m in result.models)
    assert "translate" in result.timings.stages_ms


def test_translation_mismatch_is_reported(tiny_server: RunningServer) -> None:
    """Random weights cannot keep the numbers of the source: the check says so."""
    text = "The council approved 1,250 homes on 3 March 2026. They will cost 45 million dollars."
    with Client(tiny_server.target, timeout=60) as client:
        result = client.translate([text], ["ko"], source_language="en")
    assert len(result.translations["ko"]) == 1
    mismatch = [w for w in result.warnings if w.code == "TRANSLATION_MISMATCH"]
    assert mismatch and "1,250" in mismatch[0].message and "(text 1)" in mismatch[0].message


def test_translate_rpc_one_text_per_input_and_language(tiny_server: RunningServer) -> None:
    with Client(tiny_server.target, timeout=60) as client:
        result = client.translate(["Hello there.", "", "The park opens soon."], ["ko", "ms", "en"])
    assert set(result.translations) == {"ko", "ms", "en"}
    assert all(len(texts) == 3 for texts in result.translations.values())
    assert result.translations["ko"][1] == ""
    assert result.translations["en"][0] == "Hello there."  # the source language is kept as is


def test_cli_summarize_to_ko_ms_end_to_end(tiny_server: RunningServer) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsbrief.client.cli",
            "--target",
            tiny_server.target,
            "summarize",
            str(FIXTURES / "en_article.txt"),
            "--to",
            "ko,ms",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["brief"]["summary"]
    assert [t["language"] for t in data["translations"]] == ["ko", "ms"]


def test_absent_model_is_failed_precondition_naming_model_and_command(
    absent_server: RunningServer,
) -> None:
    with Client(absent_server.target) as client:
        assert client.health() == "SERVING"
        assert client.summarize(ARTICLE).brief.summary  # the extractive brief still works
        with pytest.raises(FailedPreconditionError) as info:
            client.summarize(ARTICLE, target_languages=["ko", "ms"])
        message = info.value.message
        assert "facebook/nllb-200-distilled-600M" in message
        assert "newsbrief-server models download nllb-600m" in message
        assert info.value.precondition_violations[0][1] == "translate"
        with pytest.raises(FailedPreconditionError):
            client.translate(["Hello there."], ["ko"])
        server_info = client.server_info()
    translator = next(m for m in server_info.models if m.role == "translator")
    assert not translator.ready
    assert "not installed" in translator.detail
    assert translator.licence.startswith("CC BY-NC")
    assert translator.revision == NLLB.revision
    capabilities = {c.name: c for c in server_info.capabilities}
    assert not capabilities["translate"].ready
    assert "make models" in capabilities["translate"].detail
