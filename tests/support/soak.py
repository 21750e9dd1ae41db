"""A soak test of the real editor (issue 10, section 1): a seeded random sequence of what a
designer does, through the window only, with invariants checked between the actions.

The editor is started the way ``retouch`` starts it (``app.gui.run``: the QApplication, the
qasync loop, ``build_editor`` with the local engine as a child process) with RETOUCH_HOME in
a temporary folder. ``build_editor`` is wrapped so that the driver starts as a task on that
loop as soon as the window exists. Run it in a child process, because a crash of Qt kills
the interpreter:

    python -X faulthandler -m tests.support.soak --actions 300 --seed 33
    python -X faulthandler -m tests.support.soak --steps open_sample,brush,undo --seed 1

``--only`` and ``--exclude`` narrow the kinds chosen (a shorter reproduction);
``--steps`` gives the exact kinds, each still with its own seeded choices.

Each step prints ``soak: #<n> <kind>`` to stderr before it starts, so the tail of stderr
names the last actions above faulthandler's trace. Exit codes: 0 every invariant held,
1 an invariant failed (``soak: FAILED`` says which), 3 no progress for ``--stall-limit``
seconds, 4 an exception escaped and nothing moved for 5 s after it (for both, every
thread's stack is dumped), a negative number from the parent's view when a signal killed
the process. The last stdout line is a JSON summary.

Input is sent as the window system sends it: from the Qt event loop, outside any asyncio
task (``SoakDriver.user``). A dialog's ``exec()`` then nests the Qt loop exactly as it does
for a designer; nesting it inside a task step would break asyncio, which is not what the
program does. Dialogs are answered by ``DialogAnswerer`` from a Qt timer.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from tests.support import images
from tests.support.pointer import drag, wheel

T = TypeVar("T")
Key = Qt.Key
Mod = Qt.KeyboardModifier
Button = Qt.MouseButton

# How often each kind of action is chosen. Painting dominates, as it does for a designer;
# generation is rarer because each one waits for the engine.
WEIGHTS: dict[str, float] = {
    "open_sample": 4,
    "open_file": 2,
    "paste": 3,
    "drop": 3,
    "brush": 12,
    "eraser": 5,
    "shape": 10,
    "undo": 6,
    "redo": 4,
    "mask_op": 6,
    "view": 4,
    "prompt": 4,
    "params": 3,
    "generate": 6,
    "cancel": 2,
    "compare": 4,
    "compare_keys": 6,
    "use_result": 3,
    "save_result": 3,
    "tile_other": 2,
    "settings_ok": 2,
    "settings_cancel": 2,
    "resize": 4,
    "inputs": 2,
    "mask_file": 2,
    "docks": 1,
    "retry": 1,
    "burst": 2,
    "wait": 3,
}

SETTLE_S = 0.04  # after every action: queued signals and worker results arrive
ACTION_LIMIT_S = 25.0  # one action, dialogs and generation waits included
MODAL_LIMIT_S = 4.0  # a dialog still open this long after its action is a failure
STALL_FAIL_S = 5.0  # the UI thread held this long in one go counts as unresponsive
ENGINE_LIMIT_S = 30.0
DISCARD_SHARE = 0.8  # "Replace the image?": Discard this often, else Cancel
WINDOW_SIZES = ((1280, 720), (1440, 900), (1024, 768), (800, 600), (640, 480), (480, 360),
                (320, 240))  # fmt: skip
PROMPTS = (
    "remove the spoon",
    "continue the wooden table",
    "erase the cup and fill with the background",
    "café au lait ☕ — keep the light",
    "a long prompt " + "with many words " * 12,
)
WRONG = "Unexpected error"  # an internal error (ErrorKind.INTERNAL): a bug


class SoakFailure(AssertionError):
    """An invariant did not hold."""


class Skip(Exception):
    """The action is not available in the current state (e.g. Use with no result)."""


@dataclass
class Step:
    index: int
    kind: str
    seed: int
    note: str = ""
    seconds: float = 0.0


@dataclass
class SoakResult:
    seed: int
    planned: int
    steps: list[Step] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    startup_s: float = 0.0
    worst_stall_s: float = 0.0
    dialogs: Counter[str] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)
    """What a designer would notice but the invariants allow (reported, not failed)."""

    def to_json(self) -> dict[str, Any]:
        done = [s for s in self.steps if s.seconds > 0]
        kinds = Counter(s.kind for s in done)
        seconds: Counter[str] = Counter()
        for step in done:
            seconds[step.kind] += step.seconds
        return {
            "seed": self.seed,
            "planned": self.planned,
            "actions": len(done),
            "skipped": sum(s.note.startswith("skipped") for s in done),
            "counts": dict(sorted(kinds.items())),
            "performed": dict(
                sorted(Counter(s.kind for s in done if not s.note.startswith("skipped")).items())
            ),
            "kind_seconds": {k: round(v, 4) for k, v in sorted(seconds.items())},
            "failures": self.failures,
            "seconds": round(self.seconds, 3),
            "startup_s": round(self.startup_s, 3),
            "worst_stall_s": round(self.worst_stall_s, 3),
            "dialogs": dict(self.dialogs),
            "findings": self.findings,
        }


def make_plan(
    seed: int, count: int, kinds: Sequence[str] | None = None, steps: Sequence[str] = ()
) -> list[tuple[str, int]]:
    """The actions and their own seeds. Both come from ``random.Random(seed)`` only, never
    from the program's state, so a seed always names the same sequence of intentions."""
    rng = random.Random(seed)
    if steps:
        return [(kind, rng.getrandbits(32)) for kind in steps]
    names = list(kinds or WEIGHTS)
    weights = [WEIGHTS[name] for name in names]
    return [(rng.choices(names, weights)[0], rng.getrandbits(32)) for _ in range(count)]


# --- the window, found as a user finds it ------------------------------------------------


def plain(text: str) -> str:
    return text.replace("&", "").strip().lower()


def find_action(window: QWidget, text: str) -> QAction | None:
    """The command whose menu text is ``text`` (mnemonics ignored); menus' own actions
    are not commands."""
    wanted = plain(text)
    for action in window.findChildren(QAction):
        if action.menu() is None and plain(action.text()) == wanted:
            return action
    return None


def find_button(root: QWidget, text: str) -> QAbstractButton | None:
    for button in root.findChildren(QAbstractButton):
        if plain(button.text()) == plain(text):
            return button
    return None


def find_dock(window: QWidget, title: str) -> QDockWidget | None:
    for dock in window.findChildren(QDockWidget):
        if plain(dock.windowTitle()) == plain(title):
            return dock
    return None


def label_text(widget: QWidget | None) -> str:
    if widget is None:
        return ""
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def focused(fallback: QWidget) -> QWidget:
    widget = QApplication.focusWidget()
    return widget if widget is not None else fallback


def point_in(widget: QWidget, fx: float, fy: float) -> QPoint:
    rect = widget.rect()
    return QPoint(
        int(rect.left() + 2 + fx * max(1, rect.width() - 4)),
        int(rect.top() + 2 + fy * max(1, rect.height() - 4)),
    )


def middle_click(widget: QWidget, point: QPoint) -> None:
    """Focus a view without changing anything: the middle button only pans, and a press
    without a move pans by nothing."""
    QTest.mouseClick(widget, Button.MiddleButton, Mod.NoModifier, point)


def type_text(widget: QWidget, text: str) -> None:
    """Type ``text`` key by key. QTest.keyClicks knows ASCII only (it aborts on other
    characters), so the others arrive as a keyboard layout sends them: a key event that
    carries the character as its text."""
    for char in text:
        if char.isascii():
            QTest.keyClicks(widget, char)
            continue
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Mod.NoModifier, char))


def drop_on(widget: QWidget, mime: QMimeData, point: QPoint) -> bool:
    """What a file manager's drag sends to the widget under the pointer."""
    action = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(point, action, mime, Button.LeftButton, Mod.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(
        widget, QDragMoveEvent(point, action, mime, Button.LeftButton, Mod.NoModifier)
    )
    drop = QDropEvent(QPointF(point), action, mime, Button.LeftButton, Mod.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


# --- files the designer opens -----------------------------------------------------------


@dataclass
class SoakFiles:
    """Pictures to open, drop and paste, plus a broken one and a text file."""

    folder: Path
    pictures: list[Path] = field(default_factory=list)
    broken: list[Path] = field(default_factory=list)
    saved: Path = Path()
    big: Path = Path()
    """A 4-megapixel picture, to open or paste: work on it keeps the one worker busy."""

    @classmethod
    def make(cls, folder: Path) -> SoakFiles:
        folder.mkdir(parents=True, exist_ok=True)
        made = cls(folder, saved=folder / "saved")
        made.saved.mkdir(exist_ok=True)
        sample = folder / "coffee.png"
        shutil.copyfile(images.sample(), sample)
        made.pictures.append(sample)
        made.pictures.append(images.write(folder / "photo.png", images.png_bytes(640, 480)))
        rotated = images.gradient(900, 600)
        exif = rotated.getexif()
        exif[0x0112] = 6  # EXIF orientation: shown turned a quarter
        rotated.save(folder / "turned.jpg", "JPEG", quality=85, exif=exif)
        made.pictures.append(folder / "turned.jpg")
        made.pictures.append(images.write(folder / "alpha.png", images.png_bytes(300, 200, "RGBA")))
        made.pictures.append(images.write(folder / "tiny.png", images.png_bytes(16, 12)))
        images.gradient(1200, 300).save(folder / "wide.webp", "WEBP", quality=80)
        made.pictures.append(folder / "wide.webp")
        made.broken.append(
            images.write(folder / "broken.png", images.truncated(images.png_bytes(400, 300)))
        )
        text = folder / "notes.txt"
        text.write_text("not a picture\n", encoding="utf-8")
        made.broken.append(text)
        made.big = folder / "big.png"
        images.gradient(2400, 1600).save(made.big, "PNG")
        return made


class FileDialogs:
    """QFileDialog's static functions answered by the driver (a native dialog cannot be
    driven offscreen). The class attributes are replaced, so every caller sees them."""

    def __init__(self) -> None:
        self.open_answer = ""
        self.save_answer = ""
        self.asked: Counter[str] = Counter()

    def install(self) -> None:
        QFileDialog.getOpenFileName = staticmethod(self._open)  # type: ignore[method-assign]
        QFileDialog.getOpenFileNames = staticmethod(self._open_many)  # type: ignore[method-assign]
        QFileDialog.getSaveFileName = staticmethod(self._save)  # type: ignore[method-assign]

    def _open(self, *_args: object, **_kwargs: object) -> tuple[str, str]:
        self.asked["open"] += 1
        return self.open_answer, ""

    def _open_many(self, *_args: object, **_kwargs: object) -> tuple[list[str], str]:
        self.asked["open"] += 1
        return ([self.open_answer] if self.open_answer else []), ""

    def _save(self, *_args: object, **_kwargs: object) -> tuple[str, str]:
        self.asked["save"] += 1
        return self.save_answer, ""


# --- the event loop watched -------------------------------------------------------------


class DialogAnswerer(QObject):
    """Answers modal dialogs from a Qt timer, as a designer would: the planned answer for a
    dialog an action opened on purpose (Settings), Discard (mostly) or Cancel for "Replace
    the image?", Yes for "Quit?", and Cancel for anything unexpected (recorded)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plan: deque[tuple[str, float]] = deque()
        self.discard_roll = 0.0
        self.answered: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self._current: QWidget | None = None
        self._seen_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(25)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def expect(self, answer: str, roll: float) -> None:
        self.plan.append((answer, roll))

    def _on_tick(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or not widget.isVisible():
            self._current = None
            return
        if widget is not self._current:
            # Seen for the first time: answer on the next tick, once it has been shown.
            self._current, self._seen_at = widget, time.monotonic()
            return
        if isinstance(widget, QMessageBox):
            self._answer_box(widget)
        elif isinstance(widget, QDialog) and self.plan:
            self._answer_dialog(widget, *self.plan.popleft())
        elif time.monotonic() - self._seen_at > 1.0:
            self.unexpected.append(f"{type(widget).__name__} {widget.windowTitle()!r}")
            self.answered["unexpected"] += 1
            if isinstance(widget, QDialog):
                widget.reject()
            else:
                widget.close()

    def _answer_box(self, box: QMessageBox) -> None:
        standard = QMessageBox.StandardButton
        buttons = {box.standardButton(b): b for b in box.buttons()}
        if standard.Discard in buttons:
            discard = self.discard_roll < DISCARD_SHARE
            choice = buttons[standard.Discard if discard else standard.Cancel]
            self.answered["discard" if discard else "keep"] += 1
        elif standard.Yes in buttons:
            choice = buttons[standard.Yes]
            self.answered["yes"] += 1
        else:
            choice = box.escapeButton() or box.defaultButton() or box.buttons()[0]
            self.answered[f"message {box.windowTitle()!r}"] += 1
        if isinstance(choice, QAbstractButton):
            QTest.mouseClick(choice, Button.LeftButton)

    def _answer_dialog(self, dialog: QDialog, answer: str, roll: float) -> None:
        providers = dialog.findChild(QListWidget)
        if providers is not None and providers.count() and roll < 0.5:
            # Look at another provider first; choosing one needs its "Use" box ticked.
            row = int(roll * 2 * providers.count()) % providers.count()
            item = providers.item(row)
            QTest.mouseClick(
                providers.viewport(), Button.LeftButton, Mod.NoModifier,
                providers.visualItemRect(item).center(),
            )  # fmt: skip
        box = dialog.findChild(QDialogButtonBox)
        wanted = QDialogButtonBox.StandardButton.Ok
        if answer != "ok":
            wanted = QDialogButtonBox.StandardButton.Cancel
        button = box.button(wanted) if box is not None else None
        self.answered[f"settings {answer}"] += 1
        if answer != "ok" and roll >= 0.25:
            QTest.keyClick(dialog, Key.Key_Escape)
        elif button is not None:
            QTest.mouseClick(button, Button.LeftButton)
        elif answer == "ok":
            dialog.accept()
        else:
            dialog.reject()


class Monitor(QObject):
    """A 50 ms timer on the UI thread: how late it fires (the longest the UI thread was
    held in one go) and every text the error bar shows, even briefly."""

    INTERVAL_MS = 50

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.worst_stall = 0.0
        self.worst_stall_step = ""
        self.step = ""
        self.errors: list[str] = []
        self._last = time.monotonic()
        self._seen = ""
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self._last = time.monotonic()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def error_text(self) -> str:
        bar = self._window.findChild(QFrame, "error-bar")
        return label_text(bar) if bar is not None and bar.isVisible() else ""

    def _on_tick(self) -> None:
        now = time.monotonic()
        stall = now - self._last - self.INTERVAL_MS / 1000
        if stall > self.worst_stall:
            self.worst_stall, self.worst_stall_step = stall, self.step
        self._last = now
        text = self.error_text()
        if text != self._seen:
            self._seen = text
            if WRONG in text:
                self.errors.append(f"{text} (during {self.step})")


class Hooks:
    """Exceptions that escaped: from Qt slots (sys.excepthook), worker threads and the
    asyncio loop. Each is an invariant failure: nothing should escape unreported."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._previous = sys.excepthook

    def install(self) -> None:
        sys.excepthook = self._on_exception
        threading.excepthook = self._on_thread_exception

    def install_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.set_exception_handler(self._on_loop_exception)

    def _on_exception(self, kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        text = "".join(traceback.format_exception(kind, exc, tb))
        self.errors.append(f"uncaught in a Qt slot:\n{text}")
        self._previous(kind, exc, tb)

    def _on_thread_exception(self, args: threading.ExceptHookArgs) -> None:
        text = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        self.errors.append(f"uncaught in thread {args.thread}:\n{text}")
        sys.stderr.write(text)

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        detail = "".join(traceback.format_exception(exc)) if exc is not None else ""
        self.errors.append(f"asyncio: {context.get('message')}\n{detail}")
        loop.default_exception_handler(context)


class Watchdog:
    """Ends the process with every thread's stack when no step made progress for
    ``limit_s``: the driver must never hang, whatever the program does."""

    STUCK_AFTER_ERROR_S = 5.0

    def __init__(self, limit_s: float, log: Callable[[str], None], hooks: Hooks) -> None:
        self.limit_s = limit_s
        self._log = log
        self._hooks = hooks
        self._where = "start-up"
        self._last = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="soak-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def beat(self, where: str) -> None:
        self._where, self._last = where, time.monotonic()

    def _run(self) -> None:
        while True:
            time.sleep(0.5)
            idle = time.monotonic() - self._last
            if self._hooks.errors and idle > self.STUCK_AFTER_ERROR_S:
                # An exception escaped and nothing moved since: typically asyncio refusing
                # to resume a task ("Cannot enter into task"), which then waits forever.
                self._log(f"FAILED: an exception escaped, then no progress for {idle:.0f} s "
                          f"during {self._where}: {self._hooks.errors[0]}")  # fmt: skip
                self._end(4)
            if idle > self.limit_s:
                self._log(f"HUNG: no progress for {self.limit_s:.0f} s during {self._where}")
                self._end(3)

    def _end(self, code: int) -> None:
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        sys.stderr.flush()
        os._exit(code)


# --- the driver -------------------------------------------------------------------------


class SoakDriver:
    """Performs a plan of actions on the editor's window and checks the invariants:
    the window stays visible and responsive, undo after painting restores the mask before
    it, no exception reaches the error bar as an unexpected (internal) error, the prompt typed is
    never lost, and no dialog is left open."""

    def __init__(
        self,
        editor: Any,
        files: SoakFiles,
        dialogs: FileDialogs,
        hooks: Hooks,
        log: Callable[[str], None],
        watchdog: Watchdog | None = None,
    ) -> None:
        self.editor = editor
        self.window: QWidget = editor.window
        self.files = files
        self.file_dialogs = dialogs
        self.hooks = hooks
        self.log = log
        self.watchdog = watchdog
        self.answerer = DialogAnswerer(self.window)
        self.monitor = Monitor(self.window)
        self.expected_prompt = ""
        self.history: deque[str] = deque(maxlen=12)
        self.saves = 0
        self.findings: list[str] = []
        self.opened: list[str] = []  # the canvas's image_opened, in order
        self._step = ""

    # --- the run ------------------------------------------------------------------------

    async def run(self, seed: int, plan: list[tuple[str, int]]) -> SoakResult:
        result = SoakResult(seed, len(plan))
        started = time.monotonic()
        self.hooks.install_loop(asyncio.get_running_loop())
        self.answerer.start()
        self.monitor.start()
        try:
            await self._start_up()
            self._canvas().image_opened.connect(self.opened.append)
            result.startup_s = time.monotonic() - started
            self.expected_prompt = self._prompt().toPlainText()
            for index, (kind, step_seed) in enumerate(plan, 1):
                step = Step(index, kind, step_seed)
                result.steps.append(step)
                await self._run_step(step, len(plan))
        except SoakFailure as failure:
            result.failures.append(str(failure))
        except Exception:  # the driver's own bug: report it like a failure, never hang
            result.failures.append("the soak driver failed:\n" + traceback.format_exc())
        finally:
            result.seconds = time.monotonic() - started
            result.worst_stall_s = self.monitor.worst_stall
            result.dialogs = self.answerer.answered + self.file_dialogs.asked
            result.findings = self.findings
            self.monitor.stop()
        if result.failures:
            self.log("FAILED: " + result.failures[0])
            self.log("last actions: " + " → ".join(self.history))
        return result

    async def _start_up(self) -> None:
        self._beat("start-up")
        if not await until(self.window.isVisible, 10):
            raise SoakFailure("the window was not shown within 10 s")
        engine = getattr(self.editor, "engine", None)
        if engine is not None and not await until(lambda: engine.url is not None, ENGINE_LIMIT_S):
            raise SoakFailure(f"the local engine was not ready within {ENGINE_LIMIT_S:.0f} s")

    async def _run_step(self, step: Step, total: int) -> None:
        self._step = f"#{step.index} {step.kind}"
        self.monitor.step = self._step
        self.history.append(self._step)
        self._beat(self._step)
        self.log(f"#{step.index}/{total} {step.kind}")
        rng = random.Random(step.seed)
        self.answerer.discard_roll = rng.random()
        started = time.monotonic()
        action = getattr(self, f"act_{step.kind}")
        try:
            step.note = await asyncio.wait_for(action(rng), ACTION_LIMIT_S) or ""
        except Skip as skip:
            step.note = f"skipped: {skip}"
        except TimeoutError:
            raise SoakFailure(
                f"{self._step} did not finish within {ACTION_LIMIT_S:.0f} s"
            ) from None
        await asyncio.sleep(SETTLE_S)
        await self._no_dialog_left()
        step.seconds = time.monotonic() - started
        if step.note:
            self.log(f"#{step.index} {step.note}")
        self.check()

    async def _activate(self) -> None:
        """What the window manager does when the designer clicks into the window: make it
        the active one. Offscreen, nothing re-activates it after a dialog closes, and
        without an active window no shortcut fires and no click gives the focus."""
        if QApplication.activeWindow() is self.window:
            return
        self.window.activateWindow()
        if not await until(lambda: QApplication.activeWindow() is self.window, 2):
            raise SoakFailure(f"the window could not be activated before {self._step}")

    async def _dismiss_error(self) -> None:
        bar = self.window.findChild(QFrame, "error-bar")
        dismiss = find_button(bar, "Dismiss") if bar is not None else None
        if bar is not None and bar.isVisible() and dismiss is not None:
            await self.user(lambda: QTest.mouseClick(dismiss, Button.LeftButton))

    def _find(self, finding: str) -> None:
        if finding not in self.findings:
            self.findings.append(finding)
            self.log(f"finding: {finding}")

    def _said(self) -> str:
        """What the error bar says, for the step's note."""
        text = " ".join(self.monitor.error_text().split())
        return f" (error bar: {text[:160]})" if text else ""

    def _beat(self, where: str) -> None:
        if self.watchdog is not None:
            self.watchdog.beat(where)

    async def _no_dialog_left(self) -> None:
        if not await until(lambda: QApplication.activeModalWidget() is None, MODAL_LIMIT_S):
            widget = QApplication.activeModalWidget()
            title = widget.windowTitle() if widget is not None else "?"
            raise SoakFailure(f"a dialog ({title!r}) stayed open after {self._step}")

    def check(self) -> None:
        if not self.window.isVisible():
            raise SoakFailure(f"the window is no longer visible after {self._step}")
        if self.monitor.worst_stall > STALL_FAIL_S:
            raise SoakFailure(
                f"the UI thread was held {self.monitor.worst_stall:.1f} s in one go "
                f"(during {self.monitor.worst_stall_step})"
            )
        if self.monitor.errors:
            raise SoakFailure(f"an exception reached the error bar: {self.monitor.errors[0]}")
        if self.hooks.errors:
            raise SoakFailure(f"an exception escaped ({self._step}): {self.hooks.errors[0]}")
        text = self._prompt().toPlainText()
        if text != self.expected_prompt:
            raise SoakFailure(
                f"the prompt changed by itself after {self._step}: "
                f"{self.expected_prompt!r} became {text!r}"
            )

    # --- input, as the window system delivers it ---------------------------------------

    async def user(self, gesture: Callable[[], T], timeout: float = 15.0) -> T:
        """Run ``gesture`` from the Qt event loop, outside any task, and wait (bounded)
        until it returns: a dialog it opens runs its own loop and is answered meanwhile."""
        if QApplication.activeModalWidget() is None:
            await self._activate()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()

        def deliver() -> None:
            try:
                value = gesture()
            except BaseException as exc:  # handed to the awaiting task, never lost
                if not done.done():
                    done.set_exception(exc)
                return
            if not done.done():
                done.set_result(value)

        QTimer.singleShot(0, deliver)
        try:
            return await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            modal = QApplication.activeModalWidget()
            where = f" ({type(modal).__name__} {modal.windowTitle()!r} open)" if modal else ""
            message = f"{self._step}: the gesture did not return in {timeout} s{where}"
            raise SoakFailure(message) from None

    def _key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier = Mod.NoModifier) -> None:
        QTest.keyClick(focused(self.window), key, modifiers)

    # --- widgets ------------------------------------------------------------------------

    def _canvas(self) -> QAbstractScrollArea:
        from app.ui.canvas import MaskCanvas

        canvas = self.window.findChild(MaskCanvas)
        if canvas is None:
            raise SoakFailure("the window has no mask canvas")
        return canvas

    def _prompt(self) -> QPlainTextEdit:
        prompt = self.window.findChild(QPlainTextEdit, "prompt")
        if prompt is None:
            raise SoakFailure("the window has no prompt box")
        return prompt

    def _compare_panel(self) -> QWidget | None:
        return self.window.findChild(QWidget, "compare-panel")

    def _document(self) -> Any:
        session = getattr(self.editor, "session", None)
        return getattr(session, "mask", None)

    def _busy(self) -> bool:
        cancel = find_action(self.window, "Cancel")
        return cancel is not None and cancel.isEnabled()

    def _tiles(self, final: bool = True) -> list[QFrame]:
        tiles = [
            tile
            for tile in self.window.findChildren(QFrame)
            if tile.objectName().startswith("tile-")
        ]
        if final:
            tiles = [t for t in tiles if (b := find_button(t, "Use")) is not None and b.isEnabled()]
        return sorted(tiles, key=lambda t: t.objectName())

    async def _show_dock(self, title: str) -> QDockWidget | None:
        """Bring a dock back with the View menu if it was closed, then click its tab
        (tabified docks show one at a time)."""
        dock = find_dock(self.window, title)
        if dock is None:
            return None
        if dock.isHidden():
            await self.user(dock.toggleViewAction().trigger)
        await self.user(dock.raise_)
        return dock

    async def _canvas_page(self) -> QAbstractScrollArea:
        """The painting page, shown and focused (as after a middle click on it)."""
        canvas = self._canvas()
        if not canvas.isVisible():
            panel = self._compare_panel()
            back = find_button(panel, "Back to painting") if panel is not None else None
            if back is None or not back.isVisible():
                raise Skip("the canvas is hidden")
            await self.user(lambda: QTest.mouseClick(back, Button.LeftButton))
            await until(canvas.isVisible, 2)
            if not canvas.isVisible():
                raise SoakFailure("Back to painting did not show the canvas")
        viewport = canvas.viewport()
        await self.user(lambda: middle_click(viewport, point_in(viewport, 0.5, 0.5)))
        if QApplication.focusWidget() is not canvas:
            raise SoakFailure(
                f"a click on the canvas gave the focus to {QApplication.focusWidget()}"
            )
        return canvas

    async def _image_shown(self, timeout: float = 3.0) -> bool:
        canvas = self._canvas()
        return await until(canvas.has_image, timeout)

    # --- painting, with the undo invariant ---------------------------------------------

    def _stroke_points(self, canvas: Any, rng: random.Random, count: int) -> list[QPoint]:
        viewport = canvas.viewport()
        if canvas.has_image():
            size = canvas.image().size()
            x, y = rng.uniform(0, size.width()), rng.uniform(0, size.height())
            step = max(4.0, min(size.width(), size.height()) / 10)
            points = []
            for _ in range(count):
                points.append(canvas.to_viewport(QPointF(x, y)).toPoint())
                x += rng.uniform(-step, step)
                y += rng.uniform(-step, step)
        else:
            points = [point_in(viewport, rng.random(), rng.random()) for _ in range(count)]
        inside = viewport.rect().adjusted(1, 1, -1, -1)
        first = points[0]
        points[0] = QPoint(
            min(max(first.x(), inside.left()), inside.right()),
            min(max(first.y(), inside.top()), inside.bottom()),
        )
        return points

    def _checked_edit(
        self, canvas: Any, edit: Callable[[], None], rng: random.Random, what: str
    ) -> str:
        """Do ``edit`` (synchronous input), then often Ctrl+Z: the mask must be exactly the
        one before the edit; then sometimes redo: exactly the one after."""
        document = self._document()
        before = document.mask.copy() if document is not None else None
        edit()
        if document is None or before is None:
            return ""
        after = document.mask.copy()
        if before.shape != after.shape or np.array_equal(before, after):
            return ""
        if rng.random() >= 0.45:
            return "painted"
        if QApplication.focusWidget() is not canvas:
            middle_click(canvas.viewport(), point_in(canvas.viewport(), 0.5, 0.5))
        QTest.keyClick(canvas, Key.Key_Z, Mod.ControlModifier)
        undone = document.mask
        if not np.array_equal(undone, before):
            changed = int(np.count_nonzero(undone != before))
            raise SoakFailure(f"Ctrl+Z after {what} left {changed} mask pixels changed")
        if rng.random() < 0.5:
            return "painted, undone"
        QTest.keyClick(canvas, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
        if not np.array_equal(document.mask, after):
            raise SoakFailure(f"Ctrl+Shift+Z after undoing {what} did not repaint it")
        return "painted, undone, redone"

    async def _select_tool(self, canvas: Any, key: Qt.Key, name: str) -> None:
        await self.user(lambda: self._key(key))
        if canvas.tool.value != name:
            raise SoakFailure(f"the {name} key chose the {canvas.tool.value} tool")

    async def act_brush(self, rng: random.Random) -> str:
        return await self._paint(rng, Key.Key_B, "brush")

    async def act_eraser(self, rng: random.Random) -> str:
        return await self._paint(rng, Key.Key_E, "eraser")

    async def _paint(self, rng: random.Random, key: Qt.Key, name: str) -> str:
        canvas = await self._canvas_page()
        await self._select_tool(canvas, key, name)
        if rng.random() < 0.3:
            size_key = Key.Key_BracketRight if rng.random() < 0.5 else Key.Key_BracketLeft
            presses = rng.randint(1, 4)
            await self.user(lambda: [self._key(size_key) for _ in range(presses)])
        points = self._stroke_points(canvas, rng, rng.randint(2, 24))
        button = Button.RightButton if rng.random() < 0.15 else Button.LeftButton
        modifiers = Mod.ShiftModifier if rng.random() < 0.1 else Mod.NoModifier
        viewport = canvas.viewport()

        def stroke() -> str:
            return self._checked_edit(
                canvas, lambda: drag(viewport, points, button, modifiers), rng, f"a {name} stroke"
            )

        return await self.user(stroke)

    async def act_shape(self, rng: random.Random) -> str:
        canvas = await self._canvas_page()
        key, name = rng.choice(
            [(Key.Key_M, "rectangle"), (Key.Key_O, "ellipse"), (Key.Key_L, "lasso"),
             (Key.Key_P, "polygon")]
        )  # fmt: skip
        await self._select_tool(canvas, key, name)
        viewport = canvas.viewport()
        subtract = rng.random() < 0.25
        button = Button.RightButton if subtract and rng.random() < 0.5 else Button.LeftButton
        modifiers = Mod.AltModifier if subtract and button == Button.LeftButton else Mod.NoModifier
        points = self._stroke_points(canvas, rng, rng.randint(3, 14) if name == "lasso" else 4)
        if rng.random() < 0.15:
            modifiers |= Mod.ShiftModifier  # square, circle
        ending = rng.choice([Key.Key_Return, Key.Key_Return, Key.Key_Escape, Key.Key_Backspace])

        def polygon() -> None:
            for point in points:
                QTest.mouseClick(viewport, Button.LeftButton, Mod.NoModifier, point)
            QTest.keyClick(canvas, ending)
            if ending == Key.Key_Backspace:
                QTest.keyClick(canvas, Key.Key_Return)

        def gesture() -> str:
            if name == "polygon":
                return self._checked_edit(canvas, polygon, rng, "a polygon")
            return self._checked_edit(
                canvas, lambda: drag(viewport, points, button, modifiers), rng, f"a {name}"
            )

        return f"{name}: " + await self.user(gesture)

    async def act_undo(self, rng: random.Random) -> str:
        canvas = await self._canvas_page()
        document = self._document()
        times = rng.randint(1, 3)

        def undo_then_redo() -> str:
            stack = document.undo_stack if document is not None else None
            before = document.mask.copy() if document is not None else None
            start = stack.index() if stack is not None else 0
            for _ in range(times):
                QTest.keyClick(canvas, Key.Key_Z, Mod.ControlModifier)
            # Redo as many steps as were really undone (fewer when the history is short).
            undone = start - stack.index() if stack is not None else 0
            if before is None or undone <= 0 or rng.random() < 0.5:
                return f"undo ×{times} ({undone} undone)"
            for _ in range(undone):
                QTest.keyClick(canvas, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
            if before.shape == document.mask.shape and not np.array_equal(document.mask, before):
                changed = int(np.count_nonzero(document.mask != before))
                raise SoakFailure(
                    f"undo ×{undone} then redo ×{undone} left {changed} mask pixels changed"
                )
            return f"undo and redo ×{undone}"

        return await self.user(undo_then_redo)

    async def act_redo(self, rng: random.Random) -> str:
        canvas = await self._canvas_page()
        use_y = rng.random() < 0.3
        if use_y:
            await self.user(lambda: QTest.keyClick(canvas, Key.Key_Y, Mod.ControlModifier))
        else:
            await self.user(
                lambda: QTest.keyClick(canvas, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
            )
        return "Ctrl+Y" if use_y else "Ctrl+Shift+Z"

    async def act_mask_op(self, rng: random.Random) -> str:
        canvas = await self._canvas_page()
        choice = rng.choice(["Grow", "Shrink", "Feather", "invert", "clear", "fill"])
        amount = rng.choice([1, 3, 8, 20, 60])
        if choice in ("Grow", "Shrink", "Feather"):
            bar = self.window.findChild(QWidget, "canvas-options")
            button = find_button(bar, choice) if bar is not None else None
            spin = bar.findChild(QSpinBox) if bar is not None else None
            if button is None or not button.isVisible():
                raise Skip(f"no {choice} button")
            if spin is not None and rng.random() < 0.5:

                def set_amount() -> None:
                    QTest.mouseClick(spin, Button.LeftButton)
                    QTest.keyClick(spin, Key.Key_A, Mod.ControlModifier)
                    QTest.keyClicks(spin, str(amount))
                    QTest.keyClick(spin, Key.Key_Return)

                await self.user(set_amount)
                await self._canvas_page()  # the keyboard back on the picture for Ctrl+Z
            gesture = partial(QTest.mouseClick, button, Button.LeftButton)
        else:
            keys = {
                "invert": (Key.Key_I, Mod.ControlModifier | Mod.ShiftModifier),
                "clear": (Key.Key_D, Mod.ControlModifier),
                "fill": (Key.Key_A, Mod.ControlModifier),
            }[choice]
            gesture = partial(QTest.keyClick, canvas, *keys)
        note = await self.user(lambda: self._checked_edit(canvas, gesture, rng, choice))
        return f"{choice} {note}".strip()

    async def act_view(self, rng: random.Random) -> str:
        canvas = await self._canvas_page()
        viewport = canvas.viewport()
        choice = rng.choice(["wheel", "wheel", "fit", "actual", "in", "out", "pan", "outline"])
        point = point_in(viewport, rng.random(), rng.random())
        other = point_in(viewport, rng.random(), rng.random())
        gestures: dict[str, Callable[[], None]] = {
            "wheel": lambda: wheel(viewport, point, rng.choice([-3, -1, -0.5, 0.5, 1, 3])),
            "fit": lambda: QTest.keyClick(canvas, Key.Key_0, Mod.ControlModifier),
            "actual": lambda: QTest.keyClick(canvas, Key.Key_1, Mod.ControlModifier),
            "in": lambda: QTest.keyClick(canvas, Key.Key_Plus, Mod.ControlModifier),
            "out": lambda: QTest.keyClick(canvas, Key.Key_Minus, Mod.ControlModifier),
            "pan": lambda: drag(viewport, [point, other], Button.MiddleButton),
            "outline": lambda: QTest.keyClick(canvas, Key.Key_Q),
        }
        await self.user(gestures[choice])
        return choice

    # --- opening pictures -----------------------------------------------------------

    async def act_open_sample(self, rng: random.Random) -> str:
        welcome = self.window.findChild(QFrame, "first-run")
        card = find_button(welcome, "Try the sample photo") if welcome is not None else None
        if card is not None and card.isVisible() and rng.random() < 0.7:
            await self.user(lambda: QTest.mouseClick(card, Button.LeftButton))
            how = "welcome card"
        else:
            action = find_action(self.window, "Open the sample photo")
            if action is None:
                raise Skip("no Open the sample photo command")
            await self.user(action.trigger)
            how = "File menu"
        await self._image_shown()
        return how

    async def act_open_file(self, rng: random.Random) -> str:
        pool = self.files.pictures * 3 + self.files.broken
        path = rng.choice(pool)
        cancelled = rng.random() < 0.1
        self.file_dialogs.open_answer = "" if cancelled else str(path)
        await self.user(lambda: self._key(Key.Key_O, Mod.ControlModifier))
        await self._image_shown()
        return "cancelled the file dialog" if cancelled else path.name

    async def act_paste(self, rng: random.Random) -> str:
        canvas = await self._canvas_page()
        clipboard = QGuiApplication.clipboard()
        what = rng.choice(["image", "image", "image", "file", "text"])
        if what == "image":
            image = QImage(rng.randint(40, 900), rng.randint(40, 700), QImage.Format.Format_RGB32)
            image.fill(QColor.fromHsv(rng.randrange(360), 160, 200))
            clipboard.setImage(image)
            what = f"image {image.width()}x{image.height()}"
        elif what == "file":
            mime = QMimeData()
            path = rng.choice(self.files.pictures)
            mime.setUrls([QUrl.fromLocalFile(str(path))])
            clipboard.setMimeData(mime)
            what = f"file {path.name}"
        else:
            clipboard.setText("just words")
        await self.user(lambda: QTest.keyClick(canvas, Key.Key_V, Mod.ControlModifier))
        await self._image_shown()
        return what

    async def act_drop(self, rng: random.Random) -> str:
        canvas = self._canvas()
        if not canvas.isVisible():
            canvas = await self._canvas_page()
        viewport = canvas.viewport()
        mime = QMimeData()
        if rng.random() < 0.15:
            image = QImage(rng.randint(40, 600), rng.randint(40, 500), QImage.Format.Format_RGB32)
            image.fill(QColor.fromHsv(rng.randrange(360), 90, 230))
            mime.setImageData(image)
            what = "image data"
        else:
            paths = [rng.choice(self.files.pictures * 4 + self.files.broken)]
            if rng.random() < 0.2:
                paths.append(rng.choice(self.files.pictures))
            mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
            what = " + ".join(p.name for p in paths)
        point = point_in(viewport, rng.random(), rng.random())
        accepted = await self.user(lambda: drop_on(viewport, mime, point))
        await self._image_shown()
        return f"{what}{'' if accepted else ' (refused)'}"

    # --- prompt, parameters, generation --------------------------------------------------

    async def _type_prompt(self, rng: random.Random, replace: bool) -> str:
        prompt = self._prompt()
        text = rng.choice(PROMPTS)
        if not replace and self.expected_prompt:
            text = " " + text.split()[0]

        def type_it() -> None:
            viewport = prompt.viewport()
            QTest.mouseClick(viewport, Button.LeftButton, Mod.NoModifier, point_in(viewport, 1, 1))
            QTest.keyClick(prompt, Key.Key_End, Mod.ControlModifier)
            if replace:
                QTest.keyClick(prompt, Key.Key_A, Mod.ControlModifier)
                QTest.keyClick(prompt, Key.Key_Backspace)
            type_text(prompt, text)

        await self.user(type_it)
        self.expected_prompt = text if replace else self.expected_prompt + text
        return text.strip()[:30]

    async def act_prompt(self, rng: random.Random) -> str:
        if not self._prompt().isVisible():
            await self._show_dock("Prompt")
        return await self._type_prompt(rng, replace=rng.random() < 0.5)

    async def act_params(self, rng: random.Random) -> str:
        await self._show_dock("Parameters")
        name = rng.choice(["n", "n", "stream", "stream", "partial_images", "quality", "model"])
        editor = self.window.findChild(QWidget, f"field-{name}")
        if editor is None or not editor.isVisible() or not editor.isEnabled():
            raise Skip(f"{name} cannot be edited now")
        if name == "stream":
            box = editor.findChild(QCheckBox)
            if box is None:
                raise Skip("no stream check box")
            # A check box without text: only its small indicator takes a click, so the
            # keyboard (as tests/ui/test_editor.py does) is the sure way.
            await self.user(lambda: (box.setFocus(), QTest.keyClick(box, Key.Key_Space)))
            return f"stream {'on' if box.isChecked() else 'off'}"
        if name in ("quality", "model"):
            combo = editor.findChild(QComboBox)
            if combo is None:
                raise Skip(f"no {name} list")
            key = Key.Key_Down if rng.random() < 0.5 else Key.Key_Up
            await self.user(lambda: (combo.setFocus(), QTest.keyClick(combo, key)))
            return f"{name} {combo.currentText()}"
        spin = editor.findChild(QAbstractSpinBox)
        if not isinstance(spin, QSpinBox):
            raise Skip(f"no {name} box")
        limit = 2 if name == "n" else 3  # each variant is a fill the engine really computes
        key = Key.Key_Up if spin.value() < limit and rng.random() < 0.6 else Key.Key_Down
        await self.user(lambda: (spin.setFocus(), QTest.keyClick(spin, key)))
        return f"{name} = {spin.value()}"

    async def act_generate(self, rng: random.Random) -> str:
        if not self.expected_prompt.strip():
            await self._type_prompt(rng, replace=True)
        elif rng.random() < 0.5:
            prompt = self._prompt()
            await self.user(lambda: QTest.mouseClick(prompt.viewport(), Button.LeftButton))
        action = find_action(self.window, "Generate")
        if action is None:
            raise Skip("no Generate command")
        if not action.isEnabled():
            reason = self.window.findChild(QLabel, "generate-reason")
            raise Skip(f"not ready: {reason.text() if reason is not None else '?'}")
        busy_before = self._busy()
        await self.user(lambda: self._key(Key.Key_Return, Mod.ControlModifier))
        started = busy_before or await until(self._busy, 3)
        if not started:
            return "no job started" + self._said()
        patience = rng.uniform(0.2, 3.5)
        if await until(lambda: not self._busy(), patience):
            return "finished"
        if rng.random() < 0.4:
            return f"left running after {patience:.1f} s"
        return "cancelled: " + await self._cancel()

    async def _cancel(self) -> str:
        await self.user(lambda: self._key(Key.Key_Escape))
        if not await until(lambda: not self._busy(), 8):
            raise SoakFailure("Esc did not stop the running jobs within 8 s")
        return "stopped"

    async def act_cancel(self, rng: random.Random) -> str:
        if not self._busy():
            await self.user(lambda: self._key(Key.Key_Escape))
            return "nothing running"
        return await self._cancel()

    # --- results ---------------------------------------------------------------------

    async def _tile_button(self, rng: random.Random, text: str) -> QAbstractButton:
        await self._show_dock("Results")
        tiles = self._tiles(final=text != "✕")
        if not tiles:
            raise Skip("no result yet")
        tile = rng.choice(tiles)
        button = find_button(tile, text)
        if button is None or not button.isEnabled():
            raise Skip(f"no {text} on {tile.objectName()}")
        if not button.isVisible():
            raise Skip(f"{tile.objectName()} is not on screen")
        return button

    async def act_use_result(self, rng: random.Random) -> str:
        button = await self._tile_button(rng, "Use")
        name = button.parentWidget().objectName()
        await self.user(lambda: QTest.mouseClick(button, Button.LeftButton))
        await asyncio.sleep(0.2)
        await self._image_shown()
        return name

    async def act_save_result(self, rng: random.Random) -> str:
        button = await self._tile_button(rng, "Save")
        name = button.parentWidget().objectName()
        await self._dismiss_error()  # so that what it says next is about this Save
        self.saves += 1
        suffix = rng.choice([".png", ".png", ".jpg", ".webp"])
        target = self.files.saved / f"result-{self.saves}{suffix}"
        cancelled = rng.random() < 0.1
        self.file_dialogs.save_answer = "" if cancelled else str(target)
        await self.user(lambda: QTest.mouseClick(button, Button.LeftButton))
        if cancelled:
            return f"{name}: cancelled the save dialog"
        if not await until(lambda: target.is_file() or bool(self.monitor.error_text()), 8):
            raise SoakFailure(f"Save of {name} wrote nothing to {target.name} and said nothing")
        return f"{name} → {target.name}" if target.is_file() else f"{name}: refused{self._said()}"

    async def act_tile_other(self, rng: random.Random) -> str:
        text = rng.choice(["Copy", "Copy", "✕"])
        button = await self._tile_button(rng, text)
        name = button.parentWidget().objectName()
        await self.user(lambda: QTest.mouseClick(button, Button.LeftButton))
        return f"{text} {name}"

    # --- compare -----------------------------------------------------------------------

    async def act_compare(self, rng: random.Random) -> str:
        if rng.random() < 0.3:
            action = find_action(self.window, "Compare results")
            if action is None:
                raise Skip("no Compare command")
            await self.user(action.trigger)
        else:
            await self.user(lambda: self._key(Key.Key_K, Mod.ControlModifier))
        panel = self._compare_panel()
        return "comparing" if panel is not None and panel.isVisible() else "painting"

    async def act_compare_keys(self, rng: random.Random) -> str:
        from app.ui.compare import CompareView

        panel = self._compare_panel()
        if panel is None or not panel.isVisible():
            if not self._tiles():
                raise Skip("not comparing, and no result to compare")
            await self.user(lambda: self._key(Key.Key_K, Mod.ControlModifier))
            if panel is None or not await until(panel.isVisible, 0.5):
                raise Skip("Ctrl+K showed no comparison")
        views = [v for v in panel.findChildren(CompareView) if v.isVisible()]
        if not views:
            raise Skip("no picture to compare yet")
        view = rng.choice(views).viewport()
        await self.user(lambda: middle_click(view, point_in(view, 0.5, 0.5)))
        keys = [
            (Key.Key_S, Mod.NoModifier), (Key.Key_W, Mod.NoModifier),
            (Key.Key_D, Mod.NoModifier), (Key.Key_X, Mod.NoModifier),
            (Key.Key_O, Mod.NoModifier), (Key.Key_Left, Mod.NoModifier),
            (Key.Key_Right, Mod.NoModifier), (Key.Key_Right, Mod.ShiftModifier),
            (Key.Key_0, Mod.ControlModifier), (Key.Key_1, Mod.ControlModifier),
        ]  # fmt: skip
        presses = [rng.choice(keys) for _ in range(rng.randint(1, 6))]
        extra = rng.choice(["", "", "drag", "wheel", "pick"])
        points = [point_in(view, rng.random(), rng.random()) for _ in range(4)]

        def press() -> None:
            for key, modifiers in presses:
                self._key(key, modifiers)
            if extra == "drag":
                drag(view, points)
            elif extra == "wheel":
                wheel(view, points[0], rng.choice([-2, -1, 1, 2]))
            elif extra == "pick":
                combo = panel.findChild(QComboBox, rng.choice(["compare-a", "compare-b"]))
                if combo is not None:
                    combo.setFocus()
                    QTest.keyClick(combo, rng.choice([Key.Key_Down, Key.Key_Up]))

        await self.user(press)
        names = "".join(key_label(k, m) for k, m in presses)
        return f"{names} {extra}".strip()

    # --- settings and the window ---------------------------------------------------------

    async def _settings(self, answer: str, rng: random.Random) -> str:
        action = find_action(self.window, "Providers…") or find_action(self.window, "Providers")
        if action is None:
            raise Skip("no Providers command")
        self.answerer.expect(answer, rng.random())
        shortcut = rng.random() < 0.3
        if shortcut:
            await self.user(lambda: self._key(Key.Key_Comma, Mod.ControlModifier))
        else:
            await self.user(action.trigger)
        if not await until(lambda: not self.answerer.plan, 5):
            self.answerer.plan.clear()
            raise SoakFailure(f"Settings ▸ Providers… showed no dialog to answer {answer}")
        return ("Ctrl+," if shortcut else "menu") + f", {answer}"

    async def act_settings_ok(self, rng: random.Random) -> str:
        return await self._settings("ok", rng)

    async def act_settings_cancel(self, rng: random.Random) -> str:
        return await self._settings("cancel", rng)

    async def act_resize(self, rng: random.Random) -> str:
        if rng.random() < 0.75:
            width, height = rng.choice(WINDOW_SIZES)
        else:
            width, height = rng.randint(200, 1600), rng.randint(150, 1000)
        await self.user(lambda: self.window.resize(width, height))
        size = self.window.size()
        if (width, height) == (1280, 720) and (size.width(), size.height()) != (width, height):
            self._find(f"the window cannot be 1280x720: it stays {size.width()}x{size.height()}")
        return f"{width}x{height} → {size.width()}x{size.height()}"

    async def act_inputs(self, rng: random.Random) -> str:
        dock = await self._show_dock("Inputs")
        if dock is None:
            raise Skip("no Inputs dock")
        strip = dock.widget()
        listing = strip.findChild(QListWidget, "inputs") if strip is not None else None
        if listing is not None and listing.count() > 1 and rng.random() < 0.4:
            row = rng.randrange(listing.count())
            remove = find_button(strip, "Remove")
            if remove is None:
                raise Skip("no Remove button")

            def remove_row() -> None:
                listing.scrollToItem(listing.item(row))
                where = listing.visualItemRect(listing.item(row)).center()
                QTest.mouseClick(listing.viewport(), Button.LeftButton, Mod.NoModifier, where)
                QTest.mouseClick(remove, Button.LeftButton)

            await self.user(remove_row)
            return f"removed input {row + 1} of {listing.count() + 1}"
        path = rng.choice(self.files.pictures + self.files.broken)
        self.file_dialogs.open_answer = str(path)
        add = find_button(strip, "Add…") if strip is not None else None
        if add is not None and rng.random() < 0.5:
            await self.user(lambda: QTest.mouseClick(add, Button.LeftButton))
        else:
            shortcut = Mod.ControlModifier | Mod.ShiftModifier
            await self.user(lambda: self._key(Key.Key_O, shortcut))
        await asyncio.sleep(0.1)
        return f"added {path.name}"

    async def act_mask_file(self, rng: random.Random) -> str:
        self.saves += 1
        if rng.random() < 0.5:
            target = self.files.saved / f"mask-{self.saves}.png"
            self.file_dialogs.save_answer = str(target)
            await self._dismiss_error()
            shortcut = Mod.ControlModifier | Mod.ShiftModifier
            await self.user(lambda: self._key(Key.Key_S, shortcut))
            await until(lambda: target.is_file() or bool(self.monitor.error_text()), 3)
            return f"saved {target.name}" if target.is_file() else "no mask saved" + self._said()
        masks = sorted(self.files.saved.glob("mask-*.png"))
        path = rng.choice(masks + self.files.pictures[:2] + self.files.broken[:1])
        action = find_action(self.window, "Load mask…") or find_action(self.window, "Load mask")
        if action is None:
            raise Skip("no Load mask command")
        self.file_dialogs.open_answer = str(path)
        await self.user(action.trigger)
        await asyncio.sleep(0.1)
        return f"loaded {path.name}{self._said()}"

    async def act_docks(self, rng: random.Random) -> str:
        title = rng.choice(["Inputs", "Prompt", "Parameters", "Results"])
        dock = find_dock(self.window, title)
        if dock is None:
            raise Skip(f"no {title} dock")
        toggle = dock.toggleViewAction()
        await self.user(toggle.trigger)
        if rng.random() < 0.7:
            await asyncio.sleep(0.05)
            await self.user(toggle.trigger)
        return f"{title} {'shown' if dock.isVisible() else 'closed'}"

    async def act_retry(self, rng: random.Random) -> str:
        bar = self.window.findChild(QFrame, "error-bar")
        retry = find_button(bar, "Retry") if bar is not None else None
        if retry is None or not retry.isVisible():
            raise Skip("nothing to retry")
        said = self._said()
        await self.user(lambda: QTest.mouseClick(retry, Button.LeftButton))
        return "retried" + said

    async def act_burst(self, rng: random.Random) -> str:
        """An impatient designer: two or three pictures opened, dropped or pasted back to
        back, each as soon as the one before it shows, then painting at once. The canvas
        must keep the last picture and open nothing by itself afterwards."""
        canvas = await self._canvas_page()
        viewport = canvas.viewport()
        self.answerer.discard_roll = 0.0  # "Replace the image?": always yes here
        names: list[str] = []
        for _ in range(rng.randint(2, 3)):
            shown = len(self.opened)
            how = rng.choice(["drop", "open", "paste"])
            if how == "paste":
                # A large screenshot: saving it for the requests keeps the worker busy.
                QGuiApplication.clipboard().setImage(QImage(str(self.files.big)))
                names.append("pasted image")
                await self.user(lambda: QTest.keyClick(canvas, Key.Key_V, Mod.ControlModifier))
            else:
                path = rng.choice([self.files.big, *self.files.pictures])
                names.append(path.name)
                if how == "drop":
                    mime = QMimeData()
                    mime.setUrls([QUrl.fromLocalFile(str(path))])
                    point = point_in(viewport, rng.random(), rng.random())
                    await self.user(lambda m=mime, p=point: drop_on(viewport, m, p))
                else:
                    self.file_dialogs.open_answer = str(path)
                    await self.user(lambda: self._key(Key.Key_O, Mod.ControlModifier))
            self.log(f"  burst: {how} {names[-1]}")
            if not await until(lambda n=shown: len(self.opened) > n, 5):
                raise SoakFailure(f"{names[-1]} ({how}) was not shown within 5 s" + self._said())
        settled = len(self.opened)
        if rng.random() < 0.6:
            points = self._stroke_points(canvas, rng, 6)
            await self.user(lambda: drag(viewport, points))
        # Long enough for what the opens started in the worker (saving, probing) to end.
        await until(lambda: len(self.opened) > settled, 1.5)
        shown = [Path(name).name for name in self.opened[-4:]]
        if len(self.opened) > settled or shown[-1] != names[-1]:
            raise SoakFailure(
                f"opened {', '.join(names)} in a row, then the canvas opened "
                f"{', '.join(shown[-(len(self.opened) - settled) or 1 :])} by itself "
                f"(its last opens: {shown})" + self._said()
            )
        return " then ".join(names)

    async def act_wait(self, rng: random.Random) -> str:
        return ""  # the baseline: only the settle every action has

    # --- the end -------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the window as with its title bar's button (answering "Quit?" with Yes)."""
        self._step = "closing the window"
        self._beat(self._step)
        self.log("closing the window")
        # The clipboard may hold a QMimeData made here, in Python; Qt deletes it when the
        # process exits, after the interpreter is gone, and that crashes in shiboken. A
        # file manager's clipboard data is never a Python object, so clearing it here
        # removes only what the driver itself added.
        QGuiApplication.clipboard().clear()
        await self.user(self.window.close, timeout=MODAL_LIMIT_S * 2)


def key_label(key: Qt.Key, modifiers: Qt.KeyboardModifier) -> str:
    names = {Key.Key_Left: "←", Key.Key_Right: "→", Key.Key_0: "^0", Key.Key_1: "^1"}
    name = names.get(key, chr(int(key.value)) if int(key.value) < 128 else "?")
    return ("⇧" if modifiers & Mod.ShiftModifier else "") + name


async def until(predicate: Callable[[], object], timeout: float) -> bool:
    """Pump the loop until ``predicate()`` holds; False (never an exception) on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# --- the parent's side: a child process and what it left ----------------------------------

ROOT = Path(__file__).resolve().parents[2]
NOISE = ("This plugin does not support propagateSizeHints()",)
_STEP = re.compile(r"^soak: #(\d+)/\d+ (\w+)$")


@dataclass
class ChildRun:
    """One soak in a child process: how it ended and what it wrote."""

    seed: int
    planned: int
    returncode: int | None  # None: killed after the parent's timeout
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)
    seconds: float = 0.0

    @property
    def summary(self) -> dict[str, Any] | None:
        lines = self.stdout.strip().splitlines()
        try:
            return json.loads(lines[-1]) if lines else None
        except json.JSONDecodeError:
            return None

    @property
    def started(self) -> list[tuple[int, str]]:
        """Every step the child began, in order (the last may not have finished)."""
        return [(int(m[1]), m[2]) for line in self.stderr.splitlines() if (m := _STEP.match(line))]

    @property
    def skipped(self) -> set[int]:
        """The steps whose note says they were skipped (not available then)."""
        return {
            int(m[1])
            for line in self.stderr.splitlines()
            if (m := re.match(r"^soak: #(\d+) skipped:", line))
        }

    @property
    def verdict(self) -> str:
        code = self.returncode
        if code is None:
            return "timeout"
        if code == 0:
            return "ok"
        if code == 3:
            return "hang"
        if code == 4:
            return "stuck after an exception"
        if code < 0:
            try:
                return f"crash ({signal.Signals(-code).name})"
            except ValueError:
                return f"crash (signal {-code})"
        summary = self.summary
        if summary is not None and summary["failures"]:
            closing = all(f.startswith("closing the window") for f in summary["failures"])
            return "unclean quit" if closing else "failure"
        return f"exit {code}"

    @property
    def crashed(self) -> bool:
        return self.verdict.startswith(("crash", "hang", "timeout", "exit"))

    def failures(self) -> list[str]:
        summary = self.summary
        if summary is not None:
            return list(summary["failures"])
        return [line[len("soak: FAILED: ") :] for line in self.stderr.splitlines()
                if line.startswith("soak: FAILED: ")]  # fmt: skip

    def last_actions(self, count: int = 8) -> list[str]:
        return [f"#{index} {kind}" for index, kind in self.started[-count:]]

    def trace(self, lines: int = 40) -> str:
        """Faulthandler's report or the last Python traceback, trimmed."""
        text = self.stderr.splitlines()
        markers = ("Fatal Python error", "soak: HUNG", "soak: FAILED", "Traceback (most recent")
        for marker in markers:
            starts = [i for i, line in enumerate(text) if line.startswith(marker)]
            if starts:
                return "\n".join(text[starts[-1] : starts[-1] + lines])
        return ""

    def tail(self, lines: int = 70) -> str:
        kept = [line for line in self.stderr.splitlines() if line.strip() not in NOISE]
        return "\n".join(kept[-lines:])

    def reproduce(self) -> str:
        return (
            f"python -X faulthandler -m tests.support.soak --actions {self.planned} "
            f"--seed {self.seed}"
        )


def run_child(
    actions: int,
    seed: int,
    *,
    home: Path | None = None,
    extra: Sequence[str] = (),
    timeout: float = 300.0,
) -> ChildRun:
    """``python -X faulthandler -m tests.support.soak`` offscreen, bounded by ``timeout``
    (the child's own watchdog ends a hang sooner, with every thread's stack)."""
    command = [sys.executable, "-X", "faulthandler", "-m", "tests.support.soak",
               "--actions", str(actions), "--seed", str(seed), *extra]  # fmt: skip
    if home is not None:
        command += ["--home", str(home)]
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env.pop("RETOUCH_HOME", None)
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as expired:
        return ChildRun(
            seed, actions, None, _text(expired.stdout), _text(expired.stderr),
            time.monotonic() - started,
        )  # fmt: skip
    return ChildRun(
        seed, actions, done.returncode, done.stdout, done.stderr, time.monotonic() - started
    )


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


# --- the child process --------------------------------------------------------------------


def log(message: str) -> None:
    sys.stderr.write(f"soak: {message}\n")
    sys.stderr.flush()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--home", type=Path, help="a folder for RETOUCH_HOME and the files")
    parser.add_argument("--only", default="", help="comma-separated kinds to choose from")
    parser.add_argument("--exclude", default="", help="comma-separated kinds never chosen")
    parser.add_argument("--steps", default="", help="an exact comma-separated list of kinds")
    parser.add_argument("--stall-limit", type=float, default=60.0)
    args = parser.parse_args(argv)
    known = set(WEIGHTS)
    for option in ("only", "exclude", "steps"):
        names = [n for n in getattr(args, option).split(",") if n]
        unknown = sorted(set(names) - known)
        if unknown:
            parser.error(f"--{option}: unknown kinds {', '.join(unknown)}; known: {sorted(known)}")
        setattr(args, option, names)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # never a real one
    faulthandler.enable(file=sys.stderr, all_threads=True)
    owned = args.home is None
    home = Path(tempfile.mkdtemp(prefix="retouch-soak-")) if owned else args.home
    os.environ["RETOUCH_HOME"] = str(home / "home")
    try:
        return _run(args, home)
    finally:
        if owned:
            shutil.rmtree(home, ignore_errors=True)


def _run(args: argparse.Namespace, home: Path) -> int:
    import app.gui as gui

    files = SoakFiles.make(home / "files")
    kinds = [k for k in (args.only or WEIGHTS) if k not in args.exclude]
    plan = make_plan(args.seed, args.actions, kinds, args.steps)
    dialogs = FileDialogs()
    dialogs.install()
    hooks = Hooks()
    hooks.install()
    watchdog = Watchdog(args.stall_limit, log, hooks)
    watchdog.start()
    outcome: dict[str, Any] = {}
    real_build = gui.build_editor

    async def drive(editor: Any) -> SoakResult:
        driver = SoakDriver(editor, files, dialogs, hooks, log, watchdog)
        result = await driver.run(args.seed, plan)
        outcome["result"] = result  # kept even if closing is cut short
        await driver.close()
        return result

    def build_and_drive(*build_args: Any, **build_kwargs: Any) -> Any:
        editor = real_build(*build_args, **build_kwargs)
        if "task" not in outcome:  # the first editor is the one `retouch` shows
            outcome["task"] = asyncio.ensure_future(drive(editor))
        return editor

    gui.build_editor = build_and_drive
    log(f"seed {args.seed}, {len(plan)} actions, home {home}")
    try:
        exit_code: object = gui.run([])
    except Exception as exc:  # the editor did not end the way `retouch` should
        traceback.print_exc()
        exit_code = f"{type(exc).__name__}: {exc}"
    finally:
        gui.build_editor = real_build
    watchdog.beat("after the editor closed")
    if "task" not in outcome:
        log("FAILED: app.gui.run never called build_editor; the driver did not start")
        return 1
    result: SoakResult | None = outcome.get("result")
    if result is None:
        log("FAILED: the editor closed before the driver finished")
        return 1
    task = outcome["task"]
    if task.done() and not task.cancelled() and task.exception() is not None:
        result.failures.append(f"closing the window failed: {task.exception()!r}")
    if exit_code != 0:
        result.failures.append(f"closing the window did not end the editor cleanly: {exit_code}")
        log("FAILED: " + result.failures[-1])
    late = [e for e in hooks.errors if e not in result.failures]
    if late and not result.failures:
        result.failures.append(f"an exception escaped while closing: {late[0]}")
        log("FAILED: " + result.failures[-1])
    summary = result.to_json()
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    log(
        f"{summary['actions']} actions in {summary['seconds']:.1f} s "
        f"({summary['actions'] / max(summary['seconds'], 1e-9):.1f}/s), "
        f"worst UI stall {summary['worst_stall_s'] * 1000:.0f} ms, "
        f"{'FAILED' if result.failures else 'ok'}"
    )
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
