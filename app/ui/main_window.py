"""The editor window: lays out the canvas, the docks and the actions, and wires them to the
session. Features live in their own modules; this file only connects them."""

from __future__ import annotations

import html
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.events import Usage
from app.core.mask import MaskSource
from app.models.compare import CompareModel, Source
from app.models.jobs import JobError
from app.models.session import EditorSession, refused_text
from app.models.settings import Settings
from app.ui.canvas.toolbars import ToolOptionsBar, ToolPalette
from app.ui.canvas.view import MaskCanvas, ask_to_scale_mask
from app.ui.compare_panel import ComparePanel
from app.ui.error_bar import ErrorBar
from app.ui.first_run import FirstRunPanel
from app.ui.gallery import Gallery
from app.ui.input_strip import InputStrip
from app.ui.keyboard import buttons_keep_focus_away, set_window_wide
from app.ui.params import ParameterPanel
from app.ui.prompt_box import PromptBox

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp);;All files (*)"
SAVE_FILTER = "PNG (*.png);;JPEG (*.jpg *.jpeg);;WebP (*.webp)"


class MainWindow(QMainWindow):
    """Everything the designer sees. Long work is started as tasks on the asyncio loop
    (``spawn``); no slot here reads a file, decodes an image or touches the network."""

    settings_requested = Signal()
    copy_result_requested = Signal(Path)

    def __init__(
        self,
        session: EditorSession,
        settings: Settings,
        compare: CompareModel,
        spawn: Callable[[Coroutine[Any, Any, Any]], object],
        sample: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retouch Studio")
        self.setObjectName("main-window")
        self.session = session
        self.settings = settings
        self.compare = compare
        self.spawn = spawn
        self.sample = sample
        # None asks with a dialog; tests put an answer here. (Not a bound method: that
        # would make a reference cycle through the window.)
        self.confirm_quit: Callable[[str], bool] | None = None
        self._pending_mask: tuple[Path, MaskSource] | None = None
        self._canvas_path: Path | None = None

        self.canvas = MaskCanvas(document=session.mask, parent=self)
        self.error_bar = ErrorBar()
        self.first_run = FirstRunPanel(self.canvas)
        center = QWidget()
        column = QVBoxLayout(center)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        self.compare_panel = ComparePanel()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.canvas)
        self.stack.addWidget(self.compare_panel)
        column.addWidget(self.error_bar)
        column.addWidget(self.stack, 1)
        self.setCentralWidget(center)
        self.canvas_toolbars = (ToolPalette(self.canvas, self), ToolOptionsBar(self.canvas, self))
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.canvas_toolbars[0])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.canvas_toolbars[1])

        self.inputs = InputStrip(session.inputs)
        self.prompt = PromptBox(settings.prompt_history())
        self.params = ParameterPanel(session.params)
        self.gallery = Gallery()
        self._build_generate_panel()
        self._dock("inputs", "Inputs", self.inputs, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("prompt", "Prompt", self.generate_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock(
            "params", "Parameters", self._with_presets(), Qt.DockWidgetArea.RightDockWidgetArea
        )
        self._dock(
            "results", "Results", self._with_keep_options(), Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tabifyDockWidget(self.docks["params"], self.docks["results"])
        self.docks["params"].raise_()
        self.resizeDocks([self.docks["inputs"]], [150], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["prompt"]], [400], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["prompt"]], [230], Qt.Orientation.Vertical)

        self.provider_label = QLabel()
        self.usage_label = QLabel()
        self.engine_label = QLabel()
        self.statusBar().addWidget(self.provider_label)
        self.statusBar().addWidget(self.engine_label)
        self.statusBar().addPermanentWidget(self.usage_label)
        self._build_menus()
        self._connect()
        self._restore_layout()
        self._on_provider_changed(session.provider)
        self._on_readiness_changed(session.readiness())
        self._update_split_note()
        self.canvas.installEventFilter(self)
        self._update_first_run()
        # Tab follows the layout, left to right: the inputs, the picture, then the prompt.
        QWidget.setTabOrder(self.inputs.remove, self.canvas)
        QWidget.setTabOrder(self.canvas, self.prompt)
        self.stack.currentChanged.connect(self._on_page_changed)
        self._on_page_changed()
        buttons_keep_focus_away(self)
        self._size_to_screen()

    # --- layout -----------------------------------------------------------------------

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        # A dock behind another's tab is moved off screen, not hidden: without this, Tab
        # and typed keys could still reach its fields (issue 10: "w" typed into a hidden
        # User field). Disabled, it leaves the focus chain and gives the focus back.
        dock.visibilityChanged.connect(widget.setEnabled)
        if not hasattr(self, "docks"):
            self.docks: dict[str, QDockWidget] = {}
        self.docks[name] = dock

    def _build_generate_panel(self) -> None:
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.generate_button.setToolTip("Send the edit (Ctrl+Enter)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running jobs (Esc); what arrived is kept")
        self.cancel_button.setEnabled(False)
        self.reason = QLabel()
        self.reason.setObjectName("generate-reason")
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #e0a040;")
        self.split = QCheckBox("One request per variant (live previews for each)")
        self.split.setChecked(self.settings.flag("jobs/split_streams", True))
        self.split_note = QLabel(
            "Each variant is its own request and bills its input tokens again. "
            "Untick to send one request: cheaper, but partial images cannot be told apart."
        )
        self.split_note.setWordWrap(True)
        self.split_note.setProperty("role", "hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.addWidget(self.prompt, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.reason)
        layout.addWidget(self.split)
        layout.addWidget(self.split_note)
        self.generate_panel = panel

    def _with_keep_options(self) -> QWidget:
        self.paste_back = QCheckBox("Paste back onto the original")
        self.paste_back.setObjectName("paste-back")
        self.paste_back.setToolTip(
            "Save and Use take the result inside the mask only: every pixel outside it stays "
            "exactly the original's (GPT image models redraw the whole picture). Right-click "
            "a result for the other way."
        )
        self.paste_back.setChecked(self.settings.flag("keep/paste_back", True))
        self.feather = QSpinBox()
        self.feather.setRange(0, 64)
        self.feather.setSuffix(" px feather")
        self.feather.setObjectName("feather")
        self.feather.setToolTip("How far inside the mask the blend reaches full strength")
        self.feather.setValue(
            self.settings.integer("keep/feather_px", int(self.compare.feather_px))
        )
        self.compare.feather_px = self.feather.value()
        self.paste_back.toggled.connect(self._on_paste_back_toggled)
        self.feather.valueChanged.connect(self._on_feather_changed)
        self._on_paste_back_toggled(self.paste_back.isChecked())
        row = QHBoxLayout()
        row.addWidget(self.paste_back, 1)
        row.addWidget(self.feather)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.gallery, 1)
        return box

    def _on_feather_changed(self, px: int) -> None:
        self.compare.feather_px = px
        self.settings.set_integer("keep/feather_px", px)

    def _on_paste_back_toggled(self, on: bool) -> None:
        self.compare.paste_back = on
        self.feather.setEnabled(on)
        self.gallery.set_paste_back(on)
        self.settings.set_flag("keep/paste_back", on)

    def _with_presets(self) -> QWidget:
        self.presets = QComboBox()
        self.presets.setObjectName("presets")
        self.presets.setPlaceholderText("Presets")
        self._fill_presets()
        save = QPushButton("Save…")
        save.setToolTip("Save these parameters as a named preset")
        delete = QPushButton("Delete")
        save.clicked.connect(self._on_save_preset_clicked)
        delete.clicked.connect(self._on_delete_preset_clicked)
        self.presets.textActivated.connect(self._on_preset_chosen)
        row = QHBoxLayout()
        row.addWidget(self.presets, 1)
        row.addWidget(save)
        row.addWidget(delete)
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        # Scrolls rather than pushing the window past a 720-pixel-high screen.
        scroll = QScrollArea(box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.params)
        layout.addWidget(scroll, 1)
        return box

    def _build_menus(self) -> None:
        canvas = self.canvas
        menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(
            menu, "&Open image…", self._on_open_requested, QKeySequence.StandardKey.Open
        )
        self._action(menu, "&Add input images…", self._on_add_requested, "Ctrl+Shift+O")
        self._action(menu, "Open the &sample photo", self._on_sample_requested)
        menu.addSeparator()
        self._action(menu, "&Load mask…", lambda: self._on_load_mask_requested("auto"))
        self._action(
            menu,
            "Load black-and-white mask (black = edit)…",
            lambda: self._on_load_mask_requested("black"),
        )
        self._action(menu, "Sa&ve mask…", self._on_save_mask_requested, "Ctrl+Shift+S")
        menu.addSeparator()
        self._action(menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        menu = self.menuBar().addMenu("&Edit")
        for name in ("undo", "redo", "paste"):
            menu.addAction(canvas.action(name))
        menu = self.menuBar().addMenu("&Mask")
        for name in ("mask.invert", "mask.clear", "mask.fill"):
            menu.addAction(canvas.action(name))
        menu = self.menuBar().addMenu("&View")
        for name in ("view.fit", "view.actual", "view.zoom_in", "view.zoom_out", "view.outline"):
            menu.addAction(canvas.action(name))
        self._build_tools_menu()
        self.compare_action = self._action(
            menu, "&Compare results", self._on_compare_toggled, "Ctrl+K"
        )
        self.compare_action.setCheckable(True)
        menu.addSeparator()
        for dock in self.docks.values():
            menu.addAction(dock.toggleViewAction())
        menu = self.menuBar().addMenu("&Generate")
        self.generate_action = self._action(
            menu, "&Generate", self._on_generate_requested, "Ctrl+Return"
        )
        self.generate_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.cancel_action = self._action(menu, "&Cancel", self._on_cancel_requested, "Esc")
        self.cancel_action.setEnabled(False)
        menu = self.menuBar().addMenu("&Settings")
        self._action(menu, "&Providers…", self.settings_requested.emit, "Ctrl+,")

    def _build_tools_menu(self) -> None:
        actions = self.canvas.canvas_actions
        menu = self.menuBar().addMenu("&Tools")
        menu.addActions(actions.tool_group.actions())
        menu.addSeparator()
        for name in ("brush.smaller", "brush.larger", "brush.softer", "brush.harder"):
            menu.addAction(actions[name])
        menu.addAction(actions["brush.swap"])
        menu.addAction(actions["brush.pressure"])

    def _action(self, menu, text: str, slot: Callable[[], object], shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _=False: slot())
        menu.addAction(action)
        return action

    # --- wiring -------------------------------------------------------------------------

    def _connect(self) -> None:
        session, jobs = self.session, self.session.jobs
        self.generate_button.clicked.connect(self._on_generate_requested)
        self.cancel_button.clicked.connect(self._on_cancel_requested)
        self.prompt.prompt_changed.connect(lambda text: session.params.set_value("prompt", text))
        self.prompt.setPlainText(session.params.value("prompt") or "")
        self.split.toggled.connect(self._on_split_toggled)
        session.params.value_changed.connect(self._update_split_note)
        session.readiness_changed.connect(self._on_readiness_changed)
        session.generate_refused.connect(self._on_generate_refused)
        session.provider_changed.connect(self._on_provider_changed)
        session.inputs.changed.connect(self._update_first_run)
        session.inputs.first_changed.connect(self._on_first_input_changed)
        self.inputs.add_requested.connect(self._on_add_requested)
        self.canvas.image_opened.connect(self._on_canvas_image_opened)
        self.canvas.image_open_failed.connect(self._show_problem)
        self.canvas.mask_load_failed.connect(self._on_mask_load_failed)
        self.first_run.open_requested.connect(self._on_open_requested)
        self.first_run.sample_requested.connect(self._on_sample_requested)
        self.error_bar.retry_requested.connect(self._on_retry_requested)
        self.error_bar.settings_requested.connect(self.settings_requested.emit)
        jobs.job_started.connect(self._on_job_started)
        jobs.partial_received.connect(self.gallery.show_partial)
        jobs.image_received.connect(self.gallery.show_final)
        jobs.job_finished.connect(self._on_job_finished)
        jobs.job_failed.connect(self._on_job_failed)
        jobs.job_cancelled.connect(self._on_job_cancelled)
        self.gallery.action_requested.connect(self._on_tile_action)
        self.gallery.activated.connect(lambda job, variant: self.show_compare(job, variant))
        jobs.image_received.connect(self._on_final_received)
        self.compare.measured.connect(self.gallery.show_measure)
        self.compare.pair_ready.connect(self.compare_panel.show_pair)
        self.compare.failed.connect(self._show_problem)
        self.compare_panel.selection_changed.connect(self._on_compare_selection_changed)
        self.compare_panel.close_requested.connect(lambda: self._on_compare_toggled(False))
        if session.engine is not None:
            session.engine.ready.connect(
                lambda url: self.engine_label.setText("Local engine ready")
            )
            session.engine.restarting.connect(self.engine_label.setText)
            session.engine.failed.connect(self._on_engine_failed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self.first_run.center_in(self.canvas)
        return super().eventFilter(watched, event)

    # --- opening images -------------------------------------------------------------------

    def _on_open_requested(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", "", IMAGE_FILTER)
        if path:
            self.canvas.open_file(path)

    def _on_sample_requested(self) -> None:
        if self.sample is not None:
            self.canvas.open_file(self.sample)

    def _on_add_requested(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add input images", "", IMAGE_FILTER)
        if paths:
            self.spawn(self._add_inputs([Path(p) for p in paths]))

    async def _add_inputs(self, paths: list[Path]) -> None:
        problems = await self.session.inputs.add(paths)
        if problems:
            self._show_problem("\n".join(problems))

    def use_result(self, path: Path) -> None:
        """Make a result the picture being edited: one undo step that keeps the painted
        mask when the sizes match (the mask is the designer's work)."""
        self.canvas.use_file(path)

    def _on_canvas_image_opened(self, name: str) -> None:
        path = Path(name)
        self.first_run.hide()
        if path.is_file():
            self._canvas_path = path
            if self.session.inputs.first != path:
                self.spawn(self._replace_first(path))
        else:
            self.spawn(self._adopt_pasted(self.canvas.image()))

    async def _replace_first(self, path: Path) -> None:
        problems = await self.session.inputs.replace_first(path)
        if problems:
            self._show_problem("\n".join(problems))

    async def _adopt_pasted(self, image: QImage) -> None:
        """A pasted image has no file: save it (in a worker) so requests can stream it."""
        path = await self.session.save_pasted(image)
        self._canvas_path = path
        await self._replace_first(path)

    def _on_first_input_changed(self, first: str) -> None:
        # Later, from the event loop: this signal can come from inside a task, and opening
        # may ask about the painted mask in a modal dialog, whose nested event loop would
        # run other tasks' steps inside this one.
        if first and Path(first) != self._canvas_path:
            QTimer.singleShot(0, lambda: self._open_first(Path(first)))

    def _open_first(self, first: Path) -> None:
        if self.session.inputs.first == first != self._canvas_path:
            self.canvas.open_file(first)

    def _update_first_run(self) -> None:
        empty = not self.session.inputs.paths and not self.canvas.has_image()
        self.first_run.setVisible(empty)
        self.canvas.set_drop_text_visible(not empty)  # the card says it already
        if empty:
            self.first_run.center_in(self.canvas)
            self.first_run.raise_()

    # --- masks ----------------------------------------------------------------------------

    def _on_load_mask_requested(self, mode: MaskSource) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load mask", "", IMAGE_FILTER)
        if path:
            self._pending_mask = (Path(path), mode)
            self.canvas.load_mask_file(path, mode=mode)

    def _on_mask_load_failed(self, message: str, wrong_size: bool) -> None:
        pending, self._pending_mask = self._pending_mask, None
        if wrong_size and pending is not None:
            if ask_to_scale_mask(self, message):
                path, mode = pending
                self.canvas.load_mask_file(path, mode=mode, scale=True)
            return
        self._show_problem(message)

    def _on_save_mask_requested(self) -> None:
        if not self.canvas.has_image():
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save mask", "mask.png", "PNG (*.png)")
        if path:
            self.spawn(self._save_mask(Path(path)))

    async def _save_mask(self, path: Path) -> None:
        try:
            await self.session.save_mask(path)
        except OSError as exc:
            self._show_problem(f"{path}: the mask was not saved ({exc.strerror or exc}).")
            return
        self.statusBar().showMessage(f"Saved the mask to {path}", 5000)

    # --- generate -------------------------------------------------------------------------

    def _on_generate_requested(self) -> None:
        if not self.generate_button.isEnabled():
            return
        if self.session.repeats_running_job() and self.sender() is not self.generate_button:
            # One paid job per intent: a second Ctrl+Enter while the same request runs is
            # more likely a double press than a wish to pay twice.
            self.statusBar().showMessage(
                "This request is already running. Click Generate again to start another "
                "one (it is billed again).",
                8000,
            )
            return
        self.error_bar.hide()
        self.prompt.remember(self.prompt.toPlainText())
        self.settings.set_prompt_history(self.prompt.history)
        self.spawn(self.session.generate())

    def _on_cancel_requested(self) -> None:
        self.session.jobs.cancel()

    def _on_retry_requested(self) -> None:
        self.error_bar.hide()
        self.session.retry_last()

    def _on_split_toggled(self, on: bool) -> None:
        self.session.split_streams = on
        self.settings.set_flag("jobs/split_streams", on)
        self._update_split_note()

    def _update_split_note(self, *_: object) -> None:
        params = self.session.params
        relevant = bool(params.value("stream")) and int(params.value("n") or 1) > 1
        self.split.setVisible(relevant)
        self.split_note.setVisible(relevant and self.split.isChecked())
        self.session.split_streams = self.split.isChecked()

    def _on_readiness_changed(self, reason: str) -> None:
        ready = not reason
        self.generate_button.setEnabled(ready)
        self.generate_action.setEnabled(ready)
        self.reason.setText(reason)
        self.reason.setVisible(not ready)

    def _on_generate_refused(self, problems: list) -> None:
        self.error_bar.show_error(refused_text(problems), retryable=False)

    def _on_job_started(self, job_id: int, variants: int) -> None:
        job = self.session.jobs.jobs[job_id]
        values = dict(job.request.values)
        prompt = str(values.get("prompt", ""))
        summary = prompt if len(prompt) < 90 else prompt[:87] + "…"
        details = "\n".join(f"{k}: {v}" for k, v in values.items() if k != "prompt")
        details = f"{html.escape(prompt)}\n\n{details}\nprovider: {job.provider.name}"
        self.gallery.add_job(job_id, variants, summary, details)
        self.docks["results"].raise_()
        self._set_busy(True)

    def _on_job_finished(self, job_id: int, usage: Usage) -> None:
        self.gallery.set_status(job_id, f"done · {usage.total_tokens:,} tokens")
        self.usage_label.setText(
            f"Job #{job_id}: {usage.input_tokens:,} tokens in, {usage.output_tokens:,} out"
        )
        self._set_busy(self.session.jobs.busy)

    def _on_job_failed(self, job_id: int, error: JobError) -> None:
        self.gallery.mark_job_failed(job_id, error.message, error.variant)
        self.error_bar.show_job_error(error)
        self._set_busy(self.session.jobs.busy)

    def _on_job_cancelled(self, job_id: int) -> None:
        self.gallery.mark_job_cancelled(job_id)
        self._set_busy(self.session.jobs.busy)

    def _set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.cancel_action.setEnabled(busy)
        self.generate_button.setText("Generate again" if busy else "Generate")

    # --- results ----------------------------------------------------------------------------

    def _on_final_received(self, job_id: int, variant: int, _image: QImage, path: str) -> None:
        job = self.session.jobs.jobs[job_id]
        self.spawn(self.compare.measure(job, variant, Path(path)))

    def _on_tile_action(self, action: str, job_id: int, variant: int) -> None:
        path = self.gallery.tile_path(job_id, variant)
        if action == "discard":
            self.gallery.discard(job_id, variant)
            return
        if path is None:
            return
        job = self.session.jobs.jobs[job_id]
        paste = self.compare.paste_back != action.endswith("-alt")
        if action.startswith("save"):
            name = f"{path.stem}{'-pasted' if paste else ''}{path.suffix}"
            target, _ = QFileDialog.getSaveFileName(
                self, "Save result", str(Path.home() / name), SAVE_FILTER
            )
            if target:
                self.spawn(self._save_result(job, path, Path(target), paste))
        elif action == "copy":
            self.copy_result_requested.emit(path)
        elif action.startswith("use"):
            self.spawn(self._use_result(job, path, paste))
        elif action == "compare":
            self.show_compare(job_id, variant)

    async def _save_result(self, job, path: Path, target: Path, paste: bool) -> None:
        try:
            await self.compare.save(job, path, target, paste_back=paste)
        except (OSError, ValueError) as exc:
            self._show_problem(f"{target}: not saved. {exc}")
            return
        how = "pasted back onto the original" if paste else "as received"
        self.statusBar().showMessage(f"Saved {target.name} ({how})", 6000)

    async def _use_result(self, job, path: Path, paste: bool) -> None:
        if paste:
            try:
                path = await self.compare.pasted_file(job, path, self.session.work_dir)
            except (OSError, ValueError) as exc:
                self._show_problem(f"{path.name}: cannot be used. {exc}")
                return
        self.use_result(path)

    # --- compare --------------------------------------------------------------------------

    def show_compare(self, job_id: int, variant: int | None = None) -> None:
        """Compare a job's results: the original as A, ``variant`` (or the first) as B."""
        job = self.session.jobs.jobs.get(job_id)
        section = self.gallery.sections.get(job_id)
        if job is None or section is None:
            return
        sources = [Source("Original", job.request.images[0], job_id, None)]
        for number, tile in sorted(section.tiles.items()):
            if tile.is_final and tile.path:
                sources.append(
                    Source(f"#{job_id} variant {number + 1}", Path(tile.path), job_id, number)
                )
        if len(sources) < 2:
            self.statusBar().showMessage("This job has no final result to compare yet.", 5000)
            return
        results = [i for i, s in enumerate(sources) if s.variant is not None]
        chosen = next((i for i in results if sources[i].variant == variant), results[0])
        self.compare_panel.set_sources(sources, 0, chosen)
        self.stack.setCurrentWidget(self.compare_panel)
        self.compare_action.setChecked(True)

    def _on_compare_toggled(self, on: bool | None = None) -> None:
        if on is None:
            on = self.stack.currentWidget() is not self.compare_panel
        if on:
            newest = max((j for j in self.gallery.sections), default=None)
            if newest is None:
                self.compare_action.setChecked(False)
                self.statusBar().showMessage("Generate some variants first.", 5000)
                return
            self.show_compare(newest)
        else:
            self.stack.setCurrentWidget(self.canvas)
            self.compare_action.setChecked(False)

    def _on_compare_selection_changed(self, a: Source, b: Source, overlay: bool) -> None:
        job = self.session.jobs.jobs[a.job_id]
        self.spawn(self.compare.prepare_pair(job, a, b, drift_overlay=overlay))

    # --- providers and problems -------------------------------------------------------------

    def _on_provider_changed(self, provider) -> None:
        self.provider_label.setText(f"Provider: {provider.name}")
        self.params.set_known_models(provider.models or self.session.schema.model_names())
        self.engine_label.setVisible(provider.kind == "local")

    def _on_engine_failed(self, message: str) -> None:
        self.engine_label.setText("Local engine stopped")
        self._show_problem(message)

    def _on_page_changed(self, *_: object) -> None:
        """Canvas keys are window-wide while the canvas is shown, and gone while the
        compare view (with keys of its own: O, X, Ctrl+0...) has the picture area."""
        on_canvas = self.stack.currentWidget() is self.canvas
        set_window_wide(list(self.canvas.canvas_actions), on_canvas)
        for bar in self.canvas_toolbars:
            bar.setEnabled(on_canvas)

    def return_focus(self) -> QWidget:
        """Give the keyboard back to the picture after a dialog or a button, so canvas
        and compare shortcuts work at once (as in Krita and Photoshop); returns it."""
        picture = self.stack.currentWidget()
        picture.setFocus(Qt.FocusReason.OtherFocusReason)
        return picture

    def _show_problem(self, message: str) -> None:
        self.error_bar.show_error(message, retryable=False)

    # --- presets -----------------------------------------------------------------------------

    def _fill_presets(self) -> None:
        self.presets.clear()
        self.presets.addItems(sorted(self.settings.presets()))
        self.presets.setCurrentIndex(-1)

    def _on_preset_chosen(self, name: str) -> None:
        preset = self.settings.presets().get(name)
        if preset is not None:
            skipped = self.session.params.apply_preset(preset)
            if skipped:
                self.statusBar().showMessage(f"Preset {name}: ignored {', '.join(skipped)}", 6000)

    def _on_save_preset_clicked(self) -> None:
        # Window-modal without a nested event loop, and deleted by Qt when it closes (see
        # gui._open_settings for why not exec()).
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Save preset")
        dialog.setLabelText("Name of the preset:")
        dialog.textValueSelected.connect(self._save_preset)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(self.return_focus)
        dialog.open()

    def _save_preset(self, name: str) -> None:
        if name.strip():
            self.settings.save_preset(name.strip(), self.session.params.to_preset())
            self._fill_presets()
            self.presets.setCurrentText(name.strip())

    def _on_delete_preset_clicked(self) -> None:
        name = self.presets.currentText()
        if name:
            self.settings.delete_preset(name)
            self._fill_presets()

    # --- window state ------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.session.jobs.busy:
            answer = QMessageBox.question(
                self,
                "Jobs are running",
                "Quit and cancel the running jobs? Images that already arrived are saved.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.session.jobs.cancel()
        elif self.session.mask_unsaved() and not (self.confirm_quit or self._ask_to_quit)(
            "The painted mask has not been saved or sent. Quit and lose it?"
        ):
            event.ignore()
            return
        self.save_layout()
        super().closeEvent(event)

    def _ask_to_quit(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Quit Retouch Studio?", text)
        return answer == QMessageBox.StandardButton.Yes

    def _size_to_screen(self) -> None:
        """The first size comes from the screen (a saved layout overrides it): at most
        1440x900, and never more than 92 % of what the screen has free."""
        if self.settings.window_state()[0] is not None:
            return
        free = self.screen().availableGeometry()
        width = min(1440, int(free.width() * 0.92))
        height = min(900, int(free.height() * 0.92))
        self.resize(width, height)
        self.move(free.center() - self.rect().center())

    def save_layout(self) -> None:
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.set_prompt_history(self.prompt.history)
