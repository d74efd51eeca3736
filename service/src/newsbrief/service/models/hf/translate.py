"""Translation on transformers: ``AutoTokenizer`` + ``AutoModelForSeq2SeqLM.generate`` (no
pipelines; transformers 5 removed them).

:class:`HFTranslationEngine` is blocking and owns a loaded model, in three stages: ``prepare``
(tokenise with the source language, cut an over-long sentence and say so) -> ``generate`` (target
forced by the family's rule, deterministic decoding from settings) -> ``finish`` (decode, clean).
``translate_batch`` runs them over a batch, long texts in runs of whole sentences
(:func:`~newsbrief.service.models.chunking.translate_in_runs`). :func:`load_translator` is what
the model's worker thread runs at start-up. torch and transformers are imported when a model is
loaded, not when this module is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from newsbrief.service.domain import ModelInfo
from newsbrief.service.models.chunking import (
    LanguageTokens,
    Stages,
    clean_translation,
    translate_in_runs,
)
from newsbrief.service.models.hf.engine import HFEngine, from_pretrained, open_slot
from newsbrief.service.models.hf.threads import set_torch_threads
from newsbrief.service.models.presets import Decoding
from newsbrief.service.models.protocols import Translated
from newsbrief.service.models.resolve import ModelLoadError, resolve_or_download
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

log = logging.getLogger(__name__)

WARMUP_TEXT = "The council approved the new park on Tuesday."


@dataclass
class Prepared:
    """A tokenised batch: tensors for ``generate`` and which inputs were cut."""

    inputs: Any  # transformers BatchEncoding on the model's device
    truncated: list[int]
    forced_token_id: int | None


@dataclass(kw_only=True, eq=False, repr=False)
class HFTranslationEngine(LanguageTokens, Stages, HFEngine):
    """A loaded seq2seq translation model. Blocking; calls are serialised by a lock (the
    tokenizer's source language is state)."""

    #: BCP-47 code -> the id of its language token (checked by :meth:`check_languages`)
    language_ids: dict[str, int] = field(init=False, default_factory=dict)

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
        threads: int = 0,
    ) -> HFTranslationEngine:
        """Load tokenizer and model from a local directory (``from_pretrained``, nothing fetched)
        and check that every language code maps to a real token."""
        import torch

        tokenizer, model = from_pretrained(path)
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
            threads=threads,
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
        texts = [clean_translation(t) for t in tok.batch_decode(rows, skip_special_tokens=True)]
        eos = tok.eos_token_id
        start = int(getattr(self.model.config, "decoder_start_token_id", None) or 0)
        cut = []
        for i, row in enumerate(rows):
            generated = row[1:] if row and row[0] == start else row
            if eos not in generated and len(generated) >= self.decoding.max_new_tokens:
                cut.append(i)
        return texts, cut

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def translate_batch(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """Translate one batch (blocking; one call at a time, torch's threads set once in each
        calling thread). Each text gets its own notices (split, input cut, output cut)."""
        with self._lock:
            self._torch_threads.ensure()
            return translate_in_runs(self, texts, source, target)


def load_translator(
    slot: ModelSlotSettings, models: ModelsSettings, info: ModelInfo
) -> tuple[HFTranslationEngine, ModelInfo]:
    """Blocking (on the model's worker thread): resolve the slot's model (explicit path or the
    Hugging Face cache; downloaded first with ``models.download_on_start``), load it, check its
    language codes and warm it up. Raises :class:`ModelUnavailable` saying how to install it."""
    preset, resolution, decoding = open_slot(slot, models, resolve_or_download)
    set_torch_threads(slot.threads)
    engine = HFTranslationEngine.load(
        resolution.folder,
        family=preset.family,
        codes={lang: preset.code(lang) or "" for lang in preset.languages},
        decoding=decoding,
        max_input_tokens=preset.max_input_tokens,
        device=slot.device,
        threads=slot.threads,
    )
    engine.translate_batch([WARMUP_TEXT], preset.languages[0], preset.languages[1])
    log.info(
        "translator %s (%s@%s) on %s, %s",
        preset.name,
        resolution.model_id,
        resolution.revision,
        slot.device,
        decoding.describe(),
    )
    loaded = replace(
        info,
        id=resolution.model_id,
        revision=resolution.revision,
        parameters=decoding.parameters(
            preset.name, engine.max_input_tokens, ("device", slot.device)
        ),
    )
    return engine, loaded
