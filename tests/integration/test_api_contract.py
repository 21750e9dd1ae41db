"""The API contract of 2026-08 (issue 16) as `retouch edit` sends it, on 127.0.0.1: what is
refused, what is sent with a warning, and when `moderation` travels."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.providers import OPENAI_ID, Provider, builtin_providers, is_openai_url
from app.core.schema import load_schema
from tests.support import fault_server as fs
from tests.support import images
from tests.support.cli import run_edit as edit

PNG = images.png_bytes(32, 24)


@pytest.fixture(autouse=True)
def _own_home(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-contract")
    monkeypatch.delenv("RETOUCH_BASE_URL", raising=False)


def send(capsys, tmp_path: Path, *flags: str) -> tuple[int, list[dict], dict[str, str]]:
    """`retouch edit` with ``flags`` against a server that answers one image: its exit
    code, its JSON events and the text fields of the request (empty if none was sent)."""
    photo = images.write(tmp_path / "photo.png", images.png_bytes(64, 48))
    with fs.serve(fs.json_images([PNG])) as server:
        code, events, _, _ = edit(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
            "--out", str(tmp_path / "out"), "--json", "--no-history", *flags,
        )  # fmt: skip
        fields = server.requests[0].fields if server.requests else {}
    return code, events, fields


def warnings(events: list[dict]) -> list[str]:
    return [e["message"] for e in events if e["event"] == "warning"]


def test_moderation_goes_to_a_vendor_when_set(capsys, tmp_path: Path) -> None:
    code, events, fields = send(capsys, tmp_path, "--model", "gpt-image-1", "--moderation", "low")
    assert code == 0 and fields["moderation"] == "low" and warnings(events) == []


def test_moderation_is_held_back_where_it_is_not_taken_and_said(capsys, tmp_path) -> None:
    code, events, fields = send(
        capsys, tmp_path, "--model", "gpt-image-1", "--moderation", "low", "--no-send-moderation"
    )
    assert code == 0 and "moderation" not in fields
    (warning,) = warnings(events)
    assert warning.startswith("moderation: Not sent")


def test_openai_takes_no_moderation_in_multipart_and_a_vendor_does() -> None:
    assert is_openai_url("https://api.openai.com") and not is_openai_url("https://vendor.example")
    _, openai = builtin_providers(load_schema())
    assert openai.id == OPENAI_ID and not openai.takes_moderation and openai.moderation_note
    custom = Provider.from_json({"id": "v", "name": "Vendor", "kind": "custom"})
    assert custom.takes_moderation and custom.moderation_note is None
    stored = Provider.from_json({"id": "openai", "name": "OpenAI", "kind": "openai"})
    assert not stored.takes_moderation  # a provider saved before the capability existed


def test_an_experimental_size_is_sent_with_a_warning(capsys, tmp_path: Path) -> None:
    code, events, fields = send(capsys, tmp_path, "--model", "gpt-image-2", "--size", "2160x3840")
    assert code == 0 and fields["size"] == "2160x3840"
    (warning,) = warnings(events)
    assert warning.startswith("size:") and "experimental" in warning


def test_a_transparent_background_goes_to_gpt_image_2(capsys, tmp_path: Path) -> None:
    code, _, fields = send(capsys, tmp_path, "--model", "gpt-image-2", "--background",
                           "transparent", "--output-format", "webp")  # fmt: skip
    assert code == 0 and fields["background"] == "transparent"


def test_input_fidelity_on_gpt_image_2_is_refused_with_the_apis_code(capsys, tmp_path) -> None:
    code, events, fields = send(capsys, tmp_path, "--model", "gpt-image-2", "--input-fidelity",
                                "high")  # fmt: skip
    assert code == 2 and fields == {}
    (problem,) = events[-1]["problems"]
    assert problem["field"] == "input_fidelity"
    assert "invalid_input_fidelity_model" in problem["message"]


def test_a_vendors_own_quality_is_sent_with_a_warning(capsys, tmp_path: Path) -> None:
    code, events, fields = send(capsys, tmp_path, "--model", "vendor-x", "--quality", "ultra")
    assert code == 0 and fields["quality"] == "ultra"
    (warning,) = warnings(events)
    assert warning.startswith("quality:") and "'ultra'" in warning


def test_a_documented_model_refuses_another_quality(capsys, tmp_path: Path) -> None:
    code, events, fields = send(capsys, tmp_path, "--model", "gpt-image-1", "--quality",
                                "standard")  # fmt: skip
    assert code == 2 and fields == {} and events[-1]["problems"][0]["field"] == "quality"


def test_a_long_user_id_is_sent(capsys, tmp_path: Path) -> None:
    code, _, fields = send(capsys, tmp_path, "--user", "u" * 2000)
    assert code == 0 and fields["user"] == "u" * 2000


@pytest.mark.parametrize("model", ["gpt-image-2-2026-04-21", "chatgpt-image-latest"])
def test_an_alias_or_snapshot_is_checked_with_its_familys_rules(capsys, tmp_path, model) -> None:
    code, events, _ = send(capsys, tmp_path, "--model", model, "--size", "1000x1000")
    assert code == 2 and "multiples of 16" in events[-1]["problems"][0]["message"]
