"""One rule names result files for `retouch edit` and the editor."""

from __future__ import annotations

from app.core.events import CompletedImage, PartialImage
from app.core.naming import result_name
from tests.support.images import png_bytes


def test_names_sort_by_arrival_and_carry_the_real_format() -> None:
    png = png_bytes(4, 4)
    partial = PartialImage(data=png, variant=1, partial_index=2, output_format="jpeg")
    final = CompletedImage(data=png, variant=0, output_format="webp")
    assert result_name(partial, 7) == "007-v1-partial2.png"  # the bytes are a PNG
    assert result_name(final, 12, prefix="retouch-x-") == "retouch-x-012-v0-final.png"
    assert result_name(partial, 7) < result_name(final, 12)
