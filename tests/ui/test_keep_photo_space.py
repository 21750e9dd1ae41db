"""Through the real editor: a 16-bit Adobe RGB photo stored turned by its EXIF opens
upright, and what Save and Use keep of a result is that photo again, in its own profile and
depth, every pixel outside the mask its own; the Save dialog says what each format loses."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from app.core.original import read_original
from app.core.photo import ORIENTATION_TAG
from tests.support import fault_server as fs
from tests.support.editor import until, use_provider
from tests.support.icc import adobe_rgb
from tests.support.photos import exif_bytes, png16, reread, scene
from tests.support.qtloop import next_signal

SRGB = ImageCms.createProfile("sRGB")


def red_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (255, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def as_srgb(pixels16: np.ndarray) -> np.ndarray:
    eight = ((pixels16.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    profile = ImageCms.ImageCmsProfile(io.BytesIO(adobe_rgb()))
    return np.asarray(ImageCms.profileToProfile(Image.fromarray(eight), profile, SRGB))


def test_save_and_use_keep_the_photos_profile_depth_and_pixels(
    qt_loop, editor, tmp_path: Path, monkeypatch
) -> None:
    window, session = editor.window, editor.session
    stored = scene(300, 200, 3, bits=16)  # 300 wide as stored; orientation 6: 200 wide upright
    photo = png16(tmp_path / "camera.png", stored, adobe_rgb(), exif_bytes(6))
    upright = read_original(photo, max_pixels=10**9).pixels
    assert upright.shape == (300, 200, 3)

    with fs.serve(fs.json_images([red_png(200, 300)])) as server:
        use_provider(editor, server.base_url)

        async def run() -> str:
            session.document.open(photo)
            await until(window.canvas.has_image)
            session.mask.fill_rect(50, 100, 150, 200)  # x0, y0, x1, y1 in upright pixels
            QTest.keyClicks(window.prompt, "paint it red")
            await until(lambda: window.generate_panel.generate_button.isEnabled())
            finished = next_signal(session.jobs.job_finished)
            QTest.mouseClick(window.generate_panel.generate_button, Qt.MouseButton.LeftButton)
            job_id, _usage = await finished
            return job_id

        job_id = qt_loop.run(run(), timeout=60)
    # Opened upright through an 8-bit sRGB working copy; the job remembers the photo.
    assert session.document.picture.size == (200, 300)
    job = session.jobs.jobs[job_id]
    assert job.source.photo is not None and job.source.photo.read_bytes() == photo.read_bytes()
    assert job.source.space.bits == 16 and job.source.space.icc == adobe_rgb()

    asked: list[str] = []
    target = tmp_path / "kept.png"

    def save_as(_parent, _title, suggested, filters):
        asked.append(filters)
        asked.append(suggested)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    messages: list[str] = []
    window.results.message.connect(lambda text, _ms: messages.append(text))
    tile = window.gallery.sections[job_id].tiles[0]
    tile.buttons["save"].click()
    qt_loop.run(until(target.exists), timeout=30)

    # The dialog offers the format that holds the photo first, and says what others lose.
    filters = asked[0].split(";;")
    assert filters[0].startswith("PNG, keeps the 16-bit RGB")
    jpeg = next(f for f in filters if f.startswith("JPEG"))
    assert "16-bit depth becomes 8-bit" in jpeg and "*.jpg" in jpeg
    assert asked[1].endswith("-pasted.png")

    kept = reread(target)
    assert kept.dtype == np.uint16 and kept.shape == (300, 200, 3)
    with Image.open(target) as saved:
        assert saved.info.get("icc_profile") == adobe_rgb()
        assert ORIENTATION_TAG not in saved.getexif()
    outside = session.mask.mask == 0
    assert np.array_equal(kept[outside], upright[outside]), "outside the mask: the photo's own"
    inside = as_srgb(kept[130:170, 70:130])
    assert np.abs(inside.astype(int) - [255, 0, 0]).max() <= 3  # red, in Adobe RGB numbers
    assert not np.array_equal(kept[130:170, 70:130], upright[130:170, 70:130])

    # JPEG loses the depth and compresses: the status bar says so after saving.
    target = tmp_path / "kept.jpg"
    tile.buttons["save"].click()
    qt_loop.run(until(target.exists), timeout=30)
    qt_loop.run(until(lambda: any(m.startswith("Saved kept.jpg") for m in messages)), timeout=10)
    assert messages[-2] == "Saving kept.jpg…"  # said while the worker pastes and writes
    assert "16-bit depth becomes 8-bit" in messages[-1]
    with Image.open(target) as saved:
        assert saved.info.get("icc_profile") == adobe_rgb()

    # Use: the picture becomes the pasted photo, kept at 16 bits in the job's folder, and
    # the next job keeps results in its space too.
    tile.buttons["use"].click()
    qt_loop.run(until(lambda: "-pasted-" in session.document.picture.label), timeout=30)
    used = Path(session.document.picture.label)
    assert used.parent == job.folder and used.suffix == ".png"
    assert np.array_equal(reread(used), kept)
    assert session.document.picture.size == (200, 300)
