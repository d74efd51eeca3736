"""The system tier: whole-system runs (the benchmark's quick run, the Dockerfile's environments,
the Kubernetes manifest checkers), tens of seconds to minutes each. Every test here carries the
``system`` marker (``make test-system`` runs ``-m system`` over all of tests/)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.system)
