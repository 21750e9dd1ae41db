"""One editor at a time: a second launch hands its photos to the editor already running.

The first editor listens on a local socket: a Unix domain socket that only its user may open
(a named pipe on Windows), named for the user and the home folder (``RETOUCH_HOME`` or the
default), so editors with homes of their own (tests, portable copies) stay apart. A later
``retouch PHOTO...`` or ``retouch-studio PHOTO...`` connects, sends one line of JSON,
``{"open": ["/absolute/photo.png", ...]}`` (an empty list: just show yourself), waits for
``ok`` and exits; the running editor opens the photos and raises its window.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

MESSAGE_LIMIT = 1 << 20  # bytes: thousands of paths; more is not a launch
ANSWER_TIMEOUT_MS = 10_000
OK = b"ok"


class HandOffError(Exception):
    """An editor holds the socket but did not take the photos."""


def instance_name(home: str | None = None) -> str:
    """The socket's name for this user and home (``home`` defaults to ``RETOUCH_HOME``)."""
    home = os.environ.get("RETOUCH_HOME", "") if home is None else home
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    place = str(Path(home).expanduser().resolve()) if home else ""
    key = hashlib.sha256(f"{user}\0{place}".encode("utf-8", "surrogateescape")).hexdigest()
    name = f"retouch-studio-{key[:16]}"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    # The user's runtime folder (0700, emptied at logout) rather than the shared /tmp.
    if runtime and sys.platform != "win32" and Path(runtime).is_dir():
        return str(Path(runtime) / f"{name}.sock")
    return name


def encode(photos: list[Path]) -> bytes:
    return json.dumps({"open": [str(p) for p in photos]}).encode("ascii") + b"\n"


def decode(line: bytes) -> list[Path]:
    """The photos of one message; ValueError says what is wrong with it."""
    try:
        message = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a line of JSON ({exc})") from None
    paths = message.get("open") if isinstance(message, dict) else None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError('expected {"open": [absolute paths]}')
    photos = [Path(p) for p in paths]
    relative = [str(p) for p in photos if not p.is_absolute()]
    if relative:
        raise ValueError(f"paths must be absolute: {', '.join(relative)}")
    return photos


def hand_off(name: str, photos: list[Path], timeout_ms: int = ANSWER_TIMEOUT_MS) -> bool:
    """Give ``photos`` (absolute paths) to the editor listening on ``name``. False when no
    editor listens; raises HandOffError when one holds the socket but does not take them.
    Blocking, and needs no QApplication: a launch calls it before making its own."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False  # nobody there, or a socket file left by an editor that was killed
    socket.write(encode(photos))
    socket.flush()
    answer = b""
    while b"\n" not in answer and socket.waitForReadyRead(timeout_ms):
        answer += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    answer = answer.split(b"\n", 1)[0].strip()
    if answer == OK:
        return True
    if answer:
        reason = answer.decode("utf-8", "replace").removeprefix("error: ")
        raise HandOffError(f"the running Retouch Studio refused the photos: {reason}")
    raise HandOffError(
        f"Retouch Studio is running but did not answer within {timeout_ms / 1000:g} s. "
        "If it is stuck, close it and start it again."
    )


class InstanceServer(QObject):
    """Listens for later launches. ``photos_received(list[Path])`` for each one that
    handed its photos over (an empty list when it had none)."""

    photos_received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def listen(self) -> bool:
        """Take the name. False when another editor holds it (hand the photos to it), or
        when the socket cannot be made at all (the editor then runs on its own)."""
        if _answers(self.name):
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.newConnection.connect(self._on_new_connection)
        # With an access option Qt binds in a private folder and renames the socket into
        # place, over any file an editor that was killed left there.
        if not server.listen(self.name):
            server.deleteLater()
            return False
        self._server = server
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None

    def _on_new_connection(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            socket = server.nextPendingConnection()
            received = bytearray()
            socket.readyRead.connect(lambda s=socket, r=received: self._on_ready_read(s, r))
            socket.disconnected.connect(socket.deleteLater)

    def _on_ready_read(self, socket: QLocalSocket, received: bytearray) -> None:
        received += bytes(socket.readAll().data())
        if b"\n" not in received:
            if len(received) > MESSAGE_LIMIT:
                socket.abort()
            return
        line = bytes(received).split(b"\n", 1)[0]
        received.clear()
        try:
            photos = decode(line)
        except ValueError as exc:
            socket.write(f"error: {exc}\n".encode())
            socket.disconnectFromServer()
            return
        socket.write(OK + b"\n")
        socket.disconnectFromServer()
        self.photos_received.emit(photos)


def _answers(name: str) -> bool:
    probe = QLocalSocket()
    probe.connectToServer(name)
    connected = probe.waitForConnected(1000)
    probe.abort()
    return connected
