"""The session recovery folder (app.models.recovery): what is kept, and its files.

``session.json`` says what was open (the photo, the prompt, the parameters, the inputs) and
names ``mask-<id>.png``, the coverage as an 8-bit greyscale PNG (0 = keep, 255 = edit, soft
edges in between) when something is painted. A new mask is always written under a new name
before the JSON that points to it, both atomically (app.core.imageio.write_atomic), so a
crash at any moment leaves a pair that belongs together. No Qt: the writing runs in a
worker thread.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.core.imageio import write_atomic
from app.core.mask import coverage_png

FORMAT = "retouch-studio-session"
VERSION = 1
STATE_FILE = "session.json"


class SessionFileError(Exception):
    """The saved session (or its mask) cannot be read; the message says why."""


@dataclass(frozen=True)
class SavedPhoto:
    """The picture being retouched: its name, the file the designer opened (None for a
    pasted picture) and the file edited and sent (the photo or its working copy)."""

    name: str
    original: Path | None
    path: Path | None

    @property
    def file(self) -> Path | None:
        """What to open again."""
        return self.original or self.path


@dataclass(frozen=True)
class SavedInput:
    path: Path
    name: str


@dataclass(frozen=True)
class SavedSession:
    """Everything recovery keeps. ``mask_size`` is the picture's (width, height) the mask
    was painted on; ``mask_file`` names its PNG in the folder, None when nothing is
    painted."""

    photo: SavedPhoto | None = None
    prompt: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    inputs: tuple[SavedInput, ...] = ()
    mask_size: tuple[int, int] | None = None
    mask_file: str | None = None
    gallery: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """The jobs in the gallery, oldest first, with their variants still in it; their
    records are in the history (app.services.history)."""

    def to_json(self) -> dict[str, Any]:
        photo = self.photo
        return {
            "format": FORMAT,
            "version": VERSION,
            "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "photo": None
            if photo is None
            else {"name": photo.name, "original": _text(photo.original), "path": _text(photo.path)},
            "prompt": self.prompt,
            "params": dict(self.params),
            "inputs": [{"path": str(i.path), "name": i.name} for i in self.inputs],
            "mask": None
            if self.mask_file is None or self.mask_size is None
            else {"file": self.mask_file, "width": self.mask_size[0], "height": self.mask_size[1]},
            "gallery": [{"job": job, "variants": list(kept)} for job, kept in self.gallery],
        }

    @classmethod
    def from_json(cls, raw: object) -> SavedSession:
        """Raises SessionFileError for anything this version did not write."""
        try:
            if not isinstance(raw, dict) or raw.get("format") != FORMAT:
                raise SessionFileError("it is not a Retouch Studio session")
            if raw.get("version") != VERSION:
                raise SessionFileError(f"it is of version {raw.get('version')!r}, not {VERSION}")
            photo = raw["photo"]
            mask = raw["mask"]
            params = raw["params"]
            if not isinstance(params, dict) or not isinstance(raw["prompt"], str):
                raise SessionFileError("its prompt or parameters are damaged")
            mask_file = None if mask is None else str(mask["file"])
            if mask_file is not None and (Path(mask_file).name != mask_file or not mask_file):
                raise SessionFileError(f"its mask file name {mask_file!r} is not a plain name")
            return cls(
                photo=None
                if photo is None
                else SavedPhoto(str(photo["name"]), _path(photo["original"]), _path(photo["path"])),
                prompt=raw["prompt"],
                params=tuple((str(k), v) for k, v in params.items()),
                inputs=tuple(SavedInput(Path(i["path"]), str(i["name"])) for i in raw["inputs"]),
                mask_size=None if mask is None else (int(mask["width"]), int(mask["height"])),
                mask_file=mask_file,
                gallery=tuple(
                    (str(g["job"]), tuple(int(v) for v in g["variants"]))
                    for g in raw.get("gallery", [])  # absent in sessions of before the history
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SessionFileError(f"it is damaged ({type(exc).__name__}: {exc})") from None


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _path(text: object) -> Path | None:
    if text is None:
        return None
    if not isinstance(text, str) or not text:
        raise ValueError(f"{text!r} is not a file path")
    return Path(text)


class SessionFolder:
    """The session's files. Every method but ``read`` (a file the size of a settings
    file) runs in a worker thread."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.state_path = self.folder / STATE_FILE

    def read(self) -> SavedSession | None:
        """The saved session, or None when there is none. Raises SessionFileError."""
        try:
            text = self.state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise SessionFileError(f"it cannot be read ({exc})") from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SessionFileError(f"it is not valid JSON ({exc})") from None
        return SavedSession.from_json(raw)

    def read_mask(self, saved: SavedSession) -> np.ndarray:
        """The saved coverage, exactly as painted. Raises SessionFileError."""
        if saved.mask_file is None or saved.mask_size is None:
            raise SessionFileError("no mask was saved")
        path = self.folder / saved.mask_file
        try:
            with Image.open(path) as image:
                if image.mode != "L" or image.size != saved.mask_size:
                    width, height = saved.mask_size
                    raise SessionFileError(
                        f"it is a {image.mode} image of {image.width}x{image.height}, "
                        f"not the {width}x{height} greyscale mask the session names"
                    )
                coverage = np.array(image, dtype=np.uint8)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise SessionFileError(f"it cannot be read ({exc})") from None
        return np.ascontiguousarray(coverage)

    def write(self, saved: SavedSession, coverage: np.ndarray | None) -> None:
        """Write the mask (when ``coverage`` is given, under ``saved.mask_file``), then the
        JSON that names it; then remove the masks nothing names any more."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if coverage is not None and saved.mask_file is not None:
            write_atomic(self.folder / saved.mask_file, coverage_png(coverage))
        data = json.dumps(saved.to_json(), indent=1, ensure_ascii=False).encode("utf-8")
        write_atomic(self.state_path, data)
        self._remove_masks(keep=saved.mask_file)

    def clear(self) -> None:
        """Forget the saved session."""
        self.state_path.unlink(missing_ok=True)
        self._remove_masks(keep=None)

    def move_aside(self, name: str | None = None) -> Path:
        """Move an unreadable file (the JSON, or the mask it names) out of the way, under a
        name that says what it is; returns where it went."""
        source = self.folder / (name or STATE_FILE)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = source.with_name(f"{source.stem}-unreadable-{stamp}{source.suffix}")
        source.replace(target)
        return target

    def _remove_masks(self, keep: str | None) -> None:
        for path in self.folder.glob("mask-*.png"):
            if path.name != keep:
                path.unlink(missing_ok=True)
