"""What ``retouch edit`` writes and prints: each image on disk the moment it arrives
(``ResultWriter``), and one line per event for people or one JSON object per event for
scripts (``Reporter``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.core.errors import UserError
from app.core.events import CompletedImage, ImageEvent, JobWarning, PartialImage, Usage
from app.core.imageio import ImageFileError, probe_image, write_new
from app.core.naming import result_name
from app.core.validation import Problem

if TYPE_CHECKING:
    from app.core.region import RegionPlan


@dataclass
class ResultWriter:
    """Writes each image the moment it arrives, atomically, under a name that sorts in
    arrival order and shows the variant and the partial index."""

    folder: Path
    stamp: str = field(default_factory=lambda: datetime.now().strftime("%Y%m%d-%H%M%S"))
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    """In every name: the run's own (its job id's start), so two runs into one folder in
    the same second never take each other's names."""
    written: list[Path] = field(default_factory=list)
    pasted: list[Path] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    on_saved: Callable[[ImageEvent, Path], None] | None = None
    """Called with each image once it is on disk, in the same (worker) call: the history
    records it there (app.cli_history.EditRecording.saved)."""

    recreated: bool = False
    """The folder was gone mid-run (removed by someone) and was made again."""

    def write(self, event: ImageEvent) -> Path:
        prefix = f"retouch-{self.stamp}-{self.run}-"
        name = result_name(event, len(self.written) + 1, prefix=prefix)
        for attempt in (1, 2):
            if not self.folder.is_dir():  # removed mid-run: the images still to come are kept
                self.folder.mkdir(parents=True, exist_ok=True)
                self.recreated = self.recreated or bool(self.written) or attempt == 2
            try:
                path = write_new(self.folder / name, event.data)
                break
            except FileNotFoundError:  # the folder went away during this very write
                if attempt == 2 or self.folder.is_dir():
                    raise
        self.written.append(path)
        if isinstance(event, CompletedImage) and event.usage is not None:
            self.usage = self.usage + event.usage
        if self.on_saved is not None:
            self.on_saved(event, path)
        return path

    @property
    def finals(self) -> int:
        return sum(p.stem.endswith("-final") for p in self.written)


@dataclass
class Reporter:
    """Progress for people (one short line per event) or for scripts (JSON lines)."""

    out: TextIO
    err: TextIO
    as_json: bool = False

    def _emit(self, record: dict[str, Any], line: str, *, error: bool = False) -> None:
        if self.as_json:
            print(json.dumps(record), file=self.out, flush=True)
        else:
            print(line, file=self.err if error else self.out, flush=True)

    def invalid(self, problems: list[Problem]) -> None:
        listed = [{"field": p.field, "file": p.file, "message": p.message} for p in problems]
        record = {"event": "invalid", "problems": listed}
        lines = "\n".join(f"  - {p}" for p in problems)
        self._emit(record, f"retouch: nothing was sent; fix these first:\n{lines}", error=True)

    def scaled(self, name: str, size: tuple[int, int], sent: tuple[int, int]) -> None:
        """The first image is over the API's limits and is sent smaller."""
        record = {"event": "scaled", "file": name, "width": size[0], "height": size[1],
                  "sent_width": sent[0], "sent_height": sent[1]}  # fmt: skip
        line = (
            f"{name} is {size[0]}x{size[1]}, over what the API takes: sent scaled to "
            f"{sent[0]}x{sent[1]} (--paste-back puts the result on the full-size photo)"
        )
        self._emit(record, line, error=True)

    def cropped(self, name: str, plan: RegionPlan, *, context: bool = False) -> None:
        """Crop to mask: which region of the first image is sent, at which size."""
        x, y, width, height = plan.region
        record = {
            "event": "crop", "file": name, "width": plan.photo[0], "height": plan.photo[1],
            "region": [x, y, width, height], "sent_width": plan.output[0],
            "sent_height": plan.output[1], "size": plan.size, "scale": round(plan.scale, 4),
            "describe": plan.describe(), "notes": list(plan.notes),
            "experimental": plan.experimental, "stretched": plan.stretched,
            "context_image": context,
        }  # fmt: skip
        line = f"{name}: crop to mask {plan.describe()} at ({x}, {y})"
        if context:
            line += ", with the whole photo for context"
        self._emit(record, "\n".join([line, *(f"  note: {note}" for note in plan.notes)]))

    def warning(self, message: str) -> None:
        """Something the run worked around (it goes on): on stderr, or a ``warning`` event."""
        self._emit({"event": "warning", "message": message}, f"retouch: warning: {message}",
                   error=True)  # fmt: skip

    def job_warning(self, warning: JobWarning) -> None:
        """The client ignored something the server sent (extra images) and went on."""
        record = {"event": "warning", "message": warning.message, "code": warning.code,
                  "variant": warning.variant, "request_id": warning.request_id}  # fmt: skip
        self._emit(record, f"retouch: warning: {warning.message}", error=True)

    def retry(self, notice: Any) -> None:
        record = {
            "event": "retry",
            "attempt": notice.attempt,
            "delay": round(notice.delay, 3),
            "reason": notice.reason,
        }
        line = f"retry {notice.attempt} in {notice.delay:.1f} s ({notice.reason})"
        self._emit(record, line, error=True)

    def image(
        self,
        event: ImageEvent,
        path: Path,
        pasted: Path | None = None,
        *,
        drift: float | None = None,
    ) -> None:
        try:
            info = probe_image(path, max_pixels=1 << 40)
            dims = {"width": info.width, "height": info.height, "format": info.format}
        except ImageFileError:
            dims = {}
        kind = "partial" if isinstance(event, PartialImage) else "completed"
        record: dict[str, Any] = {
            "event": kind,
            "variant": event.variant,
            "file": str(path),
            "bytes": len(event.data),
            **dims,
        }
        # The JSON keeps the API's indexes (from 0); the line for people counts from 1,
        # as the editor's tiles do.
        if isinstance(event, PartialImage):
            record["partial_index"] = event.partial_index
            label = f"partial {event.partial_index + 1} of variant {event.variant + 1}"
        else:
            record["usage"] = event.usage.to_json() if event.usage else None
            label = f"variant {event.variant + 1} done"
        record["request_id"] = event.request_id
        size = f"{dims['width']}x{dims['height']}" if dims else "?"
        line = f"{label}: {path} ({size})"
        if drift is not None:  # crop to mask: inside the region, outside the mask
            record["drift"] = round(drift, 6)
            line += f"; drift in the region outside the mask {drift:.1%}"
        if pasted is not None:
            record["pasted"] = str(pasted)
            line += f"; pasted onto the original: {pasted}"
        self._emit(record, line)

    def failure(self, error: UserError, writer: ResultWriter) -> None:
        record = {
            "event": "error",
            "kind": error.kind.value,
            "message": error.message,
            "status": error.status,
            "type": error.type,
            "code": error.code,
            "param": error.param,
            "request_id": error.request_id,
            "files": [str(p) for p in writer.written],
        }
        kept = f"; {len(writer.written)} image(s) already saved" if writer.written else ""
        self._emit(record, f"retouch: {error.message}{kept}", error=True)

    def done(self, writer: ResultWriter) -> None:
        usage = writer.usage
        record = {
            "event": "done",
            "images": writer.finals,
            "files": [str(p) for p in writer.written],
            "usage": usage.to_json(),
        }
        pasted = ""
        if writer.pasted:
            record["pasted"] = [str(p) for p in writer.pasted]
            pasted = f" (and {len(writer.pasted)} pasted onto the original)"
        line = (
            f"{writer.finals} image(s){pasted} saved to {writer.folder}; tokens: "
            f"{usage.input_tokens} in, {usage.output_tokens} out"
        )
        self._emit(record, line)
