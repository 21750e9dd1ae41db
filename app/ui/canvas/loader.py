"""Decoding of dropped, pasted or opened files off the UI thread, and the zoom levels of
every picture shown.

A 4096x4096 PNG takes a few hundred milliseconds to decode and convert; on the UI thread
that would freeze painting. Jobs run on the loader's own QThreadPool and report through a
signal, which Qt queues to the UI thread. Only the newest request of each kind is
delivered: a file dropped while another is decoding replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from app.core import mask as core
from app.core.imageio import ImageFileError
from app.core.schema import load_schema
from app.models.levels import LoadedImage, build_levels, decode_levels


@dataclass(frozen=True)
class LoadedMask:
    name: str
    coverage: np.ndarray


class _Relay(QObject):
    done = Signal(str, int, object)
    failed = Signal(str, int, str, bool)


class _Job(QRunnable):
    def __init__(self, relay: _Relay, kind: str, token: int, name: str, work: Any) -> None:
        super().__init__()
        self._relay, self._kind, self._token, self._work = relay, kind, token, work
        self._name = name

    def run(self) -> None:
        try:
            result = self._work()
        except ImageFileError as exc:
            wrong_size = isinstance(exc, core.MaskSizeError)
            self._relay.failed.emit(self._kind, self._token, str(exc), wrong_size)
        except Exception as exc:  # a worker must report, never die silently
            message = f"{self._name}: cannot be opened ({exc})."
            self._relay.failed.emit(self._kind, self._token, message, False)
        else:
            self._relay.done.emit(self._kind, self._token, result)


class FileLoader(QObject):
    """Decodes images and mask files in the background."""

    image_loaded = Signal(object)
    """A LoadedImage."""
    image_failed = Signal(str)
    mask_loaded = Signal(object)
    """A LoadedMask."""
    mask_failed = Signal(str, bool)
    """The message, and whether the file only has the wrong size (it could be scaled)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The pool is created before the relay so that, children being deleted in order,
        # it waits for running jobs before the relay they report to goes away.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._tokens = {"image": 0, "mask": 0}
        self._max_pixels = load_schema().files.max_pixels

    def load_image(self, path: Path) -> None:
        path = Path(path)
        self._start("image", str(path), lambda: decode_levels(path, str(path), self._max_pixels))

    def load_qimage(self, image: QImage, name: str) -> None:
        """An image already decoded (the clipboard's): only its zoom levels are built."""
        self._start("image", name, lambda: LoadedImage(name, build_levels(image)))

    def load_mask(
        self,
        path: Path,
        size: tuple[int, int],
        *,
        mode: core.MaskSource = "auto",
        scale: bool = False,
    ) -> None:
        path = Path(path)

        def work() -> LoadedMask:
            coverage = core.read_mask(
                path, size, mode=mode, scale=scale, max_pixels=self._max_pixels
            )
            return LoadedMask(path.name, coverage)

        self._start("mask", str(path), work)

    def wait(self, msecs: int = -1) -> bool:
        """Block until the running jobs end (tests, shutdown)."""
        return self._pool.waitForDone(msecs)

    def _start(self, kind: str, name: str, work: Any) -> None:
        self._tokens[kind] += 1
        self._pool.start(_Job(self._relay, kind, self._tokens[kind], name, work))

    def _on_done(self, kind: str, token: int, result: object) -> None:
        if token != self._tokens[kind]:
            return
        (self.image_loaded if kind == "image" else self.mask_loaded).emit(result)

    def _on_failed(self, kind: str, token: int, message: str, wrong_size: bool) -> None:
        if token != self._tokens[kind]:
            return
        if kind == "image":
            self.image_failed.emit(message)
        else:
            self.mask_failed.emit(message, wrong_size)
