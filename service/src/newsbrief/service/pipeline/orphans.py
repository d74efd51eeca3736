"""Imported by the fork server of the pipeline's worker processes (its preload list, see
:func:`.processes._context`), and acting only there: the fork server exits as soon as the server
that started it is gone, however it ended (SIGKILL included).

Without this the fork server outlives a killed server: it exits when every holder of its
"alive" pipe has closed it, and each worker holds one. The workers ask the kernel to kill them
when the fork server dies (:func:`.processes.die_with_parent`), so the fork server's exit takes
them along, even one stuck in native code. The fork server does not use ``PR_SET_PDEATHSIG``
itself: Linux sends that signal when the parent *thread* ends, and the server may start the fork
server from a thread that ends before it does. A thread here watches the parent process instead
(two checks a second); it holds no lock while it sleeps, so the workers forked beside it are safe.
"""

from __future__ import annotations

import multiprocessing.forkserver
import os
import sys
import threading
import time

#: How often the fork server looks for its parent, in seconds.
POLL_SECONDS = 0.5


def in_fork_server() -> bool:
    """True when this import runs in the fork server's ``main`` (its preload)."""
    main = multiprocessing.forkserver.main.__code__
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code is main:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(0)  # the server is gone; the workers follow (their parent-death signal)


if in_fork_server():
    threading.Thread(
        target=_watch, args=(os.getppid(),), name="newsbrief-forkserver-watch", daemon=True
    ).start()
