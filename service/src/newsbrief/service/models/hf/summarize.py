"""Abstractive summaries with Hugging Face transformers: BART (``distilbart-cnn``) and mT5
(``mt5-xlsum``), loaded with ``AutoTokenizer`` + ``AutoModelForSeq2SeqLM`` and run with
``generate`` (transformers 5 has no summarisation pipeline).

The engine works in three stages: **prepare** (whitespace clean-up, tokenise, and for an article
longer than the model's input, a plan of sentence chunks that each fit), **generate** (beam search
with the preset's decoding, overridable in settings; never sampling, so deterministic) and
**finish** (decode, clean up spacing). :meth:`HFSummarizer.summarize_batch` is the blocking batch
method (what a micro-batcher wraps); :meth:`HFSummarizer.summarize` is the async, article-level
entry point: it runs every blocking call on the model's own single worker thread, never on the
event loop, and summarises a long article part by part, then the summary of the parts, saying so.

torch and transformers are imported when the model is loaded, not when this module is.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from newsbrief.service.models.resolve import Resolution, engine_detail, resolve_slot
from newsbrief.service.models.presets import Decoding, Preset
from newsbrief.service.models.protocols import Summary
from newsbrief.service.domain import ModelInfo
from newsbrief.service.text.segment import split_paragraphs, split_sentences
from newsbrief.service.settings import ModelSlotSettings, ModelsSettings

if TYPE_CHECKING:
    from newsbrief.service.models.batching import BatchedSummarizer

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_ROUNDS = 3
"""Most rounds of "summarise the parts, then the summary of the parts" for one article."""

_SPACE = re.compile(r"\s+")


class InputTooLong(ValueError):
    """A text given to :meth:`HFSummarizer.summarize_batch` does not fit the model's input.
    (The article-level :meth:`HFSummarizer.summarize` chunks instead; nothing is ever cut.)"""


def clean_input(text: str) -> str:
    """The models were trained on single-spaced text (the XL-Sum card does the same)."""
    return _SPACE.sub(" ", text).strip()


def clean_output(text: str) -> str:
    """Decoded text with single spaces, no space before punctuation, no stray special tokens."""
    text = re.sub(r"<extra_id_\d+>|<pad>|</s>|<s>|<unk>", " ", text)
    text = _SPACE.sub(" ", text).strip()
    return re.sub(r"\s+([.,;:!?%)])", r"\1", text)


class HFSummarizer:
    """One summarisation model on the transformers engine, with its own inference worker."""

    def __init__(
        self,
        slot: ModelSlotSettings,
        models: ModelsSettings,
        *,
        resolution: Resolution | None = None,
    ) -> None:
        self.slot = slot
        self._models = models
        self._resolution = resolution or resolve_slot(slot, models, "summarizer")
        self.preset: Preset = self._resolution.preset
        self.decoding: Decoding = self.preset.decoding.merged(slot.decoding)
        self._tokenizer: Any = None
        self._model: Any = None
        self._torch: Any = None
        self._max_input = self.preset.max_input_tokens
        self._detail = self._resolution.detail or engine_detail(slot.engine)
        if slot.engine != "transformers" and not self._detail:
            self._detail = (
                f"the summariser runs on the transformers engine only (models.summarizer.engine "
                f"is {slot.engine!r})"
            )
        self._worker: ThreadPoolExecutor | None = None
        #: How :meth:`summarize` runs a batch of texts that fit. By default
        #: :meth:`summarize_texts` (this model's worker); a micro-batcher may set it to its own
        #: ``submit`` over :meth:`summarize_batch` so that parts of concurrent articles share
        #: ``generate`` calls.
        self.submit: Callable[[list[str], str], Awaitable[list[str]]] | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The preset name, reported as the response's ``method``."""
        return self.preset.name

    @property
    def ready(self) -> bool:
        return self._model is not None

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            role="summarizer",
            id=self._resolution.model_id,
            revision=self._resolution.revision,
            licence=self.preset.licence,
            languages=self.preset.languages,
            ready=self.ready,
            backend="transformers",
            detail="" if self.ready else (self._detail or "the model is loading"),
            parameters=self.parameters(),
        )

    def parameters(self) -> tuple[tuple[str, str], ...]:
        """Decoding settings and input size, recorded in every response's model info."""
        return self.decoding.parameters(self.preset.name, self._max_input)

    def supports(self, lang: str) -> bool:
        """Whether the model summarises articles in ``lang`` (BCP-47)."""
        return lang in self.preset.languages

    async def start(self) -> None:
        """Load the model on its worker thread and warm it up; a missing model leaves the engine
        not ready (with the reason in :attr:`info`), never raises."""
        if self._detail:
            log.warning("summariser %s not available: %s", self.preset.name, self._detail)
            return
        try:
            await self._call(self.load)
            await self._call(self.summarize_batch, ["Warm-up sentence one. Two follows it."], "en")
        except Exception as exc:  # the server stays up without it
            self._model = None
            self._detail = f"the summariser {self._resolution.model_id} failed to load: {exc}"
            log.exception("summariser %s failed to load", self.preset.name)

    def load(self) -> None:
        """Blocking: import torch/transformers and load tokenizer and model from the resolved
        directory (``from_pretrained``, never the network)."""
        assert self._resolution.path is not None
        t0 = time.monotonic()
        import torch
        import transformers
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()
        path: Path = self._resolution.path
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
        model.eval()
        model.to(self.slot.device)
        # The checkpoint's own generation defaults (distilbart-cnn: min_length 56, max_length
        # 142, no_repeat_ngram_size 3) would silently override ours, and a max_length beside
        # max_new_tokens warns on every call: the decoding settings alone decide.
        generation = model.generation_config
        generation.min_length = 0
        generation.max_length = 20  # transformers' default: "unset"
        generation.no_repeat_ngram_size = 0
        self._torch = torch
        self._tokenizer = tokenizer
        self._model = model
        self._max_input = self._input_limit(tokenizer, model)
        log.info(
            "summariser %s (%s) loaded in %.1f s: input %d tokens, %s",
            self.preset.name,
            self._resolution.model_id,
            time.monotonic() - t0,
            self._max_input,
            self.decoding.describe(),
        )

    def _input_limit(self, tokenizer: Any, model: Any) -> int:
        limit = self.preset.max_input_tokens
        tok_max = getattr(tokenizer, "model_max_length", None)
        if isinstance(tok_max, int) and 0 < tok_max < 1_000_000:
            limit = min(limit, tok_max)
        positions = getattr(model.config, "max_position_embeddings", None)
        if isinstance(positions, int) and positions > 0:
            limit = min(limit, positions)
        return limit

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = None

    # ---- stages (blocking) -----------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model's input (special tokens included)."""
        encoded = self._tokenizer(clean_input(text), add_special_tokens=True, verbose=False)
        return len(encoded["input_ids"])

    def split_to_fit(self, text: str, lang: str) -> list[str]:
        """Prepare: ``text`` as one piece when it fits the model's input, else consecutive
        sentence chunks that each fit. A sentence longer than the input on its own is split at
        word boundaries. The pieces together hold all of the text."""
        if self.count_tokens(text) <= self._max_input:
            return [clean_input(text)]
        sentences = [s for p in split_paragraphs(text) for s in split_sentences(p, lang)]
        units: list[str] = []
        for sentence in sentences:
            if self.count_tokens(sentence) <= self._max_input:
                units.append(clean_input(sentence))
            else:
                units.extend(self._split_words(sentence))
        chunks: list[str] = []
        current = ""
        for unit in units:
            candidate = f"{current} {unit}".strip()
            if current and self.count_tokens(candidate) > self._max_input:
                chunks.append(current)
                current = unit
            else:
                current = candidate
        if current:
            chunks.append(current)
        return chunks

    def _split_words(self, sentence: str) -> list[str]:
        pieces: list[str] = []
        current: list[str] = []
        for word in clean_input(sentence).split(" "):
            if current and self.count_tokens(" ".join([*current, word])) > self._max_input:
                pieces.append(" ".join(current))
                current = [word]
            else:
                current.append(word)
        if current:
            pieces.append(" ".join(current))
        return pieces

    def summarize_batch(self, texts: list[str], lang: str) -> list[str]:
        """Blocking: one summary per text, in order, in one ``generate`` call. Every text must fit
        the model's input (:class:`InputTooLong` otherwise: nothing is cut silently; use
        :meth:`split_to_fit` or :meth:`summarize`)."""
        if not texts:
            return []
        if self._model is None:
            raise RuntimeError(f"the summariser {self.preset.name} is not loaded")
        del lang  # BART and mT5 XL-Sum take no language tag
        batch = self._prepare(texts)
        ids = self._generate(batch)
        return self._finish(ids)

    def _prepare(self, texts: list[str]) -> Any:
        clean = [clean_input(t) for t in texts]
        batch = self._tokenizer(
            clean, return_tensors="pt", padding=True, truncation=False, verbose=False
        )
        length = int(batch["input_ids"].shape[1])
        if length > self._max_input:
            longest = max(range(len(clean)), key=lambda i: self.count_tokens(clean[i]))
            raise InputTooLong(
                f"text {longest} is {self.count_tokens(clean[longest])} tokens; the summariser "
                f"takes at most {self._max_input}"
            )
        return batch.to(self.slot.device)

    def _generate(self, batch: Any) -> Any:
        with self._torch.inference_mode():
            return self._model.generate(**batch, **self.decoding.generate_kwargs())

    def _finish(self, ids: Any) -> list[str]:
        texts = self._tokenizer.batch_decode(
            ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )
        return [clean_output(t) for t in texts]

    # ---- async entry points ----------------------------------------------------------------

    async def summarize_texts(self, texts: list[str], lang: str) -> list[str]:
        """Async adapter of :meth:`summarize_batch`: runs on the model's worker thread."""
        return await self._call(self.summarize_batch, texts, lang)

    async def summarize(self, text: str, lang: str) -> Summary:
        """The summary of one article. Articles longer than the model's input are summarised in
        sentence chunks, then the joined summaries of the chunks are summarised again (up to
        :data:`MAX_ROUNDS` rounds); :attr:`Summary.parts` and :attr:`Summary.rounds` say what
        was done, for the caller's warning."""
        input_tokens = await self._call(self.count_tokens, text)
        pieces = await self._call(self.split_to_fit, text, lang)
        first_parts = len(pieces)
        rounds = 0
        while True:
            rounds += 1
            submit = self.submit or self.summarize_texts
            summaries = await submit(pieces, lang)
            if len(summaries) == 1:
                out = summaries[0]
                break
            joined = " ".join(s for s in summaries if s)
            if rounds >= MAX_ROUNDS:
                out = joined  # the summaries of the parts, whole: still nothing cut
                break
            pieces = await self._call(self.split_to_fit, joined, lang) if joined else [""]
        return Summary(out, input_tokens, self._max_input, first_parts, rounds)

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(
                max_workers=1,
                thread_name_prefix=f"newsbrief-{self.preset.name}",
                initializer=self._init_worker,
            )
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._worker, context.run, fn, *args)

    def _init_worker(self) -> None:
        if self.slot.threads:
            try:
                import torch

                torch.set_num_threads(self.slot.threads)
            except ImportError:  # pragma: no cover - reported by engine_detail
                pass


def build_summarizer(slot: ModelSlotSettings, models: ModelsSettings) -> BatchedSummarizer | None:
    """The neural summariser a slot configures, or None for ``extractive``/``none``. Nothing is
    loaded here: ``await summarizer.start()`` loads it (or reports why it cannot). The parts of
    concurrent articles share model calls through a micro-batcher (``slot.batching``)."""
    from newsbrief.service.models.batching import BatchedSummarizer

    if slot.preset in ("extractive", "none"):
        return None
    if slot.engine == "ctranslate2":
        from newsbrief.service.models.ct2.convert import CT2Summarizer

        return BatchedSummarizer(
            CT2Summarizer(slot, models), slot.batching, workers=slot.inter_threads, direct=True
        )
    return BatchedSummarizer(HFSummarizer(slot, models), slot.batching)
