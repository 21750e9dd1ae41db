"""What the History panel's actions do, with the session: reopen a job (its photo, mask,
prompt and parameters, one undo step), send it again, compare its results, reveal its
folder, delete it after a confirmation that says what it frees. Files are found and
read in workers; this module only asks and wires."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QMessageBox, QWidget

from app.models.history import HistoryList
from app.models.history_jobs import find_source, provider_for
from app.models.job import Job
from app.services.history import JobRecord
from app.ui.history_panel import HistoryPanel

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


def size_text(size: int) -> str:
    """Bytes as people read them: 812 KB, 24.3 MB, 1.2 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}" if unit != "KB" else f"{size / scale:.0f} KB"
    return f"{size} bytes"


def job_folder(record: JobRecord) -> Path | None:
    """The folder that holds a job's files: its own, else where its images were written."""
    if record.owns_folder and record.folder is not None:
        return record.folder
    files = [f.path for f in record.files]
    return files[0].parent if files else record.folder


class HistoryCommands(QObject):
    """Handles ``HistoryPanel.action_requested``. Tests replace ``confirm`` (the delete
    question: text → yes) and ``reveal`` (opens a folder)."""

    def __init__(self, window: MainWindow, panel: HistoryPanel) -> None:
        super().__init__(window)
        self._window, self._panel, self._model = window, panel, panel.model
        self._session = window.session
        self.confirm: Callable[[str], bool] | None = None
        self.reveal: Callable[[Path], object] = lambda folder: QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(folder))
        )
        self._asked: dict[str, JobRecord] = {}
        self.show_action = QAction("&History", window)
        self.show_action.setStatusTip("Every job kept: search, reopen, compare, send again")
        panel.action_requested.connect(self.run)
        self._model.measured.connect(self._ask_delete)
        self._model.deleted.connect(self._on_deleted)
        self._model.failed.connect(self._session.runner.report_text)
        self._model.follow(self._session.jobs)

    def run(self, action: str, record: JobRecord) -> None:
        runner = self._session.runner
        if action == "reopen":
            runner.start(self.reopen(record))
        elif action == "rerun":
            runner.start(self.rerun(record))
        elif action == "compare":
            runner.start(self.compare(record))
        elif action == "reveal":
            self._reveal(record)
        elif action == "delete":
            self._delete(record)

    async def reopen(self, record: JobRecord) -> None:
        """The job's photo and painting on the canvas, its prompt and parameters in the
        panel: one step that Undo takes back whole."""
        found = await asyncio.to_thread(find_source, record)
        source, params = found.source, self._session.params
        if not await asyncio.to_thread((source.photo or source.original).is_file):
            self._session.runner.report_text(
                f"The photo of this job is missing ({source.photo or source.original}); "
                "nothing was changed."
            )
            return
        values = {spec.name: spec.default for spec in params.schema.value_fields}
        values.update(record.params)
        values["prompt"] = record.prompt
        models = self._session.provider.models

        def trade(state: dict[str, Any]) -> dict[str, Any]:
            before = params.values()
            params.restore_values(state, models)
            return before

        # The painting as it was (soft edges too) when the job kept it, else the mask sent.
        mask, mode = (source.painted, "white") if source.painted else (source.mask, "auto")
        self._session.document.reopen(
            source.photo or source.original, mask, name=found.name, mask_mode=mode,
            extra=(values, trade),
        )  # fmt: skip
        self._say(" ".join([f"Reopened {found.name} from the history.", *found.missing]))

    async def rerun(self, record: JobRecord) -> str | None:
        """Send the job again exactly: its stored inputs, mask, parameters, provider."""
        job, missing = await self._recall(record, show=False)
        job_id = self._session.jobs.rerun(job.id)
        number = self._session.jobs.jobs[job_id].number
        self._say(" ".join([f"Sent again as job #{number} (billed again).", *missing]))
        return job_id

    async def compare(self, record: JobRecord) -> None:
        """The job in the gallery and its results in the compare view."""
        if not record.results:
            self._say("This job has no final image to compare.")
            return
        job, missing = await self._recall(record, show=True)
        self._window.show_compare(job.id)
        if missing:
            self._say(" ".join(missing))

    async def _recall(self, record: JobRecord, *, show: bool) -> tuple[Job, list[str]]:
        provider = provider_for(record, self._session.settings.providers())
        return await self._session.jobs.recall(record, provider, show=show)

    def _reveal(self, record: JobRecord) -> None:
        folder = job_folder(record)
        if folder is None or not folder.is_dir():  # one stat, as a settings file costs
            self._say(f"The folder of this job is missing: {folder}.")
            return
        self.reveal(folder)

    def _delete(self, record: JobRecord) -> None:
        job = self._session.jobs.jobs.get(record.id)
        running_here = job is not None and job.running
        if running_here or (job is None and record.status == "running"):
            self._say("This job is still running: cancel it (or let it end) first.")
            return
        self._asked[record.id] = record
        self._model.measure(record.id)  # then _ask_delete, with the size

    def _ask_delete(self, job_id: str, size: int) -> None:
        record = self._asked.pop(job_id, None)
        if record is None:
            return
        images = len(record.files)
        text = (
            f"Delete this job and its files?\n\n“{record.prompt[:120]}”\n\n"
            f"Its {images} image{'s' if images != 1 else ''} and the copies of its inputs "
            f"no other job uses are removed: this frees {size_text(size)}. "
            "This cannot be undone."
        )
        if self._confirm(text):
            self._model.delete(job_id)

    def _confirm(self, text: str) -> bool:
        if self.confirm is not None:
            return self.confirm(text)
        parent: QWidget = self._window
        box = QMessageBox(QMessageBox.Icon.Question, "Delete job", text, parent=parent)
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.exec()
        return box.clickedButton() is delete

    def _on_deleted(self, job_id: str, freed: int) -> None:
        jobs = self._session.jobs
        job = jobs.jobs.get(job_id)
        for result in job.kept() if job is not None else []:
            jobs.discard(job_id, result.variant)
        self._say(f"Job deleted; {size_text(freed)} freed.")

    def _say(self, text: str) -> None:
        self._window.statusBar().showMessage(text, 8000)


def install_history(window: MainWindow) -> HistoryCommands:
    """The History dock, tabbed with the results and read when it is shown, and its
    commands. ``show_action`` (View ▸ History, Ctrl+Shift+H) brings it to the front with
    the keyboard in its search field."""
    jobs = window.session.jobs
    panel = HistoryPanel(HistoryList(jobs.open_history))
    window.add_dock("history", "History", panel, Qt.DockWidgetArea.RightDockWidgetArea)
    dock = window.docks["history"]
    window.tabifyDockWidget(window.docks["results"], dock)
    window.docks["params"].raise_()  # the History tab is behind until asked for
    # Read when shown; live updates only while on screen (behind a tab it costs nothing).
    panel.model.visible = False
    dock.visibilityChanged.connect(panel.model.set_visible)
    commands = HistoryCommands(window, panel)

    def show() -> None:
        dock.show()
        dock.raise_()
        panel.search.setFocus(Qt.FocusReason.ShortcutFocusReason)

    commands.show_action.setShortcut(QKeySequence("Ctrl+Shift+H"))
    commands.show_action.triggered.connect(lambda _=False: show())
    window.addAction(commands.show_action)
    return commands
