"""Result-cache hits through the pipeline (its worker processes run) and over gRPC set
``cached`` and echo the new call's reference."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

from newsbrief.client import Client
from newsbrief.service.domain import Article, BriefOptions
from newsbrief.service.pipeline.core import Pipeline
from tests.conftest import RunningServer, make_settings

TEXT = (
    "The council approved a new park on Tuesday. It will cost 45 million dollars, said mayor "
    "Lee. Residents welcomed the plan, which includes trees, paths and a playground."
)


def test_pipeline_hits_set_cached_and_echo_the_new_reference() -> None:
    async def run() -> None:
        pipeline = Pipeline(make_settings())
        await pipeline.start()
        try:
            article = Article(text=TEXT, client_reference="first")
            one = await pipeline.brief(article, BriefOptions())
            two = await pipeline.brief(
                dataclasses.replace(article, client_reference="second"), BriefOptions()
            )
            other = await pipeline.brief(article, BriefOptions(max_sentences=1))
        finally:
            pipeline.close()
        assert not one.cached and two.cached and not other.cached
        assert two.brief == one.brief and two.language == one.language
        assert two.client_reference == "second"
        assert set(two.timings_ms) == {"cache"}

        off = Pipeline(make_settings(cache={"enabled": False}))
        await off.start()
        try:
            results = [await off.brief(article, BriefOptions()) for _ in range(2)]
        finally:
            off.close()
        assert not any(r.cached for r in results)

    asyncio.run(run())


def test_cached_over_grpc(server: RunningServer) -> None:
    text = f"{TEXT} Reference {uuid.uuid4().hex}."  # new to the shared server's cache
    with Client(server.target, timeout=30) as client:
        first = client.summarize(text, client_reference="a")
        second = client.summarize(text, client_reference="b")
    assert not first.cached and second.cached
    assert second.brief == first.brief and second.client_reference == "b"
