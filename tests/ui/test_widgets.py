from __future__ import annotations

import html
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from app.client import ApiError
from app.client.errors import user_error
from app.core.errors import UserError
from app.core.providers import LOCAL_ID, OPENAI_ID, Provider, builtin_providers
from app.core.request import EditRequest
from app.core.schema import load_schema
from app.models.job import Job, JobSource, JobStatus, VariantState
from app.models.jobs import JobsModel
from app.models.settings import Settings
from app.services.keys import KeyStore
from app.ui.error_bar import ErrorBar
from app.ui.gallery import Gallery
from app.ui.prompt_box import PromptBox
from app.ui.settings_dialog import SettingsDialog
from tests.unit.test_providers import MemoryKeyring, NoKeyring

LOCAL = next(p for p in builtin_providers(load_schema()) if p.id == LOCAL_ID)


def solid(color: str, size: int = 64) -> QImage:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    return image


# --- gallery ---------------------------------------------------------------------------


class Feed:
    """Jobs in a real JobsModel, changed as the model changes them when images arrive,
    with the model's own signals: what the gallery observes."""

    def __init__(self, tmp_path: Path) -> None:
        self.jobs = JobsModel(load_schema(), tmp_path, lambda provider: None)
        self.folder = tmp_path
        self.ids: dict[int, str] = {}

    def start(self, number: int, variants: int, prompt: str = "p", **values) -> str:
        request = EditRequest(
            (self.folder / "in.png",), {"prompt": prompt, "n": variants, **values}
        )
        job_id = f"job{number:032d}"
        self.jobs.jobs[job_id] = Job(
            job_id, number, request, LOCAL, self.folder, JobSource(self.folder / "in.png")
        )
        self.ids[number] = job_id
        self.jobs.job_started.emit(job_id, variants)
        return job_id

    def partial(self, number: int, variant: int, index: int, color: str, name: str) -> None:
        job = self.jobs.jobs[self.ids[number]]
        result = job.result(variant)
        result.partials.append(Path(name))
        if not result.is_final:
            result.state, result.shown_partial = VariantState.STREAMING, index
            job.status = JobStatus.STREAMING
            self.jobs.partial_received.emit(job.id, variant, index, solid(color), name)

    def final(self, number: int, variant: int, color: str, name: str) -> None:
        job = self.jobs.jobs[self.ids[number]]
        result = job.result(variant)
        result.final, result.state = Path(name), VariantState.FINAL
        self.jobs.image_received.emit(job.id, variant, solid(color), name)

    def end(self, number: int, status: JobStatus, error: str = "") -> None:
        job = self.jobs.jobs[self.ids[number]]
        self.jobs._end(job, status, UserError(error, "api") if error else None)
        if status == JobStatus.CANCELLED:
            self.jobs.job_cancelled.emit(job.id)
        else:
            self.jobs.job_failed.emit(job.id, job.error)

    def variant_failed(self, number: int, variant: int, message: str) -> None:
        job = self.jobs.jobs[self.ids[number]]
        job.result(variant).state = VariantState.FAILED
        job.result(variant).error = message
        self.jobs.job_failed.emit(job.id, UserError(message, "protocol", variant=variant))


@pytest.fixture
def feed(tmp_path) -> Feed:
    return Feed(tmp_path)


@pytest.fixture
def gallery(qtbot, feed: Feed) -> Gallery:
    widget = Gallery(feed.jobs)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_partials_then_final_in_each_variant_tile(gallery, feed) -> None:
    job = feed.start(1, 2, "remove the cup", model="local-inpaint")
    first, second = gallery.sections[job].tiles[0], gallery.sections[job].tiles[1]
    assert not first.buttons["save"].isEnabled()
    feed.partial(1, 0, 0, "red", "/r/001-v0-partial0.png")
    feed.partial(1, 1, 0, "blue", "/r/002-v1-partial0.png")
    assert "partial 1" in first.caption.text() and not first.is_final
    feed.final(1, 0, "green", "/r/003-v0-final.png")
    feed.partial(1, 0, 1, "red", "/r/004-v0-partial1.png")  # late: ignored
    assert first.is_final and first.path == "/r/003-v0-final.png"
    assert first.picture.pixmap().toImage().pixelColor(20, 20) == QColor("green")
    assert first.buttons["save"].isEnabled() and not second.buttons["save"].isEnabled()
    assert "model: local-inpaint" in first.toolTip()


def test_newest_job_on_top_and_discard(gallery, feed) -> None:
    feed.start(1, 1, "one")
    two = feed.start(2, 1, "two")
    assert gallery.column.itemAt(0).widget() is gallery.sections[two]
    feed.final(2, 0, "red", "/r/a.png")
    assert gallery.sections[two].tiles[0].path == "/r/a.png"
    feed.jobs.discard(two, 0)
    assert two not in gallery.sections
    assert feed.jobs.jobs[two].results[0].discarded  # the model says so; the file stays
    assert feed.jobs.newest().number == 1


def test_tile_actions_are_signalled(qtbot, gallery, feed) -> None:
    job = feed.start(5, 1)
    feed.final(5, 0, "red", "/r/a.png")
    with qtbot.waitSignal(gallery.action_requested) as blocker:
        qtbot.mouseClick(gallery.sections[job].tiles[0].buttons["use"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["use", job, 0]


def test_single_request_variants_get_tiles_as_they_come(gallery, feed) -> None:
    job = feed.start(3, 1)
    feed.final(3, 2, "red", "/r/x.png")
    assert sorted(gallery.sections[job].tiles) == [0, 2]


def caption_is_fully_visible(tile) -> bool:
    """The caption's whole text shows: on one line, or wrapped into a label tall enough."""
    caption = tile.caption
    width = caption.contentsRect().width()
    one_line = caption.fontMetrics().horizontalAdvance(caption.text()) <= width
    wrapped = caption.wordWrap() and caption.height() >= caption.heightForWidth(caption.width())
    inside_tile = caption.geometry().bottom() <= tile.contentsRect().bottom()
    return (one_line or wrapped) and inside_tile


def test_a_cancelled_partial_can_be_saved_copied_and_used(qtbot, gallery, feed) -> None:
    job = feed.start(7, 10, model="gpt-image-1")
    feed.partial(7, 9, 0, "red", "/r/001-v9-partial0.png")
    tile = gallery.sections[job].tiles[9]
    assert not tile.buttons["save"].isEnabled()  # still streaming: wait for the final
    feed.end(7, JobStatus.CANCELLED)
    assert "Variant 10 · cancelled (partial kept)" in tile.caption.text()
    assert gallery.sections[job].status.text() == "cancelled; what arrived is kept"
    for key in ("save", "copy", "use", "discard"):
        assert tile.buttons[key].isEnabled(), key
    assert tile.path == "/r/001-v9-partial0.png"
    with qtbot.waitSignal(gallery.action_requested) as blocker:
        qtbot.mouseClick(tile.buttons["save"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["save", job, 9]
    empty = gallery.sections[job].tiles[0]
    assert "cancelled" in empty.caption.text() and "partial" not in empty.caption.text()
    assert empty.picture.text() != "waiting…" and not empty.buttons["save"].isEnabled()


def test_a_long_caption_is_never_cut_off(qtbot, gallery, feed) -> None:
    job = feed.start(8, 10)
    feed.partial(8, 9, 2, "red", "/r/001-v9-partial2.png")
    feed.end(8, JobStatus.CANCELLED)
    tile = gallery.sections[job].tiles[9]
    qtbot.waitUntil(lambda: caption_is_fully_visible(tile), timeout=2000)
    # The text really is wider than the tile: this checks wrapping, not a short caption.
    assert tile.caption.fontMetrics().horizontalAdvance(tile.caption.text()) > tile.width()


def test_tiles_without_an_image_say_the_job_failed_and_why(gallery, feed) -> None:
    job = feed.start(4, 3, model="gpt-image-1")
    feed.final(4, 0, "green", "/r/001-v0-final.png")
    feed.partial(4, 1, 0, "red", "/r/002-v1-partial0.png")
    reason = "variant 3 of 3 failed: 500 Internal Server Error: <overloaded> & retried"
    feed.end(4, JobStatus.FAILED, reason)
    done, partial, empty = (gallery.sections[job].tiles[v] for v in range(3))
    assert gallery.sections[job].status.text() == "failed"
    assert done.caption.text() == "Variant 1 · final" and "model:" in done.toolTip()
    assert partial.caption.text() == "Variant 2 · failed (partial kept)"
    assert partial.buttons["use"].isEnabled()
    assert empty.caption.text() == "Variant 3 · failed"
    assert "waiting" not in empty.picture.text() and "failed" in empty.picture.text()
    assert html.escape(reason) in empty.toolTip()  # shown as text, not taken as markup
    assert not empty.buttons["save"].isEnabled()


def test_one_variant_failing_leaves_the_job_and_the_other_tiles_alone(gallery, feed) -> None:
    job = feed.start(6, 2, model="gpt-image-1")
    feed.partial(6, 0, 0, "red", "/r/001-v0-partial0.png")
    feed.variant_failed(6, 1, "Variant 2: 002-v1-final.png could not be decoded")
    first, second = gallery.sections[job].tiles[0], gallery.sections[job].tiles[1]
    assert gallery.sections[job].status.text() == "streaming…"
    assert first.caption.text() == "Variant 1 · partial 1"
    assert second.caption.text() == "Variant 2 · failed"
    feed.partial(6, 1, 1, "blue", "/r/003-v1-partial1.png")  # it goes on
    assert second.caption.text() == "Variant 2 · partial 2"
    assert "model: gpt-image-1" in second.toolTip() and "decoded" not in second.toolTip()
    feed.jobs.job_failed.emit("not-a-job", UserError("elsewhere", "api"))  # no error


# --- error bar and prompt ----------------------------------------------------------------


def test_error_bar_shows_code_and_request_id(qtbot) -> None:
    bar = ErrorBar()
    qtbot.addWidget(bar)
    bar.show_error("Your request was rejected", code="moderation_blocked", request_id="req_9")
    assert bar.isVisible() or not bar.isHidden()
    text = bar.message.text()
    assert "rejected" in text and "moderation_blocked" in text and "req_9" in text
    with qtbot.waitSignal(bar.retry_requested):
        qtbot.mouseClick(bar.retry, Qt.MouseButton.LeftButton)
    bar.show_error("blocked", retryable=False)
    assert bar.retry.isHidden()


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_offers_settings_not_retry(qtbot, status: int) -> None:
    bar = ErrorBar()
    qtbot.addWidget(bar)
    bar.show()
    error = user_error(
        ApiError("Incorrect API key provided", status=status, code="invalid_api_key")
    )
    bar.show_problem(error)
    assert bar.retry.isHidden() and not bar.settings.isHidden()
    assert "Settings ▸ Providers" in bar.message.text()
    with qtbot.waitSignal(bar.settings_requested):
        qtbot.mouseClick(bar.settings, Qt.MouseButton.LeftButton)
    bar.show_problem(user_error(ApiError("overloaded", status=503)))
    assert not bar.retry.isHidden() and bar.settings.isHidden()


def test_prompt_history_is_a_keystroke_away(qtbot, tmp_path) -> None:
    settings = Settings(
        QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat), load_schema()
    )
    settings.set_prompt_history(["older"])
    box = PromptBox(settings.prompt_history)
    qtbot.addWidget(box)
    settings.remember_prompt("newest")
    settings.remember_prompt(" older ")  # moves to the top, no duplicate
    assert settings.prompt_history() == ["older", "newest"]
    qtbot.keyClick(box, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert box.toPlainText() == "older"
    qtbot.keyClick(box, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert box.toPlainText() == "newest"
    qtbot.keyClick(box, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(box, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert box.toPlainText() == ""


# --- settings ----------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def dialog_for(qtbot, schema, keys: KeyStore) -> SettingsDialog:
    dialog = SettingsDialog(list(builtin_providers(schema)), LOCAL_ID, keys)
    qtbot.addWidget(dialog)
    return dialog


def test_add_a_custom_provider_with_a_key(qtbot, schema, store, tmp_path: Path) -> None:
    backend = MemoryKeyring()
    dialog = dialog_for(qtbot, schema, KeyStore(backend))
    qtbot.mouseClick(dialog.add, Qt.MouseButton.LeftButton)
    dialog.name.setText("")
    qtbot.keyClicks(dialog.name, "Vendor")
    dialog.base_url.clear()
    qtbot.keyClicks(dialog.base_url, "https://vendor.example")
    dialog.path.clear()
    qtbot.keyClicks(dialog.path, "/v1/image/edits")
    qtbot.keyClick(dialog.force_array, Qt.Key.Key_Space)
    assert dialog.moderation.isChecked()  # a vendor takes moderation unless told otherwise
    qtbot.keyClick(dialog.moderation, Qt.Key.Key_Space)
    qtbot.keyClicks(dialog.models, "gpt-image-2, vendor-x")
    qtbot.keyClicks(dialog.key, "sk-very-secret")
    dialog.use.setChecked(True)
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    active = dialog.active_provider()
    assert (active.name, active.base_url, active.path) == (
        "Vendor",
        "https://vendor.example",
        "/v1/image/edits",
    )
    assert active.force_image_array and active.models == ("gpt-image-2", "vendor-x")
    assert not active.takes_moderation
    assert backend.store[("Retouch Studio", active.id)] == "sk-very-secret"

    settings = Settings(store, schema)
    settings.set_custom_providers(dialog.providers)
    settings.set_active_provider_id(active.id)
    settings.sync()
    on_disk = (tmp_path / "settings.ini").read_text()
    assert "vendor.example" in on_disk and "sk-very-secret" not in on_disk
    assert Settings(store, schema).providers()[-1] == active


def test_plain_http_to_another_host_needs_confirmation(qtbot, schema) -> None:
    dialog = dialog_for(qtbot, schema, KeyStore(NoKeyring()))
    asked = []
    dialog._confirm_plain_http = lambda provider: asked.append(provider) or False
    dialog._on_add_clicked()
    dialog.base_url.setText("http://192.168.1.9:8080")
    dialog._store_current()
    dialog.use.setChecked(True)
    dialog.accept()
    assert asked and dialog.result() != dialog.DialogCode.Accepted
    dialog._confirm_plain_http = lambda provider: True
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted


def test_invalid_custom_provider_is_not_accepted(qtbot, schema) -> None:
    dialog = dialog_for(qtbot, schema, KeyStore(NoKeyring()))
    dialog._on_add_clicked()
    dialog.base_url.setText("vendor.example")
    dialog._store_current()
    dialog.use.setChecked(True)
    dialog.accept()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert "not a web address" in dialog.problems.text()


def test_builtin_providers_are_read_only_and_keys_session_only_note(qtbot, schema) -> None:
    dialog = dialog_for(qtbot, schema, KeyStore(NoKeyring()))
    assert not dialog.base_url.isEnabled() and not dialog.key.isEnabled()
    dialog.list.setCurrentRow(1)
    assert dialog._current.id == OPENAI_ID and dialog.key.isEnabled()
    assert "session only" in dialog.key_note.text()


def test_damaged_settings_do_not_break_start_up(schema, store) -> None:
    store.setValue("providers/custom", "{broken")
    store.setValue("presets", "[1, 2]")
    settings = Settings(store, schema)
    assert [p.id for p in settings.providers()] == [LOCAL_ID, OPENAI_ID]
    assert settings.presets() == {}
    store.setValue("providers/custom", '[{"id": "x", "kind": "ftp"}, {"name": "no id"}]')
    assert len(settings.providers()) == 2
    settings.save_preset("fast", {"quality": "low"})
    assert settings.presets() == {"fast": {"quality": "low"}}
    assert isinstance(Provider.from_json({"id": "c", "kind": "custom"}), Provider)


def test_only_a_custom_vendor_shows_example_values(qtbot, schema) -> None:
    dialog = dialog_for(qtbot, schema, KeyStore())
    dialog.list.setCurrentRow(0)  # the local engine: nothing to type, nothing to suggest
    assert dialog._current.kind == "local"
    assert dialog.base_url.placeholderText() == "" and not dialog.base_url.isEnabled()
    dialog.add.click()
    assert dialog._current.kind == "custom"
    assert dialog.base_url.placeholderText().startswith("https://")
    assert dialog.models.placeholderText() != ""


def test_a_long_input_name_never_widens_the_strip(qtbot, tmp_path) -> None:
    """A used result's long name is shortened in the middle; the whole path is its tooltip."""
    from app.models.inputs import InputsModel
    from app.ui.input_strip import InputStrip

    model = InputsModel(load_schema())
    strip = InputStrip(model)
    qtbot.addWidget(strip)
    strip.resize(150, 400)
    strip.show()
    long_name = tmp_path / ("001-v0-final-pasted-" + "0123456789abcdef" * 2 + ".png")
    model.paths.extend([tmp_path / "a.png", long_name])
    model.changed.emit()
    QApplication.processEvents()
    view = strip.list
    for row in range(view.count()):
        assert view.visualItemRect(view.item(row)).right() <= view.viewport().width()
    assert view.horizontalScrollBar().maximum() == 0
