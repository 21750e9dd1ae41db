"""`retouch edit` end to end: real servers on 127.0.0.1, files on disk, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from tests.support import fault_server as fs
from tests.support import images
from tests.support.engine import running_engine

SECRET = "sk-test-never-print-me-4242"
PNG = images.png_bytes(32, 24)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("RETOUCH_BASE_URL", raising=False)


def run(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["edit", *args, "--json"])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines() if line.strip()]
    return code, lines, captured.err


# --- against the local engine --------------------------------------------------------------


def test_edit_with_a_mask_on_the_local_engine(capsys, photo, mask, out) -> None:
    with running_engine() as url:
        code, events, _ = run(
            capsys, "--base-url", url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "remove it", "--out", str(out),
        )  # fmt: skip
    assert code == 0
    completed = [e for e in events if e["event"] == "completed"]
    assert len(completed) == 1 and events[-1]["event"] == "done"
    result = Path(completed[0]["file"])
    assert result.parent == out and result.name.endswith("-v0-final.png")
    assert (completed[0]["width"], completed[0]["height"]) == (96, 64)
    assert completed[0]["usage"]["input_tokens"] > 0
    original = np.asarray(Image.open(photo).convert("RGB"))
    edited = np.asarray(Image.open(result).convert("RGB"))
    outside = np.ones(original.shape[:2], bool)
    outside[20:44, 30:60] = False
    assert np.array_equal(original[outside], edited[outside])  # bit-exact outside the hole
    assert not np.array_equal(original[~outside], edited[~outside])


def test_streamed_variants_land_on_disk_in_arrival_order(capsys, photo, mask, out) -> None:
    with running_engine() as url:
        code, events, _ = run(
            capsys, "--base-url", url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "remove it", "--n", "2", "--stream", "--partial-images", "2",
            "--out", str(out),
        )  # fmt: skip
    assert code == 0
    kinds = [(e["event"], e.get("variant")) for e in events if e["event"] != "done"]
    assert kinds.count(("partial", 0)) == 2 and kinds.count(("partial", 1)) == 2
    assert kinds.count(("completed", 0)) == 1 and kinds.count(("completed", 1)) == 1
    files = [Path(e["file"]) for e in events if "file" in e]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in files)
    assert [p.name for p in files] == sorted(p.name for p in files)  # names sort by arrival
    finals = [Path(e["file"]) for e in events if e["event"] == "completed"]
    digests = {hashlib.md5(p.read_bytes()).hexdigest() for p in finals}
    assert len(digests) == 2, "each split stream must get its own variant"


def test_singular_vendor_path_and_human_output(capsys, photo, out) -> None:
    with running_engine() as url:
        code = main(
            ["edit", "--base-url", url, "--path", "/v1/image/edits", "--image", str(photo),
             "--prompt", "clean up", "--out", str(out)]
        )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "variant 1 done" in printed and "1 image(s) saved" in printed
    assert "variant 0" not in printed  # people count variants from 1, as the tiles do


# --- invalid input: exit 2, nothing sent --------------------------------------------------


def test_invalid_input_is_reported_before_anything_is_sent(capsys, photo, tmp_path, out) -> None:
    wrong_mask = images.write(tmp_path / "small-mask.png", images.mask_bytes(10, 10))
    with fs.serve(fs.json_images([PNG])) as server:
        code, events, _ = run(
            capsys, "--base-url", server.base_url, "--image", str(photo),
            "--image", str(tmp_path / "missing.png"), "--mask", str(wrong_mask),
            "--prompt", "x", "--n", "11", "--model", "gpt-image-1", "--size", "999x999",
            "--out", str(out),
        )  # fmt: skip
        assert server.requests == []
    assert code == 2
    problems = events[0]["problems"]
    fields = sorted(p["field"] for p in problems)
    assert fields == ["image", "mask", "n", "size"]
    assert any("missing.png" in p["message"] for p in problems)


def test_a_remote_provider_needs_a_key(capsys, photo) -> None:
    code, events, _ = run(capsys, "--base-url", "https://api.example.invalid",
                          "--image", str(photo), "--prompt", "x")  # fmt: skip
    assert code == 2
    assert "OPENAI_API_KEY" in events[0]["problems"][0]["message"]


def test_the_key_comes_from_the_named_variable_and_is_never_printed(
    capsys, monkeypatch, photo, out
) -> None:
    monkeypatch.setenv("MY_VENDOR_KEY", SECRET)
    reply = fs.error(401, f"Incorrect API key provided: {SECRET}", code="invalid_api_key")
    with fs.serve(reply) as server:
        code, events, err = run(
            capsys, "--base-url", server.base_url, "--api-key-env", "MY_VENDOR_KEY",
            "--image", str(photo), "--prompt", "x", "--out", str(out),
        )  # fmt: skip
        assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert code == 3
    assert SECRET not in json.dumps(events) and SECRET not in err
    assert events[-1]["code"] == "invalid_api_key"


# --- failures from the server --------------------------------------------------------------


def test_api_error_shows_message_code_and_request_id(capsys, photo, out) -> None:
    reply = fs.error(
        400, "Your request was rejected by the safety system.",
        type="image_generation_user_error", code="moderation_blocked",
        headers={"x-request-id": "req_abc123"},
    )  # fmt: skip
    with fs.serve(reply) as server:
        code = main(["edit", "--base-url", server.base_url, "--image", str(photo),
                     "--prompt", "x", "--out", str(out)])  # fmt: skip
        assert len(server.requests) == 1  # moderation is never retried
    err = capsys.readouterr().err
    assert code == 3
    assert "safety system" in err and "moderation_blocked" in err and "req_abc123" in err


def test_rate_limit_is_retried_then_succeeds(capsys, photo, out) -> None:
    replies = [
        fs.error(429, "slow down", code="rate_limit_exceeded", headers={"retry-after-ms": "20"}),
        fs.json_images([PNG, PNG]),
    ]
    with fs.serve(replies) as server:
        code, events, _ = run(capsys, "--base-url", server.base_url, "--image", str(photo),
                              "--prompt", "x", "--n", "2", "--out", str(out))  # fmt: skip
        assert len(server.requests) == 2
    assert code == 0
    assert events[0]["event"] == "retry" and "429" in events[0]["reason"]
    assert [e["variant"] for e in events if e["event"] == "completed"] == [0, 1]
    assert len(list(out.glob("*-final.png"))) == 2


def test_html_error_page_is_readable(capsys, photo, out) -> None:
    with fs.serve(fs.html(502)) as server:
        code, events, _ = run(capsys, "--base-url", server.base_url, "--image", str(photo),
                              "--prompt", "x", "--max-retries", "0", "--out", str(out))  # fmt: skip
    assert code == 3
    assert events[-1]["status"] == 502 and "HTML" in events[-1]["message"]


def test_a_dropped_stream_keeps_what_arrived(capsys, photo, out) -> None:
    stream = fs.sse([fs.partial(PNG, 0), fs.partial(PNG, 1), fs.completed(PNG)], drop_after=2)
    with fs.serve(stream) as server:
        code, events, _ = run(capsys, "--base-url", server.base_url, "--image", str(photo),
                              "--prompt", "x", "--stream", "--partial-images", "2",
                              "--out", str(out))  # fmt: skip
        assert len(server.requests) == 1  # never retried once images arrived
    assert code == 4
    assert len(events[-1]["files"]) == 2
    assert sorted(p.name.split("-", 4)[-1] for p in out.iterdir()) == [
        "001-v0-partial0.png",
        "002-v0-partial1.png",
    ]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask", [0o022, 0o002], ids=["umask-022", "umask-002"])
def test_saved_images_get_the_users_umask(capsys, photo, out, mask: int) -> None:
    stream = fs.sse([fs.partial(PNG, 0), fs.completed(PNG)])
    previous = os.umask(mask)
    try:
        with fs.serve(stream) as server:
            code, events, _ = run(capsys, "--base-url", server.base_url, "--image", str(photo),
                                  "--prompt", "x", "--stream", "--partial-images", "1",
                                  "--out", str(out))  # fmt: skip
    finally:
        os.umask(previous)
    assert code == 0
    files = [Path(f) for f in events[-1]["files"]]
    assert len(files) == 2 and sorted(out.iterdir()) == sorted(files)
    assert {oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {oct(0o666 & ~mask)}


def test_people_read_variants_from_one_scripts_from_zero(capsys, photo, out) -> None:
    stream = fs.sse([fs.partial(PNG, 0), fs.partial(PNG, 1), fs.completed(PNG)])
    with fs.serve(stream) as server:
        args = ["edit", "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
                "--stream", "--partial-images", "2", "--n", "2", "--out"]  # fmt: skip
        assert main([*args, str(out / "human")]) == 0
        printed = capsys.readouterr().out
        code, events, _ = run(capsys, *args[1:], str(out / "json"))
    assert code == 0
    lines = [line.split(":")[0] for line in printed.splitlines()]
    for variant in (1, 2):
        assert f"partial 1 of variant {variant}" in lines
        assert f"partial 2 of variant {variant}" in lines
        assert f"variant {variant} done" in lines
    assert not any("variant 0" in line or "partial 0" in line for line in lines)
    # --json is for scripts: the API's indexes, from 0, as documented.
    partials = {(e["variant"], e["partial_index"]) for e in events if e["event"] == "partial"}
    assert partials == {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert sorted(e["variant"] for e in events if e["event"] == "completed") == [0, 1]


def test_a_bomb_from_the_server_is_refused_not_written(capsys, photo, out) -> None:
    with fs.serve(fs.json_images([images.png_bomb()])) as server:
        code, events, _ = run(capsys, "--base-url", server.base_url, "--image", str(photo),
                              "--prompt", "x", "--out", str(out))  # fmt: skip
        assert server.requests
    assert code == 3
    assert "pixels" in events[-1]["message"]
    assert list(out.iterdir()) == []


def test_unreachable_server_is_a_network_failure(capsys, photo, out) -> None:
    with fs.serve(fs.json_images([PNG])) as server:
        url = server.base_url
    code, events, _ = run(capsys, "--base-url", url, "--image", str(photo), "--prompt", "x",
                          "--max-retries", "0", "--out", str(out))  # fmt: skip
    assert code == 4 and events[-1]["kind"] == "network"


def test_ctrl_c_exits_130_with_what_arrived_on_disk(photo, out) -> None:
    stream = fs.sse([fs.partial(PNG, 0)], hold=True)
    with fs.serve(stream) as server:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "edit", "--base-url", server.base_url,
             "--image", str(photo), "--prompt", "x", "--stream", "--partial-images", "1",
             "--out", str(out), "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        )  # fmt: skip
        first = proc.stdout.readline()
        assert json.loads(first)["event"] == "partial"
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=20)
        finally:
            proc.kill()
        assert server.wait_disconnect(5)
    assert code == 130
    assert len(list(out.glob("*-partial0.png"))) == 1
    assert not list(out.glob(".*.part"))


def test_help_lists_schema_flags(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["edit", "--help"])
    printed = capsys.readouterr().out
    assert exit_info.value.code == 0
    for flag in ("--output-compression", "--input-fidelity", "--partial-images", "--user"):
        assert flag in printed


def test_bad_flag_value_is_an_argparse_error(capsys, photo) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["edit", "--image", str(photo), "--prompt", "x", "--n", "three"])
    assert exit_info.value.code == 2
    assert "--n: expected a whole number" in capsys.readouterr().err


def test_serve_prints_its_url_first(tmp_path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "RETOUCH_ENGINE_TOKEN": "t0ken"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        line = proc.stdout.readline()
        assert time.monotonic() < deadline
        assert line.startswith("Retouch engine listening on http://127.0.0.1:")
        url = line.split()[-1]
        import httpx

        assert httpx.get(f"{url}/v1/models").status_code == 401  # the token is required
        ok = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer t0ken"})
        assert "local-inpaint" in ok.text
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0


def test_serve_exits_when_its_parent_goes_away() -> None:
    """The editor runs the engine with --exit-with-stdin: closing the pipe (as a dying
    parent does) stops the engine instead of leaving an orphan server."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", "0", "--exit-with-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout.readline().startswith("Retouch engine listening on")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()


def test_an_out_folder_that_becomes_a_file_is_reported_not_a_traceback(capsys, photo, out) -> None:
    """(A folder that is merely removed is made again: test_cli_results.py.)"""
    stream = fs.sse([fs.partial(PNG, 0), fs.completed(PNG)], pause=1.0)
    with fs.serve(stream) as server:

        def replace_after_first_image() -> None:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not list(out.glob("*.png")):
                time.sleep(0.01)
            shutil.rmtree(out)
            out.write_text("a file where the folder was")

        remover = threading.Thread(target=replace_after_first_image)
        remover.start()
        code, events, _ = run(capsys, "--base-url", server.base_url, "--image", str(photo),
                              "--prompt", "x", "--stream", "--partial-images", "1",
                              "--out", str(out))  # fmt: skip
        remover.join()
    assert code == 2
    assert events[-1]["kind"] == "disk"
    assert str(out) in events[-1]["message"] and "--out" in events[-1]["message"]
