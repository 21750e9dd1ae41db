"""`retouch PHOTO...` opens the editor with those photos: the first as the picture being
retouched, the others in the inputs strip; run as a process of its own, as a designer
types it, and read back from the session it saves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support import images

ROOT = Path(__file__).resolve().parents[2]


def saved_session(home: Path) -> dict:
    try:
        return json.loads((home / "session" / "session.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def test_retouch_with_photos_opens_the_first_and_adds_the_others(tmp_path: Path) -> None:
    first = images.write(tmp_path / "kitchen.png", images.png_bytes(120, 80))
    second = images.write(tmp_path / "reference.png", images.png_bytes(60, 40))
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k not in {"QT_SCALE_FACTOR", "RETOUCH_HOME"}}
    env.update(QT_QPA_PLATFORM="offscreen", RETOUCH_HOME=str(home), PYTHONUNBUFFERED="1")
    editor = subprocess.Popen(
        [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())",
         str(first), str(second)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(saved_session(home).get("inputs", [])) < 2:
            assert editor.poll() is None, editor.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the photos were not opened"
            time.sleep(0.1)
        session = saved_session(home)
        assert session["photo"]["name"] == "kitchen.png"
        assert Path(session["photo"]["original"] or session["photo"]["path"]) == first
        assert [i["name"] for i in session["inputs"]] == ["kitchen.png", "reference.png"]
        editor.send_signal(signal.SIGTERM)
        assert editor.wait(timeout=30) == 0
    finally:
        if editor.poll() is None:
            editor.kill()
        editor.communicate()
