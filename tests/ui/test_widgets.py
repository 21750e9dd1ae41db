from __future__ import annotations

import html
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage

from app.client import ApiError
from app.core.providers import LOCAL_ID, OPENAI_ID, Provider, builtin_providers
from app.models.jobs import JobError
from app.services.keys import KeyStore
from app.models.settings import Settings
from app.ui.error_bar import ErrorBar
from app.ui.gallery import Gallery
from app.ui.prompt_box import PromptBox
from app.ui.settings_dialog import SettingsDialog
from tests.unit.test_providers import MemoryKeyring, NoKeyring


def solid(color: str, size: int = 64) -> QImage:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    return image


# --- gallery ---------------------------------------------------------------------------


@pytest.fixture
def gallery(qtbot) -> Gallery:
    widget = Gallery()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_partials_then_final_in_each_variant_tile(gallery) -> None:
    gallery.add_job(1, 2, "remove the cup", "model: local-inpaint\nn: 2")
    first, second = gallery.sections[1].tiles[0], gallery.sections[1].tiles[1]
    assert not first.buttons["save"].isEnabled()
    gallery.show_partial(1, 0, 0, solid("red"), "/r/001-v0-partial0.png")
    gallery.show_partial(1, 1, 0, solid("blue"), "/r/002-v1-partial0.png")
    assert "partial 1" in first.caption.text() and not first.is_final
    gallery.show_final(1, 0, solid("green"), "/r/003-v0-final.png")
    gallery.show_partial(1, 0, 1, solid("red"), "/r/004-v0-partial1.png")  # late: ignored
    assert first.is_final and first.path == "/r/003-v0-final.png"
    assert first.picture.pixmap().toImage().pixelColor(20, 20) == QColor("green")
    assert first.buttons["save"].isEnabled() and not second.buttons["save"].isEnabled()
    assert "model: local-inpaint" in first.toolTip()


def test_newest_job_on_top_and_discard(gallery) -> None:
    gallery.add_job(1, 1, "one", "")
    gallery.add_job(2, 1, "two", "")
    assert gallery.column.itemAt(0).widget() is gallery.sections[2]
    gallery.show_final(2, 0, solid("red"), "/r/a.png")
    assert gallery.tile_path(2, 0) == Path("/r/a.png")
    gallery.discard(2, 0)
    assert 2 not in gallery.sections and gallery.tile_path(2, 0) is None


def test_tile_actions_are_signalled(qtbot, gallery) -> None:
    gallery.add_job(5, 1, "p", "")
    gallery.show_final(5, 0, solid("red"), "/r/a.png")
    with qtbot.waitSignal(gallery.action_requested) as blocker:
        qtbot.mouseClick(gallery.sections[5].tiles[0].buttons["use"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["use", 5, 0]


def test_single_request_variants_get_tiles_as_they_come(gallery) -> None:
    gallery.add_job(3, 1, "p", "")
    gallery.show_final(3, 2, solid("red"), "/r/x.png")
    assert sorted(gallery.sections[3].tiles) == [0, 2]


def caption_is_fully_visible(tile) -> bool:
    """The caption's whole text shows: on one line, or wrapped into a label tall enough."""
    caption = tile.caption
    width = caption.contentsRect().width()
    one_line = caption.fontMetrics().horizontalAdvance(caption.text()) <= width
    wrapped = caption.wordWrap() and caption.height() >= caption.heightForWidth(caption.width())
    inside_tile = caption.geometry().bottom() <= tile.contentsRect().bottom()
    return (one_line or wrapped) and inside_tile


def test_a_cancelled_partial_can_be_saved_copied_and_used(qtbot, gallery) -> None:
    gallery.add_job(7, 10, "p", "model: gpt-image-1")
    gallery.show_partial(7, 9, 0, solid("red"), "/r/001-v9-partial0.png")
    tile = gallery.sections[7].tiles[9]
    assert not tile.buttons["save"].isEnabled()  # still streaming: wait for the final
    gallery.mark_job_cancelled(7)
    assert "Variant 10 · cancelled (partial kept)" in tile.caption.text()
    assert gallery.sections[7].status.text() == "cancelled; what arrived is kept"
    for key in ("save", "copy", "use", "discard"):
        assert tile.buttons[key].isEnabled(), key
    assert gallery.tile_path(7, 9) == Path("/r/001-v9-partial0.png")
    with qtbot.waitSignal(gallery.action_requested) as blocker:
        qtbot.mouseClick(tile.buttons["save"], Qt.MouseButton.LeftButton)
    assert blocker.args == ["save", 7, 9]
    empty = gallery.sections[7].tiles[0]
    assert "cancelled" in empty.caption.text() and "partial" not in empty.caption.text()
    assert empty.picture.text() != "waiting…" and not empty.buttons["save"].isEnabled()


def test_a_long_caption_is_never_cut_off(qtbot, gallery) -> None:
    gallery.add_job(8, 10, "p", "")
    gallery.show_partial(8, 9, 2, solid("red"), "/r/001-v9-partial2.png")
    gallery.mark_job_cancelled(8)
    tile = gallery.sections[8].tiles[9]
    qtbot.waitUntil(lambda: caption_is_fully_visible(tile), timeout=2000)
    # The text really is wider than the tile: this checks wrapping, not a short caption.
    assert tile.caption.fontMetrics().horizontalAdvance(tile.caption.text()) > tile.width()


def test_tiles_without_an_image_say_the_job_failed_and_why(gallery) -> None:
    gallery.add_job(4, 3, "p", "model: gpt-image-1")
    gallery.show_final(4, 0, solid("green"), "/r/001-v0-final.png")
    gallery.show_partial(4, 1, 0, solid("red"), "/r/002-v1-partial0.png")
    reason = "variant 3 of 3 failed: 500 Internal Server Error: <overloaded> & retried"
    gallery.mark_job_failed(4, reason)
    done, partial, empty = (gallery.sections[4].tiles[v] for v in range(3))
    assert gallery.sections[4].status.text() == "failed"
    assert done.caption.text() == "Variant 1 · final" and "model:" in done.toolTip()
    assert partial.caption.text() == "Variant 2 · failed (partial kept)"
    assert partial.buttons["use"].isEnabled()
    assert empty.caption.text() == "Variant 3 · failed"
    assert "waiting" not in empty.picture.text() and "failed" in empty.picture.text()
    assert html.escape(reason) in empty.toolTip()  # shown as text, not taken as markup
    assert not empty.buttons["save"].isEnabled()


def test_one_variant_failing_leaves_the_job_and_the_other_tiles_alone(gallery) -> None:
    gallery.add_job(6, 2, "p", "model: gpt-image-1")
    gallery.set_status(6, "streaming…")
    gallery.mark_job_failed(6, "Variant 2: 002-v1-final.png could not be decoded", variant=1)
    first, second = gallery.sections[6].tiles[0], gallery.sections[6].tiles[1]
    assert gallery.sections[6].status.text() == "streaming…"
    assert first.caption.text() == "Variant 1" and first.picture.text() == "waiting…"
    assert second.caption.text() == "Variant 2 · failed"
    gallery.show_partial(6, 1, 1, solid("blue"), "/r/003-v1-partial1.png")  # it goes on
    assert second.caption.text() == "Variant 2 · partial 2"
    assert second.toolTip() == "model: gpt-image-1"
    gallery.mark_job_failed(99, "a job the gallery does not show")  # no error


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
    error = JobError.from_exception(
        ApiError("Incorrect API key provided", status=status, code="invalid_api_key")
    )
    bar.show_job_error(error)
    assert bar.retry.isHidden() and not bar.settings.isHidden()
    assert "Settings ▸ Providers" in bar.message.text()
    with qtbot.waitSignal(bar.settings_requested):
        qtbot.mouseClick(bar.settings, Qt.MouseButton.LeftButton)
    bar.show_job_error(JobError.from_exception(ApiError("overloaded", status=503)))
    assert not bar.retry.isHidden() and bar.settings.isHidden()


def test_prompt_history_is_a_keystroke_away(qtbot) -> None:
    box = PromptBox(["older"])
    qtbot.addWidget(box)
    box.remember("newest")
    box.remember("older")  # moves to the top, no duplicate
    assert box.history == ["older", "newest"]
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
