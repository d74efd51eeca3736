"""The Dockerfile stays true: a target's build stages are run by scripts/dockerfile_mirror.py into
a scratch root (a fresh virtual environment with the two distributions installed, not editable),
then the installed server is started with the image's ENV and probed with the image's own
HEALTHCHECK. The models target is served from a models directory in tests/model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.harness.server import free_port

REPO = Path(__file__).resolve().parents[2]


def mirror(root: Path, target: str = "") -> dict[str, Any]:
    """Build ``target`` (default: the Dockerfile's default) into ``root``; its runtime spec."""
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dockerfile_mirror.py"), str(root)]
        + (["--target", target] if target else []),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def image_env(root: Path, spec: dict[str, Any], port: int, **paths: Path) -> dict[str, str]:
    """The image's ENV relocated under ``root`` (``paths`` maps an image path such as
    ``/models`` to a local folder), listening on 127.0.0.1:``port``."""
    moves = {"/opt/venv": root / "opt" / "venv", **{f"/{k}": v for k, v in paths.items()}}
    env: dict[str, str] = {}
    for key, value in spec["env"].items():
        for old, new in moves.items():
            value = value.replace(old, str(new))
        env[key] = value
    env["PATH"] = env["PATH"].replace("$PATH", os.environ.get("PATH", ""))
    env.update(
        NEWSBRIEF_HOST="127.0.0.1",
        NEWSBRIEF_PORT=str(port),
        NEWSBRIEF_HTTP_PORT="-1",
        HOME=str(root),
    )
    return env


@contextmanager
def serving(root: Path, spec: dict[str, Any], env: dict[str, str]) -> Iterator[str]:
    """Start the image's ENTRYPOINT; yields its target once the image's HEALTHCHECK passes. On
    exit: SIGTERM, a clean exit and JSON log lines are checked."""
    venv_bin = root / "opt" / "venv" / "bin"
    entry = [str(venv_bin / spec["entrypoint"][0]), *spec["entrypoint"][1:]]
    server = subprocess.Popen(
        entry, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    health = [str(venv_bin / spec["healthcheck"][0]), *spec["healthcheck"][1:]]
    try:
        deadline = time.monotonic() + 90
        rc = None
        while time.monotonic() < deadline:
            rc = subprocess.run(health, env=env, capture_output=True, timeout=30).returncode
            if rc == 0 or server.poll() is not None:
                break
            time.sleep(0.2)
        assert rc == 0, "the image's HEALTHCHECK never passed"
        yield f"127.0.0.1:{env['NEWSBRIEF_PORT']}"
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


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("image")
    return root, mirror(root)


def test_runtime_stage_runs_as_a_non_root_user(image: tuple[Path, dict[str, Any]]) -> None:
    _, spec = image
    assert spec["user"] not in ("root", "0", "")
    assert spec["entrypoint"] == ["newsbrief-server"]
    assert "--from=build /opt/venv /opt/venv" in spec["copies"]


def test_default_image_has_no_model_engine(image: tuple[Path, dict[str, Any]]) -> None:
    root, _ = image
    site = next((root / "opt" / "venv" / "lib").glob("python3*/site-packages"))
    assert (site / "prometheus_client").is_dir() and (site / "opentelemetry").is_dir()
    for heavy in ("torch", "transformers", "ctranslate2"):
        assert not (site / heavy).exists(), heavy


def test_dependencies_are_installed_before_the_source_is_copied() -> None:
    """A code edit must not reinstall the dependencies: in every stage chain, the layer that
    resolves dependencies comes before ``COPY client/`` / ``COPY service/``."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    for block in re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]:
        if re.search(r"^COPY (client|service)/ ", block, re.MULTILINE):
            runs = re.findall(r"^RUN (.*)", block, re.MULTILINE)
            assert all("--no-deps" in r for r in runs if re.search(r"\bpip\"? install", r)), block
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim@sha256:[0-9a-f]{64}$", text, re.M)


def test_installed_image_serves_and_passes_its_health_check(
    image: tuple[Path, dict[str, Any]],
) -> None:
    root, spec = image
    env = image_env(root, spec, free_port())
    with serving(root, spec, env) as target:
        summary = subprocess.run(
            [
                str(root / "opt" / "venv" / "bin" / "newsbrief"),
                "--target",
                target,
                "summarize",
                "-",
            ],
            input=(REPO / "tests" / "fixtures" / "en_article.txt").read_text(encoding="utf-8"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert summary.returncode == 0, summary.stderr
        assert "riverside" in summary.stdout.lower()
