"""Benchmark: the memory a gzip bomb costs the image-edit client (issue 15).

    python tests/benchmarks/bench_client_bomb.py [--wire-mb 1] [--caps 64,512]

A server on loopback answers with about 1 MB of gzip that inflates to about 1 GB, as a JSON
answer and as an event stream. For each size cap (max_response_bytes), each case runs in a
fresh process and reports its peak traced memory (tracemalloc) and its peak RSS:

- baseline: httpx inflating the body itself (``aiter_bytes``), the chunks kept and counted,
  as the client did before: each network chunk is inflated whole before it can be counted;
- client: ImageEditClient, which inflates a piece at a time under the cap.

Target: the client's peak is the cap plus a few MiB ("over cap"), where the baseline's
is the cap plus whole inflated chunks of tens of MiB. Prints a table and writes JSON to
tests/benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from contextlib import aclosing
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from app.client import ClientConfig, ImageEditClient, ProtocolError  # noqa: E402
from app.core.request import EditRequest  # noqa: E402
from tests.support import fault_server as fs  # noqa: E402
from tests.support import hostile_replies as hostile  # noqa: E402
from tests.support.images import png_bytes  # noqa: E402

RESULTS = ROOT / "tests" / "benchmarks" / "results"
MB = 1 << 20
PREFIX = {"json": (b'{"data": [{"b64_json": "', "application/json"),
          "sse": (b"data: ", "text/event-stream")}  # fmt: skip


async def _baseline(url: str, cap: int) -> str:
    """The client's reading before issue 15: httpx inflates, the chunks are kept (the body
    is parsed once whole) and counted."""
    kept, received = [], 0
    async with httpx.AsyncClient() as http, http.stream("POST", url, content=b"{}") as answer:
        chunks = answer.aiter_bytes()
        async for chunk in chunks:
            received += len(chunk)
            if received > cap:
                await chunks.aclose()
                return f"stopped past the cap at {received / MB:.0f} MiB"
            kept.append(chunk)
    return "read whole"


async def _client(base_url: str, cap: int, kind: str, folder: Path) -> str:
    photo = folder / "in.png"
    photo.write_bytes(png_bytes(64, 48))
    request = EditRequest((photo,), {"prompt": "x", "stream": kind == "sse"})
    config = ClientConfig(base_url=base_url, max_response_bytes=cap, max_retries=0)
    async with ImageEditClient(config) as client:
        try:
            async with aclosing(client.edit(request)) as events:
                async for _ in events:
                    pass
        except ProtocolError as exc:
            return str(exc).split(";")[0]
    return "read whole"


def one_case(kind: str, who: str, cap_mb: int, wire_mb: int) -> dict[str, object]:
    prefix, content_type = PREFIX[kind]
    bomb = hostile.gzipped(prefix, content_type, inflated=wire_mb * 1000 * MB)
    with fs.serve(bomb, keep_bodies=False) as server, tempfile.TemporaryDirectory() as folder:
        tracemalloc.start()
        if who == "baseline":
            url = server.base_url + "/v1/images/edits"
            outcome = asyncio.run(_baseline(url, cap_mb * MB))
        else:
            outcome = asyncio.run(_client(server.base_url, cap_mb * MB, kind, Path(folder)))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"kind": kind, "who": who, "cap_mib": cap_mb, "wire_bytes": len(bomb.body),
            "peak_traced_mib": round(peak / MB, 1), "peak_rss_mib": round(rss, 1),
            "outcome": outcome}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wire-mb", type=int, default=1)
    parser.add_argument("--caps", default="64,512", help="caps in MiB, comma-separated")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # kind:who:cap, in a child
    args = parser.parse_args()
    if args.case:
        kind, who, cap = args.case.split(":")
        print(json.dumps(one_case(kind, who, int(cap), args.wire_mb)))
        return 0
    rows = []
    for cap in (int(c) for c in args.caps.split(",")):
        for kind in ("json", "sse"):
            for who in ("baseline", "client"):
                case = f"{kind}:{who}:{cap}"
                child = [sys.executable, __file__, "--case", case, "--wire-mb", str(args.wire_mb)]
                out = subprocess.run(child, capture_output=True, text=True, check=True).stdout
                rows.append(json.loads(out.strip().splitlines()[-1]))
    print(f"{'case':<26}{'wire':>10}{'traced MiB':>12}{'over cap':>10}{'RSS MiB':>9}{'/base':>7}")
    for row in rows:
        base = next(r for r in rows if r["who"] == "baseline" and r["kind"] == row["kind"]
                    and r["cap_mib"] == row["cap_mib"])  # fmt: skip
        ratio = row["peak_traced_mib"] / max(base["peak_traced_mib"], 0.1)
        row["over_cap_mib"] = round(row["peak_traced_mib"] - row["cap_mib"], 1)
        row["to_baseline"] = round(ratio, 2)
        name = f"{row['kind']} {row['who']} cap {row['cap_mib']}"
        print(f"{name:<26}{row['wire_bytes']:>10,}{row['peak_traced_mib']:>12}"
              f"{row['over_cap_mib']:>10}{row['peak_rss_mib']:>9}"
              f"{row['to_baseline']:>7}")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"client_bomb-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps({"wire_mb": args.wire_mb, "rows": rows}, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
