"""Safe image I/O: recognise files by their bytes, refuse bombs and broken files before
decoding them, and write results atomically so a crash never leaves half a file.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

MIME_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_OTHER_FORMATS = (
    (b"GIF87a", "a GIF"),
    (b"GIF89a", "a GIF"),
    (b"BM", "a BMP"),
    (b"II*\x00", "a TIFF"),
    (b"MM\x00*", "a TIFF"),
    (b"%PDF", "a PDF"),
    (b"<", "text (HTML or XML)"),
)

ImageSource = Path | bytes
_UMASK_LOCK = threading.Lock()


class ImageFileError(ValueError):
    """A file that is not an acceptable image; the message says why and what to do.

    ``code`` names the kind of problem for machines (the local engine sends it as the
    OpenAI error code): file_not_found, file_too_large, invalid_image_format,
    image_too_large, truncated_image or corrupt_image."""

    def __init__(self, message: str, code: str = "corrupt_image") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png", "jpeg" or "webp"
    width: int
    height: int
    mode: str
    has_alpha: bool
    byte_size: int

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]

    @property
    def pixels(self) -> int:
        return self.width * self.height


def human_bytes(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def sniff_format(head: bytes) -> str | None:
    """png, jpeg or webp from the first bytes of a file, else None."""
    if head.startswith(_PNG_SIGNATURE):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def describe_unknown(head: bytes) -> str:
    if not head:
        return "the file is empty"
    stripped = head.lstrip()
    for magic, name in _OTHER_FORMATS:
        if stripped.startswith(magic):
            return f"it is {name}, not an image Retouch Studio can send"
    return "it is not a PNG, JPEG or WebP image"


def _read_head_tail(source: ImageSource, size: int) -> tuple[bytes, bytes]:
    if isinstance(source, bytes):
        return source[:64], source[-64:]
    with open(source, "rb") as handle:
        head = handle.read(64)
        handle.seek(max(0, size - 64))
        return head, handle.read(64)


def _looks_complete(fmt: str, head: bytes, tail: bytes, size: int) -> bool:
    if fmt == "png":
        return tail.endswith(_PNG_IEND)
    if fmt == "jpeg":
        return tail.rstrip(b"\x00").endswith(b"\xff\xd9")
    riff_size = int.from_bytes(head[4:8], "little")
    return size >= riff_size + 8


def _open(source: ImageSource) -> Image.Image:
    stream: BinaryIO | Path = io.BytesIO(source) if isinstance(source, bytes) else source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(stream)


def probe_image(
    source: ImageSource,
    *,
    name: str | None = None,
    max_pixels: int,
    max_bytes: int | None = None,
    deep: bool = False,
) -> ImageInfo:
    """Read an image's header and check it is a complete PNG, JPEG or WebP of sane size.

    Cheap: only the header and the last bytes are read, unless ``deep`` asks for a full
    decode (which also finds corruption in the middle of the file). Raises ImageFileError
    with a message that names the file."""
    label = name or (str(source) if isinstance(source, Path) else "image")
    try:
        size = len(source) if isinstance(source, bytes) else os.path.getsize(source)
        head, tail = _read_head_tail(source, size)
    except FileNotFoundError:
        raise ImageFileError(
            f"{label}: file not found; check the path.", "file_not_found"
        ) from None
    except IsADirectoryError:
        raise ImageFileError(
            f"{label}: is a folder, not an image file.", "file_not_found"
        ) from None
    except OSError as exc:
        raise ImageFileError(
            f"{label}: cannot be read ({exc.strerror or exc}).", "file_not_found"
        ) from None
    if max_bytes is not None and size > max_bytes:
        raise ImageFileError(
            f"{label}: {human_bytes(size)} is over the {human_bytes(max_bytes)} limit; "
            "save it smaller or as JPEG/WebP.",
            "file_too_large",
        )
    fmt = sniff_format(head)
    if fmt is None:
        raise ImageFileError(
            f"{label}: {describe_unknown(head)}; use PNG, JPEG or WebP.", "invalid_image_format"
        )
    if not _looks_complete(fmt, head, tail, size):
        raise ImageFileError(
            f"{label}: the {fmt.upper()} file is truncated (it ends early); "
            "save or download it again.",
            "truncated_image",
        )
    try:
        with _open(source) as image:
            width, height = image.size
            mode = image.mode
            has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
                mode == "P" and "transparency" in image.info
            )
            if width * height > max_pixels:
                raise ImageFileError(
                    f"{label}: {width}x{height} is {width * height:,} pixels, over the "
                    f"{max_pixels:,} pixel limit (a decompression bomb or a huge scan); "
                    "scale it down first.",
                    "image_too_large",
                )
            if deep:
                image.load()
    except ImageFileError:
        raise
    except Image.DecompressionBombError:
        raise ImageFileError(
            f"{label}: has far too many pixels (a decompression bomb); it was not decoded.",
            "image_too_large",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageFileError(
            f"{label}: the {fmt.upper()} file is corrupt ({exc}); save or download it again."
        ) from None
    return ImageInfo(fmt, width, height, mode, has_alpha, size)


def decode_image(source: ImageSource, *, name: str | None = None, max_pixels: int) -> Image.Image:
    """Fully decode an image after the same checks as probe_image. Slow: never on a UI thread."""
    probe_image(source, name=name, max_pixels=max_pixels)
    label = name or (str(source) if isinstance(source, Path) else "image")
    try:
        image = _open(source)
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageFileError(f"{label}: cannot be decoded ({exc}); it is corrupt.") from None
    return image


def write_new(path: Path, data: bytes) -> Path:
    """Write ``data`` as a new file, never over an existing one: at ``path``, or, when a
    file of that name exists (another run wrote it), at ``<stem>-2<suffix>``, ``-3`` and
    so on. The name is claimed first (created exclusively, so two processes cannot both
    take it), then filled as ``write_atomic`` does; returns the path written."""
    path = Path(path)
    for number in range(1, 10_000):
        target = path if number == 1 else path.with_name(f"{path.stem}-{number}{path.suffix}")
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            exc.filename, exc.filename2 = str(path), None
            raise
        try:
            return write_atomic(target, data)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    raise FileExistsError(errno.EEXIST, "too many files of this name", str(path))


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so the file is either absent or complete.

    The file ends up with the permissions a plain ``open(path, "wb")`` would give it: those
    of the file it replaces, else ``0o666`` less the umask. An OSError names ``path`` (the
    file the caller asked for), never the hidden temporary file behind it; a full disk's
    error names no file at all otherwise."""
    path = Path(path)
    try:
        mode = _mode_for(path)
        # mkstemp makes the file 0600, so nobody else can read a half-written result; it
        # is given its final mode only once complete, just before the rename publishes it.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        exc.filename, exc.filename2 = str(path), None
        raise
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            exc.filename, exc.filename2 = str(path), None
        raise
    return path


def _mode_for(path: Path) -> int | None:
    """The permission bits ``open(path, "wb")`` would leave; None where there are no
    POSIX permissions to set (Windows: the folder's ACLs decide)."""
    if os.name != "posix":
        return None
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except OSError:  # no file to replace (or none we may look at): a new file's mode
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        # Linux 4.7+. Setting the umask to read it back would, for an instant, apply a
        # wrong one to files that other threads (the workers saving results) create.
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # Elsewhere the only way is to set it and put it back. For that instant, files others
    # create get the strictest usual umask rather than a permissive one.
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask
