from newsbrief.service.text.normalize import normalize_text


def test_drops_invisible_characters_but_keeps_tabs_and_newlines() -> None:
    text = "\ufeffHel\u200blo wor\u00adld\x07\nnext\tcolumn"
    assert normalize_text(text) == "Hello world\nnext\tcolumn"


def test_line_endings_and_unicode_spaces() -> None:
    text = "one\r\ntwo\rthree\u00a0\u00a0four\u3000five\u2009six"
    assert normalize_text(text) == "one\ntwo\nthree four five six"


def test_collapses_spaces_trailing_spaces_and_blank_lines() -> None:
    text = "  A   b  \n\n\n\n  \nC  \n"
    assert normalize_text(text) == "A b\n\nC"


def test_nfc_composes_korean_and_accents() -> None:
    decomposed = "\u1112\u1161\u11ab cafe\u0301"  # 한 + café, decomposed
    assert normalize_text(decomposed) == "한 café"


def test_empty_and_whitespace_only() -> None:
    assert normalize_text("") == ""
    assert normalize_text(" \u200b\n\n\u00a0") == ""
