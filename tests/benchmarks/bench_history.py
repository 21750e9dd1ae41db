"""Benchmark of the history store (run on demand: ``python tests/benchmarks/bench_history.py``).

With 1,000 recorded jobs of 4 results each (issue 13's size):

- search by prompt text (``list_jobs(search=..., limit=50)``, records with their inputs and
  files, each file checked on disk) against a plain ``SELECT`` of the same 50 job rows on
  a bare connection: the ratio is what the records cost over reading the rows;
- listing the newest 50 jobs, against the same plain ``SELECT``;
- recording an arriving image (``add_file``: one short write transaction, WAL) against
  writing that image itself (``write_atomic`` of a 1 MB file, fsynced), which happens in
  the same worker call just before it: the ratio is what recording adds to saving.

Prints a table and writes JSON to tests/benchmarks/results/.
"""

from __future__ import annotations

import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness import percentile  # noqa: E402

from app.core.imageio import write_atomic  # noqa: E402
from app.services.history import HistoryStore  # noqa: E402

JOBS, RESULTS, INPUTS = 1000, 4, 12
RUNS = 200
WORDS = [
    "remove",
    "the",
    "spoon",
    "cup",
    "sky",
    "replace",
    "with",
    "a",
    "red",
    "blue",
    "brighter",
    "window",
    "person",
    "shadow",
    "logo",
]
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def timed(action: Callable[[], object], runs: int = RUNS) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(name: str, times: list[float], baseline: list[float] | None = None) -> dict:
    row = {
        "scenario": name,
        "runs": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times),
    }
    if baseline is not None:
        row["baseline_p50_ms"] = statistics.median(baseline)
        row["ratio_p50"] = row["p50_ms"] / row["baseline_p50_ms"]
    return row


def populate(store: HistoryStore, folder: Path) -> None:
    rng = random.Random(13)
    inputs = []
    for number in range(INPUTS):
        path = folder / "inputs" / f"photo-{number}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(200_000))
        inputs.append(path)
    mask = folder / "inputs" / "mask.png"
    mask.write_bytes(rng.randbytes(20_000))
    for number in range(JOBS):
        job_id = f"{number:06d}{rng.getrandbits(96):024x}"
        prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        if number % 100 == 7:
            prompt += " and the lighthouse"  # ten jobs to find
        jobs = folder / "results" / job_id[:12]
        jobs.mkdir(parents=True)
        store.begin_job(
            job_id, program="cli", inputs=[rng.choice(inputs)], mask=mask,
            params={"prompt": prompt, "model": "gpt-image-1", "n": RESULTS, "size": "auto"},
            folder=jobs, owns_folder=True,
        )  # fmt: skip
        for variant in range(RESULTS):
            final = jobs / f"{variant}-final.png"
            final.write_bytes(b"png")
            store.add_file(job_id, variant, "final", final)
        store.finish_job(job_id, "done", {"input_tokens": 100, "output_tokens": 400}, ["req"])


def main() -> int:
    report: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
        },
        "jobs": JOBS,
        "results_per_job": RESULTS,
        "rows": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        folder = Path(tmp)
        store = HistoryStore.open(folder / "history.sqlite3")
        start = time.perf_counter()
        populate(store, folder)
        report["populate_s"] = time.perf_counter() - start
        bare = sqlite3.connect(folder / "history.sqlite3")
        plain = timed(
            lambda: bare.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT 50").fetchall()
        )
        found = store.list_jobs(search="lighthouse")
        assert len(found) == JOBS // 100, len(found)
        report["rows"].append(
            summary("search 'lighthouse' (10 of 1,000)",
                    timed(lambda: store.list_jobs(search="lighthouse", limit=50)), plain)
        )  # fmt: skip
        report["rows"].append(
            summary("search 'spoon' (first 50 of many)",
                    timed(lambda: store.list_jobs(search="spoon", limit=50)), plain)
        )  # fmt: skip
        report["rows"].append(
            summary("list newest 50", timed(lambda: store.list_jobs(limit=50)), plain)
        )
        # Recording an arriving image, against saving that image.
        job_id = "f" * 32
        store.begin_job(job_id, program="cli", inputs=[], params={"prompt": "arriving"})
        image = random.Random(1).randbytes(1_000_000)
        arrivals = folder / "arrivals"
        arrivals.mkdir()
        counter = iter(range(10**9))
        saves = timed(lambda: write_atomic(arrivals / f"{next(counter)}.png", image), 100)
        adds = timed(
            lambda: store.add_file(job_id, 0, "partial", arrivals / f"{next(counter)}.png")
        )
        report["rows"].append(summary("add_file (one arriving image)", adds, saves))
        bare.close()
        store.close()
    print(f"{JOBS} jobs x {RESULTS} results (populated in {report['populate_s']:.1f} s)\n")
    print(f"{'scenario':<38}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'baseline':>10}{'ratio':>8}")
    for row in report["rows"]:
        base = row.get("baseline_p50_ms")
        print(
            f"{row['scenario']:<38}{row['p50_ms']:>9.3f}{row['p95_ms']:>9.3f}{row['max_ms']:>9.3f}"
            + (f"{base:>10.3f}{row['ratio_p50']:>8.2f}" if base is not None else "")
        )
    print("\nbaselines: a plain SELECT of 50 job rows (searches, list); writing the 1 MB image "
          "itself, fsynced (add_file)")  # fmt: skip
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"bench_history-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
