"""The unit tier's rule, enforced: a unit test starts no server, no process pool and no
subprocess (those tests belong to ``tests/integration`` or the ``system`` tier).

While a test under ``tests/unit`` is set up, run or torn down (its fixtures of every scope
included) and while its module is imported, each way of starting one raises
:class:`StartsAProcess`:

- a subprocess: ``subprocess.Popen`` (``run``, ``check_output``, asyncio's subprocesses),
  ``os.system``, ``os.fork``, ``os.posix_spawn``;
- a process or a process pool: ``multiprocessing``'s ``Process.start`` (every start method and
  ``Pool``), ``concurrent.futures.ProcessPoolExecutor.submit``;
- a server: ``grpc.server``, ``grpc.aio.server``, asyncio's ``start_server`` /
  ``create_server``, a listening socket, and newsbrief's own ``App.start`` and the pipeline's
  ``Workers.start``.

Constructing a ``Pipeline`` (and so its ``Workers``) is fine: no process starts until a call
needs one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import multiprocessing.process
import os
import socket
import subprocess
from collections.abc import Callable, Generator, Iterator
from typing import Any

import grpc
import grpc.aio
import pytest

from newsbrief.service.app import App


class StartsAProcess(AssertionError):
    """A unit test started a server, a process pool or a subprocess."""


def _workers_class() -> type:
    """The pipeline's worker processes (``Workers``), wherever the pipeline package keeps it."""
    for name in ("newsbrief.service.pipeline.processes", "newsbrief.service.pipeline.workers"):
        with contextlib.suppress(ImportError):
            found = getattr(importlib.import_module(name), "Workers", None)
            if isinstance(found, type):
                return found
    raise ImportError("tests/unit/conftest.py: where is the pipeline's Workers class now?")


def _refuse(what: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise StartsAProcess(
            f"a unit test must not start {what}: move it to tests/integration "
            "(or mark it `system`), see tests/README.md"
        )

    return refused


#: (owner, attribute, what it starts)
GUARDED: list[tuple[Any, str, str]] = [
    (subprocess.Popen, "__init__", "a subprocess (subprocess.Popen)"),
    (os, "system", "a subprocess (os.system)"),
    (os, "fork", "a process (os.fork)"),
    (os, "posix_spawn", "a subprocess (os.posix_spawn)"),
    (os, "posix_spawnp", "a subprocess (os.posix_spawnp)"),
    (multiprocessing.process.BaseProcess, "start", "a process (multiprocessing)"),
    (concurrent.futures.ProcessPoolExecutor, "submit", "a process pool (ProcessPoolExecutor)"),
    (grpc, "server", "a server (grpc.server)"),
    (grpc.aio, "server", "a server (grpc.aio.server)"),
    (asyncio, "start_server", "a server (asyncio.start_server)"),
    (asyncio.BaseEventLoop, "create_server", "a server (loop.create_server)"),
    (socket.socket, "listen", "a server (a listening socket)"),
    (App, "start", "a server (newsbrief App.start)"),
    (_workers_class(), "start", "the pipeline's worker processes (Workers.start)"),
]


@contextlib.contextmanager
def no_processes_or_servers() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for owner, name, what in GUARDED:
            if hasattr(owner, name):
                patch.setattr(owner, name, _refuse(what))
        yield


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    with no_processes_or_servers():
        return (yield)


# a test's setup (its fixtures of every scope), call and teardown
pytest_runtest_setup = pytest.hookimpl(wrapper=True)(_guarded)
pytest_runtest_call = pytest.hookimpl(wrapper=True)(_guarded)
pytest_runtest_teardown = pytest.hookimpl(wrapper=True)(_guarded)


# importing a test module
@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[Any, None, Any]:
    with no_processes_or_servers():
        return (yield)
