from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core.schema import default_schema_path, load_schema
from app.models.parameters import ParametersModel
from app.ui.params import ParameterPanel
from app.ui.params.editors import (
    BooleanEditor,
    ChoiceEditor,
    IntegerEditor,
    ModelEditor,
    SizeEditor,
    TextEditor,
)


@pytest.fixture
def model(schema) -> ParametersModel:
    params = ParametersModel(schema)
    params.set_value("prompt", "remove the cup")
    return params


@pytest.fixture
def panel(qtbot, model) -> ParameterPanel:
    widget = ParameterPanel(model)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_one_editor_per_field_by_kind(panel, schema) -> None:
    expected = {s.name for s in schema.value_fields} - {"prompt"}
    assert set(panel.editors) == expected
    kinds = {
        "model": ModelEditor,
        "n": IntegerEditor,
        "size": SizeEditor,
        "quality": ChoiceEditor,
        "stream": BooleanEditor,
        "user": TextEditor,
    }
    for name, cls in kinds.items():
        assert type(panel.editors[name]) is cls, name
    assert panel.editors["n"].toolTip() == schema.field("n").help


def test_defaults_come_from_the_schema(panel, model) -> None:
    assert panel.editors["n"].value() == 1
    assert panel.editors["quality"].value() == "auto"
    assert panel.editors["input_fidelity"].value() is None
    assert panel.editors["partial_images"].value() == 0  # one event with the complete image
    assert model.request_values() == {"prompt": "remove the cup", "model": "gpt-image-2"}


def test_unsupported_fields_are_disabled_with_the_reason(panel, model) -> None:
    fidelity = panel.editors["input_fidelity"]
    assert not fidelity.isEnabled()
    assert "invalid_input_fidelity_model" in panel.notes["input_fidelity"].text()
    model.set_value("model", "gpt-image-1")
    assert fidelity.isEnabled() and panel.notes["input_fidelity"].isHidden()
    model.set_value("model", "gpt-image-1-plus")
    assert not panel.editors["quality"].isEnabled()
    assert "-plus" in panel.editors["quality"].toolTip()


def test_dependent_fields_follow_their_requirement(qtbot, panel, model) -> None:
    compression = panel.editors["output_compression"]
    assert not compression.isEnabled()
    panel.editors["output_format"].box.setCurrentText("jpeg")
    assert model.value("output_format") == "jpeg"
    assert compression.isEnabled()
    partials = panel.editors["partial_images"]
    assert not partials.isEnabled()
    qtbot.keyClick(panel.editors["stream"].box, Qt.Key.Key_Space)
    assert model.value("stream") is True and partials.isEnabled()
    partials.box.setValue(2)
    assert model.request_values()["partial_images"] == 2
    qtbot.keyClick(panel.editors["stream"].box, Qt.Key.Key_Space)
    assert "partial_images" not in model.request_values()


def test_model_choices_and_excluded_values(panel, model) -> None:
    model.set_value("model", "gpt-image-1")
    panel.editors["background"].box.setCurrentText("transparent")
    assert model.value("background") == "transparent"
    model.set_value("model", "gpt-image-2")  # takes it too, in preview
    assert model.value("background") == "transparent"
    panel.editors["quality"].box.setCurrentText("high")
    model.set_value("model", "dall-e-2")
    quality = panel.editors["quality"]
    assert [quality.box.itemText(i) for i in range(quality.box.count())] == ["standard"]
    assert model.value("quality") == "standard"  # its only choice, not the refused default
    assert model.request_values()["quality"] == "standard"
    model.set_value("model", "gpt-image-1")
    items = [quality.box.itemText(i) for i in range(quality.box.count())]
    assert items == ["auto", "low", "medium", "high"]


def test_size_is_a_snapping_editor_or_a_list(qtbot, panel, model) -> None:
    size = panel.editors["size"]
    assert not size.is_fixed
    size.auto.setChecked(False)
    size.width_box.setValue(1000)  # snaps to the 16 px grid
    size.height_box.setValue(1536)
    assert model.value("size") == "1008x1536" or model.value("size") == "992x1536"
    size.width_box.setValue(3840)
    size.height_box.setValue(3840)
    assert "too large" in panel.notes["size"].text()
    model.set_value("model", "gpt-image-1")
    assert size.is_fixed
    assert [size.fixed.itemText(i) for i in range(size.fixed.count())][1] == "1024x1024"
    assert model.value("size") == "auto" and model.problem_for("size") is None


def test_validation_problems_show_next_to_the_field(panel, model) -> None:
    model.set_value("prompt", "")
    assert model.problem_for("prompt")
    model.set_value("model", "gpt-image-1")
    panel.editors["background"].box.setCurrentText("transparent")
    panel.editors["output_format"].box.setCurrentText("jpeg")
    note = panel.notes["background"]
    assert note.isVisible() and "png or webp" in note.text()


def test_typing_an_unknown_model_is_allowed(qtbot, panel, model) -> None:
    editor = panel.editors["model"]
    editor.box.setEditText("")
    qtbot.keyClicks(editor.box, "vendor-image-9")
    assert model.value("model") == "vendor-image-9"
    assert all(e.isEnabled() for n, e in panel.editors.items() if n not in {
        "output_compression", "partial_images"})  # fmt: skip


def test_presets_round_trip(schema, model) -> None:
    model.set_value("model", "gpt-image-1")
    model.set_value("quality", "high")
    model.set_value("n", 3)
    preset = model.to_preset()
    assert "prompt" not in preset
    other = ParametersModel(schema)
    assert other.apply_preset({**preset, "colour": "red", "prompt": "x"}) == ["colour", "prompt"]
    assert other.value("quality") == "high" and other.value("n") == 3


def test_a_field_added_to_the_json_gets_a_widget(qtbot, tmp_path: Path) -> None:
    raw = json.loads(default_schema_path().read_text())
    raw["fields"].append(
        {
            "name": "style_strength",
            "kind": "integer",
            "label": "Style strength",
            "default": 5,
            "min": 0,
            "max": 9,
            "help": "How strongly to apply the style.",
        }
    )
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(raw))
    model = ParametersModel(load_schema(path))
    model.set_value("prompt", "p")
    panel = ParameterPanel(model)
    qtbot.addWidget(panel)
    editor = panel.editors["style_strength"]
    assert isinstance(editor, IntegerEditor)
    assert editor.box.maximum() == 9 and editor.value() == 5
    editor.box.setValue(12)  # clamped by the schema's max
    assert model.value("style_strength") == 9
    assert model.request_values()["style_strength"] == 9
