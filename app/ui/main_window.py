"""The editor window: lays out the canvas, the docks and the menus, and wires them to the
models. Each dock is its own module (generate_panel, presets, results_panel, input_strip);
the File menu's dialogs are file_commands, the menus are menus. State is the models'."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.models.compare import CompareModel, Source
from app.models.keep import KeepModel
from app.models.recovery import SessionRecovery
from app.models.session import EditorSession, refused_text
from app.ui.about import install_help
from app.ui.canvas.toolbars import ToolOptionsBar, ToolPalette
from app.ui.canvas.view import MaskCanvas
from app.ui.compare_panel import ComparePanel
from app.ui.crop_controls import connect_canvas
from app.ui.error_bar import ErrorBar
from app.ui.file_commands import FileCommands
from app.ui.first_run import FirstRunPanel
from app.ui.generate_panel import GeneratePanel
from app.ui.history_commands import install_history
from app.ui.input_strip import InputStrip
from app.ui.keyboard import buttons_keep_focus_away, set_window_wide
from app.ui.menus import build_menus
from app.ui.presets import PresetsPanel
from app.ui.results_panel import ResultsPanel
from app.ui.status_bar import EditorStatusBar
from app.ui.window_state import restore_layout, size_to_screen


class MainWindow(QMainWindow):
    """Everything the designer sees. Long work runs as tasks of the session's runner; no
    slot here reads a file, decodes an image or touches the network."""

    settings_requested = Signal()
    open_action: QAction
    compare_action: QAction
    generate_action: QAction
    cancel_action: QAction

    def __init__(
        self,
        session: EditorSession,
        compare: CompareModel,
        keep: KeepModel,
        recovery: SessionRecovery,
        sample: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retouch Studio")
        self.setObjectName("main-window")
        self.session, self.settings, self.compare = session, session.settings, compare
        self.keep, self.sample = keep, sample
        self.runner = session.runner
        # None asks with a dialog; tests put an answer here. (Not a bound method: that
        # would make a reference cycle through the window.)

        self.canvas = MaskCanvas(session.document, parent=self)
        self.error_bar = ErrorBar()
        self.first_run = FirstRunPanel(self.canvas)
        self.compare_panel = ComparePanel()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.canvas)
        self.stack.addWidget(self.compare_panel)
        center = QWidget()
        column = QVBoxLayout(center)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.error_bar)
        column.addWidget(self.stack, 1)
        self.setCentralWidget(center)
        self.canvas_toolbars = (ToolPalette(self.canvas, self), ToolOptionsBar(self.canvas, self))
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.canvas_toolbars[0])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.canvas_toolbars[1])

        self.inputs = InputStrip(session.inputs)
        self.generate_panel = GeneratePanel(session)
        self.prompt = self.generate_panel.prompt
        self.presets_panel = PresetsPanel(session.params, self.settings)
        self.presets, self.params = self.presets_panel.presets, self.presets_panel.params
        self.results = ResultsPanel(session.jobs, keep, self.settings, self.runner)
        self.gallery = self.results.gallery
        self.docks: dict[str, QDockWidget] = {}
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.add_dock("inputs", "Inputs", self.inputs, left)
        self.add_dock("prompt", "Prompt", self.generate_panel, right)
        self.add_dock("params", "Parameters", self.presets_panel, right)
        self.add_dock("results", "Results", self.results, right)
        self.tabifyDockWidget(self.docks["params"], self.docks["results"])
        self.docks["params"].raise_()
        self.resizeDocks([self.docks["inputs"]], [150], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["prompt"]], [400], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["prompt"]], [230], Qt.Orientation.Vertical)

        self.setStatusBar(EditorStatusBar(session, self))
        self.files = FileCommands(self, session, recovery, self.canvas, self.statusBar(), sample)
        self.history = install_history(self)
        build_menus(self)
        install_help(self)  # Help: keyboard shortcuts, About
        self._connect()
        restore_layout(self, self.settings)
        self._show_models(session.provider)
        self._on_readiness_changed(session.readiness())
        self.canvas.installEventFilter(self)
        self._update_first_run()
        # Tab follows the layout, left to right: the inputs, the picture, then the prompt.
        QWidget.setTabOrder(self.inputs.remove, self.canvas)
        QWidget.setTabOrder(self.canvas, self.prompt)
        self.stack.currentChanged.connect(self._on_page_changed)
        self._on_page_changed()
        buttons_keep_focus_away(self)
        size_to_screen(self, self.settings)

    def add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        # A dock behind another's tab is moved off screen, not hidden: without this, Tab
        # and typed keys could still reach its fields (issue 10: "w" typed into a hidden
        # User field). Disabled, it leaves the focus chain and gives the focus back.
        dock.visibilityChanged.connect(widget.setEnabled)
        self.docks[name] = dock

    def _connect(self) -> None:
        session, jobs, panel = self.session, self.session.jobs, self.generate_panel
        panel.generate_button.clicked.connect(self.generate)
        panel.cancel_button.clicked.connect(lambda: jobs.cancel())
        session.readiness_changed.connect(self._on_readiness_changed)
        session.generate_refused.connect(
            lambda problems: self.error_bar.show_error(refused_text(problems), retryable=False)
        )
        session.provider_changed.connect(self._show_models)
        session.open_requested.connect(self.canvas.open_file, Qt.ConnectionType.QueuedConnection)
        session.inputs.changed.connect(self._update_first_run)
        session.document.opened.connect(self._update_first_run)
        self.runner.problem.connect(self.error_bar.show_problem)
        connect_canvas(self.canvas, session.crop)
        self.results.message.connect(self.statusBar().showMessage)
        self.inputs.add_requested.connect(self.files.add_inputs)
        self.first_run.open_requested.connect(self.files.open_image)
        self.first_run.sample_requested.connect(self.files.open_sample)
        self.error_bar.retry_requested.connect(self._on_retry_requested)
        self.error_bar.settings_requested.connect(self.settings_requested.emit)
        self.presets_panel.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.presets_panel.dialog_closed.connect(self.return_focus)
        jobs.job_started.connect(self._on_job_started)
        for ended in (jobs.job_finished, jobs.job_failed, jobs.job_cancelled):
            ended.connect(lambda *_: self._show_busy(jobs.busy))
        jobs.image_received.connect(
            lambda job_id, variant, *_: self.runner.start(
                self.compare.measure(jobs.jobs[job_id], variant)
            )
        )
        self.results.compare_requested.connect(self.show_compare)
        self.compare.measured.connect(self.gallery.render)
        self.compare.pair_ready.connect(self.compare_panel.show_pair)
        self.compare_panel.selection_changed.connect(self._on_compare_selection_changed)
        self.compare_panel.close_requested.connect(lambda: self.toggle_compare(False))
        if session.engine is not None:
            session.engine.failed.connect(
                lambda text: self.error_bar.show_error(text, retryable=False)
            )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self.first_run.center_in(self.canvas)
        return super().eventFilter(watched, event)

    def _update_first_run(self, *_: object) -> None:
        empty = not self.session.inputs.paths and not self.canvas.has_image()
        self.first_run.setVisible(empty)
        self.canvas.set_drop_text_visible(not empty)  # the card says it already
        if empty:
            self.first_run.center_in(self.canvas)
            self.first_run.raise_()

    # --- generate -------------------------------------------------------------------------

    def generate(self) -> None:
        if not self.generate_panel.generate_button.isEnabled():
            return
        if self.session.repeats_running_job() and (
            self.sender() is not self.generate_panel.generate_button
        ):
            # One paid job per intent: a second Ctrl+Enter while the same request runs is
            # more likely a double press than a wish to pay twice.
            self.statusBar().showMessage(
                "This request is already running. Click Generate again to start another "
                "one (it is billed again).",
                8000,
            )
            return
        self.error_bar.hide()
        self.prompt.restart_history()
        self.runner.start(self.session.generate())

    def _on_retry_requested(self) -> None:
        self.error_bar.hide()
        self.session.retry_last()

    def _on_readiness_changed(self, reason: str) -> None:
        self.generate_panel.show_readiness(reason)
        self.generate_action.setEnabled(not reason)

    def _on_job_started(self, _job_id: str, _variants: int) -> None:
        self.docks["results"].raise_()
        self._show_busy(True)

    def _show_busy(self, busy: bool) -> None:
        self.generate_panel.show_busy(busy)
        self.cancel_action.setEnabled(busy)

    # --- compare --------------------------------------------------------------------------

    def show_compare(self, job_id: str, variant: int | None = None) -> None:
        """Compare a job's results: the original as A, ``variant`` (or the first) as B."""
        job = self.session.jobs.jobs.get(job_id)
        sources = self.compare.sources(job) if job is not None else []
        if len(sources) < 2:
            self.statusBar().showMessage("This job has no final result to compare yet.", 5000)
            return
        results = [i for i, s in enumerate(sources) if s.variant is not None]
        chosen = next((i for i in results if sources[i].variant == variant), results[0])
        self.compare_panel.set_region(job.source.region if job is not None else None)
        self.compare_panel.set_sources(sources, 0, chosen)
        self.stack.setCurrentWidget(self.compare_panel)
        self.compare_action.setChecked(True)

    def toggle_compare(self, on: bool | None = None) -> None:
        if on is None:
            on = self.stack.currentWidget() is not self.compare_panel
        newest = self.session.jobs.newest()
        if on and newest is None:
            self.compare_action.setChecked(False)
            self.statusBar().showMessage("Generate some variants first.", 5000)
        elif on and newest is not None:
            self.show_compare(newest.id)
        else:
            self.stack.setCurrentWidget(self.canvas)
            self.compare_action.setChecked(False)

    def _on_compare_selection_changed(self, a: Source, b: Source, overlay: bool) -> None:
        job = self.session.jobs.jobs[a.job_id]
        self.runner.start(self.compare.prepare_pair(job, a, b, drift_overlay=overlay))

    # --- providers, problems, focus ---------------------------------------------------------

    def _show_models(self, provider) -> None:
        self.params.set_known_models(provider.models or self.session.schema.model_names())

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

    # --- window state ------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.session.jobs.busy:
            text = "Quit and cancel the running jobs? Images that already arrived are saved."
            if QMessageBox.question(self, "Jobs are running", text) != (
                QMessageBox.StandardButton.Yes
            ):
                event.ignore()
                return
            self.session.jobs.cancel()
        self.save_layout()
        super().closeEvent(event)

    def save_layout(self) -> None:
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
