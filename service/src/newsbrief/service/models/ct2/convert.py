"""The CTranslate2 engine: the same presets as the transformers engine, converted locally to a
CTranslate2 model (int8 by default) and run by ``ctranslate2.Translator`` (encoder-decoder models:
M2M100/NLLB translators, BART and mT5 summarisers).

- **Conversion** (:func:`convert_preset`, ``newsbrief-server models convert PRESET``) reads the
  Hugging Face directory (the Hub cache or a local path) with
  ``ctranslate2.converters.TransformersConverter`` (this needs torch and transformers, once), and
  writes ``<models.ct2_dir>/<preset>-<revision>-<quantization>/``: the CTranslate2 model, a
  ``tokenizer/`` folder with the tokenizer files, and ``newsbrief.json`` saying where it came from.
  mT5 trap (MODELS.md): ``MT5Config`` forces ``tie_word_embeddings=True``, so the converter would
  scale the decoder output by d_model^-0.5 although transformers does not; the flag is reset to
  what the model really does before converting.
- **Serving** needs neither torch nor transformers: tokenisation uses the sentencepiece model (or a
  ``tokenizers`` JSON for byte-level BPE) with each family's special tokens added the way the
  Hugging Face tokenizer adds them, and CTranslate2 forces the target language with
  ``target_prefix=[[code]]``. :class:`CT2TranslationEngine` and :class:`CT2SummarizationEngine`
  have the blocking batch methods of the transformers engines (``translate_batch(texts, source,
  target)``, ``summarize_batch(texts, lang)``) in three stages (prepare, generate, finish), and
  :class:`CT2Translator` / :class:`CT2Summarizer` are the managed models the pipeline starts.

Thread layout: ``inter_threads`` (``models.<role>.inter_threads``) batches run at once, each with
``intra_threads`` (``models.<role>.threads``; 0 = the cores divided among them). On 2 cores two
single-threaded workers give the best throughput (MODELS.md).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from newsbrief.service.models.protocols import TranslationBatch
from newsbrief.service.models.hf.summarize import HFSummarizer, InputTooLong, clean_output
from newsbrief.service.models.hf.translate import WARMUP_TEXT, HFTranslator, ModelLoadError
from newsbrief.service.models.resolve import resolve_slot
from newsbrief.service.models.presets import FORCING, PRESETS, Decoding, Preset, get_preset
from newsbrief.service.domain import ModelInfo, Warning
from newsbrief.service.errors import CapabilityUnavailable
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings, Settings

log = logging.getLogger(__name__)

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
CONVERT_MODULES = ("ctranslate2", "torch", "transformers", "sentencepiece")


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


def read_marker(model_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((model_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def convert_command(preset: Preset) -> str:
    return f"newsbrief-server models convert {preset.name}"


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
    from ctranslate2.converters import TransformersConverter  # type: ignore[import-untyped]

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
        slot = ModelSlotSettings(preset=name, engine="ctranslate2")  # type: ignore[call-arg]
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


# ---- tokenisation without torch ----------------------------------------------------------------

_BASE_SPECIALS = ("<s>", "</s>", "<pad>", "<unk>", "<mask>")
_EXTRA_ID = re.compile(r"^<extra_id_\d+>$")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        if isinstance(value.get("content"), str):
            return [value["content"]]
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class PieceTokenizer:
    """Text <-> the token strings CTranslate2 takes, as the Hugging Face tokenizer makes them,
    without transformers: a sentencepiece model (M2M100, NLLB, mT5, MADLAD) or a ``tokenizers``
    JSON (BART's byte-level BPE). Each family's special tokens are added here:
    M2M100/NLLB ``[src_lang] pieces </s>``, T5 family ``pieces </s>``, BART ``<s> pieces </s>``."""

    def __init__(self, folder: Path, family: str, extra_specials: Sequence[str] = ()) -> None:
        self.family = family
        self._sp: Any = None
        self._tok: Any = None
        models = [folder / n for n in ("sentencepiece.bpe.model", "spiece.model", "source.spm")]
        models += sorted(folder.glob("*.model"))
        spm_file = next((m for m in models if m.is_file()), None)
        if spm_file is not None and family != "bart":
            import sentencepiece

            self._sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_file))
        elif (folder / "tokenizer.json").is_file():
            from tokenizers import Tokenizer

            self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        else:
            raise ModelLoadError(f"no sentencepiece model or tokenizer.json in {folder}")
        specials = set(_BASE_SPECIALS) | set(extra_specials)
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            try:
                data = json.loads((folder / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for key, value in data.items():
                if key.endswith("_token") or key.endswith("special_tokens"):
                    specials.update(_strings(value))
                if key == "added_tokens_decoder" and isinstance(value, dict):
                    specials.update(
                        v["content"]
                        for v in value.values()
                        if isinstance(v, dict) and v.get("special") and "content" in v
                    )
        self.specials = frozenset(specials)

    def pieces(self, text: str) -> list[str]:
        if self._sp is not None:  # via ids: a character the model lacks becomes "<unk>"
            return [self._sp.id_to_piece(i) for i in self._sp.encode(text)]
        return list(self._tok.encode(text, add_special_tokens=False).tokens)

    def source(self, text: str, lead: str | None = None, limit: int = 0) -> tuple[list[str], bool]:
        """The source tokens of ``text`` with the family's special tokens, cut to ``limit``
        tokens (0 = no limit), and whether it was cut. ``lead`` is a language token put first:
        the source language of M2M100/NLLB, the target tag of MADLAD (a tag in front of the text
        is one token, as the Hugging Face tokenizer makes it)."""
        pieces = self.pieces(text)
        head = [lead] if lead else (["<s>"] if self.family == "bart" else [])
        tail = ["</s>"]
        room = limit - len(head) - len(tail)
        cut = bool(limit) and len(pieces) > room
        if cut:
            pieces = pieces[: max(0, room)]
        return [*head, *pieces, *tail], cut

    def token(self, token_id: int) -> str:
        """The token string of a vocabulary id."""
        if self._sp is not None:
            return str(self._sp.id_to_piece(token_id))
        return str(self._tok.id_to_token(token_id))

    def decode(self, tokens: Sequence[str]) -> str:
        kept = [t for t in tokens if t not in self.specials and not _EXTRA_ID.match(t)]
        if self._sp is not None:
            return str(self._sp.decode(kept))
        ids = [self._tok.token_to_id(t) for t in kept]
        return str(self._tok.decode([i for i in ids if i is not None], skip_special_tokens=True))


def _vocabulary(model_dir: Path) -> set[str]:
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


def _load_translator(
    model_dir: Path, *, compute_type: str, inter_threads: int, intra_threads: int, device: str
) -> Any:
    import ctranslate2  # type: ignore[import-untyped]

    return ctranslate2.Translator(
        str(model_dir),
        device=device,
        compute_type=compute_type or "default",
        inter_threads=inter_threads,
        intra_threads=intra_threads,
    )


def _decode_kwargs(decoding: Decoding) -> dict[str, Any]:
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


# ---- translation -------------------------------------------------------------------------------


@dataclass
class CT2Prepared:
    """A tokenised batch: source tokens, target prefixes, which inputs were cut."""

    sources: list[list[str]]
    prefixes: list[list[str]] | None
    truncated: list[int]


class CT2TranslationEngine:
    """A loaded CTranslate2 translation model. Blocking and thread-safe: up to
    ``inter_threads`` calls run at once (a micro-batcher's workers)."""

    def __init__(
        self,
        *,
        translator: Any,
        tokenizer: PieceTokenizer,
        family: str,
        codes: dict[str, str],
        decoding: Decoding,
        max_input_tokens: int,
    ) -> None:
        self.translator = translator
        self.tokenizer = tokenizer
        self.family = family
        self.codes = dict(codes)
        self.decoding = decoding
        self.max_input_tokens = max_input_tokens
        self.forcing = FORCING.get(family, "forced_bos")

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        family: str,
        codes: dict[str, str],
        decoding: Decoding,
        max_input_tokens: int,
        compute_type: str = "int8",
        inter_threads: int = 1,
        intra_threads: int = 0,
        device: str = "cpu",
    ) -> CT2TranslationEngine:
        """Load a converted model and check that every language code is in its vocabulary."""
        model_dir = Path(model_dir)
        tokenizer = PieceTokenizer(model_dir / TOKENIZER_DIR, family, list(codes.values()))
        engine = cls(
            translator=_load_translator(
                model_dir,
                compute_type=compute_type,
                inter_threads=inter_threads,
                intra_threads=intra_threads,
                device=device,
            ),
            tokenizer=tokenizer,
            family=family,
            codes=codes,
            decoding=decoding,
            max_input_tokens=max_input_tokens,
        )
        engine.check_languages(_vocabulary(model_dir))
        return engine

    def check_languages(self, vocabulary: set[str]) -> None:
        """Every language code must be a token of the model: an unknown one would silently
        become ``<unk>`` (MODELS.md, trap 3)."""
        if self.forcing == "source_prefix":
            return  # MADLAD's <2xx> tags are ordinary pieces of the source text
        bad = [f"{lang}={code}" for lang, code in self.codes.items() if code not in vocabulary]
        if bad:
            raise ModelLoadError(
                "the converted model's vocabulary lacks these language codes: "
                + ", ".join(bad)
                + " (convert again from a tokenizer saved with its language codes)"
            )

    def supports(self, source: str, target: str) -> bool:
        return source in self.codes and target in self.codes

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.pieces(text)) + 2

    def prepare(self, texts: Sequence[str], source: str, target: str) -> CT2Prepared:
        sources: list[list[str]] = []
        truncated: list[int] = []
        prefixes: list[list[str]] | None
        if self.forcing == "source_prefix":  # MADLAD: "<2ko> text"
            prefixes = None
            lead = self.codes[target]
        else:  # M2M100, NLLB: "[src] text </s>", the target token forced first
            prefixes = [[self.codes[target]] for _ in texts]
            lead = self.codes[source]
        for i, text in enumerate(texts):
            tokens, cut = self.tokenizer.source(text, lead, self.max_input_tokens)
            sources.append(tokens)
            if cut:
                truncated.append(i)
        return CT2Prepared(sources, prefixes, truncated)

    def generate(self, prepared: CT2Prepared) -> list[list[str]]:
        """The best hypothesis of each input, as token strings (the target prefix included)."""
        results = self.translator.translate_batch(
            prepared.sources, target_prefix=prepared.prefixes, **_decode_kwargs(self.decoding)
        )
        return [list(r.hypotheses[0]) for r in results]

    def finish(self, hypotheses: list[list[str]]) -> tuple[list[str], list[int]]:
        """Decoded, cleaned texts, and which outputs stopped at ``max_new_tokens``."""
        from newsbrief.service.models.hf.translate import _clean

        texts = [_clean(self.tokenizer.decode(h)) for h in hypotheses]
        cut = [i for i, h in enumerate(hypotheses) if len(h) >= self.decoding.max_new_tokens]
        return texts, cut

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> TranslationBatch:
        """Translate one batch (blocking), like ``HFTranslationEngine.translate_batch``."""
        if not self.supports(source, target):
            raise ValueError(f"this model has no language code for {source} or {target}")
        out = ["" for _ in texts]
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return TranslationBatch(out)
        if source == target:
            return TranslationBatch(list(texts))
        prepared = self.prepare([texts[i] for i in todo], source, target)
        translated, cut = self.finish(self.generate(prepared))
        for j, i in enumerate(todo):
            out[i] = translated[j]
        warnings: list[Warning] = []
        if prepared.truncated:
            which = ", ".join(str(todo[j] + 1) for j in prepared.truncated)
            warnings.append(
                Warning(
                    "TRANSLATION_INPUT_TRUNCATED",
                    f"text(s) {which} of {len(texts)} were longer than the translator's input of "
                    f"{self.max_input_tokens} tokens; only the beginning was translated into "
                    f"{target}",
                )
            )
        if cut:
            which = ", ".join(str(todo[j] + 1) for j in cut)
            warnings.append(
                Warning(
                    "TRANSLATION_OUTPUT_TRUNCATED",
                    f"translation(s) {which} of {len(texts)} into {target} reached the limit of "
                    f"{self.decoding.max_new_tokens} tokens and may be incomplete",
                )
            )
        return TranslationBatch(out, warnings)


def _intra_threads(slot: ModelSlotSettings) -> int:
    return slot.threads or max(1, (os.cpu_count() or 1) // max(1, slot.inter_threads))


def _serve_detail() -> str:
    missing = [m for m in SERVE_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return ""
    return (
        f"the ctranslate2 engine needs {', '.join(missing)}: pip install 'newsbrief-service[ct2]'"
    )


def _absent_detail(preset: Preset, model_dir: Path) -> str:
    return (
        f"no CTranslate2 conversion of {preset.hub_id} at {model_dir}: run "
        f"`{convert_command(preset)}` (it reads the Hugging Face model: "
        f"`newsbrief-server models download {preset.name}` first)"
    )


class CT2Translator(HFTranslator):
    """The ``Translator`` on the CTranslate2 engine: as :class:`HFTranslator` (lifecycle,
    readiness, info), loading a converted model instead; torch is never imported."""

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        """Blocking batch translation for a micro-batcher's workers (up to ``inter_threads`` at
        once); CTranslate2 sets its own threads."""
        engine = self.engine
        if engine is None:
            raise CapabilityUnavailable(
                "translate", f"translation is not available: {self._info.detail}"
            )
        return engine.translate_batch(texts, source, target)

    def load(self) -> None:
        started = time.monotonic()
        detail = _serve_detail()
        if detail:
            self._not_ready(detail)
            return
        model_dir = ct2_model_dir(self.slot, self.models)
        if not is_ct2_dir(model_dir):
            self._not_ready(_absent_detail(self.preset, model_dir))
            return
        meta = read_marker(model_dir)
        self._info = replace(
            self._info,
            id=str(meta.get("model_id") or self._info.id),
            revision=str(meta.get("revision") or self._info.revision),
            backend="ctranslate2",
        )
        try:
            engine = CT2TranslationEngine.load(
                model_dir,
                family=self.preset.family,
                codes={lang: self.preset.code(lang) or "" for lang in self.preset.languages},
                decoding=self.decoding,
                max_input_tokens=self.preset.max_input_tokens,
                compute_type=self.slot.compute_type,
                inter_threads=self.slot.inter_threads,
                intra_threads=_intra_threads(self.slot),
                device=self.slot.device,
            )
            languages = self.preset.languages
            engine.translate_batch([WARMUP_TEXT], languages[0], languages[1])
        except Exception as exc:
            log.exception("translator %s failed to load from %s", self.preset.name, model_dir)
            self._not_ready(f"CTranslate2 model at {model_dir} failed to load: {exc}")
            return
        self.engine = engine  # type: ignore[assignment]
        self._info = replace(self._info, ready=True, detail="")
        log.info(
            "translator %s on CTranslate2 (%s, %s) ready in %.1f s: inter %d x intra %d threads",
            self.preset.name,
            model_dir,
            self.slot.compute_type,
            time.monotonic() - started,
            self.slot.inter_threads,
            _intra_threads(self.slot),
        )


# ---- summarisation -----------------------------------------------------------------------------


class CT2SummarizationEngine:
    """A loaded CTranslate2 summariser (BART, mT5): ``summarize_batch(texts, lang)``."""

    def __init__(
        self,
        *,
        translator: Any,
        tokenizer: PieceTokenizer,
        decoding: Decoding,
        max_input_tokens: int,
        prefix: list[str] | None,
    ) -> None:
        self.translator = translator
        self.tokenizer = tokenizer
        self.decoding = decoding
        self.max_input_tokens = max_input_tokens
        self.prefix = prefix

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        family: str,
        decoding: Decoding,
        max_input_tokens: int,
        compute_type: str = "int8",
        inter_threads: int = 1,
        intra_threads: int = 0,
        device: str = "cpu",
    ) -> CT2SummarizationEngine:
        model_dir = Path(model_dir)
        tokenizer = PieceTokenizer(model_dir / TOKENIZER_DIR, family)
        # BART forces <s> as the first generated token (``forced_bos_token_id``); so do we.
        prefix: list[str] | None = None
        try:
            config = json.loads(
                (model_dir / TOKENIZER_DIR / "config.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            config = {}
        try:
            generation = json.loads(
                (model_dir / TOKENIZER_DIR / "generation_config.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            generation = {}
        forced = generation.get("forced_bos_token_id", config.get("forced_bos_token_id"))
        if forced is not None and family == "bart":
            prefix = [tokenizer.token(int(forced))]
        try:
            tokenizer_config = json.loads(
                (model_dir / TOKENIZER_DIR / "tokenizer_config.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            tokenizer_config = {}
        # the input limit as the transformers engine computes it: the preset's, the tokenizer's
        # model_max_length, the model's positions
        for limit in (
            tokenizer_config.get("model_max_length"),
            config.get("max_position_embeddings") or config.get("n_positions"),
        ):
            if isinstance(limit, int) and 0 < limit < 1_000_000:
                max_input_tokens = min(max_input_tokens, limit)
        return cls(
            translator=_load_translator(
                model_dir,
                compute_type=compute_type,
                inter_threads=inter_threads,
                intra_threads=intra_threads,
                device=device,
            ),
            tokenizer=tokenizer,
            decoding=decoding,
            max_input_tokens=max_input_tokens,
            prefix=prefix,
        )

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.source(text)[0])

    def summarize_batch(self, texts: list[str], lang: str) -> list[str]:
        """One summary per text (each must fit the input: :class:`InputTooLong` otherwise)."""
        del lang  # BART and mT5 XL-Sum take no language tag
        if not texts:
            return []
        sources = [self.tokenizer.source(_SPACE.sub(" ", t).strip())[0] for t in texts]
        for i, tokens in enumerate(sources):
            if len(tokens) > self.max_input_tokens:
                raise InputTooLong(
                    f"text {i} is {len(tokens)} tokens; the summariser takes at most "
                    f"{self.max_input_tokens}"
                )
        prefixes = [list(self.prefix) for _ in texts] if self.prefix else None
        results = self.translator.translate_batch(
            sources, target_prefix=prefixes, **_decode_kwargs(self.decoding)
        )
        return [clean_output(self.tokenizer.decode(r.hypotheses[0])) for r in results]


_SPACE = re.compile(r"\s+")


class CT2Summarizer(HFSummarizer):
    """The neural summariser on CTranslate2: :class:`HFSummarizer`'s chunking and lifecycle over
    a :class:`CT2SummarizationEngine`; torch is never imported."""

    def __init__(self, slot: ModelSlotSettings, models: ModelsSettings) -> None:
        self._ct2_dir = ct2_model_dir(slot, models)
        preset = get_preset(slot.preset)
        meta = read_marker(self._ct2_dir)
        from newsbrief.service.models.resolve import Resolution

        resolution = Resolution(
            preset,
            str(meta.get("model_id") or slot.path or preset.hub_id),
            str(meta.get("revision") or slot.revision or preset.revision),
            self._ct2_dir if is_ct2_dir(self._ct2_dir) else None,
            "" if is_ct2_dir(self._ct2_dir) else _absent_detail(preset, self._ct2_dir),
        )
        super().__init__(slot, models, resolution=resolution)
        self._detail = resolution.detail or _serve_detail()
        self._engine: CT2SummarizationEngine | None = None

    @property
    def info(self) -> ModelInfo:
        return replace(super().info, backend="ctranslate2")

    def load(self) -> None:
        t0 = time.monotonic()
        engine = CT2SummarizationEngine.load(
            self._ct2_dir,
            family=self.preset.family,
            decoding=self.decoding,
            max_input_tokens=self.preset.max_input_tokens,
            compute_type=self.slot.compute_type,
            inter_threads=self.slot.inter_threads,
            intra_threads=_intra_threads(self.slot),
            device=self.slot.device,
        )
        self._engine = engine
        self._tokenizer = engine.tokenizer
        self._model = engine.translator
        self._max_input = engine.max_input_tokens
        log.info(
            "summariser %s on CTranslate2 (%s) loaded in %.1f s: input %d tokens, %s",
            self.preset.name,
            self._ct2_dir,
            time.monotonic() - t0,
            self._max_input,
            self.decoding.describe(),
        )

    def count_tokens(self, text: str) -> int:
        assert self._engine is not None
        return self._engine.count_tokens(text)

    def summarize_batch(self, texts: list[str], lang: str) -> list[str]:
        if self._engine is None:
            raise RuntimeError(f"the summariser {self.preset.name} is not loaded")
        return self._engine.summarize_batch(texts, lang)

    def _init_worker(self) -> None:  # no torch threads to set: CTranslate2 has its own
        return None
