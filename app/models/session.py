"""The editing session: what the designer set up (the document, the inputs, the parameters,
the provider) turned into a checked request and a job.

Generate is refused with a reason (shown on the button) while something is missing; the
heavy checks (reading the files, encoding the mask) run in worker threads. The session also
keeps the picture being retouched and the first input the same: opening a picture makes it
the first input, and another first input (reordered, removed) asks to be opened.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, QObject, Signal
from PySide6.QtGui import QImage

from app.client import ClientConfig
from app.core.errors import ErrorKind
from app.core.imageio import ImageFileError, write_atomic
from app.core.limits import open_pixel_limit
from app.core.mask import coverage_png, to_api_png
from app.core.providers import LOCAL_VARIANT_HEADER, Provider
from app.core.region import RegionPlan
from app.core.request import EditRequest
from app.core.schema import Schema
from app.core.sending import fit_for_sending, output_note
from app.core.validation import Problem, validate_files
from app.models.crop import CropFiles, CropModel, write_crop
from app.models.document import EditDocument
from app.models.inputs import InputsModel
from app.models.job import JobSource
from app.models.jobs import JobsModel
from app.models.parameters import ParametersModel
from app.models.settings import SPLIT_STREAMS, Settings
from app.models.tasks import TaskRunner
from app.services.engine_process import LocalEngineProcess
from app.services.keys import KeyStore

OPEN_LIMIT = open_pixel_limit()  # the photo the designer opened may be larger than the API's


class EditorSession(QObject):
    """``readiness_changed(reason)``: "" when Generate may run, else why not.
    ``generate_refused(problems)``: the file checks found problems (nothing was sent).
    ``open_requested(path)``: the first input is now a file that is not the picture being
    retouched; the window asks about a painted mask and opens it."""

    readiness_changed = Signal(str)
    generate_refused = Signal(list)
    provider_changed = Signal(object)
    open_requested = Signal(Path)

    def __init__(
        self,
        schema: Schema,
        settings: Settings,
        document: EditDocument,
        jobs: JobsModel,
        keys: KeyStore,
        engine: LocalEngineProcess | None,
        provider: Provider,
        work_dir: Path,
        runner: TaskRunner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.schema = schema
        self.settings = settings
        self.params = ParametersModel(schema, self)
        self.inputs = InputsModel(schema, self)
        self.crop = CropModel(document, self.params, schema.files.max_pixels, self)
        self.inputs.work_dir = document.work_dir = work_dir
        self.document = document
        self.mask = document.mask
        self.jobs = jobs
        self.keys = keys
        self.engine = engine
        self.provider = provider
        self.params.hold("moderation", provider.moderation_note)
        self.work_dir = work_dir
        self.runner = runner
        self.last_request: tuple[EditRequest, JobSource] | None = None
        self._running_intent: tuple[object, ...] | None = None
        self.params.set_value(
            "model", provider.models[0] if provider.models else schema.field("model").default
        )
        for signal in (self.params.problems_changed, self.inputs.changed, self.mask.mask_reset):
            signal.connect(self._announce)
        if engine is not None:
            engine.ready.connect(self._announce)
            engine.failed.connect(self._announce)
        document.opened.connect(self._on_picture_opened)
        document.open_failed.connect(runner.report_text)
        self.inputs.first_changed.connect(self._on_first_input_changed)
        jobs.job_failed.connect(lambda _job, error: runner.report(error))
        jobs.job_warning.connect(lambda _job, text: runner.report_text(text, ErrorKind.PROTOCOL))

    @property
    def split_streams(self) -> bool:
        return self.settings.get(SPLIT_STREAMS)

    def set_provider(self, provider: Provider) -> None:
        self.provider = provider
        self.params.hold("moderation", provider.moderation_note)  # shown, never sent
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
        return client_config(provider, self.schema, self.keys, self.engine)

    async def generate(self) -> int | None:
        """Check everything, write the mask file, and start a job. Returns the job id, or
        None when something was refused (reported through the signals)."""
        reason = self.readiness()
        if reason:
            self.readiness_changed.emit(reason)
            return None
        images = tuple(self.inputs.paths)
        intent = self.intent()
        # Copy on this thread (a memcpy) so a stroke cannot tear the mask being encoded.
        coverage = self.mask.mask.copy() if self.mask.has_painting() else None
        files = self.schema.files
        values = self.params.request_values()
        region = None
        try:
            mask_path = await self._write_mask(coverage) if coverage is not None else None
            painted = await self._write_painted(coverage) if coverage is not None else None
            cropped = await self._crop(images[0], coverage)
            if cropped is not None:  # crop to mask: the region at a size the model takes
                plan, crop_files = cropped
                region, values = tuple(plan.region), {**values, "size": plan.size}
                extra = (crop_files.context,) if crop_files.context else ()
                wire, wire_mask = (crop_files.image, *extra, *images[1:]), crop_files.mask
            else:
                sent = await asyncio.to_thread(
                    fit_for_sending,
                    images[0],
                    coverage,
                    self.work_dir,
                    max_pixels=files.max_pixels,
                    max_bytes=files.max_file_bytes,
                    mask=mask_path,
                )
                wire, wire_mask = (sent.image, *images[1:]), sent.mask
        except (ImageFileError, ValueError) as exc:
            self.generate_refused.emit([Problem("image", str(exc), file=str(images[0]))])
            return None
        problems, _ = await asyncio.to_thread(validate_files, wire, wire_mask, self.schema)
        if problems:
            self.generate_refused.emit(problems)
            return None
        request = EditRequest(images=wire, values=values, mask=wire_mask)
        self._running_intent = intent
        self.mask.undo_stack.setClean()  # the mask is kept with the job
        self.settings.remember_prompt(str(request.values.get("prompt", "")))
        source = JobSource(
            images[0], mask_path, region, photo=self._photo(images[0]), painted=painted
        )
        return self.submit(request, source)

    async def _crop(
        self, first: Path, coverage: np.ndarray | None
    ) -> tuple[RegionPlan, CropFiles] | None:
        """Crop to mask's plan and files, in a worker; None to send the whole picture (the
        switch is off, nothing is painted, or the region would be the whole picture)."""
        crop, files = self.crop, self.schema.files
        if not crop.enabled or coverage is None:
            return None
        plan = await asyncio.to_thread(crop.plan_now, coverage)
        if plan is None or plan.whole_photo:
            return None
        written = await asyncio.to_thread(
            write_crop, first, coverage, plan, self.work_dir,
            max_pixels=OPEN_LIMIT, max_bytes=files.max_file_bytes,
            context=crop.context_image,
        )  # fmt: skip
        return plan, written

    def _photo(self, first: Path) -> Path | None:
        """The designer's own file when the first input is its working copy."""
        picture = self.document.picture
        if picture is not None and picture.path == first and picture.original != first:
            return picture.original
        return None

    def output_note(self) -> str:
        """A warning before sending: the model returns far fewer pixels than the photo has,
        so results pasted back will be softer. "" when not."""
        picture = self.document.picture
        if picture is None:
            return ""
        model = str(self.params.value("model") or "")
        rules = self.schema.rules_for(model or None)
        return output_note(picture.size, rules, self.params.value("size"), model)

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

    def submit(self, request: EditRequest, source: JobSource | None = None) -> str:
        source = source or JobSource(request.images[0], request.mask)
        self.last_request = (request, source)
        return self.jobs.submit(
            request, self.provider, split_streams=self.split_streams, source=source
        )

    def retry_last(self) -> str | None:
        if self.last_request is None:
            return None
        return self.submit(*self.last_request)

    async def save_mask(self, path: Path) -> None:
        index = self.mask.undo_stack.index()
        png = await asyncio.to_thread(to_api_png, self.mask.mask.copy())
        await asyncio.to_thread(write_atomic, path, png)
        if self.mask.undo_stack.index() == index:  # no stroke came in while it was written
            self.mask.undo_stack.setClean()

    async def save_pasted(self, image: QImage) -> Path:
        """Write a pasted picture to the work folder, so requests can stream it from disk."""
        data = await asyncio.to_thread(encode_png, image)
        return await self._write_work_file("pasted", data)

    async def _write_mask(self, coverage: np.ndarray) -> Path:
        png = await asyncio.to_thread(to_api_png, coverage)
        return await self._write_work_file("mask", png)

    async def _write_painted(self, coverage: np.ndarray) -> Path:
        """The painting exactly (soft edges too), kept with the job to reopen it."""
        png = await asyncio.to_thread(coverage_png, coverage)
        return await self._write_work_file("painted", png)

    async def _write_work_file(self, kind: str, data: bytes) -> Path:
        """A file in the work folder under a name no other run or process uses."""
        path = self.work_dir / f"{kind}-{uuid.uuid4().hex}.png"
        await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
        return await asyncio.to_thread(write_atomic, path, data)

    # --- the picture and the first input ---------------------------------------------------

    def _on_picture_opened(self, _label: str) -> None:
        picture = self.document.picture
        if picture is None:
            return
        if picture.path is None:
            self.runner.start(self._adopt_pasted(picture.image))
        elif self.inputs.first != picture.path:
            name = picture.name if picture.original else None  # a reopened job's: its own
            self.runner.start(self._make_first(picture.path, name))

    async def _adopt_pasted(self, image: QImage) -> None:
        """A pasted picture has no file: write one (in a worker) so requests can stream it."""
        path = await self.save_pasted(image)
        if self.document.picture is not None and self.document.picture.image is image:
            self.document.set_path(path)
            await self._make_first(path)

    async def _make_first(self, path: Path, name: str | None = None) -> None:
        problems = await self.inputs.replace_first(path, name)
        if problems:
            self.runner.report_text("\n".join(problems))

    def _on_first_input_changed(self, first: str) -> None:
        if first and Path(first) != self.document.path:
            self.open_requested.emit(Path(first))

    def _announce(self, *_: object) -> None:
        self.readiness_changed.emit(self.readiness())


def client_config(
    provider: Provider, schema: Schema, keys: KeyStore, engine: LocalEngineProcess | None
) -> ClientConfig:
    """How to reach a provider: the local engine's address and token, or the provider's
    URL with its key from the keyring (read when the job starts, never stored)."""
    if provider.kind == "local" and engine is not None:
        return ClientConfig(
            base_url=engine.url or "",
            path=schema.default_path,
            api_key=engine.token,
            variant_header=LOCAL_VARIANT_HEADER,
        )
    return ClientConfig(
        base_url=provider.base_url,
        path=provider.path,
        api_key=keys.get(provider.id),
        force_image_array=provider.force_image_array,
    )


def refused_text(problems: list[Problem]) -> str:
    return "Nothing was sent:\n" + "\n".join(f"• {p}" for p in problems)


def encode_png(image: QImage) -> bytes:
    """PNG bytes of a QImage (in a worker thread: QImage is safe to use off the UI thread)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("the image could not be encoded as PNG")
    return bytes(buffer.data().data())
