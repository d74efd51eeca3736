"""The Dockerfile stays true: its build stage is run by scripts/dockerfile_mirror.py into a scratch
root (a fresh virtual environment with the two distributions installed, not editable), then the
installed server is started with the image's ENV and probed with the image's own HEALTHCHECK."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("image")
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dockerfile_mirror.py"), str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return root, json.loads(out.stdout.strip().splitlines()[-1])


def test_runtime_stage_runs_as_a_non_root_user(image: tuple[Path, dict]) -> None:
    _, spec = image
    assert spec["user"] not in ("root", "0", "")
    assert spec["entrypoint"] == ["newsbrief-server"]
    assert "--from=build /opt/venv /opt/venv" in spec["copies"]


def test_installed_image_serves_and_passes_its_health_check(image: tuple[Path, dict]) -> None:
    root, spec = image
    venv_bin = root / "opt" / "venv" / "bin"
    assert (venv_bin / "newsbrief-server").exists()
    port = _free_port()
    env = {k: v.replace("/opt/venv", str(root / "opt" / "venv")) for k, v in spec["env"].items()}
    env["PATH"] = env["PATH"].replace("$PATH", os.environ.get("PATH", ""))
    env.update(
        NEWSBRIEF_HOST="127.0.0.1",
        NEWSBRIEF_PORT=str(port),
        NEWSBRIEF_HTTP_PORT="-1",
        HOME=str(root),
    )
    entry = [str(venv_bin / spec["entrypoint"][0]), *spec["entrypoint"][1:]]
    server = subprocess.Popen(
        entry,
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    health = [a.replace("50051", str(port)) for a in spec["healthcheck"]]
    try:
        deadline = time.monotonic() + 60
        rc = None
        while time.monotonic() < deadline:
            rc = subprocess.run(health, env=env, capture_output=True, timeout=30).returncode
            if rc == 0 or server.poll() is not None:
                break
            time.sleep(0.2)
        assert rc == 0, "the image's HEALTHCHECK never passed"
        summary = subprocess.run(
            [str(venv_bin / "newsbrief"), "--target", f"127.0.0.1:{port}", "summarize", "-"],
            input=(REPO / "tests" / "fixtures" / "en_article.txt").read_text(encoding="utf-8"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert summary.returncode == 0, summary.stderr
        assert "riverside" in summary.stdout.lower()
    finally:
        server.terminate()
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert server.returncode == 0, err[-2000:]
    first = next(line for line in err.splitlines() if line.startswith("{"))
    assert json.loads(first)["level"]  # JSON log lines, as the image configures
