"""Converting a preset for the CTranslate2 engine (``newsbrief-server models convert PRESET``).

:func:`convert_preset` reads the Hugging Face directory (the Hub cache or a local path) with
``ctranslate2.converters.TransformersConverter`` (this needs torch and transformers, once) and
writes ``<models.ct2_dir>/<preset>-<revision>-<quantization>/``: the CTranslate2 model (int8 by
default), a ``tokenizer/`` folder with the tokenizer files, and ``newsbrief.json`` saying where it
came from. mT5 trap: ``MT5Config`` forces ``tie_word_embeddings=True``, so the converter would
scale the decoder output by d_model^-0.5 although transformers does not; the flag is reset to
what the model really does before converting.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, TextIO

from newsbrief.service.models.ct2.runtime import (
    MARKER,
    T5_TYPES,
    TOKENIZER_DIR,
    TOKENIZER_FILES,
    ct2_model_dir,
    is_ct2_dir,
    quantization_of,
)
from newsbrief.service.models.presets import PRESETS, get_preset
from newsbrief.service.models.resolve import resolve_slot
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings, Settings

log = logging.getLogger(__name__)

CONVERT_MODULES = ("ctranslate2", "torch", "transformers", "sentencepiece")

# ---- conversion (imports torch) ----------------------------------------------------------------


def convert_checkpoint(
    source: Path,
    out_dir: Path,
    *,
    quantization: str | None = "int8",
    force: bool = False,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Convert the Hugging Face model directory ``source`` into ``out_dir`` (written beside it
    first, then renamed: a half-written model is never left under the final name)."""
    from ctranslate2.converters import TransformersConverter

    class _Converter(TransformersConverter):
        def load_model(self, model_class: Any, model_name_or_path: str, **kwargs: Any) -> Any:
            model = super().load_model(model_class, model_name_or_path, **kwargs)
            config = model.config
            if getattr(config, "model_type", "") in T5_TYPES:
                # transformers scales the decoder output only where ``scale_decoder_outputs``
                # says so (never for mT5); the converter reads ``tie_word_embeddings``, which
                # MT5Config forces to True. Make it say what transformers does.
                config.tie_word_embeddings = bool(getattr(config, "scale_decoder_outputs", False))
            if getattr(config, "model_type", "") == "bart" and not hasattr(
                config, "normalize_before"
            ):
                # transformers 5 dropped the field the converter reads; BART is post-norm
                config.normalize_before = False
            return model

    source = Path(source)
    out_dir = Path(out_dir)
    if out_dir.exists() and not force:
        raise FileExistsError(f"{out_dir} exists (use force to convert again)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.monotonic()
    quant = None if quantization in (None, "", "float32") else quantization
    _Converter(str(source)).convert(str(tmp), quantization=quant, force=True)
    tokenizer_dir = tmp / TOKENIZER_DIR
    tokenizer_dir.mkdir()
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copy(source / name, tokenizer_dir / name)
    for model_file in source.glob("*.model"):
        shutil.copy(model_file, tokenizer_dir / model_file.name)
    record = {
        "source": str(source),
        "quantization": quantization or "float32",
        "converted_in_s": round(time.monotonic() - started, 2),
        **(meta or {}),
    }
    (tmp / MARKER).write_text(json.dumps(record, indent=2), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    log.info(
        "converted %s to %s (%s) in %.1f s",
        source,
        out_dir,
        record["quantization"],
        record["converted_in_s"],
    )
    return out_dir


def convert_preset(
    name: str,
    models: ModelsSettings,
    *,
    slot: ModelSlotSettings | None = None,
    compute_type: str | None = None,
    force: bool = False,
) -> Path:
    """Convert preset ``name`` (from the Hugging Face cache, or the slot's local ``path``) for the
    CTranslate2 engine; returns the converted directory. What ``newsbrief-server models convert``
    runs. Raises FileNotFoundError, with the command that fetches it, when the model is absent."""
    preset = get_preset(name)
    if slot is None or slot.preset != name:
        slot = ModelSlotSettings(preset=name, engine="ctranslate2")
    if compute_type:
        slot = slot.model_copy(update={"compute_type": compute_type})
    missing = [m for m in CONVERT_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(
            f"converting needs {', '.join(missing)}: install the ct2 and hf extras "
            "(pip install 'newsbrief-service[hf,ct2]')"
        )
    resolution = resolve_slot(slot, models, preset.role)
    if resolution.path is None:
        raise FileNotFoundError(resolution.detail)
    out_dir = ct2_model_dir(slot, models)
    if is_ct2_dir(out_dir) and not force:
        log.info("%s is already converted at %s", name, out_dir)
        return out_dir
    quant = quantization_of(slot.compute_type)
    return convert_checkpoint(
        resolution.path,
        out_dir,
        quantization=quant,
        force=True,
        meta={
            "preset": preset.name,
            "family": preset.family,
            "model_id": resolution.model_id,
            "revision": resolution.revision,
        },
    )


def convert_models(
    settings: Settings,
    names: list[str],
    compute_type: str,
    force: bool,
    out: TextIO,
    err: TextIO,
) -> int:
    """``newsbrief-server models convert [PRESET...]``: convert the named presets (default: the
    slots configured with ``engine=ctranslate2``), each with its slot's path, revision and
    compute type when a slot uses it. Exit code 0 when all are converted, 1 when one failed,
    2 for an unknown name."""
    slots = [settings.models.summarizer, settings.models.translator]
    if not names:
        names = [s.preset for s in slots if s.engine == "ctranslate2" and s.preset in PRESETS]
        if not names:
            print("no model slot is configured with engine=ctranslate2; name a preset", file=out)
            return 0
    unknown = [n for n in names if n not in PRESETS]
    if unknown:
        print(
            f"newsbrief-server: unknown preset(s) {', '.join(unknown)}; known presets: "
            f"{', '.join(sorted(PRESETS))}",
            file=err,
        )
        return 2
    failed = 0
    for name in names:
        slot = next((s for s in slots if s.preset == name), None)
        try:
            path = convert_preset(
                name, settings.models, slot=slot, compute_type=compute_type or None, force=force
            )
        except Exception as exc:  # absent model, missing extra, disk: report, go on
            failed += 1
            print(f"newsbrief-server: could not convert {name}: {exc}", file=err)
            continue
        print(f"{name}: CTranslate2 model in {path}", file=out)
    return 1 if failed else 0
