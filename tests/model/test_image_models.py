"""The `models` image serves from its models volume: the `models-init` step (`newsbrief-server
models convert`, with the models-init image's ENV) converts tiny checkpoints laid out as a
Hugging Face cache in the volume, then the `models` target's build stages (mirrored: CTranslate2,
no torch) serve a translation and the CTranslate2 summariser from it, probed with the image's own
HEALTHCHECK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsbrief.service.models.presets import get_preset
from tests.harness.server import free_port
from tests.model.conftest import install_in_hf_cache
from tests.model.summarizers import bart_checkpoint  # noqa: F401  (session fixture)
from tests.system.test_dockerfile import REPO, image_env, mirror, serving

#: the Dockerfile's `models` environment built on the host: the system tier
pytestmark = pytest.mark.system

TEXT = (REPO / "tests" / "fixtures" / "en_article.txt").read_text(encoding="utf-8")


def test_models_image_serves_translations_from_its_models_volume(
    m2m100_checkpoint: Path,
    bart_checkpoint: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    root = tmp_path / "image"
    spec = mirror(root, "models")
    site = next((root / "opt" / "venv" / "lib").glob("python3*/site-packages"))
    assert (site / "ctranslate2").is_dir() and not (site / "torch").exists()
    assert spec["volumes"] == ["/models"]

    # the volume, filled as the models-init image does: a Hugging Face cache, then convert
    volume = tmp_path / "models"
    hub = volume / "hf" / "hub"
    for preset, checkpoint in (
        ("m2m100-418m", m2m100_checkpoint),
        ("distilbart-cnn", bart_checkpoint),
    ):
        p = get_preset(preset)
        install_in_hf_cache(checkpoint, hub, p.hub_id, p.revision)
    init = _init_env(volume)
    convert = subprocess.run(
        [sys.executable, "-m", "newsbrief.service", "models", "convert"],
        env=init,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert convert.returncode == 0, convert.stderr[-3000:]
    assert sorted(p.name.split("-")[0] for p in (volume / "ct2").iterdir()) == [
        "distilbart",
        "m2m100",
    ]

    env = image_env(root, spec, free_port(), models=volume)
    env.update(  # an operator's decoding overrides: a tiny random model, kept short
        NEWSBRIEF_MODELS__TRANSLATOR__DECODING__NUM_BEAMS="1",
        NEWSBRIEF_MODELS__TRANSLATOR__DECODING__MAX_NEW_TOKENS="8",
        NEWSBRIEF_MODELS__SUMMARIZER__DECODING__NUM_BEAMS="1",
        NEWSBRIEF_MODELS__SUMMARIZER__DECODING__MAX_NEW_TOKENS="8",
        NEWSBRIEF_MODELS__SUMMARIZER__DECODING__MIN_NEW_TOKENS="0",
    )
    cli = str(root / "opt" / "venv" / "bin" / "newsbrief")
    with serving(root, spec, env) as target:
        info = _run([cli, "--target", target, "info", "--json"], env)
        ready = {m["role"]: (m["backend"], m["ready"]) for m in json.loads(info)["models"]}
        assert ready["translator"] == ("ctranslate2", True), info
        assert ready["summarizer"][1] is True, info
        out = json.loads(
            _run([cli, "--target", target, "summarize", "--to", "ko", "--json", "-"], env, TEXT)
        )
        (translation,) = out["translations"]
        assert translation["language"] == "ko" and translation["brief"]["headline"]
        assert "riverside" in out["brief"]["summary"].lower()


def _init_env(volume: Path) -> dict[str, str]:
    """The models-init image's ENV (relocated to ``volume``) on this interpreter, offline."""
    from scripts.dockerfile_mirror import parse, runtime_spec

    spec = runtime_spec(parse(REPO / "Dockerfile").chain("models-init"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBRIEF_", "HF_"))}
    for key, value in spec["env"].items():  # type: ignore[attr-defined]
        if key.startswith(("NEWSBRIEF_", "HF_")):
            env[key] = value.replace("/models", str(volume))
    env["HF_HUB_OFFLINE"] = "1"
    return env


def _run(argv: list[str], env: dict[str, str], stdin: str = "") -> str:
    proc = subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"{argv[3:]} failed: {proc.stderr[-2000:]}")
    return proc.stdout
