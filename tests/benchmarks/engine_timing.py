"""The default fill's speed as a designer meets it (part of bench_engine.py): an engine
started as the editor starts it, ``python -m app serve``, timed through HTTP, against
cv2.inpaint (Telea, radius 3) on the same input in the benchmark's own process.

Imported by the benchmarks as a sibling module, like ``harness``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import cv2
import httpx
import numpy as np
import texture_cases as tc
from PIL import Image

from app.core.providers import LOCAL_VARIANT_HEADER
from tests.support.engine import image_parts
from tests.support.images import encode

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1024, 1024), (3840, 2160))
SHARE = 0.05
PREVIOUS_DEFAULT = 1  # the variant index of the pyramid Navier-Stokes fill
TICKS = os.sysconf("SC_CLK_TCK")


def api_mask(hole: np.ndarray) -> bytes:
    rgba = np.zeros((*hole.shape, 4), np.uint8)
    rgba[..., 3] = np.where(hole, 0, 255)
    return encode(Image.fromarray(rgba, "RGBA"), "PNG")


def best(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


@contextmanager
def serve_engine() -> Iterator[tuple[str, int]]:
    """``python -m app serve --port 0 --no-token`` in the repository; its URL and pid."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0", "--no-token"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://\S+)", line)
        if not match:
            raise RuntimeError(f"the engine did not start: {line!r}")
        threading.Thread(target=process.stdout.read, daemon=True).start()  # never blocks it
        yield match.group(1), process.pid
    finally:
        process.terminate()
        process.wait(20)


def _post(http: httpx.Client, files: list, variant: int = 0) -> None:
    reply = http.post(
        "/v1/images/edits",
        data={"prompt": "remove the strokes"},
        files=files,
        headers={LOCAL_VARIANT_HEADER: str(variant)},
    )
    reply.raise_for_status()


def _first_partial(http: httpx.Client, files: list, variant: int = 0) -> float:
    """Seconds from sending a streamed request to its first partial image; the client then
    leaves, and the engine stops."""
    data = {"prompt": "remove the strokes", "stream": "true", "partial_images": "3"}
    headers = {LOCAL_VARIANT_HEADER: str(variant)}
    started = time.perf_counter()
    with http.stream("POST", "/v1/images/edits", data=data, files=files, headers=headers) as reply:
        for line in reply.iter_lines():
            if line.startswith("event: image_edit.partial_image"):
                return time.perf_counter() - started
    raise RuntimeError("no partial image arrived")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _grandchildren(pid: int) -> set[int]:
    """The engine's children's children: the layouts' processes (the fork server's)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    children = {p for p, parent in parents.items() if parent == pid}
    return {p for p, parent in parents.items() if parent in children}


def stop_latency(url: str, pid: int, files: list, stream: bool) -> dict[str, float]:
    """A client that leaves mid-work: a stream left after its first partial image, or a
    plain request given up 0.5 s after it was sent. Then the engine is sampled every 5 ms
    for three seconds: when its last layout process was gone, and the first moment after
    which its own CPU time grew by at most one clock tick (10 ms) in the next 100 ms."""
    with httpx.Client(base_url=url, timeout=600) as http:
        if stream:
            data = {"prompt": "remove the strokes", "stream": "true", "partial_images": "3"}
            with http.stream("POST", "/v1/images/edits", data=data, files=files) as reply:
                for line in reply.iter_lines():
                    if line.startswith("event: image_edit.partial_image"):
                        break
                busy_children = bool(_grandchildren(pid))
        else:
            with suppress(httpx.TimeoutException):
                http.post("/v1/images/edits", data={"prompt": "x"}, files=files, timeout=0.5)
            busy_children = bool(_grandchildren(pid))
        left = time.perf_counter()
    samples = [(0.0, _cpu_seconds(pid))]
    children_gone = None
    while samples[-1][0] < 3.0:
        time.sleep(0.005)
        now = time.perf_counter() - left
        samples.append((now, _cpu_seconds(pid)))
        if children_gone is None and not _grandchildren(pid):
            children_gone = now
    stopped = samples[-1][0]
    for index, (when, used) in enumerate(samples):
        later = [u for w, u in samples[index:] if w <= when + 0.1]
        if samples[-1][0] >= when + 0.1 and later[-1] - used <= 1.0 / TICKS:
            stopped = when
            break
    return {
        "layout_running_when_left": busy_children,
        "cpu_stopped_after_s": stopped,
        "layout_gone_after_s": children_gone if children_gone is not None else 0.0,
    }


def texture_speed(url: str, pid: int) -> dict[str, object]:
    rows = []
    with httpx.Client(base_url=url, timeout=600) as http:
        for width, height in SIZES:
            clean = tc.photo("coffee.png", (width, height))
            hole = tc.strokes(height, width, SHARE, tc.seed_of("speed", width, height))
            mask = hole.astype(np.uint8)
            files = image_parts([encode(Image.fromarray(clean), "PNG")], api_mask(hole))
            telea = best(lambda c=clean, m=mask: cv2.inpaint(c, m, 3, cv2.INPAINT_TELEA), 3)
            _post(http, files)  # the first request also starts the engine's fork server
            default = best(lambda f=files: _post(http, f), 3)
            previous = best(lambda f=files: _post(http, f, PREVIOUS_DEFAULT), 2)
            first, previous_first = [], []
            for _ in range(3):
                first.append(_first_partial(http, files))
                time.sleep(0.5)  # the abandoned request's work has stopped
                previous_first.append(_first_partial(http, files, PREVIOUS_DEFAULT))
                time.sleep(0.5)
            rows.append(
                {
                    "size": f"{width}x{height}",
                    "masked_fraction": float(hole.mean()),
                    "telea_s": telea,
                    "default_request_s": default,
                    "default_ratio": default / telea,
                    "previous_default_request_s": previous,
                    "previous_default_ratio": previous / telea,
                    "first_partial_s": min(first),
                    "previous_default_first_partial_s": min(previous_first),
                }
            )
    stops = {kind: stop_latency(url, pid, files, kind == "stream") for kind in ("stream", "json")}
    print(f"\nthe default fill through HTTP, {SHARE:.0%} stroke holes, vs cv2.inpaint (Telea)")
    print(
        f"{'size':<11}{'telea':>8}{'request':>9}{'ratio':>7}{'previous':>10}"
        f"{'first partial':>15}{'previous':>10}"
    )
    for row in rows:
        print(
            f"{row['size']:<11}{row['telea_s']:>7.3f}s{row['default_request_s']:>8.3f}s"
            f"{row['default_ratio']:>7.1f}{row['previous_default_ratio']:>9.1f}x"
            f"{row['first_partial_s']:>14.3f}s{row['previous_default_first_partial_s']:>9.3f}s"
        )
    for kind, stop in stops.items():
        how = "after the first partial" if kind == "stream" else "0.5 s into a plain request"
        print(
            f"a {kind} client that left {how} at {rows[-1]['size']}: the layout process "
            f"was gone after {stop['layout_gone_after_s'] * 1000:.0f} ms (it was "
            f"{'still' if stop['layout_running_when_left'] else 'no longer'} running), the "
            f"engine's own CPU quiet after {stop['cpu_stopped_after_s'] * 1000:.0f} ms"
        )
    return {"rows": rows, "stop": stops}
