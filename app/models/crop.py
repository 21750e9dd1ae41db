"""Crop to mask in the editor: whether it is on, and the region it would send now.

The plan (app.core.region) follows the mask while it is painted: each change schedules a
new plan, computed in a worker from the mask as it is then (``mask_bounds`` reads it; at
48 MP that is a few milliseconds). Generate plans once more from its own copy of the
mask, so what is sent never depends on a plan in flight.

On by default when the photo is larger than what the model returns (sending it whole
would shrink it); the designer can turn it off (whole-image mode), drag the region on the
canvas (``set_frame``: the plan then fits that frame instead of the padded mask box) and
add the whole photo, downscaled, as a second input for context.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.core.composite import load_rgb
from app.core.cropping import CONTEXT_SIDE, CropFiles, prepare_crop
from app.core.region import Rect, RegionPlan, plan_for_coverage, plan_region
from app.core.schema import ModelRules
from app.models.document import EditDocument
from app.models.parameters import ParametersModel
from app.qt.background import Background

PLAN_DELAY_MS = 60
"""How long after a change the region is planned again: a stroke's burst plans once."""


class CropModel(QObject):
    """``changed``: ``enabled``, ``plan`` or ``frame`` changed (the canvas frame and the
    panel's line follow it)."""

    changed = Signal()

    def __init__(
        self,
        document: EditDocument,
        params: ParametersModel,
        max_pixels: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._document, self._params = document, params
        self._max_pixels = max_pixels
        self.enabled = False
        self.context_image = False
        self.padding: int | None = None
        self.frame: Rect | None = None  # the region the designer dragged, else None
        self.plan: RegionPlan | None = None
        self.problem = ""  # why no region can be planned (a model with no size to crop to)
        self._chosen = False  # the designer set the switch for this photo
        self._serial = 0
        self._background = Background(self)
        self._timer = QTimer(self, singleShot=True, interval=PLAN_DELAY_MS)
        self._timer.timeout.connect(self._plan)
        document.mask.mask_changed.connect(self.schedule)
        document.mask.mask_reset.connect(self._on_reset)
        document.picture_changed.connect(self._on_picture_changed)
        params.value_changed.connect(self._on_value_changed)

    # --- the designer's choices -------------------------------------------------------------

    def set_enabled(self, on: bool) -> None:
        self._chosen = True
        if on != self.enabled:
            self.enabled = on
            self._hold_size()
            self.changed.emit()
            self.schedule()

    def set_frame(self, frame: Rect | None) -> None:
        """The region dragged on the canvas (None: follow the mask again)."""
        self.frame = frame
        self.schedule()

    def set_context_image(self, on: bool) -> None:
        self.context_image = on
        self.changed.emit()

    def rules(self) -> ModelRules:
        return self._params.schema.rules_for(self._params.value("model"))

    def plan_now(self, coverage) -> RegionPlan | None:
        """The plan for ``coverage`` (a copy of the mask: Generate's, in a worker)."""
        return plan_for_coverage(
            coverage, self.rules(), padding=self.padding, frame=self.frame,
            max_pixels=self._max_pixels,
        )  # fmt: skip

    def text(self) -> str:
        """The panel's line: what is sent, from which region, and any warning."""
        if not self.enabled:
            return ""
        if self.problem:
            return (
                f"Crop to mask is not possible: {self.problem}. Turn it off to send the "
                "photo whole."
            )
        if self.plan is None:
            return "Crop to mask: paint where to edit; the region follows the mask."
        plan = self.plan
        (width, height), region = plan.output, plan.region
        line = f"Sends {width}×{height} from a {region.width}×{region.height} region"
        return " ".join([f"{line} ({plan.scale:.2f}×).", *plan.notes])

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._background.wait(timeout_s)

    # --- planning ---------------------------------------------------------------------------

    def schedule(self, *_: object) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _plan(self) -> None:
        self._serial += 1
        serial, mask = self._serial, self._document.mask.mask
        if not self.enabled or self._document.picture is None:
            self._set_plan(serial, None)
            return
        self._background.run(
            lambda: self.plan_now(mask),
            lambda plan: self._set_plan(serial, plan),
            lambda exc: self._set_plan(serial, None, str(exc)),
        )

    def _set_plan(self, serial: int, plan: RegionPlan | None, problem: str = "") -> None:
        if serial == self._serial and (plan != self.plan or problem != self.problem):
            self.plan, self.problem = plan, problem
            self._hold_size()
            self.changed.emit()

    def _hold_size(self) -> None:
        """While a region is planned, its size is the request's: the Size field says so."""
        plan = self.plan if self.enabled else None
        self._params.hold("size", f"Crop to mask asks for {plan.size}." if plan else None)

    def _on_reset(self, *_: object) -> None:
        self.frame = None
        self.schedule()

    def _on_picture_changed(self, *_: object) -> None:
        """A new photo: the switch's default again (on when the photo is larger than the
        model's output), the frame follows the mask again."""
        self._chosen, self.frame = False, None
        self._default()

    def _on_value_changed(self, name: str, _value: object) -> None:
        if name == "model":
            if not self._chosen:
                self._default()
            self.schedule()

    def _default(self) -> None:
        picture = self._document.picture
        on = picture is not None and self.whole_photo_shrinks(picture.size)
        if on != self.enabled:
            self.enabled = on
            self._hold_size()
            self.changed.emit()
        self.schedule()

    def whole_photo_shrinks(self, size: tuple[int, int]) -> bool:
        """Sending the whole photo would shrink it: the model returns fewer pixels."""
        try:
            whole = plan_region(size, Rect.of_size(size), self.rules(), padding=0,
                                max_pixels=self._max_pixels)  # fmt: skip
        except ValueError:  # no size of the model fits the API's limits: no crop either
            return False
        return whole.scale < 0.999


def write_crop(
    first: Path,
    coverage: np.ndarray,
    plan: RegionPlan,
    work_dir: Path,
    *,
    max_pixels: int,
    max_bytes: int,
    context: bool = False,
) -> CropFiles:
    """In a worker: the files crop to mask sends (``app.core.cropping.prepare_crop``),
    written into ``work_dir`` under names no other run uses. ``first`` is the picture as
    it is sent (upright 8-bit sRGB); ``context`` adds the whole picture, downscaled."""
    pixels = load_rgb(first, max_pixels=max_pixels, name=first.name)
    side = CONTEXT_SIDE if context else None
    return prepare_crop(pixels, coverage, plan, work_dir, max_bytes=max_bytes, context_side=side)
