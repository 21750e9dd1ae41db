"""The Results dock: the paste-back switch and its feather above the gallery, and what the
tiles' buttons do (asking for a file name is the only part that is the widget's; saving,
copying and using are app.models.keep's, started through the task runner)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QSpinBox, QVBoxLayout, QWidget

from app.core.original import EXTENSIONS
from app.models.jobs import JobsModel
from app.models.keep import KeepModel, save_choices
from app.models.settings import FEATHER_PX, PASTE_BACK, Settings
from app.models.tasks import TaskRunner
from app.ui.bind import bind
from app.ui.gallery import Gallery


class ResultsPanel(QWidget):
    """``compare_requested(job id, variant)``: a tile asked to be compared;
    ``message(text, milliseconds)``: what was done, for the status bar."""

    compare_requested = Signal(str, int)
    message = Signal(str, int)

    def __init__(
        self,
        jobs: JobsModel,
        keep: KeepModel,
        settings: Settings,
        runner: TaskRunner,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._jobs, self._keep, self._runner = jobs, keep, runner
        self.paste_back = QCheckBox("Paste back onto the original", self)
        self.paste_back.setObjectName("paste-back")
        bind(self.paste_back, settings, PASTE_BACK)
        self.feather = QSpinBox(self)
        self.feather.setSuffix(" px feather")
        self.feather.setObjectName("feather")
        bind(self.feather, settings, FEATHER_PX)
        self.paste_back.toggled.connect(self.feather.setEnabled)
        self.feather.setEnabled(self.paste_back.isChecked())
        self.gallery = Gallery(jobs, lambda: keep.paste_back, self)
        row = QHBoxLayout()
        row.addWidget(self.paste_back, 1)
        row.addWidget(self.feather)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.gallery, 1)
        self.gallery.action_requested.connect(self.act)
        self.gallery.activated.connect(self.compare_requested)
        keep.saved.connect(self._on_saved)
        keep.copied.connect(lambda: self.message.emit("Copied the result to the clipboard", 4000))

    def _on_saved(self, target: Path, pasted: bool, lost: str) -> None:
        how = "pasted back onto the original" if pasted else "as received"
        note = f"; {lost}" if lost else ""
        self.message.emit(f"Saved {target.name} ({how}{note})", 8000 if lost else 6000)

    def act(self, action: str, job_id: str, variant: int) -> None:
        """A tile's action: save, copy, use (their "-alt" forms the other way round for
        paste-back), compare, run the job again, discard."""
        job = self._jobs.jobs.get(job_id)
        if job is None or variant not in job.results:
            return
        paste = self._keep.pastes(alternate=action.endswith("-alt"))
        if action == "discard":
            self._jobs.discard(job_id, variant)
        elif action == "compare":
            self.compare_requested.emit(job_id, variant)
        elif action == "rerun":
            self._jobs.rerun(job_id)
        elif job.results[variant].file is None:
            return
        elif action.startswith("save"):
            name = self._keep.suggested_name(job, variant, paste=paste)
            choices = save_choices(job.source.space, paste)
            target, chosen = QFileDialog.getSaveFileName(
                self, "Save result", str(Path.home() / name), ";;".join(f for _, f in choices)
            )
            if target and not Path(target).suffix:  # no extension typed: the filter's
                fmt = next((fmt for fmt, f in choices if f == chosen), choices[0][0])
                target += EXTENSIONS[fmt]
            if target:
                self.message.emit(f"Saving {Path(target).name}…", 10000)
                self._runner.start(self._keep.save(job, variant, Path(target), paste=paste))
        elif action == "copy":
            self._runner.start(self._keep.copy(job, variant))
        elif action.startswith("use"):
            if paste:  # a large photo takes seconds to paste and write: say it is under way
                self.message.emit(f"Pasting {job.label(variant)} back onto the original…", 10000)
            self._runner.start(self._keep.use(job, variant, paste=paste))
