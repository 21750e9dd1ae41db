"""The session recovery folder (app.models.session_file.SessionFolder): what is written comes
back exactly, a damaged file is refused with a reason and moved aside, and a crash between
the mask and the JSON leaves a pair that belongs together. Also File ▸ Open Recent's list
(app.models.recent)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from app.core import mask as core
from app.models.document import EditDocument
from app.models.recent import RECENT_LIMIT, RecentPhotos
from app.models.session_file import (
    FORMAT,
    VERSION,
    SavedInput,
    SavedPhoto,
    SavedSession,
    SessionFileError,
    SessionFolder,
)
from app.models.settings import RECENT_PHOTOS, Settings


def soft_coverage(width: int = 300, height: int = 200) -> np.ndarray:
    """A feathered ellipse: every value from 0 to 255 occurs, as a soft brush leaves."""
    coverage = core.new_mask(width, height)
    for operation in (lambda m: core.filled_ellipse(m, 60, 40, 240, 160),
                      lambda m: core.feathered(m, 24)):  # fmt: skip
        edit = operation(coverage)
        coverage[edit.box.slices] = edit.pixels
    return coverage


def saved_session(tmp_path: Path, mask_file: str | None = "mask-1.png") -> SavedSession:
    photo = tmp_path / "photos" / "coffee.png"
    return SavedSession(
        photo=SavedPhoto("coffee.png", photo, tmp_path / "work" / "coffee-working-1.png"),
        prompt="remove the spoon — «soft»",
        params=(
            ("model", "gpt-image-1"),
            ("quality", "high"),
            ("n", 3),
            ("stream", True),
            ("partial_images", None),
        ),
        inputs=(
            SavedInput(tmp_path / "work" / "coffee-working-1.png", "coffee.png"),
            SavedInput(tmp_path / "photos" / "cup.png", "cup.png"),
        ),
        mask_size=(300, 200),
        mask_file=mask_file,
    )


def test_a_session_and_its_soft_mask_come_back_exactly(tmp_path: Path) -> None:
    folder = SessionFolder(tmp_path / "session")
    coverage = soft_coverage()
    assert len(np.unique(coverage)) > 100, "the mask has soft edges"
    saved = saved_session(tmp_path)
    folder.write(saved, coverage)
    read = folder.read()
    assert read == saved
    restored = folder.read_mask(read)
    assert restored.dtype == np.uint8 and restored.flags.c_contiguous
    assert np.array_equal(restored, coverage)
    # The file format: a small JSON naming an 8-bit greyscale PNG of the coverage.
    raw = json.loads((tmp_path / "session" / "session.json").read_text(encoding="utf-8"))
    assert raw["format"] == FORMAT and raw["version"] == VERSION
    assert raw["photo"]["original"] == str(tmp_path / "photos" / "coffee.png")
    assert raw["prompt"] == "remove the spoon — «soft»"
    assert raw["params"]["quality"] == "high" and raw["params"]["n"] == 3
    assert [i["name"] for i in raw["inputs"]] == ["coffee.png", "cup.png"]
    assert raw["mask"] == {"file": "mask-1.png", "width": 300, "height": 200}
    with Image.open(tmp_path / "session" / "mask-1.png") as png:
        assert png.mode == "L" and png.size == (300, 200)
    assert (tmp_path / "session" / "mask-1.png").stat().st_size < 30_000, "compact"


def test_nothing_saved_reads_as_no_session(tmp_path: Path) -> None:
    assert SessionFolder(tmp_path / "nowhere").read() is None


def test_a_new_mask_replaces_the_old_file_and_an_empty_one_leaves_none(tmp_path: Path) -> None:
    folder = SessionFolder(tmp_path / "session")
    folder.write(saved_session(tmp_path, "mask-1.png"), soft_coverage())
    second = soft_coverage()
    second[0:10] = 255
    folder.write(saved_session(tmp_path, "mask-2.png"), second)
    assert sorted(p.name for p in folder.folder.iterdir()) == ["mask-2.png", "session.json"]
    assert np.array_equal(folder.read_mask(folder.read()), second)
    # The mask unchanged: only the JSON is written, and it still names the same file.
    folder.write(saved_session(tmp_path, "mask-2.png"), None)
    assert np.array_equal(folder.read_mask(folder.read()), second)
    folder.write(saved_session(tmp_path, None), None)
    assert sorted(p.name for p in folder.folder.iterdir()) == ["session.json"]
    assert folder.read().mask_file is None


def test_a_crash_before_the_json_keeps_the_previous_pair(tmp_path: Path) -> None:
    """The mask of the next save is written first, under a new name: a crash before its
    JSON leaves the previous JSON with the previous mask, untouched."""
    folder = SessionFolder(tmp_path / "session")
    first = soft_coverage()
    folder.write(saved_session(tmp_path, "mask-1.png"), first)
    (folder.folder / "mask-2.png").write_bytes(b"half a PNG")  # the crash, mid-way
    read = folder.read()
    assert read.mask_file == "mask-1.png" and np.array_equal(folder.read_mask(read), first)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{ not json", "not valid JSON"),
        ('{"format": "something else"}', "not a Retouch Studio session"),
        (json.dumps({"format": FORMAT, "version": VERSION + 1}), "of version 2"),
        (json.dumps({"format": FORMAT, "version": VERSION, "photo": None}), "damaged"),
        ("\udcff", "cannot be read"),
    ],
)
def test_a_damaged_session_file_is_refused_with_a_reason_and_moved_aside(
    tmp_path: Path, content: str, reason: str
) -> None:
    folder = SessionFolder(tmp_path / "session")
    folder.folder.mkdir()
    data = content.encode("utf-8", "surrogateescape")
    folder.state_path.write_bytes(data)
    with pytest.raises(SessionFileError, match=reason):
        folder.read()
    aside = folder.move_aside()
    assert not folder.state_path.exists() and aside.read_bytes() == data
    assert aside.parent == folder.folder and aside.name.startswith("session-unreadable-")
    assert folder.read() is None, "the next start begins empty"


def test_a_mask_file_name_that_leaves_the_folder_is_refused(tmp_path: Path) -> None:
    raw = saved_session(tmp_path, "../../elsewhere.png").to_json()
    with pytest.raises(SessionFileError, match="not a plain name"):
        SavedSession.from_json(raw)


def test_a_damaged_or_wrong_mask_file_is_refused(tmp_path: Path) -> None:
    folder = SessionFolder(tmp_path / "session")
    saved = saved_session(tmp_path, "mask-1.png")
    folder.write(saved, soft_coverage())
    mask_path = folder.folder / "mask-1.png"
    Image.new("L", (100, 100)).save(mask_path)
    with pytest.raises(SessionFileError, match="100x100, not the 300x200"):
        folder.read_mask(saved)
    Image.new("RGB", (300, 200)).save(mask_path)
    with pytest.raises(SessionFileError, match="RGB image"):
        folder.read_mask(saved)
    mask_path.write_bytes(b"\x89PNG broken")
    with pytest.raises(SessionFileError, match="cannot be read"):
        folder.read_mask(saved)
    aside = folder.move_aside("mask-1.png")
    assert aside.name.startswith("mask-1-unreadable-") and not mask_path.exists()
    with pytest.raises(SessionFileError, match="cannot be read"):
        folder.read_mask(saved)  # gone


def test_a_missing_photo_does_not_stop_the_session_from_being_read(tmp_path: Path) -> None:
    """The reader does not need the photo: the editor says it is missing and keeps the
    prompt and parameters (tests/ui/test_recovery.py)."""
    folder = SessionFolder(tmp_path / "session")
    saved = saved_session(tmp_path)
    folder.write(saved, soft_coverage())
    assert not saved.photo.original.exists()
    read = folder.read()
    assert read.photo.file == saved.photo.original and read.prompt == saved.prompt


def test_clear_forgets_the_session(tmp_path: Path) -> None:
    folder = SessionFolder(tmp_path / "session")
    folder.write(saved_session(tmp_path), soft_coverage())
    folder.clear()
    assert folder.read() is None and not list(folder.folder.glob("mask-*"))
    folder.clear()  # nothing to clear: no error


# --- Open Recent -------------------------------------------------------------------------------


def test_recent_photos_newest_first_at_most_ten_and_damage_reads_as_empty(
    qapp, tmp_path: Path, schema
) -> None:
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings = Settings(store, schema)
    recent = RecentPhotos(settings, EditDocument())
    changes: list[None] = []
    recent.changed.connect(lambda: changes.append(None))
    for i in range(RECENT_LIMIT + 2):
        recent.remember(tmp_path / f"photo {i}, «{i}».png")
    recent.remember(tmp_path / "photo 5, «5».png")
    paths = recent.paths()
    assert len(paths) == RECENT_LIMIT
    assert paths[0].name == "photo 5, «5».png" and paths[1].name == "photo 11, «11».png"
    assert paths.count(tmp_path / "photo 5, «5».png") == 1
    store.sync()
    reread = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    again = RecentPhotos(Settings(reread, schema), EditDocument())
    assert again.paths() == paths, "kept in the settings file"
    recent.forget(paths[0])
    assert recent.paths() == paths[1:]
    recent.clear()
    assert recent.paths() == [] and len(changes) == RECENT_LIMIT + 2 + 1 + 1 + 1
    settings.set(RECENT_PHOTOS, "{damaged")
    assert recent.paths() == []
