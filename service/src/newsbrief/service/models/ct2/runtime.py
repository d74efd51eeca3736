"""Where converted CTranslate2 models live, and how one is opened for serving.

``<models.ct2_dir>/<preset>-<revision>-<quantization>/`` holds the CTranslate2 model, a
``tokenizer/`` folder with the tokenizer files, and ``newsbrief.json`` saying where it came from
(written by :mod:`~newsbrief.service.models.ct2.convert`). Serving needs neither torch nor
transformers. Thread layout: ``inter_threads`` (``models.<role>.inter_threads``) batches run at
once, each with ``intra_threads`` (``models.<role>.threads``; 0 = the cores divided among them);
on 2 cores two single-threaded workers give the best throughput.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from newsbrief.service.models.ct2.tokenizer import PieceTokenizer
from newsbrief.service.models.presets import Decoding, Preset, get_preset
from newsbrief.service.models.worker import ModelUnavailable
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

MARKER = "newsbrief.json"
TOKENIZER_DIR = "tokenizer"
#: Tokenizer files copied beside a converted model (the Hugging Face ``config.json`` goes into
#: ``tokenizer/`` too: the model directory's own ``config.json`` is CTranslate2's).
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
    "source.spm",
    "config.json",
    "generation_config.json",
)
T5_TYPES = ("t5", "mt5", "umt5")
SERVE_MODULES = ("ctranslate2", "sentencepiece", "tokenizers")


# ---- where converted models live ---------------------------------------------------------------


def quantization_of(compute_type: str) -> str:
    """The quantization a model is converted with for ``compute_type`` (``default``/``auto``:
    int8, what this engine is for on a CPU)."""
    return "int8" if compute_type in ("", "default", "auto") else compute_type


def is_ct2_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / TOKENIZER_DIR).is_dir()


def ct2_model_dir(slot: ModelSlotSettings, models: ModelsSettings) -> Path:
    """The converted model of a slot: ``slot.path`` itself when it is a converted model, else
    ``<ct2_dir>/<preset>-<revision or local-hash>-<quantization>``."""
    preset = get_preset(slot.preset)
    quant = quantization_of(slot.compute_type)
    if slot.path:
        path = Path(slot.path).expanduser()
        if is_ct2_dir(path):
            return path
        tag = "local-" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    else:
        tag = (slot.revision or preset.revision)[:10]
    return Path(models.ct2_dir) / f"{preset.name}-{tag}-{quant}"


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; ``{}`` when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_marker(model_dir: Path) -> dict[str, Any]:
    return read_json(model_dir / MARKER)


def convert_command(preset: Preset) -> str:
    return f"newsbrief-server models convert {preset.name}"


def vocabulary(model_dir: Path) -> set[str]:
    """The target vocabulary of a converted model (to check language codes against)."""
    for name in ("shared_vocabulary.json", "target_vocabulary.json"):
        path = model_dir / name
        if path.is_file():
            return set(json.loads(path.read_text(encoding="utf-8")))
    for name in ("shared_vocabulary.txt", "target_vocabulary.txt"):
        path = model_dir / name
        if path.is_file():
            return set(path.read_text(encoding="utf-8").splitlines())
    return set()


class RuntimeOptions(TypedDict, total=False):
    """How a converted model runs: the keyword arguments of an engine's ``load`` (and of
    :func:`open_model`, which gives the defaults)."""

    compute_type: str
    inter_threads: int
    intra_threads: int
    device: str


def open_model(
    model_dir: Path,
    *,
    compute_type: str = "int8",
    inter_threads: int = 1,
    intra_threads: int = 0,
    device: str = "cpu",
) -> Any:
    import ctranslate2

    return ctranslate2.Translator(
        str(model_dir),
        device=device,
        compute_type=compute_type or "default",
        inter_threads=inter_threads,
        intra_threads=intra_threads,
    )


def decode_kwargs(decoding: Decoding) -> dict[str, Any]:
    """``translate_batch`` options equal to ``generate``'s: CTranslate2's decoding lengths count
    a target prefix token as ``max_new_tokens`` counts the forced language token."""
    return {
        "beam_size": decoding.num_beams,
        "length_penalty": decoding.length_penalty,
        "no_repeat_ngram_size": decoding.no_repeat_ngram_size,
        "max_decoding_length": decoding.max_new_tokens,
        "min_decoding_length": decoding.min_new_tokens,
        "max_input_length": 0,  # inputs are cut (with a warning) or chunked before this
    }


def intra_threads(slot: ModelSlotSettings) -> int:
    return slot.threads or max(1, (os.cpu_count() or 1) // max(1, slot.inter_threads))


def serve_detail() -> str:
    missing = [m for m in SERVE_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return ""
    return (
        f"the ctranslate2 engine needs {', '.join(missing)}: pip install 'newsbrief-service[ct2]'"
    )


def absent_detail(preset: Preset, model_dir: Path) -> str:
    return (
        f"no CTranslate2 conversion of {preset.hub_id} at {model_dir}: run "
        f"`{convert_command(preset)}` (it reads the Hugging Face model: "
        f"`newsbrief-server models download {preset.name}` first)"
    )


def open_slot(
    slot: ModelSlotSettings, models: ModelsSettings
) -> tuple[Preset, Path, dict[str, Any], Decoding]:
    """The slot's preset, its converted model's folder and marker, and its decoding (the
    preset's with the slot's overrides). Raises :class:`ModelUnavailable` when the engine's
    modules are not installed or the model is not converted."""
    detail = serve_detail()
    if detail:
        raise ModelUnavailable(detail)
    preset = get_preset(slot.preset)
    model_dir = ct2_model_dir(slot, models)
    if not is_ct2_dir(model_dir):
        raise ModelUnavailable(absent_detail(preset, model_dir))
    return preset, model_dir, read_marker(model_dir), preset.decoding.merged(slot.decoding)


def runtime_options(slot: ModelSlotSettings) -> RuntimeOptions:
    """The keyword arguments of an engine's ``load`` that say how the slot runs the model."""
    return {
        "compute_type": slot.compute_type,
        "inter_threads": slot.inter_threads,
        "intra_threads": intra_threads(slot),
        "device": slot.device,
    }


@dataclass(kw_only=True, eq=False, repr=False)
class CT2Engine:
    """What both CTranslate2 engines hold: the opened model (a ``ctranslate2.Translator``), its
    tokenizer, the decoding and the longest input in tokens."""

    translator: Any
    tokenizer: PieceTokenizer
    decoding: Decoding
    max_input_tokens: int
