"""Fixtures of the integration tier's own (the shared ones are in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.fake_server import FakeServer


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    """The fake servicer of the client and CLI tests, on 127.0.0.1:0, stopped after the test."""
    server = FakeServer()
    yield server
    server.stop()
