"""The parameter panel of the real window under the 2026-08 contract (issue 16): moderation
is shown held back for OpenAI and sent to a vendor, an experimental size shows an amber
warning and is still sent, gpt-image-2 takes a transparent background."""

from __future__ import annotations

from app.core.providers import OPENAI_ID
from app.gui import Editor
from tests.support.editor import editor, generate_sample, use_provider  # noqa: F401


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


def test_a_server_flooding_partials_is_said_in_the_error_bar_and_the_job_ends(
    qt_loop,
    editor: Editor,  # noqa: F811
) -> None:
    """Issue 15: the client keeps what was asked for and the editor says what it ignored."""
    from tests.support import fault_server as fs
    from tests.support import images

    window, session = editor.window, editor.session
    flood = [fs.partial(images.png_bytes(600, 400), i) for i in range(30)]
    reply = fs.sse([*flood, fs.completed(images.png_bytes(600, 400))])

    with fs.serve(reply) as server:
        use_provider(editor, server.base_url)
        job_id = generate_sample(qt_loop, editor, stream=True, partials=1)
    job = session.jobs.jobs[job_id]
    assert len(job.files) == 2  # one partial and the final, nothing more on disk
    assert not window.error_bar.isHidden()
    assert "partial" in window.error_bar.message.text().lower()


def test_a_final_before_its_partial_stays_the_tiles_picture(
    qt_loop,
    editor: Editor,  # noqa: F811
) -> None:
    """Issue 16: the final image may arrive before the partials; the gallery keeps the
    final (a late partial never replaces it) and the tile is usable."""
    from PIL import Image

    from tests.support import fault_server as fs
    from tests.support import images

    window = editor.window
    final = images.encode(Image.new("RGB", (600, 400), (20, 160, 40)))
    late = images.encode(Image.new("RGB", (600, 400), (200, 20, 20)))
    reply = fs.sse([fs.completed(final), fs.partial(late, 0)])

    with fs.serve(reply) as server:
        use_provider(editor, server.base_url)
        job_id = generate_sample(qt_loop, editor, stream=True, partials=1)
    tile = window.gallery.sections[job_id].tiles[0]
    assert tile.is_final and tile.buttons["use"].isEnabled()
    with Image.open(tile.path) as shown:
        assert shown.convert("RGB").getpixel((10, 10)) == (20, 160, 40)
