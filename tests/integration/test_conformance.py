"""Conformance with the official SDK (issue 16): the official `openai` package's
``client.images.edit`` and ``retouch edit`` send the same request to a recording server of
our own on 127.0.0.1 (``tests/support/recording.py``), and the two requests are compared as
they travelled: method and path, headers, how the body is framed, the multipart text fields
(order aside), the file parts' names (``image`` / ``image[]`` / ``mask``), content types,
part headers and contents.

Normalised, because they say nothing about the request (``wire``): the boundary string (its
form is compared), the Content-Length value (checked against the body), User-Agent and the
SDK's X-Stainless-* headers, Accept-Encoding (each client lists the codings it can decode),
the file names (only that each file part has one), the order of the text fields.

The differences we choose on purpose (``CHOSEN``); each is checked to be exactly what is
said, so a change on either side shows up here. Everything else must be equal, and a
difference fails with a list of ``what: SDK → retouch`` lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openai
import pytest
from PIL import Image

from app.cli import main
from tests.support import fault_server as fs
from tests.support import images, recording
from tests.support.recording import WireRequest

KEY = "sk-test-conformance"
PNG = images.png_bytes(32, 24)
SIZE = (96, 64)

# The differences we choose on purpose, and why. The keys name them in the tests below.
CHOSEN = {
    # Applied in every comparison (`without_chosen`):
    "variant header": "to a loopback server (the local engine) retouch adds X-Retouch-Variant: "
    "k, so split n=1 streams get different variants; other providers get no such header",
    "stream accept": "when streaming retouch asks for Accept: text/event-stream; the SDK keeps "
    "Accept: application/json for streams too",
    "compact mask": "retouch re-encodes the mask compactly (its alpha alone, a grey+alpha PNG, "
    "to stay under the API's 4 MB): the bytes differ, the alpha and image/png do not (`wire` "
    "compares the mask's alpha)",
    # Each shown by a test of its own:
    "model always named": "retouch always sends `model` (its default, gpt-image-2, or "
    "local-inpaint on a loopback server): the API's default when it is left out, "
    "gpt-image-1.5, is not what the panel shows",
    "split streams": "with --stream and --n k>1 retouch sends k requests with n=1 (streamed "
    "events carry no image index); --single-request sends the one request the SDK sends",
    "moderation": "the SDK's images.edit has no `moderation` argument (OpenAI documents it for "
    "the JSON request only); retouch sends it when set and the provider takes it, as the SDK "
    "does through extra_body, and never to OpenAI's multipart endpoint unless asked",
    "content type from the bytes": "retouch names a file part's type from its bytes; the SDK "
    "guesses it from the file name (a JPEG named .png goes as image/png)",
    "working copy": "a photo that cannot go as it is (EXIF-turned, 16-bit, CMYK, another "
    "profile) goes as its upright 8-bit sRGB working copy, a PNG",
}

NORMALISED_HEADERS = {"user-agent", "accept-encoding"}  # and x-stainless-*, see `wire`
BOUNDARY = re.compile(r"multipart/form-data; boundary=[0-9A-Za-z'()+_,\-./:=?]{1,70}")


@pytest.fixture(autouse=True)
def _environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RETOUCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("RETOUCH_BASE_URL", raising=False)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The inputs by name: upright sRGB photos (sent as they are by both clients) and a
    mask whose colour channels are noisy (so retouch's compact mask has other bytes)."""
    picture = images.gradient(*SIZE)
    noisy = Image.effect_noise(SIZE, 80).convert("RGB")
    mask = Image.merge("RGBA", (*noisy.split(), Image.open(io.BytesIO(images.mask_bytes(
        *SIZE, (30, 20, 60, 44)))).getchannel("A")))  # fmt: skip
    return {
        "photo": images.write(tmp_path / "photo.png", images.encode(picture)),
        "second": images.write(tmp_path / "second.webp", images.encode(picture, "WEBP")),
        "third": images.write(tmp_path / "third.jpg", images.encode(picture, "JPEG")),
        "mask": images.write(tmp_path / "mask.png", images.encode(mask)),
    }


# --- the two clients --------------------------------------------------------------------------


def answer(request: Mapping[str, Any]) -> recording.Answer:
    """What the server answers both clients: ``n`` images, streamed or not."""
    n = request.get("n", 1)
    if request.get("stream"):
        return recording.sse_answer([fs.partial(PNG, 0), fs.completed(PNG)] * n)
    return recording.json_answer([PNG] * n)


def run_sdk(base_url: str, request: Mapping[str, Any], files: dict[str, Path]) -> None:
    """``client.images.edit(**request)`` with the named files opened, read to the end."""
    with (
        openai.OpenAI(base_url=base_url + "/v1", api_key=KEY, max_retries=0) as client,
        contextlib.ExitStack() as stack,
    ):
        kwargs = dict(request)
        for key in ("image", "mask"):
            names = kwargs.get(key)
            if isinstance(names, list):
                kwargs[key] = [stack.enter_context(open(files[n], "rb")) for n in names]
            elif names is not None:
                kwargs[key] = stack.enter_context(open(files[names], "rb"))
        result = client.images.edit(**kwargs)
        n = request.get("n", 1)
        if request.get("stream"):
            kinds = [event.type for event in result]
            assert kinds.count("image_edit.completed") == n, kinds
        else:
            assert len(result.data) == n


def retouch_flags(request: Mapping[str, Any], files: dict[str, Path]) -> list[str]:
    """The `retouch edit` flags for the SDK's ``request``: an image given as a list of one
    is the array form (--force-image-array); a stream of n>1 is one request
    (--single-request); extra_body fields are flags too."""
    given = request["image"]
    flags = ["--force-image-array"] if isinstance(given, list) and len(given) == 1 else []
    for name in given if isinstance(given, list) else [given]:
        flags += ["--image", str(files[name])]
    values = {**request, **request.get("extra_body", {})}
    for key, value in values.items():
        if key in ("image", "extra_body"):
            continue
        if key == "mask":
            flags += ["--mask", str(files[value])]
        elif key == "stream":
            flags.append("--stream" if value else "--no-stream")
        else:
            flags += [f"--{key.replace('_', '-')}", str(value)]
    if request.get("stream") and request.get("n", 1) > 1:
        flags.append("--single-request")
    return flags


def run_retouch(capsys, base_url: str, flags: list[str], out: Path) -> list[dict]:
    """`retouch edit FLAGS --json` in process; its events (it must succeed)."""
    code = main(["edit", "--base-url", base_url, *flags, "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert code == 0, f"retouch edit {' '.join(flags)} exited {code}:\n{captured.err}"
    return [json.loads(line) for line in captured.out.splitlines() if line.strip()]


def both(
    capsys, tmp_path: Path, request: Mapping[str, Any], files: dict[str, Path], *extra: str
) -> tuple[list[WireRequest], list[WireRequest]]:
    """The requests the SDK and `retouch edit` (with ``extra`` flags) sent to one server."""
    with recording.serve(answer(request)) as server:
        run_sdk(server.base_url, request, files)
        sdk = list(server.requests)
        flags = [*retouch_flags(request, files), *extra]
        run_retouch(capsys, server.base_url, flags, tmp_path / "out")
        ours = server.requests[len(sdk) :]
    return sdk, ours


# --- the comparison ---------------------------------------------------------------------------


def wire(request: WireRequest) -> dict[str, Any]:
    """One request as a flat ``{what: value}``, with what legitimately differs normalised."""
    flat: dict[str, Any] = {
        "request line": f"{request.method} {request.target}",
        "body framing": request.framing,
    }
    for name, value in request.header_lines:
        if name in NORMALISED_HEADERS or name.startswith("x-stainless-"):
            continue
        assert f"header {name}" not in flat, f"header {name} sent twice"
        flat[f"header {name}"] = value
    content_type = flat.get("header content-type", "")
    if BOUNDARY.fullmatch(content_type):
        flat["header content-type"] = "multipart/form-data; boundary=<boundary>"
    if "header content-length" in flat:
        length = int(flat["header content-length"])
        body = len(request.body)
        flat["header content-length"] = (
            "<the body's length>" if length == body else f"{length}, the body has {body} bytes"
        )
    parts = request.parts()
    texts = [p for p in parts if p.filename is None]
    fields: dict[str, list[str]] = {}
    for part in texts:
        fields.setdefault(part.name, []).append(part.data.decode("utf-8"))
    for name, values in fields.items():
        flat[f"field {name}"] = values[0] if len(values) == 1 else sorted(values)
    flat["text part headers"] = sorted({" + ".join(k for k, _ in p.headers) for p in texts})
    for index, part in enumerate(p for p in parts if p.filename is not None):
        at = f"file part {index}"
        flat[f"{at} name"] = part.name
        flat[f"{at} content type"] = part.content_type
        flat[f"{at} part headers"] = " + ".join(k for k, _ in part.headers)
        flat[f"{at} filename"] = "<a file name>" if part.filename else repr(part.filename)
        flat[f"{at} content"] = mask_alpha(part.data) if part.name == "mask" else digest(part.data)
    return flat


def digest(data: bytes) -> str:
    return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"


def mask_alpha(data: bytes) -> str:
    """The mask by what the API reads of it: its size and alpha channel."""
    with Image.open(io.BytesIO(data)) as mask:
        if "A" not in mask.getbands():
            return f"a {mask.mode} picture without alpha"
        alpha = hashlib.sha256(mask.getchannel("A").tobytes()).hexdigest()[:16]
        return f"{mask.size[0]}x{mask.size[1]}, alpha sha256 {alpha}"


def without_chosen(ours: dict[str, Any], *, stream: bool, variant: int = 0) -> dict[str, Any]:
    """retouch's wire with the differences chosen for every request put back to the SDK's,
    each checked to be what CHOSEN says."""
    ours = dict(ours)
    # CHOSEN["variant header"]: our server is on 127.0.0.1, a loopback provider.
    sent = ours.pop("header x-retouch-variant", None)
    assert sent == str(variant), f"X-Retouch-Variant {sent!r}, not {variant}: update CHOSEN"
    if stream:  # CHOSEN["stream accept"]
        accept = ours.get("header accept")
        assert accept == "text/event-stream", f"streaming with Accept {accept!r}: update CHOSEN"
        ours["header accept"] = "application/json"
    return ours


def differences(sdk: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    absent = "<not sent>"
    return [
        f"{what}: {sdk.get(what, absent)!r} → {ours.get(what, absent)!r}"
        for what in sorted(sdk.keys() | ours.keys())
        if sdk.get(what, absent) != ours.get(what, absent)
    ]


def assert_same_wire(sdk: WireRequest, ours: WireRequest, *, stream: bool, variant: int = 0):
    found = differences(wire(sdk), without_chosen(wire(ours), stream=stream, variant=variant))
    assert not found, "wire differences (official openai SDK → retouch edit):\n  " + "\n  ".join(
        found
    )


# --- the same request, the same wire ----------------------------------------------------------

EVERY_PARAMETER = {
    "model": "gpt-image-1",
    "size": "1536x1024",
    "quality": "high",
    "background": "transparent",
    "output_format": "webp",
    "output_compression": 80,
    "input_fidelity": "high",
    "user": "user-42",
}
TWO_IMAGES = {"image": ["photo", "second"], "mask": "mask", "prompt": "remove the cup"}

CASES = {
    "one image: the part `image`": {"image": "photo", "prompt": "warmer", "model": "gpt-image-2"},
    "one image as a list: `image[]` (--force-image-array)": {
        "image": ["photo"], "prompt": "warmer", "model": "gpt-image-1.5",
    },
    "one image and a mask": {
        "image": "photo", "mask": "mask", "prompt": "x", "model": "gpt-image-1",
    },
    "two images, a mask, every parameter, stream=False": {
        **TWO_IMAGES, **EVERY_PARAMETER, "n": 2, "stream": False,
    },
    "two images, a mask, every parameter, streamed with two partials": {
        **TWO_IMAGES, **EVERY_PARAMETER, "stream": True, "partial_images": 2,
    },
    "three images, streamed, n=3 in one request (--single-request)": {
        "image": ["third", "photo", "second"], "mask": "mask", "prompt": "p",
        "model": "gpt-image-1-mini", "n": 3, "stream": True, "partial_images": 1,
    },
    "zeros: partial_images=0, output_compression=0, n=1": {
        "image": "third", "prompt": "p", "model": "gpt-image-1", "n": 1, "stream": True,
        "partial_images": 0, "output_format": "jpeg", "output_compression": 0,
    },
    "gpt-image-2 at a free size, opaque, medium": {
        "image": "photo", "mask": "mask", "prompt": "p", "model": "gpt-image-2",
        "size": "2048x1152", "quality": "medium", "background": "opaque",
    },
    "text: non-ASCII, quotes, CRLF and a backslash in the prompt and the user": {
        "image": "photo", "prompt": 'Enlève "ça" — 猫\r\nsecond line\\ end',
        "model": "gpt-image-1.5", "input_fidelity": "low", "user": "ünïcode user; name=\"x\"",
    },
}  # fmt: skip


@pytest.mark.parametrize("request_", list(CASES.values()), ids=list(CASES))
def test_retouch_sends_what_the_official_sdk_sends(capsys, tmp_path, files, request_) -> None:
    sdk, ours = both(capsys, tmp_path, request_, files)
    assert len(sdk) == 1 and len(ours) == 1, f"{len(sdk)} SDK and {len(ours)} retouch requests"
    assert_same_wire(sdk[0], ours[0], stream=bool(request_.get("stream")))


def test_the_comparison_sees_a_field_a_content_type_and_a_boolean_spelling(files) -> None:
    """The comparison itself can fail: one changed field, file part or spelling is named."""
    with recording.serve(answer({})) as server:
        run_sdk(server.base_url, {"image": "photo", "prompt": "p", "stream": False}, files)
        run_sdk(server.base_url, {"image": ["photo"], "prompt": "q", "stream": False}, files)
        first, second = (wire(r) for r in server.requests)
    assert differences(first, second) == [
        "field prompt: 'p' → 'q'",
        "file part 0 name: 'image' → 'image[]'",
    ]
    assert differences(first, {**first, "field stream": "False"}) == [
        "field stream: 'false' → 'False'"
    ]
    assert differences(first, {**first, "file part 0 content type": "application/octet-stream"})


# --- the differences chosen on purpose --------------------------------------------------------


def test_model_always_named(capsys, tmp_path, files) -> None:
    """CHOSEN["model always named"]: the only difference is the model retouch names."""
    sdk, ours = both(capsys, tmp_path, {"image": "photo", "prompt": "p"}, files)
    found = differences(wire(sdk[0]), without_chosen(wire(ours[0]), stream=False))
    assert found == ["field model: '<not sent>' → 'local-inpaint'"]  # loopback: local engine


def test_split_streams_differ_only_in_n_and_the_variant(capsys, tmp_path, files) -> None:
    """CHOSEN["split streams"]: --stream --n 3 without --single-request is three requests,
    each the SDK's with n=1 and its own variant."""
    request = {"image": "photo", "mask": "mask", "prompt": "p", "model": "gpt-image-1",
               "n": 3, "stream": True}  # fmt: skip
    with recording.serve(answer(request)) as server:
        run_sdk(server.base_url, request, files)
        flags = [f for f in retouch_flags(request, files) if f != "--single-request"]
        run_retouch(capsys, server.base_url, flags, tmp_path / "out")
        sdk, *ours = server.requests
    assert len(ours) == 3
    variants = sorted(int(r.header("x-retouch-variant") or -1) for r in ours)
    assert variants == [0, 1, 2]
    for sent in ours:
        variant = int(sent.header("x-retouch-variant") or -1)
        found = differences(wire(sdk), without_chosen(wire(sent), stream=True, variant=variant))
        assert found == ["field n: '3' → '1'"]


def test_moderation_goes_as_the_sdk_sends_it_through_extra_body(capsys, tmp_path, files):
    """CHOSEN["moderation"]: set, to a provider that takes it (a custom one on 127.0.0.1),
    retouch sends it as the SDK does through extra_body; with --no-send-moderation (OpenAI's
    default) it is left out, as the SDK leaves it out without extra_body."""
    request = {"image": "photo", "prompt": "p", "model": "gpt-image-1",
               "extra_body": {"moderation": "low"}}  # fmt: skip
    sdk, ours = both(capsys, tmp_path, request, files)
    assert wire(sdk[0])["field moderation"] == "low"
    assert_same_wire(sdk[0], ours[0], stream=False)
    plain = {k: v for k, v in request.items() if k != "extra_body"}
    sdk, ours = both(capsys, tmp_path, plain, files, "--moderation", "low", "--no-send-moderation")
    assert_same_wire(sdk[0], ours[0], stream=False)


def test_the_compact_mask_has_other_bytes_and_the_same_alpha(capsys, tmp_path, files) -> None:
    """CHOSEN["compact mask"]: the SDK sends the file; retouch a smaller grey+alpha PNG."""
    request = {"image": "photo", "mask": "mask", "prompt": "p", "model": "gpt-image-1"}
    sdk, ours = both(capsys, tmp_path, request, files)
    theirs, mine = (next(p for p in r.parts() if p.name == "mask") for r in (sdk[0], ours[0]))
    assert theirs.data == files["mask"].read_bytes()
    assert len(mine.data) < len(theirs.data)
    with Image.open(io.BytesIO(mine.data)) as compact:
        assert compact.mode == "LA"
    assert_same_wire(sdk[0], ours[0], stream=False)  # the alpha and image/png


def test_content_type_from_the_bytes_not_the_name(capsys, tmp_path, files) -> None:
    """CHOSEN["content type from the bytes"]: a JPEG named .png."""
    files["misnamed"] = images.write(tmp_path / "really-a-jpeg.png", files["third"].read_bytes())
    request = {"image": "misnamed", "prompt": "p", "model": "gpt-image-1"}
    sdk, ours = both(capsys, tmp_path, request, files)
    found = differences(wire(sdk[0]), without_chosen(wire(ours[0]), stream=False))
    assert found == ["file part 0 content type: 'image/png' → 'image/jpeg'"]


def test_a_turned_photo_goes_as_its_upright_working_copy(capsys, tmp_path, files) -> None:
    """CHOSEN["working copy"]: an EXIF-turned JPEG goes upright as a PNG; the rest is equal."""
    exif = Image.Exif()
    exif[0x0112] = 6  # turned 90° clockwise to view
    files["turned"] = images.write(
        tmp_path / "turned.jpg", images.encode(images.gradient(*SIZE), "JPEG", exif=exif)
    )
    request = {"image": "turned", "prompt": "p", "model": "gpt-image-1"}
    sdk, ours = both(capsys, tmp_path, request, files)
    found = differences(wire(sdk[0]), without_chosen(wire(ours[0]), stream=False))
    assert [line.split(":")[0] for line in found] == [
        "file part 0 content",
        "file part 0 content type",
    ]
    assert "'image/jpeg' → 'image/png'" in found[1]
    (sent,) = [p for p in ours[0].parts() if p.filename]
    with Image.open(io.BytesIO(sent.data)) as upright:
        assert upright.size == SIZE[::-1]


# --- an error object inside an image event ----------------------------------------------------

MESSAGE = "the partial image could not be made"
ERROR = {"message": MESSAGE, "type": "server_error", "param": None, "code": "partial_failed"}
SDK_SAW = ("server_error", "partial_failed")  # type and code of openai.APIError


def error_under(kind: str) -> fs.Event:
    return fs.raw_event(json.dumps({"type": kind, "error": ERROR}), kind)


STREAMS_WITH_AN_ERROR = {
    "under the first image_edit.partial_image": [
        error_under("image_edit.partial_image"), fs.completed(PNG),
    ],
    "under a partial after a good one": [
        fs.partial(PNG, 0), error_under("image_edit.partial_image"), fs.completed(PNG),
    ],
    "under image_edit.completed": [fs.partial(PNG, 0), error_under("image_edit.completed")],
}  # fmt: skip


@pytest.mark.parametrize("events", list(STREAMS_WITH_AN_ERROR.values()), ids=STREAMS_WITH_AN_ERROR)
def test_an_error_key_in_an_image_event_fails_both_clients(capsys, tmp_path, files, events):
    """The SDK raises openai.APIError (message, type and code of the object) on any event
    whose data has an `error` key, without a retry; `retouch edit --stream` fails the job
    the same way: exit 3, an `api` error event with that type and code, no final image,
    one request, and the partials that came before kept."""
    request = {"image": "photo", "prompt": "p", "model": "gpt-image-1", "stream": True}
    with recording.serve(recording.sse_answer(events)) as server:
        with (
            openai.OpenAI(base_url=server.base_url + "/v1", api_key=KEY) as client,  # 2 retries
            open(files["photo"], "rb") as photo,
            pytest.raises(openai.APIError) as caught,
        ):
            list(client.images.edit(**{**request, "image": photo}))
        sdk_requests = len(server.requests)
        flags = ["--base-url", server.base_url, *retouch_flags(request, files)]
        code = main(["edit", *flags, "--out", str(tmp_path / "out"), "--json"])
        ours = server.requests[sdk_requests:]
    assert type(caught.value) is openai.APIError  # not a status error: the answer was 200
    assert caught.value.message == MESSAGE
    assert (caught.value.type, caught.value.code) == SDK_SAW
    assert sdk_requests == 1 and len(ours) == 1  # neither retries
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert code == 3
    (error,) = [e for e in printed if e["event"] == "error"]
    assert (error["kind"], error["type"], error["code"]) == ("api", *SDK_SAW)
    assert MESSAGE in error["message"]
    assert not [e for e in printed if e["event"] == "completed"]
    good_partials = events.index(next(e for e in events if '"error"' in e.data))
    assert len([e for e in printed if e["event"] == "partial"]) == good_partials
