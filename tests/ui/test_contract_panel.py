"""The parameter panel of the real window under the 2026-08 contract (issue 16): moderation
is shown held back for OpenAI and sent to a vendor, an experimental size shows an amber
warning and is still sent, gpt-image-2 takes a transparent background."""

from __future__ import annotations

from app.core.providers import OPENAI_ID
from app.gui import Editor
from tests.support.editor import editor, use_provider  # noqa: F401  (the fixture)


def test_moderation_is_held_for_openai_and_sent_to_a_vendor(editor: Editor) -> None:  # noqa: F811
    session, panel = editor.session, editor.window.params
    use_provider(editor, "https://vendor.example")
    session.params.set_value("model", "gpt-image-1")
    session.params.set_value("moderation", "low")
    assert panel.editors["moderation"].isEnabled()
    assert session.params.request_values()["moderation"] == "low"
    openai = next(p for p in session.settings.providers() if p.id == OPENAI_ID)
    session.set_provider(openai)
    assert not panel.editors["moderation"].isEnabled()
    assert "OpenAI's multipart edit endpoint" in panel.notes["moderation"].text()
    assert "moderation" not in session.params.request_values()
    assert session.params.value("moderation") == "low"  # kept for the next vendor


def test_an_experimental_size_shows_a_warning_and_is_sent(editor: Editor) -> None:  # noqa: F811
    params, panel = editor.session.params, editor.window.params
    params.set_value("model", "gpt-image-2")
    params.set_value("size", "3840x2160")
    note = panel.notes["size"]
    assert not note.isHidden() and "experimental" in note.text()
    assert note.property("severity") == "warning"
    assert params.problem_for("size") is None
    assert params.request_values()["size"] == "3840x2160"
    params.set_value("size", "2560x1440")
    assert note.isHidden()


def test_gpt_image_2_offers_a_transparent_background(editor: Editor) -> None:  # noqa: F811
    params, panel = editor.session.params, editor.window.params
    params.set_value("model", "gpt-image-2")
    box = panel.editors["background"].box
    assert "transparent" in [box.itemText(i) for i in range(box.count())]
    assert "preview" in panel.editors["background"].toolTip()
