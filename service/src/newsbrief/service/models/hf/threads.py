"""torch's intra-op threads: set once in each thread that runs a model (OpenMP keeps the
count per thread, so the loading thread's setting does not reach the batcher's workers)."""

from __future__ import annotations

import os
import threading


def set_torch_threads(threads: int) -> None:
    """torch's intra-op threads for the calling thread (0 = the number of cores)."""
    import torch

    torch.set_num_threads(threads or os.cpu_count() or 1)


class _Done(threading.local):
    done = False


class TorchThreads:
    """Sets torch's threads to ``threads`` the first time each thread calls :meth:`ensure`."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._state = _Done()

    def ensure(self) -> None:
        if not self._state.done:
            set_torch_threads(self.threads)
            self._state.done = True
