"""Regular expressions shared by the intake, the algorithm, the checks and the models, compiled
once: what a Hangul syllable, a word, a letter or a run of white space is must not differ from
one module to the next.

Month names are in :mod:`.numbers` (:data:`~.numbers.MONTHS`, and as patterns
:data:`~.numbers.MONTH_NAMES` and :data:`~.numbers.MONTH_TITLES`).
"""

from __future__ import annotations

import re

#: One Hangul syllable (U+AC00-U+D7A3): Korean as it is written in running text.
HANGUL = re.compile(r"[\uac00-\ud7a3]")

#: A run of Hangul syllables.
HANGUL_RUN = re.compile(r"[\uac00-\ud7a3]+")

#: One Hangul syllable or jamo (conjoining or compatibility): every letter of the Korean script,
#: for telling a text's script apart.
HANGUL_LETTER = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")

#: A word: letters and digits of any script, with apostrophes inside ("don't", "O\u2019Neil").
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")

#: A run of letters and digits of any script (apostrophes split it: "don't" is "don", "t").
ALNUM_RUN = re.compile(r"[^\W_]+")

#: One letter or digit of any script: text without one (punctuation, emoji, symbols, white
#: space) has nothing to read.
ALNUM = re.compile(r"[^\W_]")

#: One letter of any script (no digits).
LETTER = re.compile(r"[^\W\d_]")

#: A run of white space (line breaks included).
SPACE = re.compile(r"\s+")
