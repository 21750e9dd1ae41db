"""Running ``retouch edit`` in the test process, as the shell would."""

from __future__ import annotations

import json

from app.cli import main


def run_edit(capsys, *args: str) -> tuple[int, list[dict], str, str]:
    """``retouch edit ARGS``: its exit code, its JSON events (with ``--json``), and what it
    printed on stdout and stderr."""
    code = main(["edit", *args])
    captured = capsys.readouterr()
    events = []
    if "--json" in args:
        events = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, events, captured.out, captured.err
