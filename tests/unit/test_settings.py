"""Settings sources and their precedence, and misspelt settings refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsbrief.service.cli import main
from newsbrief.service.settings import Settings, load_settings, unknown_keys, unknown_variables


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("NEWSBRIEF_"):
            monkeypatch.delenv(name)


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("s.toml", "port = 1111\nworkers = 3\n[limits]\nmax_text_chars = 10\n"),
        ("s.yaml", "port: 1111\nworkers: 3\nlimits:\n  max_text_chars: 10\n"),
        ("s.json", '{"port": 1111, "workers": 3, "limits": {"max_text_chars": 10}}'),
    ],
)
def test_the_environment_beats_the_file_and_arguments_beat_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    path = _file(tmp_path, name, text)
    monkeypatch.setenv("NEWSBRIEF_PORT", "2222")
    monkeypatch.setenv("NEWSBRIEF_LIMITS__MAX_HTML_BYTES", "99")
    settings = load_settings(path)
    assert settings.port == 2222  # environment over file
    assert settings.workers == 3  # file over default
    assert (settings.limits.max_text_chars, settings.limits.max_html_bytes) == (10, 99)
    assert load_settings(path, port=3333).port == 3333  # explicit over environment
    monkeypatch.setenv("NEWSBRIEF_CONFIG_FILE", str(path))
    assert load_settings().workers == 3  # the file named by the environment


def test_an_unknown_key_in_the_file_is_refused_with_the_nearest_valid_one(tmp_path: Path) -> None:
    path = _file(tmp_path, "s.toml", "prot = 1\n[limits]\nmax_text_char = 5\n[modles]\nx = 1\n")
    with pytest.raises(ValueError) as info:
        load_settings(path)
    message = str(info.value)
    assert f"{path}: prot (did you mean port?)" in message
    assert f"{path}: limits.max_text_char (did you mean limits.max_text_chars?)" in message
    assert f"{path}: modles (did you mean models?)" in message


def test_an_unknown_variable_is_refused_with_the_nearest_valid_one() -> None:
    problems = unknown_variables(
        {
            "NEWSBRIEF_PROT": "1",
            "NEWSBRIEF_MODELS__TRANSLATOR__PRSET": "none",
            "NEWSBRIEF_PORT__X": "1",
            "NEWSBRIEF_PORT": "1",  # valid
            "NEWSBRIEF_TARGET": "host:1",  # the client's
            "NEWSBRIEF_API_KEY": "k",
            "NEWSBRIEF_DATA_DIR": "/data",
            "OTHER_PROT": "1",
        }
    )
    assert problems == [
        "NEWSBRIEF_MODELS__TRANSLATOR__PRSET (did you mean NEWSBRIEF_MODELS__TRANSLATOR__PRESET?)",
        "NEWSBRIEF_PORT__X (no setting has parts below NEWSBRIEF_PORT)",
        "NEWSBRIEF_PROT (did you mean NEWSBRIEF_PORT?)",
    ]
    assert unknown_keys({"models": {"translator": {"engine": "ctranslate2"}}}) == []


def test_the_server_refuses_to_start_on_a_misspelt_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSBRIEF_LIMTS__MAX_TEXT_CHARS", "5")
    assert main(["config"]) == 2
    err = capsys.readouterr().err
    assert "NEWSBRIEF_LIMTS__MAX_TEXT_CHARS (did you mean NEWSBRIEF_LIMITS?)" in err


def test_list_settings_read_a_comma_separated_or_json_environment_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the Kubernetes manifest sets NEWSBRIEF_HTTP__ALLOWED_HOSTS as a comma-separated list
    monkeypatch.setenv("NEWSBRIEF_HTTP__ALLOWED_HOSTS", "newsbrief, newsbrief.newsbrief.svc")
    monkeypatch.setenv("NEWSBRIEF_JOBS__WEBHOOK__ALLOWED_HOSTS", '["cms.example.org"]')
    settings = Settings()
    assert settings.http.allowed_hosts == ["newsbrief", "newsbrief.newsbrief.svc"]
    assert settings.jobs.webhook.allowed_hosts == ["cms.example.org"]
