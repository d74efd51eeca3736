"""Preparing inputs and finishing outputs, shared by every engine: nothing is cut silently.

- :func:`split_to_fit` (summarisers): a text as consecutive chunks of whole sentences that each
  fit; a sentence longer than the input on its own is split at word boundaries. The chunks
  together hold all of the text.
- :func:`sentence_runs` (translators): a text as runs of whole sentences that each fit; a single
  sentence longer than the input stays whole (the engine cuts it, and says so).

Both take the engine's token counter, so they hold for any tokenizer.
:func:`translate_in_runs` is the batch translation both translation engines run, with per-text
notices, over the stages they share the plumbing of (:class:`Stages`) and the language tokens
they are built with (:class:`LanguageTokens`);
:func:`clean_translation` and :func:`clean_summary` finish decoded outputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from newsbrief.service.domain import Notice
from newsbrief.service.models.presets import FORCING
from newsbrief.service.models.protocols import Translated
from newsbrief.service.text.patterns import SPACE
from newsbrief.service.text.segment import split_paragraphs, split_sentences

if TYPE_CHECKING:
    from newsbrief.service.models.presets import Decoding

CountTokens = Callable[[str], int]


class InputTooLong(ValueError):
    """A text given to an engine's batch method does not fit the model's input (the
    article-level summariser chunks instead: nothing is ever cut)."""


def clean_input(text: str) -> str:
    """Single-spaced text, as the models were trained on (the XL-Sum card does the same)."""
    return SPACE.sub(" ", text).strip()


def clean_summary(text: str) -> str:
    """Decoded text with single spaces, no space before punctuation, no stray special tokens."""
    text = re.sub(r"<extra_id_\d+>|<pad>|</s>|<s>|<unk>", " ", text)
    text = SPACE.sub(" ", text).strip()
    return re.sub(r"\s+([.,;:!?%)])", r"\1", text)


_LANG_TAG = re.compile(r"^(?:__[a-z]{2,3}__|[a-z]{3}_[A-Z][a-z]{3}|<2[a-z]{2,3}>)\s*")


def clean_translation(text: str) -> str:
    """One line, no leftover language tag."""
    return _LANG_TAG.sub("", SPACE.sub(" ", text).strip())


def split_to_fit(text: str, lang: str, count: CountTokens, max_tokens: int) -> list[str]:
    """``text`` as one piece when it fits ``max_tokens`` (as ``count`` measures it), else
    consecutive sentence chunks that each fit; an over-long sentence is split at words."""
    if count(text) <= max_tokens:
        return [clean_input(text)]
    sentences = [s for p in split_paragraphs(text) for s in split_sentences(p, lang)]
    units: list[str] = []
    for sentence in sentences:
        if count(sentence) <= max_tokens:
            units.append(clean_input(sentence))
        else:
            units.extend(_split_words(sentence, count, max_tokens))
    return _pack(units, count, max_tokens)


def _split_words(sentence: str, count: CountTokens, max_tokens: int) -> list[str]:
    return _pack(clean_input(sentence).split(" "), count, max_tokens)


def _pack(units: list[str], count: CountTokens, max_tokens: int) -> list[str]:
    """Consecutive ``units`` joined by spaces into pieces of at most ``max_tokens`` (a unit
    longer than that on its own is a piece by itself)."""
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}".strip()
        if current and count(candidate) > max_tokens:
            pieces.append(current)
            current = unit
        else:
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def sentence_runs(text: str, lang: str, count: CountTokens, budget: int) -> list[str]:
    """``text`` as runs of whole sentences of at most ``budget`` tokens each (``count`` measures
    a sentence without special tokens). A sentence longer than the budget is a run by itself."""
    runs: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in split_sentences(text, lang) or [text]:
        n = count(sentence)
        if current and size + n > budget:
            runs.append(" ".join(current))
            current, size = [], 0
        current.append(sentence)
        size += n
    if current:
        runs.append(" ".join(current))
    return runs


# ---- translating texts in runs, with per-text notices ------------------------------------------


class StagedTranslator(Protocol):
    """What :func:`translate_in_runs` needs of a translation engine."""

    @property
    def max_input_tokens(self) -> int: ...

    @property
    def max_new_tokens(self) -> int: ...

    def supports(self, source: str, target: str) -> bool: ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` without special tokens."""
        ...

    def run_batch(
        self, pieces: list[str], source: str, target: str
    ) -> tuple[list[str], list[int], list[int]]:
        """prepare -> generate -> finish: translations of ``pieces`` in order, the indices of
        pieces cut at the input size, and of outputs that stopped at ``max_new_tokens``."""
        ...


@dataclass(kw_only=True, eq=False, repr=False)
class LanguageTokens:
    """The language tokens both translation engines are built with: the model's family, which
    decides how the target language is forced (:data:`~.presets.FORCING`), and the token of each
    language it serves."""

    family: str
    #: BCP-47 code -> the model's language token (copied)
    codes: dict[str, str]
    forcing: str = field(init=False)

    def __post_init__(self) -> None:
        # the engine's other bases may set up state of their own after their fields are set
        after_init = getattr(super(), "__post_init__", None)
        if after_init is not None:
            after_init()
        self.codes = dict(self.codes)
        self.forcing = FORCING.get(self.family, "forced_bos")

    def supports(self, source: str, target: str) -> bool:
        return source in self.codes and target in self.codes


class Stages:
    """The stages' plumbing both translation engines share (each brings its own ``prepare``,
    ``generate`` and ``finish``; their batch type is the engine's own)."""

    decoding: Decoding

    def prepare(self, texts: Sequence[str], source: str, target: str) -> Any:
        raise NotImplementedError

    def generate(self, prepared: Any) -> Any:
        raise NotImplementedError

    def finish(self, generated: Any) -> tuple[list[str], list[int]]:
        raise NotImplementedError

    @property
    def max_new_tokens(self) -> int:
        return self.decoding.max_new_tokens

    def run_batch(
        self, pieces: list[str], source: str, target: str
    ) -> tuple[list[str], list[int], list[int]]:
        """prepare -> generate -> finish over pieces that each fit (or are cut, reported)."""
        prepared = self.prepare(pieces, source, target)
        translated, cut = self.finish(self.generate(prepared))
        return translated, prepared.truncated, cut


def translate_in_runs(
    engine: StagedTranslator, texts: Sequence[str], source: str, target: str
) -> Translated:
    """Translate one batch with an engine's stages: empty texts stay empty; a text longer than
    the input is translated as runs of whole sentences (in the same batch) and joined again.
    Each text gets its own notices: split, input cut, output stopped at the limit."""
    if not engine.supports(source, target):
        raise ValueError(f"this model has no language code for {source} or {target}")
    count = engine.count_tokens
    max_input_tokens, max_new_tokens = engine.max_input_tokens, engine.max_new_tokens
    out = ["" for _ in texts]
    notices: list[list[Notice]] = [[] for _ in texts]
    todo = [i for i, t in enumerate(texts) if t.strip()]
    if not todo:
        return Translated(out)
    if source == target:
        return Translated(list(texts))
    budget = max_input_tokens - 4  # language tags and </s>
    pieces: list[str] = []
    owners: list[int] = []
    for i in todo:
        runs = [texts[i]] if count(texts[i]) + 4 <= max_input_tokens else None
        if runs is None:
            runs = sentence_runs(texts[i], source, count, budget)
        if len(runs) > 1:
            notices[i].append(
                Notice(
                    "TRANSLATION_SPLIT",
                    f"longer than the translator's input of {max_input_tokens} tokens: "
                    f"translated in {len(runs)} runs of whole sentences, joined again",
                )
            )
        pieces.extend(runs)
        owners.extend([i] * len(runs))
    translated, truncated, cut = engine.run_batch(pieces, source, target)
    joined: dict[int, list[str]] = {}
    for owner, text in zip(owners, translated, strict=True):
        joined.setdefault(owner, []).append(text)
    for i, parts in joined.items():
        out[i] = " ".join(p for p in parts if p)
    for i in dict.fromkeys(owners[j] for j in truncated):
        notices[i].append(
            Notice(
                "TRANSLATION_INPUT_TRUNCATED",
                f"holds a sentence longer than the translator's input of {max_input_tokens} "
                f"tokens; only its beginning was translated into {target}",
            )
        )
    for i in dict.fromkeys(owners[j] for j in cut):
        notices[i].append(
            Notice(
                "TRANSLATION_OUTPUT_TRUNCATED",
                f"its translation into {target} reached the limit of {max_new_tokens} tokens "
                "and may be incomplete",
            )
        )
    return Translated(out, [tuple(n) for n in notices])
