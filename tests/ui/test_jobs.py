"""Generate jobs on a real qasync loop against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app.client import ClientConfig
from app.client.errors import user_error
from app.core.providers import Provider
from app.core.request import EditRequest
from app.models.display import decode_for_display
from app.models.jobs import SAVE_HINT, JobsModel, _LatestOnly
from tests.support import fault_server as fs
from tests.support import images
from tests.support.engine import running_engine
from tests.support.qtloop import next_signal

LOCAL = Provider("local", "Local engine", "local")


class Recorder:
    """Collects the model's signals, and checks each file exists when it is announced."""

    def __init__(self, jobs: JobsModel) -> None:
        self.partials: list[tuple[int, int, str]] = []
        self.finals: list[tuple[int, str, QImage]] = []
        self.failures: list = []
        self.files_existed: list[bool] = []
        jobs.partial_received.connect(self._on_partial)
        jobs.image_received.connect(self._on_final)
        jobs.job_failed.connect(lambda _job, error: self.failures.append(error))

    def _on_partial(self, _job: int, variant: int, index: int, _image: QImage, path: str):
        self.partials.append((variant, index, path))
        self.files_existed.append(Path(path).is_file())

    def _on_final(self, _job: int, variant: int, image: QImage, path: str) -> None:
        self.finals.append((variant, path, image))
        self.files_existed.append(Path(path).is_file())


def make_jobs(schema, tmp_path: Path, base_url: str, **config) -> JobsModel:
    return JobsModel(
        schema, tmp_path / "results", lambda _p: ClientConfig(base_url=base_url, **config)
    )


def test_streamed_variants_arrive_saved_and_decoded(qt_loop, schema, tmp_path, photo, mask):
    values = {"prompt": "remove", "model": "local-inpaint", "n": 2, "stream": True,
              "partial_images": 2}  # fmt: skip
    with running_engine() as url:
        jobs = make_jobs(schema, tmp_path, url, variant_header="X-Retouch-Variant")
        seen = Recorder(jobs)

        async def scenario():
            finished = next_signal(jobs.job_finished)
            job_id = jobs.submit(EditRequest((photo,), values, mask), LOCAL)
            return job_id, await finished

        busy_when_finished = []
        jobs.job_finished.connect(lambda *_: busy_when_finished.append(jobs.busy))
        job_id, (finished_id, usage) = qt_loop.run(scenario())
    assert finished_id == job_id and usage.output_tokens > 0
    assert busy_when_finished == [False]
    assert sorted(v for v, _, _ in seen.finals) == [0, 1]
    assert {v for v, _, _ in seen.partials} == {0, 1}
    assert all(seen.files_existed), "every image is on disk before it is shown"
    image = seen.finals[0][2]
    assert (image.width(), image.height()) == (96, 64)
    job = jobs.jobs[job_id]
    folder = job.folder
    assert (folder / "job.json").is_file()
    assert len(list(folder.glob("*-final.png"))) == 2
    # The model holds each variant's result: its final, its partials, its state.
    assert job.status == "done" and [r.state for r in job.kept()] == ["final", "final"]
    for result in job.kept():
        assert result.final.parent == folder and result.final.is_file()
        assert result.partials and all(p.is_file() for p in result.partials)
        assert result.final not in result.partials
    # The job keeps its own copies of what it retouched: moving the photo breaks nothing.
    assert job.source.original == folder / "original.png"
    assert job.source.original.read_bytes() == photo.read_bytes()
    assert job.source.mask == folder / "mask.png"
    assert job.source.mask.read_bytes() == mask.read_bytes()
    card = json.loads((folder / "job.json").read_text())
    assert card["id"] == job_id and card["status"] == "done"
    assert card["source"] == {
        "original": "original.png",
        "mask": "mask.png",
        "region": None,
        "references": [],
        "photo": None,
        "sent": None,
        "sent_mask": None,
        "painted": None,
    }
    assert card["results"]["1"]["final"] == result.final.name


def test_job_ids_and_folders_are_unique_across_runs(qt_loop, schema, tmp_path, photo) -> None:
    """Two sessions started in the same second (job #1 each) write to different folders,
    and neither job's card points at the other's files."""
    png = images.png_bytes(40, 30)
    with fs.serve(fs.sse([fs.completed(png)])) as server:
        runs = [make_jobs(schema, tmp_path, server.base_url) for _ in range(2)]

        async def scenario():
            ids = []
            for jobs in runs:
                finished = next_signal(jobs.job_finished)
                ids.append(jobs.submit(EditRequest((photo,), {"prompt": "x", "model": "m"}), LOCAL))
                await finished
            return ids

        ids = qt_loop.run(scenario())
    first, second = (jobs.jobs[i] for jobs, i in zip(runs, ids, strict=True))
    assert first.number == second.number == 1 and first.id != second.id
    assert first.folder != second.folder and first.folder.parent == second.folder.parent
    for job in (first, second):
        card = json.loads((job.folder / "job.json").read_text())
        assert card["id"] == job.id and (job.folder / card["results"]["0"]["final"]).is_file()


def test_cancel_closes_the_connection_and_keeps_what_arrived(qt_loop, schema, tmp_path, photo):
    png = images.png_bytes(40, 30)
    with fs.serve(fs.sse([fs.partial(png, 0)], hold=True)) as server:
        jobs = make_jobs(schema, tmp_path, server.base_url)
        seen = Recorder(jobs)

        async def scenario():
            first = next_signal(jobs.partial_received)
            cancelled = next_signal(jobs.job_cancelled)
            job_id = jobs.submit(
                EditRequest((photo,), {"prompt": "x", "model": "m", "stream": True}), LOCAL
            )
            await first
            jobs.cancel()
            await cancelled
            await jobs.wait(job_id)
            return job_id

        job_id = qt_loop.run(scenario())
        assert server.wait_disconnect(5)
    assert not jobs.busy
    assert len(seen.partials) == 1 and seen.failures == []
    assert len(list(jobs.jobs[job_id].folder.glob("*-partial0.png"))) == 1


def test_a_failure_reaches_the_error_bar_with_code_and_request_id(
    qt_loop, schema, tmp_path, photo
) -> None:
    reply = fs.error(
        400, "Your request was rejected by the safety system.",
        type="image_generation_user_error", code="moderation_blocked",
        headers={"x-request-id": "req_42"},
    )  # fmt: skip
    with fs.serve(reply) as server:
        jobs = make_jobs(schema, tmp_path, server.base_url)

        async def scenario():
            failed = next_signal(jobs.job_failed)
            jobs.submit(EditRequest((photo,), {"prompt": "x", "model": "m"}), LOCAL)
            return await failed

        _job, error = qt_loop.run(scenario())
    assert error.code == "moderation_blocked" and error.request_id == "req_42"
    assert "safety system" in error.message and not error.retryable


def test_latest_only_drops_stale_partials_but_never_finals(qt_loop) -> None:
    shown: list[str] = []

    async def show(name: str, delay: float = 0.02) -> None:
        await asyncio.sleep(delay)
        shown.append(name)

    async def scenario():
        display = _LatestOnly()
        display.offer(0, show("p0"))  # starts at once
        display.offer(0, show("p1"))  # waits...
        display.offer(0, show("p2"))  # ...and is replaced by this one
        display.offer(1, show("other-variant"))
        await display.drain()

    qt_loop.run(scenario())
    assert shown.count("p1") == 0
    assert set(shown) == {"p0", "p2", "other-variant"}


def test_decode_for_display_bounds_the_size_and_refuses_garbage() -> None:
    big = images.png_bytes(1200, 600)
    image = decode_for_display(big, 300)
    assert (image.width(), image.height()) == (300, 150)
    with pytest.raises(ValueError, match="could not be decoded"):
        decode_for_display(b"not an image")


def test_a_result_that_cannot_be_saved_says_what_to_do() -> None:
    error = user_error(OSError(28, "No space left on device", "/r/001-v0.png"), save_hint=SAVE_HINT)
    assert error.kind == "disk" and error.retryable
    assert "/r/001-v0.png" in error.message and "No space left" in error.message
    assert "free some disk space" in error.message


# --- a refused key, variant numbers, file permissions --------------------------------------


@pytest.mark.parametrize(
    ("status", "code"), [(401, "invalid_api_key"), (403, "insufficient_permissions")]
)
def test_a_refused_key_is_not_retried_and_points_to_settings(
    qt_loop, schema, tmp_path, photo, status: int, code: str
) -> None:
    reply = fs.error(status, "Incorrect API key provided.", code=code,
                     headers={"x-request-id": "req_auth"})  # fmt: skip
    with fs.serve(reply) as server:
        jobs = make_jobs(schema, tmp_path, server.base_url, api_key="sk-wrong")

        async def scenario():
            failed = next_signal(jobs.job_failed)
            jobs.submit(EditRequest((photo,), {"prompt": "x", "model": "m"}), LOCAL)
            return await failed

        _job, error = qt_loop.run(scenario())
        assert len(server.requests) == 1
    assert (error.kind, error.status, error.code) == ("auth", status, code)
    assert error.needs_settings and not error.retryable
    assert "Incorrect API key" in error.message and "Settings ▸ Providers" in error.message
    assert error.request_id == "req_auth"


def test_an_overloaded_server_is_worth_a_retry_not_a_settings_change(
    qt_loop, schema, tmp_path, photo
) -> None:
    with fs.serve(fs.error(503, "overloaded", type="server_error")) as server:
        jobs = make_jobs(schema, tmp_path, server.base_url, max_retries=0)

        async def scenario():
            failed = next_signal(jobs.job_failed)
            jobs.submit(EditRequest((photo,), {"prompt": "x", "model": "m"}), LOCAL)
            return await failed

        _job, error = qt_loop.run(scenario())
    assert error.kind == "api" and error.retryable and not error.needs_settings


def test_messages_count_variants_from_one(qt_loop, schema, tmp_path, photo) -> None:
    good = images.png_bytes(200, 150)
    broken = images.corrupt(good)  # a whole PNG by its header and end, garbage inside

    def scenario_for(request: fs.RecordedRequest, _index: int) -> fs.Reply:
        second = request.headers.get("x-retouch-variant") == "1"
        return fs.sse([fs.completed(broken if second else good)])

    values = {"prompt": "x", "model": "m", "n": 2, "stream": True}
    with fs.serve(scenario_for) as server:
        jobs = make_jobs(schema, tmp_path, server.base_url, variant_header="X-Retouch-Variant")
        seen = Recorder(jobs)

        async def scenario():
            finished = next_signal(jobs.job_finished)
            jobs.submit(EditRequest((photo,), values), LOCAL)
            await finished

        qt_loop.run(scenario())
    (error,) = seen.failures
    assert error.variant == 1 and error.message.startswith("Variant 2: ")
    assert "-v1-final.png" in error.message and "another program" in error.message
    assert [v for v, _, _ in seen.finals] == [0]


def test_a_failing_variant_is_named_from_one_in_the_job_error(
    qt_loop, schema, tmp_path, photo
) -> None:
    def scenario_for(request: fs.RecordedRequest, _index: int) -> fs.Reply:
        if request.headers.get("x-retouch-variant") == "2":
            return fs.error(500, "the GPU caught fire", type="server_error")
        return fs.sse([fs.completed(images.png_bytes(40, 30))])

    values = {"prompt": "x", "model": "m", "n": 3, "stream": True}
    with fs.serve(scenario_for) as server:
        jobs = make_jobs(
            schema, tmp_path, server.base_url, variant_header="X-Retouch-Variant", max_retries=0
        )

        async def scenario():
            failed = next_signal(jobs.job_failed)
            jobs.submit(EditRequest((photo,), values), LOCAL)
            return await failed

        _job, error = qt_loop.run(scenario())
    assert error.message.startswith("variant 3 of 3 failed: ")
    assert "variant 2 " not in error.message and "of 0 to" not in error.message
    assert error.variant is None  # the job ended: every tile without a final failed


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_results_and_the_job_card_get_the_users_umask(
    qt_loop, schema, tmp_path, photo, umask: int
) -> None:
    png = images.png_bytes(40, 30)
    stream = fs.sse([fs.partial(png, 0), fs.completed(png)])
    with fs.serve(stream) as server:
        jobs = make_jobs(schema, tmp_path, server.base_url)

        async def scenario():
            finished = next_signal(jobs.job_finished)
            job_id = jobs.submit(
                EditRequest((photo,), {"prompt": "x", "model": "m", "stream": True,
                                       "partial_images": 1}), LOCAL,
            )  # fmt: skip
            await finished
            return job_id

        job_id = qt_loop.run(scenario())
    written = sorted(jobs.jobs[job_id].folder.iterdir())
    names = [p.name for p in written]
    assert names == ["001-v0-partial0.png", "002-v0-final.png", "job.json", "original.png"]
    # The original is the photo's own file (a hard link), with the photo's permissions.
    modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written[:-1]}
    assert set(modes.values()) == {oct(0o666 & ~umask)}, modes


def test_a_cancel_while_the_card_is_written_still_ends_the_job(
    qt_loop, schema, tmp_path, photo, monkeypatch
) -> None:
    """Quitting at the moment a job ends: the card is written, the job's last signal goes
    out and the model is no longer busy (else the window would wait on it for good)."""
    import app.models.jobs as jobs_module

    writing, release = threading.Event(), threading.Event()
    real_write = jobs_module.write_atomic

    def slow_card(path: Path, data: bytes) -> Path:
        if path.name == "job.json" and b'"done"' in data:
            writing.set()
            release.wait(5)
        return real_write(path, data)

    monkeypatch.setattr(jobs_module, "write_atomic", slow_card)
    png = images.png_bytes(40, 30)
    with fs.serve(fs.json_images([png])) as server:
        jobs = make_jobs(schema, tmp_path, server.base_url)
        finished: list[str] = []
        jobs.job_finished.connect(lambda job_id, _usage: finished.append(job_id))

        async def scenario() -> str:
            job_id = jobs.submit(EditRequest((photo,), {"prompt": "x", "model": "m"}), LOCAL)
            while not writing.is_set():
                await asyncio.sleep(0.01)
            jobs.cancel()
            await asyncio.sleep(0.05)
            release.set()
            await jobs.wait(job_id)
            card = jobs.jobs[job_id].folder / "job.json"
            for _ in range(500):  # the write goes on in its worker
                if b'"done"' in card.read_bytes():
                    break
                await asyncio.sleep(0.01)
            return job_id

        job_id = qt_loop.run(scenario())
    job = jobs.jobs[job_id]
    assert finished == [job_id] and not jobs.busy and job.task.cancelled()
    card = json.loads((job.folder / "job.json").read_text())
    assert card["status"] == "done"
