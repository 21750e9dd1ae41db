"""README claims about the local engine that no other test checked: the prompt is counted but
changes nothing, moderation is refused like quality, partial indexes restart per variant,
and `retouch serve` takes --token and warns when it listens beyond this machine."""

from __future__ import annotations

import base64
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.support.engine import image_parts, running_engine, sse_events
from tests.support.images import encode, gradient, mask_bytes

W, H = 160, 120
PNG = encode(gradient(W, H), "PNG")
MASK = mask_bytes(W, H, (50, 40, 100, 80))


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with running_engine() as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def edit(client: httpx.Client, **fields: object) -> httpx.Response:
    data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
    return client.post("/v1/images/edits", data=data, files=image_parts([PNG], MASK))


def test_readme_the_prompt_is_counted_but_does_not_change_the_result(client) -> None:
    short, long = "remove the cup", "paint a dragon breathing fire over the whole table"
    first, second = (edit(client, prompt=p).json() for p in (short, long))
    assert first["data"][0]["b64_json"] == second["data"][0]["b64_json"]
    extra = math.ceil(len(long) / 4) - math.ceil(len(short) / 4)
    assert second["usage"]["input_tokens"] - first["usage"]["input_tokens"] == extra
    missing = client.post("/v1/images/edits", files=image_parts([PNG], MASK))
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "prompt"


def test_readme_moderation_is_refused_like_quality_and_input_fidelity(client) -> None:
    for name, value in (("moderation", "low"), ("quality", "high"), ("input_fidelity", "low")):
        error = edit(client, prompt="x", **{name: value}).json()["error"]
        assert (error["param"], error["code"]) == (name, "unsupported_parameter")
    assert edit(client, prompt="x").json()["quality"] == "high"  # reported as high


def test_readme_partial_indexes_restart_for_each_variant(client) -> None:
    reply = edit(client, prompt="x", n=2, stream=True, partial_images=2)
    events = sse_events(reply.text)
    order = [
        data.get("partial_image_index", "final") for _, data in events
    ]  # one request, two variants, one after the other
    assert order == [0, 1, "final", 0, 1, "final"]
    finals = [data["b64_json"] for name, data in events if name == "image_edit.completed"]
    assert len(set(finals)) == 2 and all(base64.b64decode(f)[:4] == b"\x89PNG" for f in finals)


def first_line(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))
    reader.start()
    reader.join(timeout)
    assert lines and lines[0], "the engine printed nothing"
    return lines[0]


def test_readme_serve_takes_a_token_and_warns_when_it_listens_beyond_loopback() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "RETOUCH_ENGINE_TOKEN"}
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "0.0.0.0", "--port", "0",
         "--token", "tok-readme"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**environment, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        line = first_line(process)
        assert line.startswith("Retouch engine listening on http://0.0.0.0:"), line
        port = int(line.rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/health").status_code == 200
        assert httpx.get(f"{url}/v1/models").json()["error"]["code"] == "missing_api_key"
        good = {"authorization": "Bearer tok-readme"}
        assert httpx.get(f"{url}/v1/models", headers=good).status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        warning = process.stderr.read()
        assert "warning: serving on 0.0.0.0, reachable from other machines" in warning
        assert "without a token" not in warning
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
