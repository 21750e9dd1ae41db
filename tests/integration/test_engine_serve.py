"""``serve()`` as the editor uses it: a child process whose first stdout line is the URL."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading

import httpx

CODE = "from app.engine.server import serve; raise SystemExit(serve(port=0, token='tok'))"


def first_line(process: subprocess.Popen[str], timeout: float = 20.0) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()))
    reader.start()
    reader.join(timeout)
    assert lines, "the engine printed nothing"
    return lines[0]


def test_serve_announces_its_url_first_and_stops_cleanly_on_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-c", CODE], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = first_line(process)
        match = re.fullmatch(r"Retouch engine listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match and int(match.group(2)) > 0, line
        url = match.group(1)
        assert httpx.get(f"{url}/health").json()["status"] == "ok"
        assert httpx.get(f"{url}/v1/models").status_code == 401
        models = httpx.get(f"{url}/v1/models", headers={"authorization": "Bearer tok"})
        assert models.json()["data"][0]["id"] == "local-inpaint"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
