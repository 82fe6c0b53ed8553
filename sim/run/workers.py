"""Worker processes that never outlive the run that started them.

A run with ``--workers N`` sentences its blocks in a pool of N processes. When the run stops for
any reason (an error, Ctrl-C, SIGTERM or SIGHUP turned into an exception by the command line),
the pool is terminated at once rather than left to finish the queued blocks. When the parent is
killed outright (SIGKILL, which no handler sees), each worker notices and exits: on Linux the
kernel sends it SIGKILL (``prctl(PR_SET_PDEATHSIG)``); elsewhere a watcher thread polls for the
parent every half second.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.pool
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

__all__ = ["worker_pool"]

# <sys/prctl.h>: the signal a process receives when its parent dies.
_PR_SET_PDEATHSIG = 1
#: How often a worker without prctl checks that its parent is alive (seconds).
_PARENT_POLL_SECONDS = 0.5


def _exit_if_orphaned(parent: int) -> None:
    """Leave at once, without cleanup, when the parent is gone (a worker holds nothing to save)."""
    if os.getppid() != parent:
        os._exit(1)


def _watch_parent(parent: int) -> None:
    while True:
        _exit_if_orphaned(parent)
        time.sleep(_PARENT_POLL_SECONDS)


def _die_with_parent(parent: int) -> None:
    """Worker initializer: exit when the parent dies; leave Ctrl-C to the parent, which stops
    the pool (a worker's own KeyboardInterrupt would only print a traceback); die quietly on
    SIGTERM and SIGHUP (the pool stops its workers with SIGTERM; a handler inherited from the
    parent would print a traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    watched = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            watched = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    _exit_if_orphaned(parent)  # the parent may have died before the death signal was set
    if not watched:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[multiprocessing.pool.Pool]:
    """A pool of ``workers`` processes, terminated (not drained) if the body raises anything,
    including KeyboardInterrupt and the command line's termination exception.

    Parameters
    ----------
    workers : int
        Number of processes.

    Yields
    ------
    multiprocessing.pool.Pool
    """
    pool = multiprocessing.get_context().Pool(
        workers, initializer=_die_with_parent, initargs=(os.getpid(),)
    )
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()
