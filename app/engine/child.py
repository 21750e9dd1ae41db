"""Work in a child process, so that it can be stopped at once.

A long call into C (PatchMatch's layout of a hole) cannot be interrupted from a thread, and
the engine must stop working within a fraction of a second of its client leaving. Such work
runs in a child process instead: the worker thread that wants its results waits for them in
short slices, checking the request's :class:`~app.engine.cancel.Cancel`, and kills the
child when it is set. A child also keeps the many large temporaries of that work out of
the engine's own heap: its memory goes back to the system when it ends.

Children are forked by multiprocessing's fork server (a clean process that has already
imported the modules named in ``preload``), which costs a few milliseconds per child once
the server runs; where there is no fork server (Windows) they are spawned. A child also
imports the program's main module unless the program runs as ``python -m package`` (the
engine does: ``python -m app serve``), so under a script that imports much each child
starts more slowly.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from app.engine.cancel import Cancel, Cancelled

POLL_SECONDS = 0.01
"""How often a waiting thread looks at its Cancel: the most a cancelled child runs on."""


class ChildFailed(RuntimeError):
    """The child could not be started, or its work raised (the message says which)."""


def _context(preload: list[str]) -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(preload)  # used when the server first starts
        return context
    return multiprocessing.get_context("spawn")


def _serve(
    function: Callable[..., Iterable[Any]],
    specs: list[tuple[tuple[int, ...], str]],
    args: tuple[Any, ...],
    pipe: Connection,
) -> None:
    try:
        arrays = [np.empty(shape, np.dtype(kind)) for shape, kind in specs]
        for array in arrays:
            pipe.recv_bytes_into(memoryview(array).cast("B"))
        for item in function(*arrays, *args):
            pipe.send(("item", item))
        pipe.send(("done", None))
    except Exception as exc:  # reported to the parent, which raises it as ChildFailed
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


def _nothing() -> Iterator[None]:
    yield from ()


@functools.cache
def warm_up(preload: tuple[str, ...]) -> None:
    """Start the fork server now, in the background (it imports ``preload`` once, which
    takes a few hundred milliseconds), so that the first child later starts at once. Does
    something only the first time."""

    def idle_child() -> None:
        try:
            for _ in ChildWork(_nothing, (), (), list(preload)).results(Cancel()):
                pass
        except ChildFailed:
            pass  # the work that needs a child will say so

    threading.Thread(target=idle_child, name="child-warm-up", daemon=True).start()


class ChildWork:
    """The items of ``function(*arrays, *args)`` (a generator function importable by name,
    with picklable ``args`` and items), computed in a child process. The ``arrays`` go to
    the child as raw bytes (no pickling: a 4K picture is 25 MB). The child is started in the
    background, so the caller can do other work meanwhile; iterate with :meth:`results`;
    :meth:`kill` stops it at any time."""

    def __init__(
        self,
        function: Callable[..., Iterable[Any]],
        arrays: tuple[np.ndarray, ...],
        args: tuple[Any, ...],
        preload: list[str],
    ) -> None:
        self._lock = threading.Lock()
        self._killed = False
        self._process: Any = None
        self._pipe: Connection | None = None
        self._failure: ChildFailed | None = None
        self._launcher = threading.Thread(
            target=self._launch,
            args=(function, [np.ascontiguousarray(a) for a in arrays], args, preload),
            name="child-start",
            daemon=True,
        )
        self._launcher.start()

    def _launch(
        self,
        function: Callable[..., Iterable[Any]],
        arrays: list[np.ndarray],
        args: tuple[Any, ...],
        preload: list[str],
    ) -> None:
        specs = [(a.shape, a.dtype.str) for a in arrays]
        try:
            context = _context(preload)
            ours, theirs = context.Pipe(duplex=True)
            process = context.Process(
                target=_serve, args=(function, specs, args, theirs), daemon=True
            )
            process.start()
            theirs.close()
        except (OSError, ValueError, RuntimeError) as exc:
            self._failure = ChildFailed(f"cannot start a child process ({exc})")
            return
        with self._lock:
            self._process, self._pipe = process, ours
            if self._killed:
                self._stop()
                return
        try:
            for array in arrays:
                ours.send_bytes(memoryview(array).cast("B"))
        except OSError:
            pass  # the child died or was killed; results() reports it

    @property
    def pid(self) -> int | None:
        self._launcher.join()
        return None if self._process is None else self._process.pid

    def started(self) -> bool:
        """Wait until the child runs; False if it could not be started."""
        self._launcher.join()
        return self._process is not None

    def results(self, cancel: Cancel) -> Iterator[Any]:
        """Each item as it arrives. Kills the child and raises Cancelled as soon as
        ``cancel`` is set; raises ChildFailed if it could not start, if its work failed or
        if it died."""
        while self._launcher.is_alive():
            self._launcher.join(POLL_SECONDS)
            cancel.check()
        if self._failure is not None:
            raise self._failure
        process, pipe = self._process, self._pipe
        assert process is not None and pipe is not None
        try:
            while True:
                while not pipe.poll(POLL_SECONDS):
                    if cancel.is_set():
                        raise Cancelled
                    if not process.is_alive() and not pipe.poll(0):
                        raise ChildFailed(f"the child process ended ({process.exitcode})")
                cancel.check()
                try:
                    kind, value = pipe.recv()
                except (EOFError, OSError) as exc:
                    raise ChildFailed(f"the child process ended early ({exc!r})") from None
                if kind == "done":
                    return
                if kind == "error":
                    raise ChildFailed(value)
                yield value
        finally:
            self.kill()

    def kill(self) -> None:
        """Stop the child now (if it still runs) and reap it; one still being started is
        stopped as soon as it is."""
        with self._lock:
            self._killed = True
            if self._process is not None:
                self._stop()

    def _stop(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        if self._pipe is not None:
            self._pipe.close()
