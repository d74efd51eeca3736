"""Translation on transformers: ``AutoTokenizer`` + ``AutoModelForSeq2SeqLM.generate`` (no
pipelines; transformers 5 removed them).

Two layers:

- :class:`HFTranslationEngine` is blocking and owns a loaded model: ``prepare`` (tokenise with the
  source language, truncate with a warning) -> ``generate`` (target forced by the family's rule,
  deterministic decoding from settings) -> ``finish`` (decode, clean). ``translate_batch`` runs
  the three; a micro-batcher may call it from a worker thread.
- :class:`HFTranslator` implements the pipeline's ``Translator`` Protocol: it resolves and loads
  the model on its own single worker thread at start-up (torch's intra-op threads set there) and
  runs every batch on that thread, never on the event loop.

torch and transformers are imported inside :meth:`HFTranslationEngine.load` only.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from newsbrief.service.models.protocols import TranslationBatch
from newsbrief.service.models.resolve import engine_detail, resolve_slot
from newsbrief.service.models.presets import FORCING, Decoding, Preset, get_preset
from newsbrief.service.domain import ModelInfo, Warning
from newsbrief.service.errors import CapabilityUnavailable, DeadlineExceeded
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

log = logging.getLogger(__name__)

WARMUP_TEXT = "The council approved the new park on Tuesday."


class ModelLoadError(RuntimeError):
    """A model directory that cannot serve: wrong files, or language codes the tokenizer lacks."""


@dataclass
class Prepared:
    """A tokenised batch: tensors for ``generate`` and which inputs were cut."""

    inputs: Any  # transformers BatchEncoding on the model's device
    truncated: list[int]
    forced_token_id: int | None


class HFTranslationEngine:
    """A loaded seq2seq translation model. Blocking; use it from one thread at a time (the
    tokenizer's source language is state)."""

    def __init__(
        self,
        *,
        model: Any,
        tokenizer: Any,
        family: str,
        codes: dict[str, str],
        decoding: Decoding,
        max_input_tokens: int,
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.family = family
        self.codes = dict(codes)
        self.decoding = decoding
        self.max_input_tokens = max_input_tokens
        self.device = device
        self.forcing = FORCING.get(family, "forced_bos")
        self.language_ids: dict[str, int] = {}

    # ---- loading ---------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        family: str,
        codes: dict[str, str],
        decoding: Decoding,
        max_input_tokens: int,
        device: str = "cpu",
    ) -> HFTranslationEngine:
        """Load tokenizer and model from a local directory (``from_pretrained``, nothing fetched)
        and check that every language code maps to a real token."""
        import torch
        import transformers
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
        model.eval()
        if device != "cpu":
            model.to(torch.device(device))
        # A max_length in the checkpoint's generation config (real NLLB: 200) next to our
        # max_new_tokens makes generate() warn on every call; max_new_tokens is the limit.
        model.generation_config.max_length = None
        model_max = min(
            int(getattr(tokenizer, "model_max_length", None) or max_input_tokens),
            int(getattr(model.config, "max_position_embeddings", None) or max_input_tokens),
        )
        engine = cls(
            model=model,
            tokenizer=tokenizer,
            family=family,
            codes=codes,
            decoding=decoding,
            max_input_tokens=min(max_input_tokens, int(model_max)),
            device=device,
        )
        engine.language_ids = engine.check_languages()
        return engine

    def check_languages(self) -> dict[str, int]:
        """The token id of every language code, verified: a code the tokenizer does not know
        would silently become ``<unk>`` (an NLLB tokenizer saved without its codes does that)."""
        tok = self.tokenizer
        vocab_size = int(self.model.config.vocab_size)
        ids: dict[str, int] = {}
        bad: list[str] = []
        for language, code in self.codes.items():
            token_id = tok.convert_tokens_to_ids(code)
            ok = (
                isinstance(token_id, int)
                and token_id != tok.unk_token_id
                and 0 <= token_id < vocab_size
                and tok.convert_ids_to_tokens(token_id) == code
            )
            if ok and self.family == "m2m100" and hasattr(tok, "get_lang_id"):
                ok = tok.get_lang_id(code.strip("_")) == token_id
            if ok and self.forcing == "source_prefix":
                # the tag must reach the model as one token at the start of the source
                ok = tok(f"{code} x")["input_ids"][0] == token_id
            if ok:
                ids[language] = int(token_id)
            else:
                bad.append(f"{language}={code} (id {token_id!r})")
        if bad:
            raise ModelLoadError(
                "the tokenizer does not map these language codes to real tokens: "
                + ", ".join(bad)
                + " (an NLLB/M2M100 tokenizer saved without its language codes does this)"
            )
        return ids

    # ---- stages ----------------------------------------------------------------------------

    def supports(self, source: str, target: str) -> bool:
        return source in self.codes and target in self.codes

    def prepare(self, texts: Sequence[str], source: str, target: str) -> Prepared:
        """Tokenise with the source language set; inputs over ``max_input_tokens`` are cut (the
        caller gets a warning naming them)."""
        tok = self.tokenizer
        if self.forcing == "source_prefix":
            texts = [f"{self.codes[target]} {t}" for t in texts]
            forced = None
        else:
            code = self.codes[source]
            # M2M100Tokenizer takes the bare code ("en"); NllbTokenizer the token ("eng_Latn")
            tok.src_lang = code.strip("_") if self.family == "m2m100" else code
            forced = self.language_ids[target]
        lengths = [len(ids) for ids in tok(list(texts))["input_ids"]]
        truncated = [i for i, n in enumerate(lengths) if n > self.max_input_tokens]
        inputs = tok(
            list(texts),
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=self.max_input_tokens,
        )
        if self.device != "cpu":
            inputs = inputs.to(self.device)
        return Prepared(inputs, truncated, forced)

    def generate(self, prepared: Prepared) -> Any:
        """Token ids of the translations (target language forced)."""
        import torch

        kwargs = self.decoding.generate_kwargs()
        if prepared.forced_token_id is not None:
            kwargs["forced_bos_token_id"] = prepared.forced_token_id
        with torch.inference_mode():
            return self.model.generate(**prepared.inputs, **kwargs)

    def finish(self, output_ids: Any) -> tuple[list[str], list[int]]:
        """Decoded, cleaned texts, and which outputs stopped at ``max_new_tokens`` (maybe cut)."""
        tok = self.tokenizer
        rows = output_ids.tolist()
        texts = [_clean(t) for t in tok.batch_decode(rows, skip_special_tokens=True)]
        eos = tok.eos_token_id
        start = int(getattr(self.model.config, "decoder_start_token_id", None) or 0)
        cut = []
        for i, row in enumerate(rows):
            generated = row[1:] if row and row[0] == start else row
            if eos not in generated and len(generated) >= self.decoding.max_new_tokens:
                cut.append(i)
        return texts, cut

    def count_tokens(self, text: str) -> int:
        """Input tokens of ``text``, special tokens included (call on the engine's thread)."""
        return len(self.tokenizer(text)["input_ids"])

    def split_long(self, text: str, source: str) -> list[str]:
        """``text`` as runs of whole sentences that each fit the model's input. A single
        sentence longer than the input stays whole (and is truncated, with a warning)."""
        from newsbrief.service.text.segment import split_sentences

        if self.count_tokens(text) <= self.max_input_tokens:
            return [text]
        budget = self.max_input_tokens - 4  # language tags and </s>
        parts: list[str] = []
        current: list[str] = []
        size = 0
        for sentence in split_sentences(text, source) or [text]:
            n = len(self.tokenizer(sentence, add_special_tokens=False)["input_ids"])
            if current and size + n > budget:
                parts.append(" ".join(current))
                current, size = [], 0
            current.append(sentence)
            size += n
        if current:
            parts.append(" ".join(current))
        return parts

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> TranslationBatch:
        """Translate one batch (blocking). Empty texts stay empty; the rest go to the model
        together. A text longer than the model's input is translated as runs of whole sentences
        (in the same batch) and joined again. Warnings say what was split, truncated or cut."""
        if not self.supports(source, target):
            raise ValueError(f"this model has no language code for {source} or {target}")
        out = ["" for _ in texts]
        todo = [i for i, t in enumerate(texts) if t.strip()]
        warnings: list[Warning] = []
        if not todo:
            return TranslationBatch(out)
        if source == target:
            return TranslationBatch(list(texts))
        pieces: list[str] = []
        owners: list[int] = []
        split: dict[int, int] = {}
        for i in todo:
            parts = self.split_long(texts[i], source)
            if len(parts) > 1:
                split[i] = len(parts)
            pieces.extend(parts)
            owners.extend([i] * len(parts))
        prepared = self.prepare(pieces, source, target)
        output_ids = self.generate(prepared)
        translated, cut = self.finish(output_ids)
        joined: dict[int, list[str]] = {}
        for owner, text in zip(owners, translated, strict=True):
            joined.setdefault(owner, []).append(text)
        for i, parts in joined.items():
            out[i] = " ".join(p for p in parts if p)

        def numbers(indices: Sequence[int]) -> str:
            return ", ".join(str(i + 1) for i in sorted(set(indices)))

        n = len(texts)
        if split:
            warnings.append(
                Warning(
                    "TRANSLATION_SPLIT",
                    f"text(s) {numbers(list(split))} of {n} were longer than the translator's "
                    f"input of {self.max_input_tokens} tokens: each was translated in "
                    f"{max(split.values())} or fewer runs of whole sentences, joined again",
                )
            )
        if prepared.truncated:
            which = numbers([owners[j] for j in prepared.truncated])
            warnings.append(
                Warning(
                    "TRANSLATION_INPUT_TRUNCATED",
                    f"text(s) {which} of {n} hold a sentence longer than the translator's input "
                    f"of {self.max_input_tokens} tokens; only its beginning was translated into "
                    f"{target}",
                )
            )
            log.warning("translation input truncated: texts %s", which)
        if cut:
            warnings.append(
                Warning(
                    "TRANSLATION_OUTPUT_TRUNCATED",
                    f"translation(s) {numbers([owners[j] for j in cut])} of {n} into {target} "
                    f"reached the limit of {self.decoding.max_new_tokens} tokens and may be "
                    "incomplete",
                )
            )
        return TranslationBatch(out, warnings)


_SPACES = re.compile(r"\s+")
_LANG_TAG = re.compile(r"^(?:__[a-z]{2,3}__|[a-z]{3}_[A-Z][a-z]{3}|<2[a-z]{2,3}>)\s*")


def _clean(text: str) -> str:
    """One line, no leftover language tag."""
    return _LANG_TAG.sub("", _SPACES.sub(" ", text).strip())


def _threads(slot: ModelSlotSettings) -> int:
    return slot.threads or os.cpu_count() or 1


class HFTranslator:
    """The ``Translator`` the pipeline uses: one model on its own single worker thread.

    Constructing it is instant and imports nothing heavy; ``await start()`` resolves the model
    (explicit path or the Hugging Face cache), loads it on the worker, checks its language codes
    and warms it up. A model that is absent or broken leaves it not ready, with ``info.detail``
    saying why and how to fix it: the pipeline answers translation requests with
    FAILED_PRECONDITION carrying that text.
    """

    role = "translator"

    def __init__(self, slot: ModelSlotSettings, models: ModelsSettings) -> None:
        self.slot = slot
        self.models = models
        self.preset: Preset = get_preset(slot.preset)
        if self.preset.role != "translator":
            raise ValueError(
                f"models.translator.preset={slot.preset!r} is a {self.preset.role} preset"
            )
        self.decoding = self.preset.decoding.merged(slot.decoding)
        self.engine: HFTranslationEngine | None = None
        self._thread_state = threading.local()
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"newsbrief-{self.preset.name}"
        )
        self._info = ModelInfo(
            role=self.role,
            id=slot.path or self.preset.hub_id,
            revision=slot.revision or self.preset.revision,
            licence=self.preset.licence,
            languages=self.preset.languages,
            ready=False,
            backend=slot.engine,
            detail=f"model {self.preset.hub_id} is loading",
            parameters=self.parameters(),
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def parameters(self, max_input_tokens: int | None = None) -> tuple[tuple[str, str], ...]:
        """Decoding settings and input size, recorded in every response's model info."""
        return self.decoding.parameters(
            self.preset.name,
            max_input_tokens or self.preset.max_input_tokens,
            ("device", self.slot.device),
        )

    def supports(self, source: str, target: str) -> bool:
        langs = self._info.languages
        return source in langs and target in langs

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Load on the worker thread; never raises for a missing or broken model."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self.load)

    def load(self) -> None:
        """Blocking: resolve, load, check, warm up (call it on the worker thread)."""
        started = time.monotonic()
        if self.slot.engine != "transformers":
            self._not_ready(
                f"engine {self.slot.engine!r} is not available for translators in this version; "
                "set models.translator.engine=transformers"
            )
            return
        missing = engine_detail("transformers")
        if missing:
            self._not_ready(missing)
            return
        resolution = resolve_slot(self.slot, self.models, self.role)
        if not resolution.ok and self.models.download_on_start and not self.slot.path:
            resolution = self._download()
        if resolution.path is None:
            self._not_ready(resolution.detail)
            return
        self._info = replace(
            self._info, id=resolution.model_id, revision=resolution.revision, backend="transformers"
        )
        try:
            import torch

            torch.set_num_threads(_threads(self.slot))  # this worker's intra-op threads
            engine = HFTranslationEngine.load(
                resolution.path,
                family=self.preset.family,
                codes={lang: self.preset.code(lang) or "" for lang in self.preset.languages},
                decoding=self.decoding,
                max_input_tokens=self.preset.max_input_tokens,
                device=self.slot.device,
            )
            languages = self.preset.languages
            engine.translate_batch([WARMUP_TEXT], languages[0], languages[1])
        except Exception as exc:
            log.exception("translator %s failed to load from %s", self.preset.name, resolution.path)
            self._not_ready(
                f"model {resolution.model_id} at {resolution.path} failed to load: {exc}"
            )
            return
        self.engine = engine
        self._info = replace(
            self._info,
            ready=True,
            detail="",
            parameters=self.parameters(engine.max_input_tokens),
        )
        log.info(
            "translator %s (%s@%s) ready in %.1f s on %s, %d thread(s), %s",
            self.preset.name,
            resolution.model_id,
            resolution.revision,
            time.monotonic() - started,
            self.slot.device,
            _threads(self.slot),
            self.decoding.describe(),
        )

    def _download(self) -> Any:
        from newsbrief.service.models.resolve import download

        try:
            download(self.preset, revision=self.slot.revision, cache_dir=self.models.cache_dir)
        except Exception as exc:
            log.warning("could not download %s: %s", self.preset.hub_id, exc)
        return resolve_slot(self.slot, self.models, self.role)

    def _not_ready(self, detail: str) -> None:
        self._info = replace(self._info, ready=False, detail=detail)
        log.warning("translator %s is not available: %s", self.preset.name, detail)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # ---- inference -------------------------------------------------------------------------

    async def translate(
        self, texts: list[str], source: str, target: str, *, deadline: float | None = None
    ) -> list[str]:
        engine = self.engine
        if engine is None:
            raise CapabilityUnavailable(
                "translate", f"translation is not available: {self._info.detail}"
            )
        if deadline is not None and time.monotonic() >= deadline:
            raise DeadlineExceeded("the deadline passed before the translator was called")
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request id follows into the worker's logs
        return await loop.run_in_executor(
            self._executor, context.run, engine.translate_batch, texts, source, target
        )

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        """Blocking batch translation, for a micro-batcher's worker thread (torch's intra-op
        threads are set in each calling thread once)."""
        engine = self.engine
        if engine is None:
            raise CapabilityUnavailable(
                "translate", f"translation is not available: {self._info.detail}"
            )
        if not getattr(self._thread_state, "threads_set", False):
            import torch

            torch.set_num_threads(_threads(self.slot))
            self._thread_state.threads_set = True
        return engine.translate_batch(texts, source, target)
