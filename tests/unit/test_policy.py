"""The call policy and the small rules issue 17 found unguarded (each test fails when its rule
is broken by hand): constant-time key comparison, two keys with their own quotas, the quota's
retry delay counted from the oldest call in the window, deadlines bounded by
``max_call_seconds``, a stream's articles bounded by the stream's deadline (not each given the
whole timeout again), the caller's title and ``<h1>`` as headlines, and unknown keys in a file
named by ``NEWSBRIEF_CONFIG_FILE`` refused."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from newsbrief.service.domain import Article
from newsbrief.service.errors import PermissionDenied, QuotaExceeded
from newsbrief.service.intake.html import headline_of
from newsbrief.service.intake.main_text import main_text
from newsbrief.service.serving import access
from newsbrief.service.serving.access import ApiKeys
from newsbrief.service.serving.policy import CallPolicy
from newsbrief.service.serving.service import NewsbriefService
from newsbrief.service.settings import IntakeSettings, Settings, load_settings
from newsbrief.v1 import newsbrief_pb2 as pb
from tests.fakes import begin_call

A, B = "key-a", "key-b"
DIGEST_A, DIGEST_B = (hashlib.sha256(k.encode()).hexdigest() for k in (A, B))


def test_the_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Any, Any]] = []
    real = access.hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    keys = ApiKeys([DIGEST_B, DIGEST_A])
    assert keys.authenticate(A, how_to_send="here") == DIGEST_A
    assert seen and all(a == DIGEST_A for a, _ in seen)
    seen.clear()
    with pytest.raises(PermissionDenied):
        keys.authenticate("guess", how_to_send="here")
    assert len(seen) == 2  # every accepted digest, each through compare_digest


def test_two_keys_have_their_own_quotas() -> None:
    keys = ApiKeys([DIGEST_A, DIGEST_B], requests_per_minute=2)
    keys.check(A, how_to_send="here")
    keys.check(A, how_to_send="here")
    with pytest.raises(QuotaExceeded):
        keys.check(A, how_to_send="here")
    keys.check(B, how_to_send="here")  # B's quota is untouched by A's calls
    keys.check(B, how_to_send="here")
    with pytest.raises(QuotaExceeded):
        keys.check(B, how_to_send="here")


def test_the_retry_delay_is_counted_from_the_oldest_call(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(access.time, "monotonic", lambda: now[0])
    keys = ApiKeys([DIGEST_A], requests_per_minute=3, window_s=60.0)
    for at in (0.0, 10.0, 20.0):
        now[0] = 1000.0 + at
        keys.check(A, how_to_send="here")
    now[0] = 1030.0
    with pytest.raises(QuotaExceeded) as info:
        keys.check(A, how_to_send="here")
    assert info.value.retry_after_s == pytest.approx(30.0)  # the call at 0 s frees at 60 s
    now[0] = 1060.0
    keys.check(A, how_to_send="here")  # it did


def _policy(**overrides: Any) -> CallPolicy:
    return CallPolicy(Settings(**overrides))


def test_a_unary_call_is_bounded_by_max_call_seconds() -> None:
    policy = _policy(max_call_seconds=7.0)
    for timeout, expected in ((None, 7.0), (500.0, 7.0), (2.0, 2.0)):
        before = time.monotonic()
        with begin_call(policy, "Summarize", timeout) as call:
            assert call.context.deadline is not None
            assert before + expected <= call.context.deadline <= time.monotonic() + expected


class _Recorder:
    """A pipeline that records the deadline each brief was given."""

    def __init__(self) -> None:
        self.deadlines: list[float] = []

    async def brief(self, article: Any, options: Any, *, deadline: float, tenant: str) -> Any:
        self.deadlines.append(deadline)
        raise QuotaExceeded("x", "not briefed here", retry_after_s=1.0)  # an item error


def test_stream_articles_share_the_stream_deadline_not_the_whole_timeout_each() -> None:
    policy = _policy(max_call_seconds=120.0)
    recorder = _Recorder()
    service = NewsbriefService(recorder, policy)  # type: ignore[arg-type]

    async def articles() -> AsyncIterator[pb.SummarizeStreamRequest]:
        for _ in range(3):
            yield pb.SummarizeStreamRequest(request=pb.SummarizeRequest(text="Some text."))
            await asyncio.sleep(0.2)

    async def run() -> float:
        with begin_call(policy, "SummarizeStream", 5.0) as call:
            assert call.context.deadline is not None
            async for _ in service.summarize_stream(articles(), call.context):
                pass
            return float(call.context.deadline)

    deadline = asyncio.run(run())
    assert len(recorder.deadlines) == 3
    assert recorder.deadlines == [pytest.approx(deadline, abs=1e-6)] * 3


def test_without_a_stream_deadline_each_article_gets_max_call_seconds() -> None:
    policy = _policy(max_call_seconds=9.0)
    with begin_call(policy, "SummarizeStream", None) as call:
        before = time.monotonic()
        assert before + 9.0 <= call.context.item_deadline() <= time.monotonic() + 9.0


def test_h1_is_preferred_over_a_long_title_when_there_is_no_og_title() -> None:
    h1 = "Council approves flood plan for the riverside"
    title = "Council approves flood plan for the riverside after a long night of debate | News"
    assert headline_of({}, h1, title) == h1


def test_the_callers_title_beats_the_pages() -> None:
    page = (
        "<html><head><title>Page title of the story here</title>"
        '<meta property="og:title" content="The page headline of the story"></head><body>'
        "<article><h1>The page headline of the story</h1>"
        + "<p>The council approved the plan on Tuesday after a long debate.</p>" * 5
        + "</article></body></html>"
    )
    taken = main_text(Article(html=page, title="The caller's own title"), IntakeSettings())
    assert taken.title == "The caller's own title"
    assert main_text(Article(html=page), IntakeSettings()).title == "The page headline of the story"


def test_unknown_keys_in_the_file_named_by_the_environment_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.toml"
    path.write_text("prot = 1\n", encoding="utf-8")
    monkeypatch.setenv("NEWSBRIEF_CONFIG_FILE", str(path))
    with pytest.raises(ValueError, match="prot"):
        load_settings()
