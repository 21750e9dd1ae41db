"""The default fill through the engine: PatchMatch continues texture, streams the quick fill
first, and stops its work (the layout's child process, the worker threads) when its client
leaves."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import multiprocessing
import signal
import threading
import time
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image

from tests.support.engine import image_parts, running_engine, sse_events
from tests.support.images import encode, sample


def api_mask(hole: np.ndarray) -> bytes:
    rgba = np.zeros((*hole.shape, 4), np.uint8)
    rgba[..., 3] = np.where(hole, 0, 255)
    return encode(Image.fromarray(rgba, "RGBA"), "PNG")


def strokes(shape: tuple[int, int], seed: int, width: int = 12) -> np.ndarray:
    """Seeded brush strokes over about 5 % of the picture."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, np.uint8)
    while mask.mean() < 0.05:
        points = rng.uniform((0.1 * shape[1], 0.1 * shape[0]), (0.9 * shape[1], 0.9 * shape[0]))
        walk = points + np.cumsum(rng.normal(0, 18, (6, 2)), axis=0)
        cv2.polylines(mask, [np.int32(walk)], False, 1, width)
    return mask > 0


def detail(picture: np.ndarray, hole: np.ndarray) -> float:
    """Mean |Laplacian| in the hole over the same in the 16 px ring around it (as
    tests/benchmarks/texture_cases.py measures it)."""
    grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY).astype(np.float32)
    laplacian = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    distance = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 3)
    return float(laplacian[hole].mean() / laplacian[~hole & (distance <= 16)].mean())


def psnr(picture: np.ndarray, clean: np.ndarray, hole: np.ndarray) -> float:
    error = picture[hole].astype(np.float32) - clean[hole].astype(np.float32)
    return float(10 * np.log10(255.0**2 / np.mean(error * error)))


def decoded(b64: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return np.asarray(Image.open(sample("coffee.png")).convert("RGB"))


def test_the_default_fill_continues_the_texture_around_the_hole(coffee):
    results = []
    with running_engine() as url, httpx.Client(base_url=url, timeout=120) as http:
        for seed in (1, 2, 3):
            hole = strokes(coffee.shape[:2], seed)
            files = image_parts([encode(Image.fromarray(coffee), "PNG")], api_mask(hole))
            reply = http.post("/v1/images/edits", data={"prompt": "remove"}, files=files)
            assert reply.status_code == 200
            filled = decoded(reply.json()["data"][0]["b64_json"])
            assert np.array_equal(filled[~hole], coffee[~hole])
            telea = cv2.inpaint(coffee, hole.view(np.uint8), 3, cv2.INPAINT_TELEA)
            own = detail(coffee, hole)
            results.append(
                (
                    detail(filled, hole) / own,
                    detail(telea, hole) / own,
                    psnr(filled, coffee, hole) - psnr(telea, coffee, hole),
                )
            )
    texture, telea_texture, psnr_gain = np.mean(results, axis=0)
    # The photo's own detail carried into the hole: well over half of it, more than twice
    # what OpenCV's fill keeps, and the hole no further from the photo than OpenCV's.
    assert texture > 0.55 and texture > 2 * telea_texture
    assert psnr_gain > -0.3


def test_a_stream_shows_the_quick_fill_first_then_coarse_to_fine(coffee):
    hole = strokes(coffee.shape[:2], 4)
    files = image_parts([encode(Image.fromarray(coffee), "PNG")], api_mask(hole))
    data = {"prompt": "remove", "stream": "true", "partial_images": "3"}
    with running_engine() as url, httpx.Client(base_url=url, timeout=120) as http:
        reply = http.post("/v1/images/edits", data=data, files=files)
    events = [payload for _, payload in sse_events(reply.text)]
    kinds = [event["type"] for event in events]
    assert kinds == ["image_edit.partial_image"] * 3 + ["image_edit.completed"]
    pictures = [decoded(event["b64_json"]) for event in events]
    for picture in pictures:
        assert np.array_equal(picture[~hole], coffee[~hole])
    details = [detail(picture, hole) for picture in pictures]
    assert details[0] < 0.5 * details[-1]  # the quick fill is smooth; the result is not
    assert all(not np.array_equal(a, b) for a, b in itertools.pairwise(pictures))


def engine_thread_cpu() -> float:
    """CPU seconds used so far by the engine's worker threads (Linux /proc)."""
    ticks = 0
    for thread in threading.enumerate():
        if thread.name.startswith("engine-work") and thread.native_id is not None:
            stat = Path(f"/proc/self/task/{thread.native_id}/stat")
            if stat.exists():
                fields = stat.read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
    return ticks / 100


async def settled(http: httpx.AsyncClient) -> dict[str, int]:
    for _ in range(300):
        work = (await http.get("/health")).json()["work"]
        if not work["running"]:
            return work
        await asyncio.sleep(0.05)
    raise AssertionError("the engine kept working")


def big_scene() -> list:
    """A picture whose layout takes seconds: a large hole in a large noisy picture."""
    rng = np.random.default_rng(5)
    picture = cv2.GaussianBlur(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8), (5, 5), 0)
    hole = np.zeros(picture.shape[:2], bool)
    hole[250:950, 350:1250] = True
    return image_parts([encode(Image.fromarray(picture), "PNG")], api_mask(hole))


@pytest.mark.parametrize("stream", [True, False])
async def test_a_client_that_leaves_stops_the_layout_and_the_threads(stream):
    files = big_scene()
    with running_engine(keepalive_seconds=0.05) as url:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            if stream:
                data = {"prompt": "x", "stream": "true", "partial_images": "3"}
                async with http.stream("POST", "/v1/images/edits", data=data, files=files) as r:
                    async for line in r.aiter_lines():
                        if line.startswith("event: image_edit.partial_image"):
                            break  # the quick fill arrived; the layout is being made
                    working = multiprocessing.active_children()
            else:
                reply = asyncio.ensure_future(
                    http.post("/v1/images/edits", data={"prompt": "x"}, files=files)
                )
                for _ in range(200):  # until the layout's child runs
                    await asyncio.sleep(0.02)
                    if working := multiprocessing.active_children():
                        break
                reply.cancel()  # the client gives up and closes its connection
                with pytest.raises(asyncio.CancelledError):
                    await reply
            assert working, "no layout was being made when the client left"
            work = await settled(http)
            assert work["cancelled"] == 1 and work["finished"] == 0
            for process in working:
                process.join(10)
                assert process.exitcode == -signal.SIGKILL  # stopped, not finished
            before = engine_thread_cpu()
            time.sleep(0.5)
            assert engine_thread_cpu() - before <= 0.02  # the threads do nothing more
            reply = await http.get("/health")
            assert reply.json()["work"]["running"] == 0
