"""``newsbrief-server models`` as a command (its own process): licences, what is installed,
a clear error without the network, and no torch imported for these commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from newsbrief.service.models.presets import PRESETS
from tests.fakes import fake_snapshot

OFFLINE = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _server_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsbrief.service.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env or OFFLINE,
    )


def test_models_list_shows_licences_and_what_is_installed(tmp_path: Path) -> None:
    fake_snapshot(tmp_path, "facebook/m2m100_418M", PRESETS["m2m100-418m"].revision)
    env = {**OFFLINE, "NEWSBRIEF_MODELS__CACHE_DIR": str(tmp_path)}
    out = _server_cli("models", "list", env=env)
    assert out.returncode == 0, out.stderr
    rows = {
        line.split()[1 if line.startswith("*") else 0]: line
        for line in out.stdout.splitlines()
        if line.strip()
    }
    assert "MIT" in rows["m2m100-418m"] and rows["m2m100-418m"].rstrip().endswith("yes")
    assert rows["m2m100-418m"].startswith("*")  # the default translator
    assert "CC BY-NC 4.0" in rows["nllb-600m"] and rows["nllb-600m"].rstrip().endswith("no")
    assert "unpinned" in rows["mt5-xlsum"]


def test_models_download_without_network_is_a_clear_error(tmp_path: Path) -> None:
    env = {**OFFLINE, "NEWSBRIEF_MODELS__CACHE_DIR": str(tmp_path)}
    out = _server_cli("models", "download", "nllb-600m", env=env)
    assert out.returncode == 1
    assert "could not download facebook/nllb-200-distilled-600M" in out.stderr
    assert "network access" in out.stderr
    out = _server_cli("models", "download", "no-such-model", env=env)
    assert out.returncode == 2 and "known presets" in out.stderr


def test_models_commands_and_help_import_no_torch() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from newsbrief.service.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['models', 'list'])\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted(m for m in ('torch', 'transformers') if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        capture_output=True,
        text=True,
        timeout=60,
        env=OFFLINE,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
