"""Text <-> the token strings CTranslate2 takes, as the Hugging Face tokenizer makes them,
without transformers: a sentencepiece model (M2M100, NLLB, mT5, MADLAD) or a ``tokenizers``
JSON (BART's byte-level BPE), with each family's special tokens added the way the Hugging Face
tokenizer adds them."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from newsbrief.service.models.resolve import ModelLoadError

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
