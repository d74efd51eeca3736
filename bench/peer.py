"""Row 6: newsbrief beside LibreTranslate, the self-hosted translation API a newsroom would
install instead, on the same engine (CTranslate2) and the *same* random-weight int8 model.

LibreTranslate lives in its own venv under ``bench/out/libretranslate/`` (installed here by the
benchmark with pip, never a project dependency). Its argos packages (en->ko, en->ms) are built
from the benchmark's converted M2M100-418M int8 model:

- ``metadata.json`` (``from_code``, ``to_code``, ``type: translate``, ``target_prefix: __ko__``);
- ``model/``: the CTranslate2 folder (files hard-linked, not copied) with ``config.json`` set to
  add the source-language token and ``</s>`` that argos does not send (``add_source_bos`` with
  ``bos_token: __en__``, ``add_source_eos``), so its source tokens equal newsbrief's;
- ``sentencepiece.model``: the benchmark tokenizer's (the pieces are the model's vocabulary);
- ``minisbd/en.onnx``: a sentence splitter that keeps a paragraph whole (``bench/lt_helper.py``).

Two packages are installed, so LibreTranslate does not try a package-index update at boot. Its
decode length is forced by ``bench/lt_helper.py serve`` (min = max new tokens, as newsbrief's).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.models import OUT_DIR
from bench.server import BENCH_ENV
from tests.harness.server import ServerFailed, ServerProcess, free_port

log = logging.getLogger(__name__)

LT_VERSION = "1.9.6"
# onnx only writes the splitter's .onnx file; numpy and ml-dtypes are held where libretranslate
# 1.9.6 (numpy<2) and onnx can share them
LT_REQUIREMENTS = [f"libretranslate=={LT_VERSION}", "onnx==1.23.2", "ml-dtypes<0.6", "numpy<2"]
LT_DIR = OUT_DIR / "libretranslate"
HELPER = Path(__file__).resolve().parent / "lt_helper.py"
LANGUAGE_NAMES = {"en": "English", "ko": "Korean", "ms": "Malay"}


def ensure_venv(root: Path = LT_DIR, timeout_s: float = 1200.0) -> Path:
    """LibreTranslate's own venv (created once; a marker names what was installed); returns
    its python."""
    venv = root / "venv"
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    wanted = " ".join(LT_REQUIREMENTS)
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return python
    if venv.exists():
        shutil.rmtree(venv)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", *LT_REQUIREMENTS],
        check=True,
        timeout=timeout_s,
    )
    marker.write_text(wanted, encoding="utf-8")
    log.info("LibreTranslate %s installed in %.0f s", LT_VERSION, time.monotonic() - started)
    return python


def build_packages(
    python: Path,
    ct2_dir: Path,
    spm_model: Path,
    root: Path = LT_DIR,
    targets: tuple[str, ...] = ("ko", "ms"),
) -> Path:
    """The argos packages en->target from ``ct2_dir`` (once); returns the packages folder."""
    packages = root / "packages"
    marker = packages / ".complete"
    key = json.dumps([str(ct2_dir), list(targets)])
    if marker.is_file() and marker.read_text(encoding="utf-8") == key:
        return packages
    if packages.exists():
        shutil.rmtree(packages)
    sbd = root / "en.onnx"
    subprocess.run([str(python), str(HELPER), "sbd", str(sbd)], check=True, timeout=300)
    for target in targets:
        folder = packages / f"translate-en_{target}-bench"
        model = folder / "model"
        model.mkdir(parents=True)
        for item in ct2_dir.iterdir():
            if item.is_file() and item.name != "config.json":
                os.link(item, model / item.name)
        config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
        config |= {"add_source_bos": True, "bos_token": "__en__", "add_source_eos": True}
        (model / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        shutil.copy(spm_model, folder / "sentencepiece.model")
        (folder / "minisbd").mkdir()
        shutil.copy(sbd, folder / "minisbd" / "en.onnx")
        metadata = {
            "package_version": "1.0",
            "argos_version": "1.0",
            "type": "translate",
            "from_code": "en",
            "from_name": LANGUAGE_NAMES["en"],
            "to_code": target,
            "to_name": LANGUAGE_NAMES[target],
            "target_prefix": f"__{target}__",
        }
        (folder / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    marker.write_text(key, encoding="utf-8")
    return packages


class LibreTranslateProcess(ServerProcess):
    """LibreTranslate (waitress, ``threads`` request threads) on 127.0.0.1:<free port>."""

    def __init__(
        self,
        python: Path,
        packages: Path,
        *,
        new_tokens: int,
        beam: int,
        inter_threads: int,
        intra_threads: int,
        threads: int,
        log_path: Path,
        home: Path = LT_DIR / "home",
    ) -> None:
        argv = [str(python), str(HELPER), "serve", "--new-tokens", str(new_tokens), "--"]
        super().__init__(
            argv=argv,
            name="libretranslate",
            port=free_port(),
            log_path=log_path,
            test_env=False,
            start=False,
            env=BENCH_ENV,
        )
        self.argv += [
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--threads",
            str(threads),
            "--load-only",
            ",".join(LANGUAGE_NAMES),
            "--disable-web-ui",
            "--disable-files-translation",
        ]
        home.mkdir(parents=True, exist_ok=True)
        # one blocking HTTP call per client: as many threads as clients (asyncio's default pool
        # has only cores + 4)
        self._pool = ThreadPoolExecutor(max_workers=max(threads, 4), thread_name_prefix="lt-http")
        self.env |= {
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "share"),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_CACHE_HOME": str(home / "cache"),
            "ARGOS_PACKAGES_DIR": str(packages),
            "ARGOS_DEVICE_TYPE": "cpu",
            "ARGOS_INTER_THREADS": str(inter_threads),
            "ARGOS_INTRA_THREADS": str(intra_threads),
            "ARGOS_BEAM_SIZE": str(beam),
            "ARGOS_COMPUTE_TYPE": "int8",
            "OMP_NUM_THREADS": str(intra_threads),
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start_async(self, timeout_s: float = 300.0) -> float:
        return await super().start_async(timeout_s)

    def wait_ready(self, deadline: float) -> None:
        """Until ``/languages`` lists the target languages."""
        while time.monotonic() < deadline:
            self._check_running()
            try:
                codes = {x["code"] for x in http_json(f"{self.url}/languages", None, 2.0)}
                if {"ko", "ms"} <= codes:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise ServerFailed(f"LibreTranslate not ready in time; see {self.log_path}")

    async def translate(self, text: str, target: str, timeout_s: float) -> str:
        body = {"q": text, "source": "en", "target": target, "format": "text"}
        out = await self._call(f"{self.url}/translate", body, timeout_s)
        return str(out["translatedText"])

    async def _call(self, url: str, body: dict[str, Any] | None, timeout_s: float) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, http_json, url, body, timeout_s)

    def stop(self, timeout_s: float = 20.0) -> None:
        super().stop(timeout_s)
        self._pool.shutdown(wait=False, cancel_futures=True)


def http_json(url: str, body: dict[str, Any] | None, timeout_s: float) -> Any:
    """GET (``body`` None) or POST JSON; the decoded JSON answer (``OSError`` for HTTP errors)."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"} if data else {}
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read().decode("utf-8"))
