"""`retouch edit` with a photo over the API's per-image limit (33,177,600 pixels): it is
sent scaled with its mask, a `scaled` event says so, and --paste-back puts the result on
the full-size photo, exact outside the mask. A fault server on 127.0.0.1 records what was
sent and answers with a small image, as the APIs do."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from app.cli import main
from app.core.schema import load_schema
from tests.support import fault_server as fs
from tests.support import images

WIDTH, HEIGHT = 6400, 5400  # 34.6 MP: just over the limit
HOLE = (3000, 2500, 3300, 2700)


def test_a_photo_over_the_api_limit_is_sent_scaled_and_pasted_back_full_size(
    capsys, tmp_path: Path, monkeypatch
) -> None:
    limit = load_schema().files.max_pixels
    assert limit < WIDTH * HEIGHT
    x = np.linspace(0, 255, WIDTH, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, HEIGHT, dtype=np.float32)[:, None]
    pixels = np.dstack([x + 0 * y, y + 0 * x, np.full((HEIGHT, WIDTH), 90, np.float32)])
    photo = tmp_path / "big.png"
    Image.fromarray(pixels.astype(np.uint8)).save(photo, compress_level=1)
    mask = images.write(tmp_path / "mask.png", images.mask_bytes(WIDTH, HEIGHT, HOLE))
    answer = images.encode(Image.new("RGB", (1536, 1024), (255, 0, 0)), "PNG")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-large-photo")
    with fs.serve(fs.json_images([answer])) as server:
        code = main([
            "edit", "--base-url", server.base_url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "paint it red", "--model", "gpt-image-1", "--out", str(tmp_path / "out"),
            "--paste-back", "--json",
        ])  # fmt: skip
        sent = server.requests[0].files
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert code == 0, events
    scaled = next(e for e in events if e["event"] == "scaled")
    assert (scaled["width"], scaled["height"]) == (WIDTH, HEIGHT)
    assert scaled["sent_width"] * scaled["sent_height"] <= limit
    assert scaled["file"] == str(photo)
    # What went on the wire: the scaled photo and its mask, the same size.
    image_part = next(p for p in sent if p.name.startswith("image"))
    mask_part = next(p for p in sent if p.name == "mask")
    with Image.open(io.BytesIO(image_part.data)) as wire:
        assert wire.size == (scaled["sent_width"], scaled["sent_height"])
    with Image.open(io.BytesIO(mask_part.data)) as wire_mask:
        assert wire_mask.size == (scaled["sent_width"], scaled["sent_height"])
        alpha = np.asarray(wire_mask.convert("RGBA").getchannel("A"))
    factor = scaled["sent_width"] / WIDTH
    cx, cy = int((HOLE[0] + HOLE[2]) / 2 * factor), int((HOLE[1] + HOLE[3]) / 2 * factor)
    assert alpha[cy, cx] == 0 and alpha[0, 0] == 255
    # Pasted back onto the full-size photo: red in the hole, the photo's own elsewhere.
    final = next(e for e in events if e["event"] == "completed")
    with Image.open(final["pasted"]) as pasted:
        assert pasted.size == (WIDTH, HEIGHT)
        kept = np.asarray(pasted)
    original = pixels.astype(np.uint8)
    x0, y0, x1, y1 = HOLE
    outside = np.ones((HEIGHT, WIDTH), bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(kept[outside], original[outside])
    assert tuple(kept[(y0 + y1) // 2, (x0 + x1) // 2]) == (255, 0, 0)
