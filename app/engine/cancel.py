"""Stopping a request's work when its client has gone.

The runner starts no new step for a client that left, but a step already running in a
worker thread goes on. Long work therefore checks a :class:`Cancel` between short pieces of
work, and work in a child process is killed when it is set (``app.engine.child``).

A request's token is set when the asyncio task that asked for the work ends
(:func:`bind_to_current_task`): the server's streaming task is cancelled the moment the
client disconnects, and the task of a non-streaming request ends when the server gives up on
a client that left. Either way nobody is left to read the result.
"""

from __future__ import annotations

import asyncio
import threading


class Cancelled(Exception):
    """The work was stopped because nobody waits for it any more."""


class Cancel:
    """A thread-safe stop flag, set once."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise Cancelled if the flag is set (call it between pieces of work)."""
        if self._event.is_set():
            raise Cancelled

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the flag; whether it is set."""
        return self._event.wait(timeout)


def bind_to_current_task(cancel: Cancel) -> bool:
    """Set ``cancel`` when the asyncio task running this call ends. Must be called on the
    event loop's thread; outside a task (a script, a test calling the work directly) it does
    nothing and returns False."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running event loop in this thread
        return False
    if task is None:
        return False
    task.add_done_callback(lambda _task: cancel.set())
    return True
