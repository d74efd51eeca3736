"""Shared fixtures: the real server on 127.0.0.1:0 in a background thread, and the data folder."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsbrief.service.app import App
from newsbrief.service.pipeline.core import Pipeline
from newsbrief.service.settings import Settings
from tests.harness.server import EMPTY_HF_CACHE

REPO = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """``NEWSBRIEF_DATA_DIR`` or ``../shared/data`` beside the repository."""
    return Path(os.environ.get("NEWSBRIEF_DATA_DIR", REPO.parent / "shared" / "data"))


def require_data(*parts: str) -> Path:
    path = data_dir().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared evaluation data not found at {path} (set NEWSBRIEF_DATA_DIR)")
    return path


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "http_port": 0,
        "drain_seconds": 0.0,
        "models": {"cache_dir": str(EMPTY_HF_CACHE)},
        # each test server keeps its jobs database to itself, never in the user's state dir
        "state_dir": tempfile.mkdtemp(prefix="newsbrief-state-"),
    }
    base.update(overrides)
    return Settings(**base)


class RunningServer:
    """The real App, serving on 127.0.0.1:<free port> from its own event loop thread."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        pipeline: Pipeline | None = None,
        wait_ready: bool = True,
    ) -> None:
        self.settings = settings or make_settings()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.app: App = self.call(self._make(pipeline))
        self.port: int = self.call(self.app.start(wait_ready=wait_ready))

    async def _make(self, pipeline: Pipeline | None) -> App:
        return App(self.settings, pipeline=pipeline)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP/JSON front end (started with ``http_port=-1``)."""
        assert self.app.http_port, "start the server with http_port=-1 for HTTP"
        return f"http://127.0.0.1:{self.app.http_port}"

    def call(self, coro: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        try:
            self.call(self.app.stop(grace=1.0))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def server() -> Iterator[RunningServer]:
    """One real server for the whole session (default settings, extractive brief), with the
    HTTP/JSON front end on a free port too."""
    running = RunningServer(make_settings(http_port=-1))
    try:
        yield running
    finally:
        running.stop()


#: Lines a test wants shown at the end of the run (e.g. the HTTP fuzz run's example count).
RUN_SUMMARY: list[str] = []


@pytest.hookimpl(trylast=True)  # after tests/system/conftest.py has marked its tests
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long whole-system tests first: with the tests spread over worker processes
    (``make test``: pytest-xdist, a file per process at a time), they then run beside the many
    shorter ones instead of after them."""
    items.sort(key=lambda item: item.get_closest_marker("system") is None)  # stable


def pytest_sessionfinish(session: pytest.Session) -> None:
    # in a pytest-xdist worker: hand the lines to the controller, which prints them
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["run_summary"] = list(RUN_SUMMARY)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook
def pytest_testnodedown(node: Any, error: Any) -> None:
    # in the pytest-xdist controller: a worker's lines, as it finishes
    RUN_SUMMARY.extend(getattr(node, "workeroutput", {}).get("run_summary", []))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in RUN_SUMMARY:
        terminalreporter.write_line(line)
