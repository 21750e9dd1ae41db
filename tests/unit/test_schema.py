from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.request import text_parts
from app.core.schema import SchemaError, default_schema_path, load_schema, parse_size

SEED_FIELDS = {
    "model", "prompt", "image", "mask", "input_fidelity", "n", "size", "quality",
    "background", "moderation", "output_format", "output_compression", "stream",
    "partial_images", "user",
}  # fmt: skip


def test_every_seed_field_is_in_the_schema(schema) -> None:
    assert {f.name for f in schema.fields} == SEED_FIELDS


def test_field_records_are_typed(schema) -> None:
    n = schema.field("n")
    assert (n.kind, n.default, n.minimum, n.maximum) == ("integer", 1, 1, 10)
    assert schema.field("prompt").max_length == 32000
    assert schema.image_field.max_items == 16
    assert schema.field("partial_images").maximum == 3
    assert schema.field("input_fidelity").choices == ("high", "low")
    assert [f.name for f in schema.value_fields if f.is_file] == []


def test_known_models_and_their_rules(schema) -> None:
    assert {"gpt-image-2", "gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini"} <= set(
        schema.model_names()
    )
    assert not schema.rules_for("gpt-image-2").supports("input_fidelity")
    assert schema.rules_for("gpt-image-1").supports("input_fidelity")
    assert schema.rules_for("gpt-image-1.5").supports("input_fidelity")
    assert not schema.rules_for("gpt-image-1-mini").supports("input_fidelity")
    assert "transparent" in schema.rules_for("gpt-image-2").allowed_choices(
        schema.field("background")
    )  # in preview since openai-python of 2026-08
    assert "transparent" in schema.rules_for("gpt-image-1").allowed_choices(
        schema.field("background")
    )


def test_a_dated_snapshot_takes_its_models_rules(schema) -> None:
    dated = schema.rules_for("gpt-image-2-2026-04-21")
    assert dated.known and dated.size == schema.rules_for("gpt-image-2").size
    assert dated.size.problem("850x830") is not None  # not a multiple of 16: refused
    assert not schema.rules_for("gpt-image-2-2026-04").known  # not a date: unknown


def test_plus_suffix_drops_quality_on_any_model(schema) -> None:
    assert not schema.rules_for("gpt-image-1-plus").supports("quality")
    assert not schema.rules_for("vendor-x-plus").supports("quality")
    assert schema.rules_for("gpt-image-1").supports("quality")


def test_unknown_model_gets_permissive_rules(schema) -> None:
    rules = schema.rules_for("my-own-model")
    assert not rules.known
    assert all(rules.supports(f.name) for f in schema.fields)
    assert rules.size.problem("333x777") is None


@pytest.mark.parametrize(
    ("size", "accepted"),
    [
        ("auto", True),
        ("1024x1024", True),
        ("3840x2160", True),
        ("3856x2160", False),  # longest edge over 3840
        ("1000x1000", False),  # not multiples of 16
        ("2400x768", False),  # ratio 3.125 > 3
        ("2304x768", True),  # ratio exactly 3
        ("800x800", False),  # 640,000 < 655,360 pixels
        ("816x816", True),  # 665,856 pixels
        ("banana", False),
        ("0x1024", False),
    ],
)
def test_gpt_image_2_size_grammar(schema, size: str, accepted: bool) -> None:
    assert (schema.rules_for("gpt-image-2").size.problem(size) is None) is accepted


def test_gpt_image_1_fixed_sizes(schema) -> None:
    rule = schema.rules_for("gpt-image-1").size
    assert rule.problem("1536x1024") is None
    assert "1024x1024" in rule.problem("2048x2048")


def test_experimental_sizes_are_flagged(schema) -> None:
    rule = schema.rules_for("gpt-image-2").size
    assert rule.is_experimental("3840x2160")
    assert not rule.is_experimental("2560x1440")


@given(st.integers(1, 5000), st.integers(1, 5000))
def test_snap_lands_on_the_grid(width: int, height: int) -> None:
    rule = load_schema().rules_for("gpt-image-2").size
    w, h = rule.snap(width, height)
    assert w % 16 == 0 and h % 16 == 0
    assert 16 <= w <= 3840 and 16 <= h <= 3840
    assert abs(w - min(width, 3840)) <= 8 or w in (16, 3840)


def test_parse_size() -> None:
    assert parse_size("1024x768") == (1024, 768)
    assert parse_size(" 16 X 32 ") == (16, 32)
    assert parse_size("auto") is None


def test_text_parts_encode_and_skip_unset(schema) -> None:
    values = {"prompt": "hi", "n": 2, "stream": True, "user": None, "mask": "ignored", "x": 1}
    assert text_parts(values, schema) == [("prompt", "hi"), ("n", "2"), ("stream", "true")]


def test_field_parse_reports_what_it_expects(schema) -> None:
    assert schema.field("n").parse(" 3 ") == 3
    assert schema.field("stream").parse("yes") is True
    with pytest.raises(ValueError, match="whole number"):
        schema.field("n").parse("three")
    with pytest.raises(ValueError, match="true or false"):
        schema.field("stream").parse("maybe")


def _copy_schema(tmp_path: Path, mutate) -> Path:
    raw = json.loads(default_schema_path().read_text())
    mutate(raw)
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(raw))
    return path


def test_a_field_added_to_the_json_is_loaded_with_no_code_change(tmp_path: Path) -> None:
    def add(raw):
        raw["fields"].append({"name": "style", "kind": "choice", "choices": ["a", "b"]})

    schema = load_schema(_copy_schema(tmp_path, add))
    assert schema.field("style").choices == ("a", "b")
    assert ("style", "b") in text_parts({"style": "b"}, schema)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw["fields"].append(dict(raw["fields"][0])), "appears twice"),
        (lambda raw: raw["fields"][0].update(kind="colour"), "unknown kind"),
        (lambda raw: raw.pop("files"), "malformed"),
        (
            lambda raw: raw["fields"][-1].update(
                constraints=[{"requires": {"nope": [1]}, "message": "m"}]
            ),
            "unknown field 'nope'",
        ),
    ],
)
def test_broken_schemas_are_refused_with_a_reason(tmp_path: Path, mutate, message) -> None:
    with pytest.raises(SchemaError, match=message):
        load_schema(_copy_schema(tmp_path, mutate))


def test_missing_or_unreadable_schema_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        load_schema(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SchemaError, match="cannot read"):
        load_schema(tmp_path / "bad.json")


def test_a_dated_snapshot_is_data_not_code(tmp_path) -> None:
    """A family's dated names come from the schema's model_patterns: another pattern in
    the data makes another family of names take their base's rules."""
    raw = json.loads(default_schema_path().read_text(encoding="utf-8"))
    raw["model_patterns"].append({"regex": "-v\\d+$"})
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    custom = load_schema(path)
    assert custom.rules_for("gpt-image-1-v7").size == custom.rules_for("gpt-image-1").size
    raw["model_patterns"] = [p for p in raw["model_patterns"] if "regex" not in p]
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert not load_schema(path).rules_for("gpt-image-2-2026-04-21").known


def test_a_pattern_needs_a_suffix_or_a_regex(tmp_path) -> None:
    raw = json.loads(default_schema_path().read_text(encoding="utf-8"))
    raw["model_patterns"].append({"unsupported": {}})
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(SchemaError, match="suffix or a regex"):
        load_schema(path)


@pytest.mark.parametrize(
    ("size", "says"),
    [("800x800", "at least 655,360 pixels (the seed vendor)"),
     ("4096x1024", "at most 3840 px (the seed vendor)"),
     ("1000x1000", "multiples of 16 px (OpenAI)"),
     ("3840x2176", "at most 8,294,400 pixels (OpenAI: at most 3840x2160)")],
)  # fmt: skip
def test_each_size_limit_names_its_source(schema, size: str, says: str) -> None:
    assert says in schema.rules_for("gpt-image-2").size.problem(size)


@pytest.mark.parametrize("size", ["3840x2160", "2160x3840", "2560x1600"])
def test_experimental_sizes_are_a_warning_not_a_refusal(schema, size: str) -> None:
    from app.core.validation import validate_values, value_warnings

    values = {"prompt": "x", "model": "gpt-image-2", "size": size}
    assert validate_values(values, schema) == []
    (warning,) = value_warnings(values, schema)
    assert warning.field == "size" and "experimental" in warning.message


def test_a_portrait_size_is_as_good_as_its_landscape(schema) -> None:
    rule = schema.rules_for("gpt-image-2").size
    assert rule.problem("1440x2560") is None and not rule.is_experimental("1440x2560")
    assert rule.problem("2160x3840") is None


def test_the_user_field_has_no_length_limit(schema) -> None:
    from app.core.validation import validate_values

    assert schema.field("user").max_length is None
    values = {"prompt": "x", "model": "gpt-image-2", "user": "u" * 5000}
    assert validate_values(values, schema) == []


def test_quality_choices_are_per_model_and_a_vendors_own_is_a_warning(schema) -> None:
    from app.core.validation import validate_values, value_warnings

    refused = validate_values(
        {"prompt": "x", "model": "gpt-image-1", "quality": "standard"}, schema
    )
    assert [p.field for p in refused] == ["quality"]
    assert "auto, low, medium, high" in refused[0].message
    vendor = {"prompt": "x", "model": "vendor-model", "quality": "ultra"}
    assert validate_values(vendor, schema) == []
    (warning,) = value_warnings(vendor, schema)
    assert warning.field == "quality" and "'ultra'" in warning.message


def test_partial_images_default_to_zero(schema) -> None:
    assert schema.field("partial_images").default == 0
