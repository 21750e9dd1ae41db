"""Memory cannot be exhausted by piling up edits (issue 15): a few edits at once, the rest
waiting in order, 429 with retry-after past the queue, a budget of in-flight upload bytes,
and uploads spooled to temporary files instead of held in memory."""

from __future__ import annotations

import threading
import time
import tracemalloc
from contextlib import ExitStack

import httpx

from app.engine.guards import Guards
from app.engine.server import create_app
from app.engine.upload import Limits
from tests.support.engine import held_edit, image_parts, serving, until
from tests.support.images import encode, gradient, mask_bytes

W, H = 64, 48
PNG = encode(gradient(W, H), "PNG")
MASK = mask_bytes(W, H, (20, 15, 40, 30))
MiB = 1024 * 1024


def post(http: httpx.Client) -> httpx.Response:
    return http.post("/v1/images/edits", data={"prompt": "x"}, files=image_parts([PNG], MASK))


def test_edits_past_the_queue_are_refused_with_429_and_retry_after_then_the_rest_run() -> None:
    app = create_app(guards=Guards(max_work=1, max_queue=2, body_timeout=60))
    stats = app.state.admission.stats
    with serving(app) as url, ExitStack() as stack, httpx.Client(base_url=url, timeout=60) as http:
        holder = stack.enter_context(held_edit(url, 10_000))  # reads its body: the one turn
        until(lambda: stats.active == 1)
        waiting = [stack.enter_context(httpx.Client(base_url=url, timeout=60)) for _ in range(2)]
        replies: list[httpx.Response] = []
        threads = [threading.Thread(target=lambda c=c: replies.append(post(c))) for c in waiting]
        for thread in threads:
            thread.start()
        until(lambda: stats.queued == 2)
        refused = post(http)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "engine_busy"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        admission = http.get("/health").json()["admission"]  # /health never waits
        assert (admission["active"], admission["queued"], admission["refused"]) == (1, 2, 1)
        holder.close()  # its turn ends: the waiting edits run, first come first served
        for thread in threads:
            thread.join(60)
        assert [reply.status_code for reply in replies] == [200, 200]
        until(lambda: stats.active == 0)
        assert post(http).status_code == 200


def test_declared_upload_bytes_in_flight_are_bounded() -> None:
    """Two uploads of 600 KB against a budget of 1 MB: the second waits for the first,
    though there are turns enough for both."""
    app = create_app(guards=Guards(max_work=4, max_inflight_bytes=MiB, body_timeout=60))
    stats = app.state.admission.stats
    with serving(app) as url, ExitStack() as stack:
        first = stack.enter_context(held_edit(url, 600_000))
        until(lambda: stats.active == 1)
        stack.enter_context(held_edit(url, 600_000))
        until(lambda: stats.queued == 1)
        assert (stats.active, stats.inflight_bytes) == (1, 600_000)
        first.close()  # its client left: the second one's turn
        until(lambda: stats.queued == 0)
        assert (stats.active, stats.inflight_bytes) == (1, 600_000)


def test_a_large_upload_is_spooled_not_held_in_memory() -> None:
    """40 MB of an image arrive and the client stalls: the engine holds about a spool's
    worth of it in memory (it used to hold all 40 MB, and then copy them)."""
    limits = Limits(max_request_bytes=100 * MiB, max_file_bytes=50 * MiB, spool_bytes=MiB)
    app = create_app(limits=limits, guards=Guards(body_timeout=120, body_idle_timeout=60))
    tracemalloc.start()
    try:
        with serving(app) as url:
            before = tracemalloc.get_traced_memory()[0]
            with held_edit(url, 60 * MiB, send=40 * MiB):
                until(lambda: app.state.admission.stats.active == 1)
                time.sleep(0.5)  # let the engine read what was sent
                held = tracemalloc.get_traced_memory()[0] - before
            assert held < 8 * MiB, f"{held / MiB:.1f} MiB held for a 40 MB upload"
    finally:
        tracemalloc.stop()
