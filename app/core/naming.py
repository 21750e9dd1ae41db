"""The names of result files, one rule for `retouch edit` and the editor."""

from __future__ import annotations

from app.core.events import ImageEvent, PartialImage
from app.core.imageio import EXTENSIONS, sniff_format


def result_name(event: ImageEvent, arrival: int, prefix: str = "") -> str:
    """``{prefix}{arrival:03d}-v{variant}-{partialN|final}.{ext}``: names sort in arrival
    order, say which variant (counted from 0, as in ``--json``) and which stage, and carry
    the extension of the image's real format (its bytes, not what was asked for)."""
    fmt = sniff_format(event.data[:16]) or event.output_format or "png"
    stage = f"partial{event.partial_index}" if isinstance(event, PartialImage) else "final"
    return f"{prefix}{arrival:03d}-v{event.variant}-{stage}{EXTENSIONS.get(fmt, '.' + fmt)}"
