"""Stream items carry the same google.rpc details as unary errors: a retry delay while the server
warms up, the missing model and how to install it, the bad fields."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from newsbrief.client import (
    Client,
    FailedPreconditionError,
    InvalidArgumentError,
    UnavailableError,
)
from newsbrief.service.pipeline.core import Pipeline
from tests.conftest import RunningServer, make_settings

ARTICLE = (Path(__file__).resolve().parent.parent / "fixtures" / "en_article.txt").read_text(
    encoding="utf-8"
)


def test_item_errors_carry_precondition_and_field_details(server: RunningServer) -> None:
    requests: list[dict[str, Any]] = [
        {"text": ARTICLE, "target_languages": ["ko"], "client_reference": "needs-model"},
        {"text": "", "source_language": "xx", "client_reference": "bad"},
    ]
    with Client(server.target, retries=0) as c:
        items = {i.client_reference: i for i in c.summarize_many(requests)}
    missing = items["needs-model"].error
    assert isinstance(missing, FailedPreconditionError)
    kind, subject, how = missing.precondition_violations[0]
    assert (kind, subject) == ("CAPABILITY", "translate") and "download" in how
    bad = items["bad"].error
    assert isinstance(bad, InvalidArgumentError)
    assert sorted(f for f, _ in bad.field_violations) == ["source_language", "text"]


class _ColdPipeline(Pipeline):
    def __init__(self) -> None:
        super().__init__(make_settings())
        self.warm = threading.Event()

    async def start(self) -> None:
        await asyncio.to_thread(self.warm.wait, 60)
        await super().start()


def test_item_errors_carry_the_retry_delay_while_warming_up() -> None:
    pipeline = _ColdPipeline()
    running = RunningServer(pipeline.settings, pipeline=pipeline, wait_ready=False)
    try:
        with Client(running.target, retries=0) as c:
            items = list(c.summarize_many([{"text": ARTICLE}, {"text": ARTICLE}]))
        assert len(items) == 2
        for item in items:
            assert isinstance(item.error, UnavailableError)
            assert item.error.retry_delay is not None and item.error.retry_delay > 0
    finally:
        pipeline.warm.set()
        running.stop()
