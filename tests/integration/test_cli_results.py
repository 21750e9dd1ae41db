"""Where `retouch edit` puts what it was paid for (issue 15): names no other run takes, no
file ever replaced, an unusable --out named before anything is sent, and a results folder
removed mid-run made again for the images still to come. On 127.0.0.1 fault servers."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli_report import ResultWriter
from app.core.events import CompletedImage
from app.core.imageio import write_new
from tests.support import fault_server as fs
from tests.support import images
from tests.support.cli import run_edit as edit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-results")
    monkeypatch.delenv("RETOUCH_BASE_URL", raising=False)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    return images.write(tmp_path / "photo.png", images.png_bytes(64, 48))


def final(data: bytes) -> CompletedImage:
    return CompletedImage(data=data, variant=0)


def test_two_runs_in_the_same_second_take_names_of_their_own(tmp_path: Path) -> None:
    """Two writers with the same time stamp (two runs started in the same second) into one
    folder: both results are kept."""
    folder = tmp_path / "out"
    folder.mkdir()
    first = ResultWriter(folder, stamp="20261128-120000").write(final(images.png_bytes(8, 8)))
    second = ResultWriter(folder, stamp="20261128-120000").write(final(images.png_bytes(9, 9)))
    assert first != second and first.exists() and second.exists()
    assert sorted(folder.iterdir()) == sorted([first, second])


def test_a_write_never_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "result.png"
    target.write_bytes(b"paid for")
    written = write_new(target, b"new")
    assert target.read_bytes() == b"paid for"
    assert written == tmp_path / "result-2.png" and written.read_bytes() == b"new"
    again = write_new(target, b"newer")
    assert again == tmp_path / "result-3.png"
    assert not list(tmp_path.glob(".*.part"))  # no temporary file left behind


def test_two_processes_into_one_folder_keep_every_result(tmp_path: Path, photo: Path) -> None:
    """Two real `retouch edit` processes at once, into one --out."""
    out = tmp_path / "out"
    with fs.serve(fs.json_images([images.png_bytes(32, 24)])) as server:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "app", "edit", "--base-url", server.base_url,
                   "--image", str(photo), "--prompt", "x", "--out", str(out),
                   "--no-history"]  # fmt: skip
        runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE) for _ in range(2)]  # fmt: skip
        outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    assert len(list(out.glob("retouch-*-final.png"))) == 2


def test_an_out_that_cannot_be_written_is_named_before_anything_is_sent(
    capsys, tmp_path: Path, photo: Path
) -> None:
    if sys.platform != "linux":
        pytest.skip("uses /proc, a folder no one can write to, even root")
    with fs.serve(fs.json_images([images.png_bytes(32, 24)])) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
            "--out", "/proc/self", "--json", "--no-history",
        )  # fmt: skip
        sent = len(server.requests)
    assert code == 2 and sent == 0
    (problem,) = events[-1]["problems"]
    assert problem["field"] == "out" and problem["file"] == "/proc/self"
    assert "cannot write the results there" in problem["message"]
    assert "--out" in problem["message"]


def test_an_out_under_a_file_is_named(capsys, tmp_path: Path, photo: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, events, _, _ = edit(
        capsys, "--base-url", "http://127.0.0.1:9", "--image", str(photo), "--prompt", "x",
        "--out", str(blocker / "results"), "--json", "--no-history",
    )  # fmt: skip
    assert code == 2
    (problem,) = events[-1]["problems"]
    assert problem["field"] == "out" and str(blocker / "results") in problem["message"]


class RemoveFolderMidStream(fs.Reply):
    """A stream that sends a partial, waits until the client has written it, removes the
    results folder, then sends the final."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, conn: fs.Conn) -> None:
        await conn.head(200, {"Content-Type": "text/event-stream", "Connection": "close"})
        await conn.write(fs.partial(images.png_bytes(16, 12)).encode("\n"))
        for _ in range(400):
            written = list(self.folder.glob("*partial0*")) if self.folder.is_dir() else []
            if written and all(path.stat().st_size > 0 for path in written):
                break
            await asyncio.sleep(0.025)
        shutil.rmtree(self.folder)
        await conn.write(fs.completed(images.png_bytes(32, 24)).encode("\n"), last=True)


def test_a_results_folder_removed_mid_run_is_made_again_and_the_final_kept(
    capsys, tmp_path: Path, photo: Path
) -> None:
    out = tmp_path / "out"
    with fs.serve(RemoveFolderMidStream(out)) as server:
        code, events, _, err = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
            "--stream", "--partial-images", "1", "--out", str(out), "--json",
        )  # fmt: skip
    assert code == 0, events
    (warning,) = [e for e in events if e["event"] == "warning"]
    assert str(out) in warning["message"] and "made again" in warning["message"]
    (completed,) = [e for e in events if e["event"] == "completed"]
    assert Path(completed["file"]).exists() and Path(completed["file"]).parent == out
    assert "GeneratorExit" not in err


# --- deadlines and servers that send too much (issue 15) ----------------------------------


def test_keep_alives_alone_end_at_the_idle_timeout_with_exit_4(capsys, tmp_path, photo) -> None:
    from tests.support.hostile_replies import chatter

    with fs.serve(chatter([fs.partial(images.png_bytes(16, 12))], every=0.05)) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
            "--stream", "--partial-images", "1", "--idle-timeout", "0.5", "--out",
            str(tmp_path / "out"), "--json", "--no-history",
        )  # fmt: skip
    assert code == 4
    error = events[-1]
    assert error["event"] == "error" and "idle timeout" in error["message"]
    assert "--idle-timeout" in error["message"] and len(error["files"]) == 1  # the partial kept


@pytest.mark.parametrize("flag", ["--idle-timeout", "--job-timeout"])
@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_a_deadline_must_be_a_time_above_zero(capsys, photo, flag: str, value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        edit(capsys, "--image", str(photo), "--prompt", "x", flag, value)
    assert exited.value.code == 2
    assert flag in capsys.readouterr().err


def test_extra_partials_are_ignored_with_a_warning_and_never_written(
    capsys, tmp_path: Path, photo: Path
) -> None:
    flood = [fs.partial(images.png_bytes(16, 12), i) for i in range(40)]
    out = tmp_path / "out"
    with fs.serve(fs.sse([*flood, fs.completed(images.png_bytes(32, 24))])) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
            "--stream", "--partial-images", "1", "--out", str(out), "--json", "--no-history",
        )  # fmt: skip
    assert code == 0
    (warning,) = [e for e in events if e["event"] == "warning"]
    assert warning["code"] and warning["message"]
    assert len(list(out.iterdir())) == 2  # one partial, one final


# --- the local engine's token (issue 15) ----------------------------------------------------


def test_the_engines_token_is_sent_to_a_loopback_engine_and_never_an_openai_key(
    capsys, monkeypatch, tmp_path: Path, photo: Path
) -> None:
    from tests.support.engine import running_engine

    mask = images.write(tmp_path / "mask.png", images.mask_bytes(64, 48, (10, 10, 20, 20)))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-go-to-the-engine")
    monkeypatch.setenv("RETOUCH_ENGINE_TOKEN", "engine-secret-7")
    with running_engine(token="engine-secret-7") as url:
        code, events, _, _ = edit(
            capsys, "--base-url", url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "x", "--out", str(tmp_path / "out"), "--json", "--no-history",
        )  # fmt: skip
        assert code == 0, events
        monkeypatch.delenv("RETOUCH_ENGINE_TOKEN")  # now OPENAI_API_KEY is all there is
        code, events, _, _ = edit(
            capsys, "--base-url", url, "--image", str(photo), "--mask", str(mask),
            "--prompt", "x", "--out", str(tmp_path / "out"), "--json", "--no-history",
        )  # fmt: skip
    assert code == 3 and events[-1]["status"] == 401
    assert "OPENAI_API_KEY" in events[-1]["message"]


def test_a_folder_removed_during_a_write_is_made_again_and_the_image_kept(
    tmp_path: Path, monkeypatch
) -> None:
    """The folder vanishes between the check and the write (someone's rm -r at that very
    moment): the writer makes it again once and writes the image."""
    import app.cli_report as cli_report

    folder = tmp_path / "out"
    folder.mkdir()
    real_write_new, calls = cli_report.write_new, []

    def removed_first(path: Path, data: bytes) -> Path:
        calls.append(path)
        if len(calls) == 1:
            shutil.rmtree(folder)
        return real_write_new(path, data)

    monkeypatch.setattr(cli_report, "write_new", removed_first)
    writer = ResultWriter(folder)
    path = writer.write(final(images.png_bytes(8, 8)))
    assert path.exists() and path.parent == folder and len(calls) == 2
    assert writer.recreated
