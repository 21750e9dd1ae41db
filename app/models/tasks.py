"""The one way the editor starts background work and the one place its failures go.

Models and widgets hand coroutines to ``TaskRunner.start``; a failure becomes a typed
``UserError`` (app.client.errors.user_error: the kind, a message that names the file and
says what to do) and is announced by ``problem``, which the error bar shows. Failed jobs
report here too (``report``). Nothing is caught and dropped anywhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.client.errors import one_line, user_error
from app.core.errors import ErrorKind, UserError
from app.core.imageio import ImageFileError


class TaskRunner(QObject):
    problem = Signal(object)
    """A UserError for the designer. ``retryable`` is only ever set for a failed job: Retry
    sends its request again."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks: set[asyncio.Task[Any]] = set()

    def start(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine on the loop; its failure is reported, never lost."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._on_done)
        return task

    def report(self, error: UserError) -> None:
        self.problem.emit(error)

    def report_text(self, message: str, kind: ErrorKind = ErrorKind.INPUT) -> None:
        """A problem found without an exception (a refused file, a question answered No)."""
        self.problem.emit(UserError(message, kind, retryable=False))

    async def shutdown(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.report(replace(explain(exc), retryable=False))


def explain(exc: BaseException) -> UserError:
    """A failure as the designer is told it. A ValueError raised by a model is a refusal
    whose text already says what to do (a file name without a known extension, a result
    with no image yet); everything else is classified by app.client.errors."""
    if isinstance(exc, ValueError) and not isinstance(exc, ImageFileError):
        return UserError(one_line(str(exc)), ErrorKind.INPUT, retryable=False)
    return user_error(exc)
