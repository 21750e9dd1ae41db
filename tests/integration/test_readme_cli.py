"""README claims about `retouch edit` that no other test checked: the synopsis and --help,
the vendor example, file names, --single-request, the --json records, and the per-model
size rules. Real servers on 127.0.0.1; the help and the vendor example run the real
command in a subprocess (``python -m app`` is ``retouch``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.cli import build_parser, main
from app.core.schema import default_schema_path, load_schema
from app.core.validation import validate_values
from tests.support import fault_server as fs
from tests.support import images
from tests.support.engine import image_parts, running_engine

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PNG = images.png_bytes(32, 24)
JPEG = images.encode(images.gradient(32, 24), "JPEG")
VENDOR_SECRET = "sk-vendor-readme-5150"


@pytest.fixture(autouse=True)
def _no_ambient_key(monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("RETOUCH_BASE_URL", raising=False)


def retouch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY"}}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env={**environment, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_json(capsys, *args: str) -> tuple[int, list[dict]]:
    code = main(["edit", *args, "--json"])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.strip()]


def readme_block_after(marker: str) -> str:
    start = README.index(marker)
    return README[start : README.index("```", start)]


# --- the synopsis and --help ---------------------------------------------------------------


def test_readme_help_lists_every_documented_flag_with_the_schemas_help(schema) -> None:
    synopsis = readme_block_after("retouch edit --image A.png")
    examples = readme_block_after("# OpenAI: remove what the mask marks")
    flags = set(re.findall(r"--[a-z][a-z-]+", synopsis + examples)) | {"--single-request"}
    assert {"--image", "--mask", "--prompt", "--force-image-array", "--json"} <= flags
    result = retouch("edit", "--help")
    assert result.returncode == 0, result.stderr
    shown = re.sub(r"\s+", " ", result.stdout)
    missing = sorted(flag for flag in flags if flag not in shown)
    assert missing == [], f"retouch edit --help lacks {missing}"
    for spec in schema.fields:
        help_text = re.sub(r"\s+", " ", spec.help).strip()
        assert help_text and help_text in shown, f"{spec.flag}: its help is not shown"


def test_readme_the_key_is_never_taken_from_a_flag(tmp_path: Path) -> None:
    photo = images.write(tmp_path / "photo.png", PNG)
    with fs.serve(fs.json_images([PNG])) as server:
        result = retouch(
            "edit", "--base-url", server.base_url, "--api-key", VENDOR_SECRET,
            "--image", str(photo), "--prompt", "x", "--out", str(tmp_path / "out"),
        )  # fmt: skip
        sent = list(server.requests)
    assert all(VENDOR_SECRET not in r.headers.get("authorization", "") for r in sent), result


def test_readme_a_key_typed_as_a_flag_is_never_printed(tmp_path: Path) -> None:
    photo = images.write(tmp_path / "photo.png", PNG)
    result = retouch(
        "edit", "--base-url", "https://api.example.invalid", "--api-key", VENDOR_SECRET,
        "--image", str(photo), "--prompt", "x", "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2
    assert VENDOR_SECRET not in result.stdout + result.stderr


# --- the vendor example ----------------------------------------------------------------------


def test_readme_vendor_example_sends_image_array_on_the_singular_path(tmp_path: Path) -> None:
    photo = images.write(tmp_path / "photo.jpg", JPEG)
    out = tmp_path / "out"
    with fs.serve(fs.json_images([PNG], headers={"x-request-id": "req_vendor"})) as server:
        # The README's second example, pointed at a server on 127.0.0.1.
        result = retouch(
            "edit", "--base-url", server.base_url, "--path", "/v1/image/edits",
            "--force-image-array", "--api-key-env", "VENDOR_KEY",
            "--image", str(photo), "--prompt", "make it evening", "--model", "gpt-image-2",
            "--out", str(out),
            env={"VENDOR_KEY": VENDOR_SECRET},
        )  # fmt: skip
        (sent,) = server.requests
    assert result.returncode == 0, result.stderr
    assert (sent.method, sent.path) == ("POST", "/v1/image/edits")
    assert [(p.name, p.filename, p.content_type) for p in sent.files] == [
        ("image[]", "photo.jpg", "image/jpeg")
    ]
    assert sent.fields["prompt"] == "make it evening" and sent.fields["model"] == "gpt-image-2"
    assert sent.headers["authorization"] == f"Bearer {VENDOR_SECRET}"
    # ... and the key is never printed or written.
    assert VENDOR_SECRET not in result.stdout + result.stderr
    written = list(out.iterdir())
    assert len(written) == 1 and all(VENDOR_SECRET.encode() not in p.read_bytes() for p in written)


# --- what lands in --out ---------------------------------------------------------------------


def test_readme_files_are_named_by_arrival_variant_and_stage_with_the_bytes_extension(
    capsys, tmp_path: Path
) -> None:
    photo = images.write(tmp_path / "photo.png", PNG)
    out = tmp_path / "out"
    # The final image is a JPEG although the event says png: the extension follows the bytes.
    stream = fs.sse([fs.partial(PNG, 0), fs.completed(JPEG)])
    with fs.serve(stream) as server:
        code, events = run_json(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
            "--stream", "--partial-images", "1", "--out", str(out),
        )  # fmt: skip
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    pattern = r"retouch-\d{8}-\d{6}-[0-9a-f]{8}-(\d{3})-v0-(partial0|final)\.(png|jpg)"
    matches = [re.fullmatch(pattern, name) for name in names]
    assert all(matches), names
    assert [m.groups() for m in matches] == [("001", "partial0", "png"), ("002", "final", "jpg")]
    assert [Path(e["file"]).name for e in events if "file" in e] == names  # arrival order


def test_readme_stream_variants_are_split_unless_single_request(capsys, tmp_path: Path) -> None:
    photo = images.write(tmp_path / "photo.png", PNG)
    common = ["--image", str(photo), "--prompt", "x", "--stream", "--n", "2"]
    with fs.serve(fs.sse([fs.completed(PNG)])) as server:
        code, _ = run_json(capsys, "--base-url", server.base_url, *common,
                           "--out", str(tmp_path / "split"))  # fmt: skip
        split = list(server.requests)
    assert code == 0
    assert len(split) == 2 and {r.fields["n"] for r in split} == {"1"}
    with fs.serve(fs.sse([fs.completed(PNG), fs.completed(PNG)])) as server:
        code, events = run_json(capsys, "--base-url", server.base_url, *common,
                                "--single-request", "--out", str(tmp_path / "one"))  # fmt: skip
        single = list(server.requests)
    assert code == 0
    assert len(single) == 1 and single[0].fields["n"] == "2"
    assert sorted(e["variant"] for e in events if e["event"] == "completed") == [0, 1]


# --- the --json records ----------------------------------------------------------------------


def test_readme_json_records_carry_the_documented_fields(capsys, tmp_path: Path) -> None:
    photo = images.write(tmp_path / "photo.png", PNG)
    with fs.serve(fs.json_images([PNG], headers={"x-request-id": "req_ok"})) as server:
        code, events = run_json(capsys, "--base-url", server.base_url, "--image", str(photo),
                                "--prompt", "x", "--out", str(tmp_path / "a"))  # fmt: skip
    assert code == 0
    completed, done = events
    assert completed["event"] == "completed" and done["event"] == "done"
    assert {"file", "variant", "width", "height", "format", "bytes", "usage",
            "request_id"} <= set(completed)  # fmt: skip
    assert (completed["width"], completed["height"], completed["format"]) == (32, 24, "png")
    assert completed["bytes"] == len(PNG) and completed["request_id"] == "req_ok"
    assert {"files", "usage"} <= set(done) and done["usage"]["total_tokens"] == 90

    failing = fs.sse(
        [fs.partial(PNG, 0), fs.error_event("blocked", code="moderation_blocked")],
        headers={"x-request-id": "req_err"},
    )
    with fs.serve(failing) as server:
        code, events = run_json(capsys, "--base-url", server.base_url, "--image", str(photo),
                                "--prompt", "x", "--stream", "--partial-images", "1",
                                "--out", str(tmp_path / "b"))  # fmt: skip
    assert code == 3
    error = events[-1]
    assert error["event"] == "error"
    assert {"kind", "status", "type", "code", "param", "message", "request_id",
            "files"} <= set(error)  # fmt: skip
    assert error["code"] == "moderation_blocked" and error["request_id"] == "req_err"
    assert len(error["files"]) == 1 and Path(error["files"][0]).is_file()  # what arrived

    code, events = run_json(capsys, "--base-url", "http://127.0.0.1:9", "--image",
                            str(tmp_path / "missing.png"), "--prompt", "x")  # fmt: skip
    assert code == 2 and events[0]["event"] == "invalid"
    assert events[0]["problems"][0]["field"] == "image"


# --- the field schema's per-model table --------------------------------------------------------


def test_readme_a_plus_model_takes_its_base_models_sizes(capsys, tmp_path: Path) -> None:
    photo = images.write(tmp_path / "photo.png", PNG)
    with fs.serve(fs.json_images([PNG])) as server:
        code, events = run_json(
            capsys, "--base-url", server.base_url, "--image", str(photo), "--prompt", "x",
            "--model", "gpt-image-1-plus", "--size", "2048x2048", "--out", str(tmp_path / "o"),
        )  # fmt: skip
        sent = list(server.requests)
    assert sent == [] and code == 2
    assert [p["field"] for p in events[0]["problems"]] == ["size"]


# --- a field added to the schema ---------------------------------------------------------------


def test_readme_a_field_added_to_the_schema_is_a_flag_and_a_check_everywhere(
    capsys, tmp_path: Path
) -> None:
    raw = json.loads(default_schema_path().read_text(encoding="utf-8"))
    raw["fields"].append(
        {"name": "style_strength", "kind": "integer", "label": "Style strength", "default": 5,
         "min": 0, "max": 9, "help": "How strongly to apply the house style."}
    )  # fmt: skip
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    schema = load_schema(path)
    # A flag, with its help...
    parser = build_parser(schema)
    with pytest.raises(SystemExit):
        parser.parse_args(["edit", "--help"])
    assert "How strongly to apply the house style." in re.sub(r"\s+", " ", capsys.readouterr().out)
    args = parser.parse_args(
        ["edit", "--image", "a.png", "--prompt", "x", "--style-strength", "12"]
    )
    assert args.style_strength == 12
    # ... a check before sending ...
    problems = validate_values({"prompt": "x", "model": "m", "style_strength": 12}, schema)
    assert [p.field for p in problems] == ["style_strength"]
    # ... and in the local engine.
    with running_engine(schema=schema) as url:
        files = image_parts([images.png_bytes(64, 48)])
        refused = httpx.post(f"{url}/v1/images/edits", files=files,
                             data={"prompt": "x", "style_strength": "12"})  # fmt: skip
        taken = httpx.post(f"{url}/v1/images/edits", files=files,
                           data={"prompt": "x", "style_strength": "5"})  # fmt: skip
    error = refused.json()["error"]
    assert (refused.status_code, error["param"], error["code"]) == (
        400, "style_strength", "invalid_value",
    )  # fmt: skip
    assert taken.status_code == 200, taken.text
