"""Admission counting: limits per method, in all and per connection; tickets given back once;
draining refuses everything with a retry delay."""

from __future__ import annotations

import asyncio

import pytest

from newsbrief.service.errors import NotReady, Overloaded
from newsbrief.service.serving.admission import Admission


def _admission() -> Admission:
    return Admission(
        {"Summarize": 2, "SummarizeStream": 3},
        total=4,
        per_connection=2,
        per_connection_methods=frozenset({"SummarizeStream"}),
        retry_after_s=1.5,
        draining_retry_after_s=0.25,
    )


def test_a_method_limit_refuses_with_the_retry_delay_and_frees_on_release() -> None:
    a = _admission()
    first, _ = a.admit("Summarize"), a.admit("Summarize")
    with pytest.raises(Overloaded) as info:
        a.admit("Summarize")
    assert info.value.retry_after_s == 1.5
    assert "2 Summarize calls in flight" in info.value.message
    first.release()
    first.release()  # twice is harmless
    a.admit("Summarize")
    assert a.in_flight_total == 2
    assert a.refused["Summarize"] == 1


def test_the_total_and_the_per_connection_limits() -> None:
    a = _admission()
    a.admit("SummarizeStream", "ipv4:1")
    a.admit("SummarizeStream", "ipv4:1")
    with pytest.raises(Overloaded, match="on this connection"):
        a.admit("SummarizeStream", "ipv4:1")
    a.admit("SummarizeStream", "ipv4:2")
    a.admit("GetServerInfo", "ipv4:1")  # not limited per connection, but counts in all
    with pytest.raises(Overloaded, match="4 calls in flight"):
        a.admit("GetServerInfo", "ipv4:3")


def test_draining_refuses_with_unavailable_and_wait_idle_ends_with_the_last_call() -> None:
    a = _admission()
    ticket = a.admit("Summarize")
    a.drain()
    with pytest.raises(NotReady) as info:
        a.admit("GetServerInfo")
    assert info.value.retry_after_s == 0.25

    async def scenario() -> tuple[bool, bool]:
        busy = await a.wait_idle(0.1, poll_s=0.01)
        asyncio.get_running_loop().call_later(0.05, ticket.release)
        return busy, await a.wait_idle(5, poll_s=0.01)

    assert asyncio.run(scenario()) == (False, True)
