"""README claims about fixed rules and defaults, checked against the code that applies them:
the field schema's per-model table, the client's and the engine's defaults, the commands
that start the program, the PySide6 releases it accepts and the sample photos' licences.
(tests/README.md maps every README claim to its test.)"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from app.cli import build_parser
from app.client import ClientConfig
from app.core.schema import FIELD_KINDS
from app.engine.upload import Limits

ROOT = Path(__file__).resolve().parents[2]
FIXED = {"auto", "1024x1024", "1536x1024", "1024x1536"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# --- The field schema ----------------------------------------------------------------------


def test_the_schema_knows_exactly_the_documented_field_kinds(schema) -> None:
    documented = {"text", "integer", "choice", "size", "boolean", "model", "image_list", "mask"}
    assert documented == FIELD_KINDS
    assert {f.kind for f in schema.fields} == documented


@pytest.mark.parametrize("model", ["gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini"])
def test_fixed_size_models_offer_the_documented_sizes(schema, model: str) -> None:
    rule = schema.rules_for(model).size
    assert rule.grammar == "fixed" and set(rule.choices) == FIXED
    assert rule.problem("1024x768") is not None


def test_gpt_image_1_mini_is_gpt_image_1_without_input_fidelity(schema) -> None:
    mini, base = schema.rules_for("gpt-image-1-mini"), schema.rules_for("gpt-image-1")
    assert mini.size == base.size
    assert not mini.supports("input_fidelity") and base.supports("input_fidelity")


def test_gpt_image_2_takes_transparent_backgrounds_and_refuses_input_fidelity(schema) -> None:
    rules = schema.rules_for("gpt-image-2")
    assert not rules.supports("input_fidelity")
    assert "invalid_input_fidelity_model" in rules.reason_unsupported("input_fidelity")
    assert "transparent" in rules.allowed_choices(schema.field("background"))
    assert "preview" in schema.field("background").help


@pytest.mark.parametrize("name", ["chatgpt-image-latest", "gpt-image-2-2026-04-21"])
def test_an_alias_and_a_dated_snapshot_take_gpt_image_2s_rules(schema, name: str) -> None:
    rules, base = schema.rules_for(name), schema.rules_for("gpt-image-2")
    assert rules.known and rules.size == base.size and rules.unsupported == base.unsupported


@pytest.mark.parametrize("model", [None, ""])
def test_no_model_named_takes_the_apis_default_gpt_image_1_5(schema, model) -> None:
    rules = schema.rules_for(model)
    assert rules.name == "gpt-image-1.5" and rules.size.grammar == "fixed"


def test_dall_e_2_takes_square_sizes_and_standard_quality(schema) -> None:
    rules = schema.rules_for("dall-e-2")
    assert set(rules.size.choices) == {"256x256", "512x512", "1024x1024"}
    assert rules.allowed_choices(schema.field("quality")) == ("standard",)
    assert not rules.supports("background") and not rules.supports("stream")


def test_local_inpaint_takes_any_size_up_to_3840_and_refuses_three_fields(schema) -> None:
    rules = schema.rules_for("local-inpaint")
    assert rules.size.problem("3840x3840") is None and rules.size.problem("333x17") is None
    assert rules.size.problem("3841x100") is not None
    assert {f for f in ("input_fidelity", "quality", "moderation") if not rules.supports(f)} == {
        "input_fidelity",
        "quality",
        "moderation",
    }
    assert all(rules.supports(f.name) for f in schema.value_fields if f.name not in {
        "input_fidelity", "quality", "moderation"})  # fmt: skip


def test_any_other_model_takes_up_to_16384_and_every_field(schema) -> None:
    rules = schema.rules_for("vendor-image-9")
    assert rules.size.problem("16384x16384") is None and rules.size.problem("7x16384") is None
    assert rules.size.problem("16385x100") is not None
    assert all(rules.supports(f.name) for f in schema.fields)


# --- the client's defaults -----------------------------------------------------------------


def test_client_defaults_are_the_documented_ones() -> None:
    config = ClientConfig(base_url="https://api.example.com")
    assert (config.connect_timeout, config.read_timeout) == (5.0, 600.0)
    assert config.max_retries == 2  # "up to 2 more attempts"
    assert config.max_response_bytes == 512 * 1024 * 1024
    assert config.max_image_pixels == 33_177_600
    assert config.path == "/v1/images/edits"


def test_retouch_edit_defaults_and_settable_timeouts(schema) -> None:
    args = build_parser(schema).parse_args(["edit", "--image", "a.png", "--prompt", "x"])
    assert args.api_key_env is None  # OPENAI_API_KEY, or the engine's token on loopback
    assert (args.connect_timeout, args.read_timeout) == (5.0, 600.0)
    args = build_parser(schema).parse_args(
        ["edit", "--image", "a.png", "--prompt", "x", "--connect-timeout", "2",
         "--read-timeout", "30"]
    )  # fmt: skip
    assert (args.connect_timeout, args.read_timeout) == (2.0, 30.0)


# --- the local engine's defaults -----------------------------------------------------------


def test_retouch_serve_defaults_to_loopback_port_8000(schema) -> None:
    args = build_parser(schema).parse_args(["serve"])
    assert (args.host, args.port, args.token) == ("127.0.0.1", 8000, None)


def test_each_upload_may_hold_50_mb_per_file_and_one_file_per_slot(schema) -> None:
    limits = Limits.for_schema(schema)
    assert limits.max_file_bytes == 50 * 1024 * 1024
    slots = schema.image_field.max_items + 1  # 16 images and the mask
    assert slots == 17
    assert slots * limits.max_file_bytes <= limits.max_request_bytes
    assert limits.max_request_bytes < (slots + 1) * limits.max_file_bytes


def test_keep_alive_comments_default_to_every_second() -> None:
    import inspect

    from app.engine.server import create_app

    assert inspect.signature(create_app).parameters["keepalive_seconds"].default == 1.0


# --- starting the program ------------------------------------------------------------------


def entry_point(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def test_retouch_and_retouch_studio_are_the_entry_points() -> None:
    project = pyproject()["project"]
    assert project["scripts"] == {"retouch": "app.cli:main"}
    assert project["gui-scripts"] == {"retouch-studio": "app.gui:main"}
    assert callable(entry_point("app.cli:main")) and callable(entry_point("app.gui:main"))
    main_module = (ROOT / "app" / "__main__.py").read_text(encoding="utf-8")
    assert "from app.cli import main" in main_module  # python -m app is retouch


# --- dependencies and licence ---------------------------------------------------------------


def test_pyside6_11_or_later_but_never_6_12_0() -> None:
    spec = next(
        Requirement(d)
        for d in pyproject()["project"]["dependencies"]
        if d.lower().startswith("pyside6-essentials")
    )
    assert "6.12.0" not in spec.specifier and "6.11.0" in spec.specifier
    assert "6.10.9" not in spec.specifier and "6.12.1" in spec.specifier
    assert version("PySide6-Essentials") in spec.specifier


def test_every_sample_photo_is_public_domain_or_cc0() -> None:
    folder = ROOT / "resources" / "samples"
    notes = (folder / "LICENSES.md").read_text(encoding="utf-8")
    photos = sorted(p.name for p in folder.iterdir() if p.suffix in {".png", ".jpg", ".webp"})
    assert photos
    for name in photos:
        row = next((line for line in notes.splitlines() if line.startswith(f"| {name} |")), "")
        assert re.search(r"Public domain|CC0", row), f"{name}: no licence in LICENSES.md"


# --- the architecture ------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed")
def test_the_layering_contracts_are_kept() -> None:
    contracts = pyproject()["tool"]["importlinter"]["contracts"]
    assert len(contracts) >= 6
    result = subprocess.run(
        ["lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout
