"""Async generators closed by the loop, as asyncio's own loops do.

``asyncio.BaseEventLoop.run_forever`` installs ``sys.set_asyncgen_hooks`` so that an async
generator dropped half-way (an HTTP stream whose consumer stopped reading) is closed with
``aclose()`` on the loop, where its ``finally`` may still await. qasync's loop runs Qt's
event loop instead and never installs them: such a generator is then finalised by the
garbage collector, its cleanup cannot await, and Python prints "async generator ignored
GeneratorExit" while the connection it held stays open until the collector gets to it.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def install_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> Any:
    """Give ``loop``'s own hooks to this thread's async generators; returns the old hooks
    (``sys.set_asyncgen_hooks(*old)`` puts them back)."""
    old = sys.get_asyncgen_hooks()
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is None or finalizer is None:  # not a BaseEventLoop: close them ourselves

        def finalizer(agen: Any) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(loop.create_task, agen.aclose())

        firstiter = old.firstiter
    sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    return old
