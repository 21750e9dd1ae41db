"""The editing session: turns what the designer set up into a checked request and a job.

Generate is refused with a reason (shown on the button) while something is missing; the
heavy checks (reading the files, encoding the mask) run in worker threads.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QObject, Signal
from PySide6.QtGui import QImage

from app.client import ClientConfig
from app.core.imageio import write_atomic
from app.core.mask import to_api_png
from app.core.providers import LOCAL_VARIANT_HEADER, Provider
from app.core.request import EditRequest
from app.core.schema import Schema
from app.core.validation import Problem, validate_files
from app.services.engine_process import LocalEngineProcess
from app.models.inputs import InputsModel
from app.models.jobs import JobsModel
from app.services.keys import KeyStore
from app.models.mask_document import MaskDocument
from app.models.parameters import ParametersModel


class EditorSession(QObject):
    """``readiness_changed(reason)``: "" when Generate may run, else why not.
    ``generate_refused(problems)``: the file checks found problems (nothing was sent)."""

    readiness_changed = Signal(str)
    generate_refused = Signal(list)
    provider_changed = Signal(object)

    def __init__(
        self,
        schema: Schema,
        params: ParametersModel,
        inputs: InputsModel,
        mask: MaskDocument,
        jobs: JobsModel,
        keys: KeyStore,
        engine: LocalEngineProcess | None,
        provider: Provider,
        work_dir: Path,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.schema = schema
        self.params = params
        self.inputs = inputs
        self.mask = mask
        self.jobs = jobs
        self.keys = keys
        self.engine = engine
        self.provider = provider
        self.work_dir = work_dir
        self.split_streams = True
        self.last_request: EditRequest | None = None
        self._running_intent: tuple[object, ...] | None = None
        self._mask_serial = 0
        for signal in (params.problems_changed, inputs.changed, mask.mask_reset):
            signal.connect(self._announce)
        if engine is not None:
            engine.ready.connect(self._announce)
            engine.failed.connect(self._announce)

    def set_provider(self, provider: Provider) -> None:
        self.provider = provider
        models = provider.models
        current = self.params.value("model")
        if models and current not in models:
            self.params.set_value("model", models[0])
        self.provider_changed.emit(provider)
        self._announce()

    def readiness(self) -> str:
        """Why Generate cannot run now, or "" when it can."""
        if not self.inputs.paths:
            return "Open an image first."
        problems = self.params.problems()
        if problems:
            return str(problems[0])
        if self.provider.kind == "local":
            if self.engine is None or self.engine.url is None:
                return "The local engine is starting…"
        elif self.keys.get(self.provider.id) is None:
            return f"Enter an API key for {self.provider.name} in Settings."
        return ""

    def client_config(self, provider: Provider) -> ClientConfig:
        if provider.kind == "local" and self.engine is not None:
            return ClientConfig(
                base_url=self.engine.url or "",
                path=self.schema.default_path,
                api_key=self.engine.token,
                variant_header=LOCAL_VARIANT_HEADER,
            )
        return ClientConfig(
            base_url=provider.base_url,
            path=provider.path,
            api_key=self.keys.get(provider.id),
            force_image_array=provider.force_image_array,
        )

    async def generate(self) -> int | None:
        """Check everything, write the mask file, and start a job. Returns the job id, or
        None when something was refused (reported through the signals)."""
        reason = self.readiness()
        if reason:
            self.readiness_changed.emit(reason)
            return None
        images = tuple(self.inputs.paths)
        mask_path = await self._write_mask() if self.mask.has_painting() else None
        problems, _ = await asyncio.to_thread(validate_files, images, mask_path, self.schema)
        if problems:
            self.generate_refused.emit(problems)
            return None
        request = EditRequest(images=images, values=self.params.request_values(), mask=mask_path)
        self._running_intent = self.intent()
        self.mask.undo_stack.setClean()  # the mask is kept with the job
        return self.submit(request)

    def intent(self) -> tuple[object, ...]:
        """What the designer asks for right now: the same intent twice is the same bill."""
        values = tuple(sorted((k, repr(v)) for k, v in self.params.request_values().items()))
        mask = (id(self.mask.mask), self.mask.undo_stack.index(), self.mask.has_painting())
        return (self.provider.id, tuple(self.inputs.paths), values, mask)

    def repeats_running_job(self) -> bool:
        return self.jobs.busy and self._running_intent == self.intent()

    def mask_unsaved(self) -> bool:
        """Painting that exists nowhere but here: not saved to a file, not sent in a job."""
        return self.mask.has_painting() and not self.mask.undo_stack.isClean()

    def submit(self, request: EditRequest) -> int:
        self.last_request = request
        return self.jobs.submit(request, self.provider, split_streams=self.split_streams)

    def retry_last(self) -> int | None:
        if self.last_request is None:
            return None
        return self.submit(self.last_request)

    async def save_mask(self, path: Path) -> None:
        index = self.mask.undo_stack.index()
        png = await asyncio.to_thread(to_api_png, self.mask.mask.copy())
        await asyncio.to_thread(write_atomic, path, png)
        if self.mask.undo_stack.index() == index:  # no stroke came in while it was written
            self.mask.undo_stack.setClean()

    async def save_pasted(self, image: QImage) -> Path:
        """Write a pasted picture to the work folder, so requests can stream it from disk."""
        self._mask_serial += 1
        path = self.work_dir / f"pasted-{self._mask_serial:04d}.png"
        await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
        data = await asyncio.to_thread(encode_png, image)
        await asyncio.to_thread(write_atomic, path, data)
        return path

    async def _write_mask(self) -> Path:
        # Copy on this thread (a memcpy) so a stroke cannot tear the mask being encoded.
        png = await asyncio.to_thread(to_api_png, self.mask.mask.copy())
        self._mask_serial += 1
        path = self.work_dir / f"mask-{self._mask_serial:04d}.png"
        await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(write_atomic, path, png)
        return path

    def _announce(self, *_: object) -> None:
        self.readiness_changed.emit(self.readiness())


def refused_text(problems: list[Problem]) -> str:
    return "Nothing was sent:\n" + "\n".join(f"• {p}" for p in problems)


def encode_png(image: QImage) -> bytes:
    """PNG bytes of a QImage (in a worker thread: QImage is safe to use off the UI thread)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("the image could not be encoded as PNG")
    return bytes(buffer.data().data())
