"""Benchmark: the local engine's memory under a burst of requests and under held uploads
(issue 15).

    python tests/benchmarks/bench_engine_load.py [--burst 100] [--size 1024x768]
                                                 [--held 8] [--held-mb 200] [--runs 2]

The engine runs as ``retouch serve`` in its own process, as a user starts it. Its resident
memory (VmRSS) is sampled every 20 ms from /proc while:

- burst: ``--burst`` edits of a ``--size`` photo with a 10 % hole are sent at once, each on
  its own connection; reported: RSS before, the peak while they run, and after the engine
  has settled (work counters at rest, then 2 s), and how many answers were 200 or 429.
  The burst runs ``--runs`` times, to show whether memory comes back or keeps growing.
- held: ``--held`` uploads each send ``--held-mb`` MB of an image part and then stop
  sending (a client that stalls); reported: RSS while they are held (and whether the
  engine still answers /health).

Prints a table and writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.engine import image_parts  # noqa: E402
from tests.support.images import encode, gradient, mask_bytes  # noqa: E402

RESULTS = ROOT / "tests" / "benchmarks" / "results"
TOKEN = "bench-engine-load"
MB = 1 << 20


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler:
    """The peak RSS of a process, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, rss(pid), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss(self.pid))


def start_engine(arguments: list[str]) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RETOUCH_ENGINE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0", *arguments],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"the engine did not start: {line!r}")
    return process, line.split("listening on ", 1)[1].strip()


async def settle(http: httpx.AsyncClient) -> None:
    for _ in range(600):
        work = (await http.get("/health")).json()["work"]
        if not work["running"] and not work.get("queued", 0):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)


async def burst(url: str, pid: int, count: int, parts: list, runs: int) -> list[dict]:
    headers = {"authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
    rows = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600, limits=limits) as http:
        await http.post("/v1/images/edits", data={"prompt": "x"}, files=parts)  # warm up
        await settle(http)
        for run in range(runs):
            before = rss(pid)
            started = time.perf_counter()
            with Sampler(pid) as sampler:

                async def one() -> int:
                    reply = await http.post("/v1/images/edits", data={"prompt": "x"}, files=parts)
                    return reply.status_code

                async def watch_health(done: asyncio.Event) -> list[float]:
                    # /health on its own connection every 50 ms while the burst runs
                    waits = []
                    async with httpx.AsyncClient(base_url=url, timeout=30) as probe:
                        while not done.is_set():
                            asked = time.perf_counter()
                            await probe.get("/health")
                            waits.append(time.perf_counter() - asked)
                            await asyncio.sleep(0.05)
                    return waits

                done = asyncio.Event()
                watcher = asyncio.ensure_future(watch_health(done))
                codes = await asyncio.gather(*(one() for _ in range(count)))
                done.set()
                health_waits = await watcher
            seconds = time.perf_counter() - started
            await settle(http)
            rows.append(
                {
                    "run": run + 1,
                    "requests": count,
                    "ok": codes.count(200),
                    "refused_429": codes.count(429),
                    "other": len(codes) - codes.count(200) - codes.count(429),
                    "seconds": round(seconds, 2),
                    "rss_before": before,
                    "rss_peak": sampler.peak,
                    "rss_after": rss(pid),
                    "health_worst_s": round(max(health_waits, default=0.0), 3),
                    "health_checks": len(health_waits),
                }
            )
    return rows


def held_uploads(url: str, pid: int, count: int, megabytes: int) -> dict:
    """Each upload sends ``megabytes`` MB as image[] parts of at most 40 MB (under the
    50 MB file limit), then stops sending without closing."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    boundary = "heldheldheld"
    part_head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image[]"; '
        'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    sizes = [min(40, megabytes - done) for done in range(0, megabytes, 40)]
    total = sum(len(part_head) + size * MB + 2 for size in sizes) + 1000
    request = (
        f"POST /v1/images/edits HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {TOKEN}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {total}\r\n\r\n"
    ).encode()
    before = rss(pid)
    chunk = b"\0" * MB
    sockets: list[socket.socket] = []
    sent: list[int] = []

    def push(sock: socket.socket) -> None:
        done = 0
        try:
            sock.sendall(request)
            for size in sizes:
                sock.sendall(part_head)
                for _ in range(size):
                    sock.sendall(chunk)
                    done += 1
                sock.sendall(b"\r\n")
        except OSError:
            pass
        sent.append(done)

    with Sampler(pid) as sampler:
        threads = []
        for _ in range(count):
            sock = socket.create_connection((host, int(port)))
            sock.settimeout(10)
            sockets.append(sock)
            threads.append(threading.Thread(target=push, args=(sock,), daemon=True))
            threads[-1].start()
        for thread in threads:
            thread.join(60)
        time.sleep(1.0)
        held = rss(pid)
        started = time.perf_counter()
        health = httpx.get(f"{url}/health", timeout=10).status_code
        health_s = time.perf_counter() - started
    for sock in sockets:
        sock.close()
    return {
        "uploads": count,
        "mb_each": megabytes,
        "mb_sent_before_stalling": sorted(sent),
        "rss_before": before,
        "rss_held": held,
        "rss_peak": sampler.peak,
        "health_status": health,
        "health_seconds": round(health_s, 3),
    }


def mib(value: int) -> str:
    return f"{value / MB:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--held", type=int, default=8)
    parser.add_argument("--held-mb", type=int, default=200)
    parser.add_argument(
        "--engine-args", default="", help="more arguments for retouch serve, e.g. '--max-queue 100'"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    hole = (width // 3, height // 3, width // 3 + width // 3, height // 3 + height // 3 * 3 // 10)
    parts = image_parts([encode(gradient(width, height), "PNG")], mask_bytes(width, height, hole))
    process, url = start_engine(args.engine_args.split())
    try:
        bursts = asyncio.run(burst(url, process.pid, args.burst, parts, args.runs))
        held = held_uploads(url, process.pid, args.held, args.held_mb) if args.held else None
    finally:
        process.terminate()
        process.wait(20)
    print(f"engine burst: {args.burst} edits of {args.size} at once {args.engine_args}")
    print(f"{'run':>4} {'200':>5} {'429':>5} {'other':>5} {'s':>7} "
          f"{'RSS before':>12} {'peak':>12} {'after':>12} {'/health worst':>14}")  # fmt: skip
    for row in bursts:
        print(
            f"{row['run']:>4} {row['ok']:>5} {row['refused_429']:>5} {row['other']:>5} "
            f"{row['seconds']:>7} {mib(row['rss_before']):>12} {mib(row['rss_peak']):>12} "
            f"{mib(row['rss_after']):>12} {row['health_worst_s'] * 1000:>11.0f} ms"
        )
    if held:
        print(
            f"held uploads: {held['uploads']} x {held['mb_each']} MB sent, then stalled: "
            f"RSS {mib(held['rss_before'])} before, {mib(held['rss_held'])} held "
            f"(peak {mib(held['rss_peak'])}); MB sent per upload "
            f"{held['mb_sent_before_stalling']}; /health {held['health_status']} "
            f"in {held['health_seconds']} s"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"bench_engine_load-{datetime.now():%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps({"args": vars(args), "burst": bursts, "held": held}, indent=2))
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
