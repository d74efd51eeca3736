"""The model presets and the BCP-47 -> backend language-code tables.

A preset names a Hugging Face model, the revision it is pinned to, its licence, the languages it
serves (BCP-47), its family (which decides how languages are coded and how the target language is
forced) and its default decoding. Settings choose a preset per role (``models.translator.preset``,
``models.summarizer.preset``) and may override any decoding field.

This module imports nothing heavy: ``newsbrief-server models list`` and the server's readiness
report use it without torch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import partial
from typing import Any, Literal

from newsbrief.service.settings import DecodingSettings

Role = Literal["summarizer", "translator"]
Family = Literal["m2m100", "nllb", "madlad", "bart", "mt5"]

#: How each family forces the target language: the first decoder token
#: (``forced_bos_token_id``), or a tag at the start of the source text (MADLAD-400).
FORCING: dict[str, str] = {
    "m2m100": "forced_bos",
    "nllb": "forced_bos",
    "madlad": "source_prefix",
}

#: One table per family: the public BCP-47 code -> the code the model's tokenizer knows.
LANGUAGE_CODES: dict[str, dict[str, str]] = {
    "m2m100": {"en": "__en__", "ko": "__ko__", "ms": "__ms__", "id": "__id__"},
    "nllb": {"en": "eng_Latn", "ko": "kor_Hang", "ms": "zsm_Latn", "id": "ind_Latn"},
    "madlad": {"en": "<2en>", "ko": "<2ko>", "ms": "<2ms>", "id": "<2id>"},
    # Summariser families take no language code; the table lists what they were trained on.
    "bart": {"en": "en"},
    "mt5": {"en": "en", "ko": "ko", "id": "id"},
}


def backend_code(family: str, language: str) -> str | None:
    """The code ``family``'s tokenizer uses for BCP-47 ``language``; None if it has none."""
    return LANGUAGE_CODES.get(family, {}).get(language)


@dataclass(frozen=True)
class Decoding:
    """Deterministic decoding (no sampling) for ``generate``."""

    num_beams: int = 4
    length_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    max_new_tokens: int = 256
    min_new_tokens: int = 0

    def merged(self, overrides: DecodingSettings | None) -> Decoding:
        """These defaults with every field the settings set replaced."""
        if overrides is None:
            return self
        changes = {
            f.name: getattr(overrides, f.name)
            for f in fields(self)
            if getattr(overrides, f.name, None) is not None
        }
        return replace(self, **changes)

    def generate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``model.generate``: greedy or beam search, never sampling."""
        kwargs: dict[str, Any] = {
            "do_sample": False,
            "num_beams": self.num_beams,
            "max_new_tokens": self.max_new_tokens,
        }
        if self.num_beams > 1:
            kwargs["length_penalty"] = self.length_penalty
            kwargs["early_stopping"] = True
        if self.no_repeat_ngram_size:
            kwargs["no_repeat_ngram_size"] = self.no_repeat_ngram_size
        if self.min_new_tokens:
            kwargs["min_new_tokens"] = self.min_new_tokens
        return kwargs

    def parameters(
        self, preset: str, max_input_tokens: int, *extra: tuple[str, str]
    ) -> tuple[tuple[str, str], ...]:
        """Decoding settings and input size, recorded in every response's model info."""
        return (
            ("preset", preset),
            ("num_beams", str(self.num_beams)),
            ("length_penalty", str(self.length_penalty)),
            ("no_repeat_ngram_size", str(self.no_repeat_ngram_size)),
            ("max_new_tokens", str(self.max_new_tokens)),
            ("min_new_tokens", str(self.min_new_tokens)),
            ("do_sample", "false"),
            ("max_input_tokens", str(max_input_tokens)),
            *extra,
        )

    def describe(self) -> str:
        """One line for logs and model info, e.g. ``beams=4 lp=1.0 max_new=256``."""
        text = f"beams={self.num_beams} lp={self.length_penalty} max_new={self.max_new_tokens}"
        if self.no_repeat_ngram_size:
            text += f" no_repeat={self.no_repeat_ngram_size}"
        if self.min_new_tokens:
            text += f" min_new={self.min_new_tokens}"
        return text


@dataclass(frozen=True)
class Preset:
    """One downloadable model and how newsbrief runs it."""

    name: str
    role: Role
    hub_id: str
    #: Commit on the Hub the preset is pinned to; "main" means unpinned.
    revision: str
    licence: str
    #: Whether the licence allows commercial use (a newsroom needs to know).
    commercial_use: bool
    family: Family
    #: BCP-47 codes newsbrief serves with this model (a subset of what the model knows).
    languages: tuple[str, ...]
    decoding: Decoding
    #: Longest input in tokens; longer inputs are truncated (translators) or chunked
    #: (summarisers), with a warning.
    max_input_tokens: int
    description: str = ""

    @property
    def pinned(self) -> bool:
        return len(self.revision) == 40

    def code(self, language: str) -> str | None:
        return backend_code(self.family, language)


#: Every translator preset serves the same languages with the same decoding and input size.
_translator = partial(
    Preset,
    role="translator",
    languages=("en", "ko", "ms", "id"),
    decoding=Decoding(num_beams=4, length_penalty=1.0, max_new_tokens=256),
    max_input_tokens=512,
)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        _translator(
            name="m2m100-418m",
            hub_id="facebook/m2m100_418M",
            revision="55c2e61bbf05dfb8d7abccdc3fae6fc8512fd636",
            licence="MIT",
            commercial_use=True,
            family="m2m100",
            description="M2M100 418M, 100 languages (the default translator)",
        ),
        _translator(
            name="nllb-600m",
            hub_id="facebook/nllb-200-distilled-600M",
            revision="f8d333a098d19b4fd9a8b18f94170487ad3f821d",
            licence="CC BY-NC 4.0 (non-commercial)",
            commercial_use=False,
            family="nllb",
            description="NLLB-200 distilled 600M, 200 languages; non-commercial licence",
        ),
        _translator(
            name="madlad400-3b",
            hub_id="google/madlad400-3b-mt",
            revision="fa184c675da0b5c9e1c8694fccd4e12e2d422094",
            licence="Apache-2.0",
            commercial_use=True,
            family="madlad",
            description="MADLAD-400 3B MT, 400+ languages (large: ~12 GB, slow on CPU)",
        ),
        Preset(
            name="distilbart-cnn",
            role="summarizer",
            hub_id="sshleifer/distilbart-cnn-12-6",
            revision="a4f8f3ea906ed274767e9906dbaede7531d660ff",
            licence="Apache-2.0",
            commercial_use=True,
            family="bart",
            languages=("en",),
            decoding=Decoding(
                num_beams=4,
                length_penalty=2.0,
                no_repeat_ngram_size=3,
                max_new_tokens=142,
                min_new_tokens=56,
            ),
            max_input_tokens=1024,
            description="DistilBART fine-tuned on CNN/DailyMail (English news)",
        ),
        Preset(
            name="mt5-xlsum",
            role="summarizer",
            hub_id="csebuetnlp/mT5_multilingual_XLSum",
            revision="main",
            licence="CC BY-NC-SA 4.0 (non-commercial)",
            commercial_use=False,
            family="mt5",
            languages=("en", "ko", "id"),
            decoding=Decoding(
                num_beams=4, length_penalty=1.0, no_repeat_ngram_size=2, max_new_tokens=84
            ),
            max_input_tokens=512,
            description="mT5-base fine-tuned on XL-Sum, 45 languages (no Malay); non-commercial",
        ),
    )
}

#: Preset names that need no weights.
BUILTIN = {"extractive": "built-in extractive summariser (no weights)", "none": "off"}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; KeyError with the known names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise KeyError(
            f"unknown model preset {name!r}; known presets: {', '.join(sorted(PRESETS))}"
        ) from None
