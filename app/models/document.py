"""The edit document: the picture being retouched and the mask painted over it.

Opening a file, pasting an image, using a result and loading a mask file are methods of
``EditDocument``; their decoding runs on the editor's worker pool (app.qt.background) and
only the newest request of each kind is delivered (a file dropped while another decodes
replaces it). "Use this result" is one undo step that brings back the previous picture,
its mask and the strokes before it. The canvas shows the document and decodes nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.core import mask as core
from app.core.imageio import ImageFileError
from app.core.limits import open_pixel_limit
from app.core.photo import prepare
from app.models.levels import LoadedImage, build_levels, decode_levels
from app.models.mask_document import MaskDocument
from app.qt.background import Background


@dataclass(frozen=True)
class Picture:
    """What is open: its name for the designer, the file edited and sent (the photo, or
    its upright sRGB working copy, app.core.photo; None for a pasted picture not yet
    written to the work folder), its zoom levels, full size first, and the file opened."""

    name: str
    path: Path | None
    levels: list[QImage]
    original: Path | None = None  # the file opened, when ``path`` is its working copy

    @property
    def image(self) -> QImage:
        return self.levels[0]

    @property
    def size(self) -> tuple[int, int]:
        return self.image.width(), self.image.height()

    @property
    def label(self) -> str:
        """The path of the file opened, or the name of a picture that has none."""
        file = self.original or self.path
        return str(file) if file else self.name


@dataclass(frozen=True)
class _Load:
    """A decode in flight: what it is for, and its serial (the newest wins)."""

    kind: str  # "open" or "use" (pictures), "mask"
    serial: int
    path: Path | None


class EditDocument(QObject):
    """``about_to_change``: the picture and mask are about to be replaced (a tool should
    drop what it is drawing). ``picture_changed(refit)``: ``picture`` is new; ``refit`` when
    the view should fit it again (a new picture or another size). ``opened(name)``: a
    picture is now the one being retouched (opened, pasted, used, or back by Undo); its
    ``Picture.label``.
    ``open_failed(message)``, ``mask_loaded(name)``, ``mask_load_failed(message,
    wrong_size)``: the outcome of the background work; a refused file changes nothing."""

    about_to_change = Signal()
    picture_changed = Signal(bool)
    opened = Signal(str)
    open_failed = Signal(str)
    mask_loaded = Signal(str)
    mask_load_failed = Signal(str, bool)
    notice = Signal(str)
    """A short message for the designer about what just happened (shown over the canvas)."""

    def __init__(
        self,
        mask: MaskDocument | None = None,
        parent: QObject | None = None,
        *,
        max_pixels: int | None = None,
        work_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.mask = mask or MaskDocument(parent=self)
        self.picture: Picture | None = None
        # How large a picture may be opened: what this machine's memory allows (app.core.
        # limits), not what an API takes (a larger photo is sent as a scaled copy).
        self._max_pixels = max_pixels or open_pixel_limit()
        # Where working copies of photos go (turned upright, converted to sRGB).
        self.work_dir = work_dir or Path(tempfile.gettempdir()) / "retouch-studio-work"
        self._background = Background(self)
        self._serials = {"picture": 0, "mask": 0}
        self._extra: tuple[Any, Callable[[Any], Any]] | None = None  # traded by a reopen

    # --- state ---------------------------------------------------------------------------

    @property
    def path(self) -> Path | None:
        return self.picture.path if self.picture else None

    def has_picture(self) -> bool:
        return self.picture is not None

    def set_path(self, path: Path) -> None:
        """The file that now holds the open picture (a pasted one, once written)."""
        if self.picture is not None:
            self.picture = replace(self.picture, path=path)

    # --- opening -------------------------------------------------------------------------

    def open(self, path: Path | str, name: str | None = None) -> None:
        """Decode a file in the background and make it the picture, with an empty mask,
        shown as ``name`` (by default the file's name). The caller asks the designer first
        when painting would be lost."""
        if name is None:
            self._start("open", Path(path), self._decode)
            return

        def named(source: Path) -> tuple[Path, LoadedImage]:
            working, loaded = self._decode(source)
            return working, LoadedImage(name, loaded.levels)

        self._start("named", Path(path), named)

    def open_image(self, image: QImage, name: str) -> None:
        """An image already decoded (the clipboard's, a dropped one): only its zoom levels
        are built in the background (30-70 ms at 4K)."""
        self._start("open", None, lambda _path: (None, LoadedImage(name, build_levels(image))))

    def set_image(self, image: QImage, name: str = "image", path: Path | None = None) -> None:
        """Show a picture now, building its levels on this thread (tests, demos)."""
        self._show(Picture(name, path, build_levels(image)))

    def use_result(self, path: Path | str) -> None:
        """Make a result the picture being retouched, as one undo step: the painted mask
        stays when the sizes match, and Undo brings back the previous picture, its mask and
        the strokes before it."""
        self._start("use", Path(path), self._decode)

    def reopen(
        self,
        path: Path,
        mask: Path | None,
        *,
        name: str,
        mask_mode: core.MaskSource = "auto",
        extra: tuple[Any, Callable[[Any], Any]] | None = None,
    ) -> None:
        """Open a picture with its mask (a job of the history) as one undo step, shown
        as ``name``. ``extra``: more state that the step trades too, as ``(state, swap)``
        where ``swap(state)`` installs it and returns what it replaced (the prompt and
        parameters). A mask of another size is scaled to the picture."""

        def work(source: Path) -> tuple[Path, LoadedImage, np.ndarray | None]:
            working, loaded = self._decode(source)
            size = (loaded.image.width(), loaded.image.height())
            coverage = None
            if mask is not None:
                coverage = core.read_mask(
                    mask, size, mode=mask_mode, scale=True, max_pixels=self._max_pixels
                )
            return working, LoadedImage(name, loaded.levels), coverage

        self._start("reopen", Path(path), work)
        self._extra = extra

    def load_mask(
        self, path: Path | str, *, mode: core.MaskSource = "auto", scale: bool = False
    ) -> None:
        """Read a mask file in the background and make it the mask (one undo step). A file
        of another size is refused unless ``scale``; a refused file keeps the mask."""
        path = Path(path)
        size = (self.mask.width, self.mask.height)
        self._serials["mask"] += 1
        load = _Load("mask", self._serials["mask"], path)

        def work() -> np.ndarray:
            return core.read_mask(path, size, mode=mode, scale=scale, max_pixels=self._max_pixels)

        self._background.run(
            work,
            lambda coverage: self._on_mask(load, coverage),
            lambda exc: self._on_failed(load, exc),
        )

    def close(self) -> None:
        """Nothing open any more: no picture, an empty mask without history (Start fresh).
        A decode in flight is not shown afterwards. The caller asks the designer first when
        painting would be lost."""
        self._serials = {kind: serial + 1 for kind, serial in self._serials.items()}
        self.about_to_change.emit()
        self.picture = None
        self.mask.reset(0, 0)
        self.picture_changed.emit(True)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the decoding in flight has ended (tests, shutdown)."""
        return self._background.wait(timeout_s)

    # --- background answers --------------------------------------------------------------

    def _decode(self, path: Path) -> tuple[Path, LoadedImage]:
        """In a worker: the picture to edit (the file, or its upright sRGB working copy)
        and its zoom levels. The photo is decoded once: a working copy's pixels come with
        it, and a file used as it is is decoded straight into the canvas's full-size level
        (app.models.levels)."""
        prepared = prepare(path, self.work_dir, max_pixels=self._max_pixels)
        return prepared.path, decode_levels(prepared, str(prepared.path), self._max_pixels)

    def _start(self, kind: str, path: Path | None, work) -> None:
        self._serials["picture"] += 1
        self._extra: tuple[Any, Callable[[Any], Any]] | None = None
        load = _Load(kind, self._serials["picture"], path)
        self._background.run(
            lambda: work(path),
            lambda loaded: self._on_picture(load, loaded),
            lambda exc: self._on_failed(load, exc),
        )

    def _current(self, load: _Load) -> bool:
        return load.serial == self._serials["mask" if load.kind == "mask" else "picture"]

    def _on_picture(self, load: _Load, found: tuple[Any, ...]) -> None:
        if not self._current(load):
            return
        working, loaded, *coverage = found
        reopened = load.kind == "reopen"
        named = reopened or load.kind == "named" or not load.path
        name = loaded.name if named else load.path.name
        picture = Picture(name, working, loaded.levels, original=load.path)
        if reopened:
            extra, self._extra = self._extra, None
            self._use(picture, coverage[0], "Reopen job", extra)
        elif load.kind == "use":
            self._use(picture)
        else:
            self._show(picture)

    def _on_mask(self, load: _Load, coverage: np.ndarray) -> None:
        if not self._current(load):
            return
        if coverage.shape != self.mask.mask.shape:
            message = f"{load.path.name}: the picture changed while it was read; open it again."
            self.mask_load_failed.emit(message, False)
            return
        self.mask.replace(coverage, f"Load {load.path.name}")
        self.mask_loaded.emit(load.path.name)

    def _on_failed(self, load: _Load, exc: BaseException) -> None:
        if not self._current(load):
            return
        name = load.path.name if load.path else "the image"
        if isinstance(exc, ImageFileError):
            message, wrong_size = str(exc), isinstance(exc, core.MaskSizeError)
        else:
            message, wrong_size = f"{name}: cannot be opened ({exc}).", False
        if load.kind == "mask":
            self.mask_load_failed.emit(message, wrong_size)
        else:
            self.open_failed.emit(message)

    # --- changing the picture ------------------------------------------------------------

    def _show(self, picture: Picture) -> None:
        self.about_to_change.emit()
        self.picture = picture
        self.mask.reset(*picture.size)
        self.picture_changed.emit(True)
        self.opened.emit(picture.label)

    def _use(
        self,
        picture: Picture,
        mask: np.ndarray | None = None,
        text: str = "Use result",
        extra: tuple[Any, Callable[[Any], Any]] | None = None,
    ) -> None:
        """Make ``picture`` (and ``mask``, else the painted one when the sizes match) what
        is retouched, as one undo step named ``text`` that also trades ``extra``."""
        self.about_to_change.emit()
        width, height = picture.size
        if mask is not None:
            kept = mask
        elif self.mask.mask.shape == (height, width):
            kept = self.mask.mask.copy()
        else:
            kept = core.new_mask(width, height)
            self.notice.emit("The result has another size: the mask starts empty (Undo goes back)")
        if extra is None:
            before: Any = self._swap((picture, kept))
            swap, replaced = self._swap, before
        else:
            state, trade = extra

            def swap(both: tuple[Any, Any]) -> tuple[Any, Any]:
                return self._swap(both[0]), trade(both[1])

            before = swap(((picture, kept), state))
            replaced = before[0]
        held = replaced[0].levels if replaced[0] else []
        nbytes = sum(level.sizeInBytes() for level in held) + replaced[1].nbytes
        self.mask.push_swap(text, before, swap, nbytes)

    def _swap(self, state: tuple[Picture | None, np.ndarray]) -> tuple[Picture | None, np.ndarray]:
        picture, mask = state
        if picture is not self.picture:
            self.about_to_change.emit()
        old_size = self.picture.size if self.picture else None
        previous = (self.picture, self.mask.swap_mask(mask))
        self.picture = picture
        self.picture_changed.emit(picture is None or picture.size != old_size)
        if picture is not None:
            self.opened.emit(picture.label)
        return previous
