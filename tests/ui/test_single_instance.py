"""One editor at a time: a second `retouch PHOTO` or `retouch-studio PHOTO` hands its photos to
the editor already running, which opens them as `retouch PHOTO...` does and comes to the
front; the second launch exits 0. The socket (app/services/single_instance.py) is tested in
process on the real qasync loop, the hand-off between real processes as a designer runs them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.gui import show_photos
from app.services.single_instance import InstanceServer, hand_off, instance_name
from tests.support import images
from tests.support.editor import until
from tests.support.qtloop import next_signal

ROOT = Path(__file__).resolve().parents[2]
unix_only = pytest.mark.skipif(sys.platform == "win32", reason="Unix domain socket files")


@pytest.fixture
def socket_path() -> Iterator[str]:
    # A short folder of its own: a Unix socket's path may not exceed about 100 bytes.
    with tempfile.TemporaryDirectory(prefix="rs-") as folder:
        yield str(Path(folder) / "editor.sock")


# A later launch: hand_off in a process of its own, as `retouch PHOTO` calls it (blocking,
# before any QApplication); prints what it returned, or the HandOffError's message.
LAUNCH = """
import json, sys
from pathlib import Path
from app.services.single_instance import HandOffError, hand_off
try:
    print(json.dumps(hand_off(sys.argv[1], [Path(p) for p in sys.argv[2:]])))
except HandOffError as exc:
    print(json.dumps(str(exc)))
"""


async def launched(name: str, photos: list[Path]) -> bool | str:
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, name, *map(str, photos)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    while process.poll() is None:  # the loop keeps running: the editor's side answers
        await asyncio.sleep(0.02)
    out, err = process.communicate()
    assert process.returncode == 0, err[-3000:]
    return json.loads(out)


def take(qt_loop, server: InstanceServer, photos: list[Path]) -> tuple[bool | str, list[Path]]:
    """A launch hands ``photos`` over; what hand_off said and what the server emitted."""

    async def scenario() -> tuple[bool | str, list[Path]]:
        received = next_signal(server.photos_received)
        handed = await launched(server.name, photos)
        (got,) = await received
        return handed, got

    return qt_loop.run(scenario(), timeout=30)


def raw_exchange(qt_loop, path: str, message: bytes) -> bytes:
    """Send bytes on the socket as any program of this user could; the answer line."""

    def talk() -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(10)
            client.connect(path)
            client.sendall(message)
            answer = b""
            while b"\n" not in answer:
                chunk = client.recv(4096)
                if not chunk:
                    break
                answer += chunk
            return answer

    return qt_loop.run(asyncio.to_thread(talk), timeout=20)


# --- the socket ----------------------------------------------------------------------------------


def test_a_second_launch_hands_its_photos_to_the_first(qt_loop, socket_path: str) -> None:
    server = InstanceServer(socket_path)
    assert server.listen() and server.listening
    photos = [Path("/photos/kitchen.png"), Path("/photos/a reference (2).jpg")]
    try:
        assert take(qt_loop, server, photos) == (True, photos)
        # A launch with no photos asks the editor to come to the front: an empty list.
        assert take(qt_loop, server, []) == (True, [])
    finally:
        server.close()
    assert not server.listening
    assert hand_off(socket_path, photos) is False  # closed: the next launch starts its own


def test_with_no_editor_running_nothing_is_handed_off(socket_path: str) -> None:
    assert hand_off(socket_path, [Path("/photos/kitchen.png")]) is False


def test_a_second_editor_cannot_take_the_name_while_the_first_holds_it(socket_path: str) -> None:
    first, second = InstanceServer(socket_path), InstanceServer(socket_path)
    try:
        assert first.listen()
        assert not second.listen() and not second.listening
        first.close()
        assert second.listen()
    finally:
        first.close()
        second.close()


@unix_only
def test_the_socket_left_by_a_killed_editor_is_taken_over(qt_loop, socket_path: str) -> None:
    # A socket file nobody listens on, as an editor killed with SIGKILL leaves it.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(socket_path)
    stale.close()
    assert Path(socket_path).exists()
    assert hand_off(socket_path, []) is False
    server = InstanceServer(socket_path)
    try:
        assert server.listen()
        assert take(qt_loop, server, [Path("/photos/kitchen.png")])[0] is True
    finally:
        server.close()


@unix_only
def test_only_its_user_may_open_the_socket(socket_path: str) -> None:
    server = InstanceServer(socket_path)
    try:
        assert server.listen()
        mode = os.stat(socket_path).st_mode
        assert stat.S_ISSOCK(mode) and mode & 0o077 == 0, oct(mode)
    finally:
        server.close()


@unix_only
def test_a_malformed_message_is_refused_with_the_reason(qt_loop, socket_path: str) -> None:
    server = InstanceServer(socket_path)
    received: list[list[Path]] = []
    server.photos_received.connect(received.append)
    try:
        assert server.listen()
        assert raw_exchange(qt_loop, socket_path, b"hello\n").startswith(b"error: not a line")
        answer = raw_exchange(qt_loop, socket_path, b'{"open": ["kitchen.png"]}\n')
        assert answer == b"error: paths must be absolute: kitchen.png\n"
        answer = raw_exchange(qt_loop, socket_path, b'{"open": "/photos/kitchen.png"}\n')
        assert answer.startswith(b'error: expected {"open": [absolute paths]}')
        assert received == []
        # The server is still there for a well-formed launch.
        assert raw_exchange(qt_loop, socket_path, b'{"open": []}\n') == b"ok\n"
    finally:
        server.close()


def test_a_refusal_reaches_the_launch_as_a_clear_error(qt_loop, socket_path: str) -> None:
    server = InstanceServer(socket_path)
    try:
        assert server.listen()
        said = qt_loop.run(launched(socket_path, [Path("relative.png")]), timeout=30)
        refusal = "paths must be absolute: relative.png"
        assert said == f"the running Retouch Studio refused the photos: {refusal}"
    finally:
        server.close()


def test_each_user_and_home_has_a_name_of_its_own(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert instance_name(str(tmp_path / "a")) == instance_name(str(tmp_path / "a"))
    assert instance_name(str(tmp_path / "a")) != instance_name(str(tmp_path / "b"))
    assert instance_name(str(tmp_path / "a")) != instance_name("")  # the default home
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert Path(instance_name("")).parent == tmp_path  # the user's runtime folder


# --- the running editor ------------------------------------------------------------------------


def test_photos_handed_over_open_and_bring_the_window_to_the_front(
    qt_loop, start, tmp_path: Path
) -> None:
    first = images.write(tmp_path / "kitchen.png", images.png_bytes(120, 80))
    second = images.write(tmp_path / "reference.png", images.png_bytes(60, 40))
    made = start()
    window = made.window
    window.showMinimized()
    assert window.isMinimized()
    show_photos(made, [first, second])
    assert not window.isMinimized() and window.isVisible()
    inputs = made.session.inputs
    qt_loop.run(until(lambda: [p.name for p in inputs.paths] == ["kitchen.png", "reference.png"]))
    assert window.canvas.image().width() == 120
    assert window.canvas.hasFocus()  # a key pressed next (B, E, ...) reaches the tools


# --- between processes -------------------------------------------------------------------------


def saved_session(home: Path) -> dict:
    try:
        return json.loads((home / "session" / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def launch(env: dict[str, str], *argv: str, studio: bool = False) -> subprocess.Popen[str]:
    entry = "from app.gui import main" if studio else "from app.cli import main"
    return subprocess.Popen(
        [sys.executable, "-c", f"import sys; {entry}; sys.exit(main())", *argv],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@unix_only
def test_retouch_photo_while_an_editor_runs_opens_it_there_and_exits(tmp_path: Path) -> None:
    kitchen = images.write(tmp_path / "kitchen.png", images.png_bytes(120, 80))
    reference = images.write(tmp_path / "reference.png", images.png_bytes(60, 40))
    garden = images.write(tmp_path / "garden.png", images.png_bytes(90, 70))
    home, runtime = tmp_path / "home", Path(tempfile.mkdtemp(prefix="rs-run-"))
    env = {k: v for k, v in os.environ.items() if k not in {"QT_SCALE_FACTOR"}}
    env.update(QT_QPA_PLATFORM="offscreen", RETOUCH_HOME=str(home), PYTHONUNBUFFERED="1",
               XDG_RUNTIME_DIR=str(runtime))  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(runtime))
        name = Path(instance_name(str(home)))
    editor = launch(env)
    try:
        deadline = time.monotonic() + 60
        while not name.exists():
            assert editor.poll() is None, editor.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the editor never listened for launches"
            time.sleep(0.05)
        # `retouch PHOTO PHOTO`: handed over, the first opened, both in the inputs strip.
        second = launch(env, str(kitchen), str(reference))
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, err[-3000:]
        assert "already running: kitchen.png, reference.png opened there" in out
        while [i["name"] for i in saved_session(home).get("inputs", [])] != [
            "kitchen.png",
            "reference.png",
        ]:
            assert editor.poll() is None, editor.communicate()[1][-3000:]
            assert time.monotonic() < deadline + 60, "the handed photos were not opened"
            time.sleep(0.1)
        assert saved_session(home)["photo"]["name"] == "kitchen.png"
        # `retouch-studio PHOTO` (the launcher the desktop entry runs) the same way.
        third = launch(env, str(garden), studio=True)
        out, err = third.communicate(timeout=60)
        assert third.returncode == 0, err[-3000:]
        while saved_session(home).get("photo", {}).get("name") != "garden.png":
            assert editor.poll() is None, editor.communicate()[1][-3000:]
            assert time.monotonic() < deadline + 120, "the photo from retouch-studio did not open"
            time.sleep(0.1)
        editor.send_signal(signal.SIGTERM)
        assert editor.wait(timeout=30) == 0
        assert not name.exists()  # gone with the editor: the next launch starts its own
    finally:
        if editor.poll() is None:
            editor.kill()
        editor.communicate()
