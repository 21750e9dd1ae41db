"""Runs the local engine (``retouch serve --port 0``) as a child process of the editor.

The engine gets a random token through its environment (not its command line, which
other users of the machine can read), announces its URL on its first line, is restarted
if it dies, and is stopped when the editor quits.
"""

from __future__ import annotations

import re
import secrets
import sys
import time

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

_READY = re.compile(r"listening on (http://\S+)")
MAX_RESTARTS = 3
RESTART_WINDOW_S = 60.0


class LocalEngineProcess(QObject):
    """``ready(url)`` when the engine accepts requests; ``failed(message)`` when it could
    not start or keeps dying; ``restarting(message)`` when it died and is being restarted."""

    ready = Signal(str)
    restarting = Signal(str)
    failed = Signal(str)

    def __init__(
        self,
        program: str = sys.executable,
        arguments: tuple[str, ...] = ("-m", "app", "serve", "--port", "0", "--exit-with-stdin"),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.token = secrets.token_urlsafe(24)
        self.url: str | None = None
        self._program = program
        self._arguments = list(arguments)
        self._stopping = False
        self._deaths: list[float] = []
        self._output = ""
        self._process: QProcess | None = None

    @property
    def running(self) -> bool:
        return (
            self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning
        )

    def start(self) -> None:
        self._stopping = False
        self.url = None
        self._output = ""
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("RETOUCH_ENGINE_TOKEN", self.token)
        env.insert("PYTHONUNBUFFERED", "1")
        process.setProcessEnvironment(env)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._on_output)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)
        self._process = process
        process.start(self._program, self._arguments)

    def stop(self, timeout_ms: int = 3000) -> None:
        self._stopping = True
        process = self._process
        if process is None:
            return
        if process.state() != QProcess.ProcessState.NotRunning:
            process.terminate()
            if not process.waitForFinished(timeout_ms):
                process.kill()
                process.waitForFinished(timeout_ms)
        self._process = None
        self.url = None

    def _on_output(self) -> None:
        if self._process is None:
            return
        self._output += bytes(self._process.readAllStandardOutput().data()).decode(
            "utf-8", "replace"
        )
        self._output = self._output[-4000:]
        if self.url is None:
            match = _READY.search(self._output)
            if match:
                self.url = match.group(1)
                self.ready.emit(self.url)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart and not self._stopping:
            self._stopping = True
            self.failed.emit(f"The local engine could not start ({self._program}).")

    def _on_finished(self, code: int, _status: QProcess.ExitStatus) -> None:
        if self._stopping:
            return
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < RESTART_WINDOW_S] + [now]
        last_lines = "\n".join(self._output.strip().splitlines()[-3:])
        if len(self._deaths) > MAX_RESTARTS:
            self.failed.emit(
                f"The local engine stopped {len(self._deaths)} times within a minute "
                f"(exit code {code}); it was not restarted again.\n{last_lines}"
            )
            return
        self.restarting.emit(f"The local engine stopped (exit code {code}); restarting it.")
        QTimer.singleShot(250 * len(self._deaths), self._restart)

    def _restart(self) -> None:
        if not self._stopping:
            self.start()
