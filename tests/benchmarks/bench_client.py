"""Benchmark of the image-edit client against the official openai SDK, on loopback.

    python tests/benchmarks/bench_client.py [--rounds N]

1. Streaming: 3 partials and a final 3840x2160 PNG (about 25 MB of base64 each) from a
   server in another process. Time from request to the last image's bytes being ready
   (decoded from base64 and, for our client, header-checked) for (a) ImageEditClient and
   (b) AsyncOpenAI().images.edit(stream=True) consuming the same bytes. Target: ratio <= 1.
2. Upload: 16 images of about 19 MB each. Peak memory growth while uploading, against
   the sum of the file sizes, and against the SDK uploading the same files. Target: under
   64 MB of growth.

Prints a table and writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from harness import server_process  # noqa: E402
from PIL import Image  # noqa: E402

from app.client import ClientConfig, ImageEditClient  # noqa: E402
from app.core.events import CompletedImage  # noqa: E402
from app.core.request import EditRequest  # noqa: E402
from tests.support import fault_server as fs  # noqa: E402
from tests.support.images import png_bytes  # noqa: E402

RESULTS = ROOT / "tests" / "benchmarks" / "results"
MB = 1024 * 1024


# --- inputs -----------------------------------------------------------------------------


def noisy_png(width: int = 3840, height: int = 2160, seed: int = 0) -> bytes:
    """Noise of 64 levels per channel: PNG cannot squeeze it much, about 19 MB."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 64, (height, width, 3), dtype=np.uint8) * 4
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


# --- a server in another process, so it does not share our GIL -------------------------


# --- streaming --------------------------------------------------------------------------


async def ours_stream(base_url: str, image: Path) -> float:
    request = EditRequest((image,), {"prompt": "bench", "stream": True, "partial_images": 3})
    config = ClientConfig(base_url=base_url, api_key="sk-bench", max_retries=0)
    async with ImageEditClient(config) as client:
        started = time.perf_counter()
        async with aclosing(client.edit(request)) as events:
            async for event in events:
                if isinstance(event, CompletedImage):
                    ready = time.perf_counter()
    return ready - started


async def sdk_stream(base_url: str, image: Path) -> float:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url + "/v1", api_key="sk-bench", max_retries=0)
    async with client:
        started = time.perf_counter()
        stream = await client.images.edit(
            image=image.open("rb"),
            prompt="bench",
            model="gpt-image-1",
            stream=True,
            partial_images=3,
        )
        async for event in stream:
            data = base64.b64decode(event.b64_json)  # the bytes, as our client hands them over
            if event.type == "image_edit.completed":
                ready = time.perf_counter()
        assert data
    return ready - started


def bench_streaming(rounds: int, folder: Path) -> dict[str, Any]:
    final = noisy_png(seed=1)
    partials = [noisy_png(seed=2 + k) for k in range(3)]
    events = [fs.partial(p, k) for k, p in enumerate(partials)] + [fs.completed(final)]
    scenario = fs.sse(events)
    stream_bytes = sum(len(e) for e in scenario.encoded)
    image = folder / "input.png"
    image.write_bytes(png_bytes(64, 48))
    times: dict[str, list[float]] = {"ours": [], "sdk": []}
    with server_process(scenario) as base_url:
        asyncio.run(ours_stream(base_url, image))  # warm up both paths once
        asyncio.run(sdk_stream(base_url, image))
        for _ in range(rounds):
            times["ours"].append(asyncio.run(ours_stream(base_url, image)))
            times["sdk"].append(asyncio.run(sdk_stream(base_url, image)))
    ours, sdk = statistics.median(times["ours"]), statistics.median(times["sdk"])
    return {
        "events": len(events),
        "final_png_bytes": len(final),
        "base64_bytes_per_event": round(stream_bytes / len(events)),
        "stream_bytes": stream_bytes,
        "rounds": rounds,
        "ours_s": times["ours"],
        "sdk_s": times["sdk"],
        "ours_median_s": ours,
        "sdk_median_s": sdk,
        "ratio": ours / sdk,
        "target_ratio": 1.0,
    }


# --- upload memory ----------------------------------------------------------------------


class RssSampler:
    """The peak resident set size over a block, sampled every millisecond."""

    def __init__(self) -> None:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def ours_upload(base_url: str, images: list[Path]) -> dict[str, float]:
    request = EditRequest(tuple(images), {"prompt": "bench"})
    config = ClientConfig(base_url=base_url, api_key="sk-bench", max_retries=0)
    async with ImageEditClient(config) as client:

        async def upload() -> None:
            async with aclosing(client.edit(request)) as events:
                async for _ in events:
                    pass

        return await measure(upload)


async def sdk_upload(base_url: str, images: list[Path]) -> dict[str, float]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url + "/v1", api_key="sk-bench", max_retries=0)
    async with client:

        async def upload() -> None:
            handles = [path.open("rb") for path in images]
            try:
                await client.images.edit(image=handles, prompt="bench", model="gpt-image-1")
            finally:
                for handle in handles:
                    handle.close()

        return await measure(upload)


async def measure(upload: Callable[[], Awaitable[None]]) -> dict[str, float]:
    """RSS growth over one upload, then the traced Python peak over another. The client
    exists already: its fixed start-up cost (TLS context, pools) is not the upload's."""
    gc.collect()
    with RssSampler() as rss:
        started = time.perf_counter()
        await upload()
        elapsed = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    await upload()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": elapsed, "rss_growth": rss.growth, "traced_peak": traced_peak}


def upload_child(which: str, base_url: str, images: list[Path]) -> None:
    """Runs in a fresh interpreter, so memory freed by earlier work cannot hide growth."""
    run = ours_upload if which == "ours" else sdk_upload
    print(json.dumps(asyncio.run(run(base_url, images))))


def measure_in_child(which: str, base_url: str, images: list[Path]) -> dict[str, float]:
    command = [sys.executable, __file__, "--upload-child", which, base_url, *map(str, images)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_upload(folder: Path, count: int = 16) -> dict[str, Any]:
    source = folder / "noise-0.png"
    source.write_bytes(noisy_png(seed=42))
    images = [source]
    for k in range(1, count):
        images.append(folder / f"noise-{k}.png")
        shutil.copyfile(source, images[-1])
    total = sum(path.stat().st_size for path in images)
    with server_process(fs.json_images([png_bytes(64, 48)])) as base_url:
        ours = measure_in_child("ours", base_url, images)
        sdk = measure_in_child("sdk", base_url, images)
    return {
        "images": count,
        "image_bytes": source.stat().st_size,
        "total_bytes": total,
        "ours": ours,
        "sdk": sdk,
        "ours_growth_vs_total": ours["rss_growth"] / total,
        "sdk_growth_vs_total": sdk["rss_growth"] / total,
        "target_growth_bytes": 64 * MB,
    }


# --- report -----------------------------------------------------------------------------


def report(streaming: dict[str, Any], upload: dict[str, Any]) -> str:
    def mb(value: float) -> str:
        return f"{value / MB:,.1f} MB"

    ok = "ok" if streaming["ratio"] <= 1.0 else "MISSED"
    mem_ok = "ok" if upload["ours"]["rss_growth"] < 64 * MB else "MISSED"
    rows = [
        ("streaming", "ImageEditClient", "openai SDK", "ratio"),
        (
            f"{streaming['events']} events x {mb(streaming['base64_bytes_per_event'])} base64",
            f"{streaming['ours_median_s'] * 1000:,.0f} ms",
            f"{streaming['sdk_median_s'] * 1000:,.0f} ms",
            f"{streaming['ratio']:.2f} (target <= 1.0: {ok})",
        ),
        ("", "", "", ""),
        ("upload memory", "ImageEditClient", "openai SDK", "vs sum of files"),
        (
            f"{upload['images']} x {mb(upload['image_bytes'])} = {mb(upload['total_bytes'])}",
            f"RSS +{mb(upload['ours']['rss_growth'])}",
            f"RSS +{mb(upload['sdk']['rss_growth'])}",
            f"{upload['ours_growth_vs_total']:.3f} vs {upload['sdk_growth_vs_total']:.3f}",
        ),
        (
            "  traced Python peak",
            mb(upload["ours"]["traced_peak"]),
            mb(upload["sdk"]["traced_peak"]),
            f"(target growth < 64 MB: {mem_ok})",
        ),
        (
            "  upload time",
            f"{upload['ours']['seconds']:.2f} s",
            f"{upload['sdk']['seconds']:.2f} s",
            "",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--upload-child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upload_child:
        which, base_url, *paths = args.upload_child
        upload_child(which, base_url, [Path(p) for p in paths])
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        folder = Path(tmp)
        streaming = bench_streaming(args.rounds, folder)
        upload = bench_upload(folder)
    print(report(streaming, upload))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"bench_client-{stamp}.json"
    record = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "streaming": streaming,
        "upload": upload,
    }
    out.write_text(json.dumps(record, indent=2))
    print(f"\nwritten {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
