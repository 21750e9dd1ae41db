"""The one-folder bundle, built by `python packaging/build.py` (or reused when it was built from
the same sources) and run as a designer runs it, offscreen and with nothing of this checkout on
its path: `retouch --version` prints the version, `retouch serve` answers an edit over HTTP on
127.0.0.1 (OpenCV's fills, isal's PNG encoder), `retouch edit` sends a HEIC photo to it
(pillow-heif), and `retouch-studio` stays up with its engine and takes a photo from a second
launch.

Minutes of building: run by packaging/check.sh (CI), or `RETOUCH_BUNDLE_TEST=1 python -m pytest
tests/packaging/test_bundle.py`; skipped otherwise."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

import app
from app.services.single_instance import instance_name
from tests.support.images import encode, gradient, mask_bytes

ROOT = Path(__file__).resolve().parents[2]
W, H = 256, 192
HOLE = (96, 64, 150, 120)  # x0, y0, x1, y1

pytestmark = [
    pytest.mark.slow,
    pytest.mark.bundle,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bundle tested is Linux's"),
    pytest.mark.skipif(
        os.environ.get("RETOUCH_BUNDLE_TEST") != "1",
        reason="builds the bundle: run packaging/check.sh, or set RETOUCH_BUNDLE_TEST=1",
    ),
]


@pytest.fixture(scope="module")
def bundle() -> Path:
    dist = Path(os.environ.get("RETOUCH_BUNDLE_DIST", ROOT / "dist"))
    build = [sys.executable, str(ROOT / "packaging" / "build.py"), "--if-changed",
             "--dist", str(dist)]  # fmt: skip
    assert subprocess.run(build, cwd=ROOT, timeout=1800).returncode == 0
    return dist / "retouch-studio"


def environment(home: Path, **extra: str) -> dict[str, str]:
    """Nothing of this checkout: no PYTHONPATH, started from another folder."""
    drop = {"PYTHONPATH", "RETOUCH_HOME", "QT_SCALE_FACTOR", "XDG_RUNTIME_DIR"}
    keep = {k: v for k, v in os.environ.items() if k not in drop}
    return {**keep, "QT_QPA_PLATFORM": "offscreen", "RETOUCH_HOME": str(home), **extra}


def scene() -> tuple[np.ndarray, bytes, np.ndarray]:
    """A gradient with a dark square, the API mask around it, and where the mask is open."""
    photo = np.array(gradient(W, H))
    x0, y0, x1, y1 = HOLE
    photo[y0 + 6 : y1 - 6, x0 + 6 : x1 - 6] = 30
    mask = mask_bytes(W, H, HOLE)
    return photo, mask, np.asarray(Image.open(io.BytesIO(mask)))[..., 3] == 0


@pytest.fixture
def engine(bundle: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    token = "bundle-test-token"
    env = environment(tmp_path / "home", RETOUCH_ENGINE_TOKEN=token)
    serve = subprocess.Popen(
        [str(bundle / "retouch"), "serve", "--port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = serve.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, serve.communicate(timeout=10)[1][-3000:]
        yield line.split("listening on ", 1)[1].strip(), token
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.communicate()


def test_the_bundle_prints_its_version(bundle: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(bundle / "retouch"), "--version"],
        cwd=tmp_path, env=environment(tmp_path), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"retouch {app.__version__}"


def test_the_bundle_installs_itself_in_the_launcher(bundle: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**environment(home), "HOME": str(home), "XDG_DATA_HOME": str(home / "share")}
    done = subprocess.run(["bash", str(bundle / "desktop" / "install.sh")], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    desktop = (home / "share" / "applications" / "retouch-studio.desktop").read_text()
    assert f'Exec="{bundle}/retouch-studio" %F' in desktop.splitlines()
    assert (
        home / "share" / "icons" / "hicolor" / "256x256" / "apps" / "retouch-studio.png"
    ).is_file()
    linked = home / ".local" / "bin" / "retouch"
    version = subprocess.run([str(linked), "--version"], env=env, capture_output=True, text=True,
                             timeout=120)  # fmt: skip
    assert version.stdout.strip() == f"retouch {app.__version__}", version.stderr[-3000:]


def test_the_bundled_engine_answers_an_edit_over_http(engine: tuple[str, str]) -> None:
    url, token = engine
    dirty, mask, hole = scene()
    files = [("image", ("photo.png", encode(Image.fromarray(dirty)), "image/png")),
             ("mask", ("mask.png", mask, "image/png"))]  # fmt: skip
    reply = httpx.post(f"{url}/v1/images/edits", files=files, timeout=120,
                       data={"prompt": "remove the square", "n": "2"},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    results = [
        np.asarray(Image.open(io.BytesIO(base64.b64decode(item["b64_json"]))).convert("RGB"))
        for item in reply.json()["data"]
    ]
    assert len(results) == 2 and not np.array_equal(results[0], results[1])
    for result in results:
        assert result.shape == dirty.shape
        assert np.array_equal(result[~hole], dirty[~hole])  # untouched outside the mask
        assert np.abs(result.astype(int) - 30)[hole].mean() > 40  # the dark square is gone
    refused = httpx.post(f"{url}/v1/images/edits", files=files, data={"prompt": "x"})
    assert refused.status_code == 401  # the token is required


def test_bundled_retouch_edit_sends_a_heic_photo_to_the_bundled_engine(
    bundle: Path, engine: tuple[str, str], tmp_path: Path
) -> None:
    import pillow_heif

    url, token = engine
    dirty, mask_png, _hole = scene()
    photo = tmp_path / "photo.heic"
    pillow_heif.from_pillow(Image.fromarray(dirty)).save(str(photo), quality=95)
    mask = tmp_path / "mask.png"
    mask.write_bytes(mask_png)
    out = tmp_path / "results"
    done = subprocess.run(
        [str(bundle / "retouch"), "edit", "--base-url", url, "--image", str(photo), "--mask",
         str(mask), "--prompt", "remove the square", "--out", str(out), "--json", "--no-history",
         "--api-key-env", "ENGINE_TOKEN"],
        cwd=tmp_path, env=environment(tmp_path / "home", ENGINE_TOKEN=token),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    completed = [e for e in events if e["event"] == "completed"]
    assert len(completed) == 1 and events[-1]["event"] == "done", done.stdout[-3000:]
    assert (completed[0]["width"], completed[0]["height"]) == (W, H)
    assert Path(completed[0]["file"]).parent == out


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except FileNotFoundError:
        return []


def ended(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def saved_photo(home: Path) -> str | None:
    try:
        session = json.loads((home / "session" / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (session.get("photo") or {}).get("name")


def test_the_bundled_editor_stays_up_with_its_engine_and_takes_a_photo(
    bundle: Path, tmp_path: Path
) -> None:
    home, runtime = tmp_path / "home", Path(tempfile.mkdtemp(prefix="rs-bundle-"))
    env = environment(home, XDG_RUNTIME_DIR=str(runtime))
    photo = tmp_path / "kitchen.png"
    photo.write_bytes(encode(Image.fromarray(scene()[0])))
    editor = subprocess.Popen(
        [str(bundle / "retouch-studio")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    engine = 0
    try:
        deadline = time.monotonic() + 90
        while not engine:
            assert editor.poll() is None, editor.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the bundled editor started no engine"
            engine = next((c for c in children(editor.pid) if "serve" in command_line(c)), 0)
            time.sleep(0.05)
        # The engine is the bundle's own `retouch serve`: there is no python -m in a bundle.
        assert command_line(engine)[:2] == [str(bundle / "retouch"), "serve"]
        up_since = time.monotonic()
        while time.monotonic() - up_since < 4:  # stays up: no late import or resource error
            assert editor.poll() is None, editor.communicate()[1][-3000:]
            time.sleep(0.1)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("XDG_RUNTIME_DIR", str(runtime))
            assert Path(instance_name(str(home))).exists()
        handed = subprocess.run([str(bundle / "retouch"), str(photo)], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert handed.returncode == 0, handed.stderr[-3000:]
        assert "already running: kitchen.png opened there" in handed.stdout
        while saved_photo(home) != "kitchen.png":
            assert editor.poll() is None, editor.communicate()[1][-3000:]
            assert time.monotonic() < deadline + 60, "the handed photo was not opened"
            time.sleep(0.1)
        editor.send_signal(signal.SIGTERM)
        assert editor.wait(timeout=30) == 0, editor.communicate()[1][-3000:]
        assert ended(engine), "the engine outlived the bundled editor"
    finally:
        if editor.poll() is None:
            editor.kill()
        editor.communicate()
