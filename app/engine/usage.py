"""Token usage the engine reports. It runs no language model, so the counts are a documented
formula of the work done, in the shape OpenAI reports (PROTOCOL.md):

- text tokens: ceil(characters of the prompt / 4);
- image tokens of an image of W x H pixels: 85 + 170 x ceil(W / 512) x ceil(H / 512) (one
  unit per 512 px tile, as OpenAI counts vision input);
- input: the prompt plus every input image (not the mask);
- output: every returned image at its output size, plus 100 per partial image sent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from app.core.events import Usage

PARTIAL_IMAGE_TOKENS = 100
_TILE = 512


def text_tokens(prompt: str) -> int:
    return math.ceil(len(prompt) / 4)


def image_tokens(width: int, height: int) -> int:
    return 85 + 170 * math.ceil(width / _TILE) * math.ceil(height / _TILE)


def usage(
    *,
    prompt: str,
    inputs: Iterable[tuple[int, int]],
    outputs: Iterable[tuple[int, int]],
    partials: int = 0,
    count_input: bool = True,
) -> Usage:
    """The usage of some outputs. ``count_input=False`` leaves the input out (a stream's
    later completed events, so that their sum is the request's usage)."""
    text = text_tokens(prompt) if count_input else 0
    image_in = sum(image_tokens(w, h) for w, h in inputs) if count_input else 0
    image_out = sum(image_tokens(w, h) for w, h in outputs) + PARTIAL_IMAGE_TOKENS * partials
    return Usage(
        input_tokens=text + image_in,
        output_tokens=image_out,
        total_tokens=text + image_in + image_out,
        details={
            "input_tokens_details": {"text_tokens": text, "image_tokens": image_in},
            "output_tokens_details": {"image_tokens": image_out, "text_tokens": 0},
        },
    )
