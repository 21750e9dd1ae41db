"""One user-facing error for the CLI and the editor: every branch of ``user_error``, with
real exceptions (raised by the code that raises them where that is cheap)."""

from __future__ import annotations

import io
import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from app.cli import EXIT_API, EXIT_CODES, EXIT_INVALID, EXIT_NETWORK, Reporter, ResultWriter
from app.client import ApiError, ClientError, InputError, NetworkError, ProtocolError
from app.client.errors import KEY_HINT, SAVE_HINT, user_error
from app.core.errors import ErrorKind, UserError
from app.core.imageio import ImageFileError, probe_image, write_atomic
from app.core.mask import MaskSizeError

KINDS = {"api", "auth", "network", "protocol", "input", "disk", "file", "internal"}


def raised(action) -> BaseException:
    try:
        action()
    except BaseException as exc:  # whatever it is: that is the point
        return exc
    raise AssertionError("nothing was raised")


def test_the_kinds_are_the_cli_strings() -> None:
    assert {kind.value for kind in ErrorKind} == KINDS
    assert all(isinstance(kind, str) and str(kind) == kind.value for kind in ErrorKind)


# --- the server answered with an error ---------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"), [(401, "invalid_api_key"), (403, "insufficient_permissions")]
)
def test_a_refused_key_is_auth_final_and_points_to_settings(status: int, code: str) -> None:
    exc = ApiError(
        "Incorrect API key provided.", status=status, type="invalid_request_error",
        code=code, request_id="req_auth",
    )  # fmt: skip
    error = user_error(exc)
    assert error.kind is ErrorKind.AUTH and error.needs_settings and not error.retryable
    assert error.message == (
        f"{exc}; check the provider's API key in Settings ▸ Providers (Ctrl+,), "
        "then generate again."
    )
    assert error.message.startswith(f"{exc}; {KEY_HINT}")
    assert (error.status, error.code, error.type, error.request_id) == (
        status, code, "invalid_request_error", "req_auth",
    )  # fmt: skip
    assert error.variant is None


def test_the_key_hint_is_the_callers() -> None:
    error = user_error(ApiError("no", status=401), key_hint="set $MY_KEY.")
    assert error.message == "401 Unauthorized: no; set $MY_KEY."


def test_an_api_error_keeps_every_detail_and_is_worth_a_retry() -> None:
    exc = ApiError(
        "overloaded", status=503, type="server_error", code="busy", param="n",
        request_id="req_1",
    )  # fmt: skip
    error = user_error(exc)
    assert error == UserError(
        str(exc), ErrorKind.API, status=503, code="busy", type="server_error", param="n",
        request_id="req_1", retryable=True,
    )  # fmt: skip
    assert not error.needs_settings


def test_moderation_is_final() -> None:
    exc = ApiError(
        "Your request was rejected by the safety system.", status=400,
        type="image_generation_user_error", code="moderation_blocked",
    )  # fmt: skip
    error = user_error(exc)
    assert error.kind is ErrorKind.API and not error.retryable and not error.needs_settings
    assert "safety system" in error.message and "moderation_blocked" in error.message


def test_an_error_event_mid_stream_has_no_status() -> None:
    error = user_error(ApiError("boom", code="server_error"))
    assert (error.kind, error.status, error.retryable) == (ErrorKind.API, None, True)


# --- other client errors -----------------------------------------------------------------


def test_a_network_failure() -> None:
    error = user_error(NetworkError("the connection was refused."))
    assert error == UserError("the connection was refused.", ErrorKind.NETWORK)
    assert error.retryable


def test_an_input_error() -> None:
    text = "photo.png: file not found; check the path."
    error = user_error(InputError(text))
    assert (error.kind, error.message, error.retryable) == (ErrorKind.INPUT, text, True)


@pytest.mark.parametrize("exc", [ProtocolError("HTML, not JSON"), ClientError("odd")])
def test_other_client_errors_are_protocol(exc: ClientError) -> None:
    error = user_error(exc)
    assert (error.kind, error.message, error.retryable) == (ErrorKind.PROTOCOL, str(exc), True)


def test_details_a_client_error_carries_are_kept_and_its_variant_is_not() -> None:
    exc = ProtocolError("502 Bad Gateway: an HTML page")
    exc.status, exc.request_id, exc.variant = 502, "req_2", 1  # type: ignore[attr-defined]
    error = user_error(exc)
    assert (error.status, error.request_id, error.variant) == (502, "req_2", None)
    assert error.for_variant(1).variant == 1 and error.variant is None


# --- files and the disk ------------------------------------------------------------------


def test_a_picture_that_cannot_be_read_is_a_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "holiday.png"
    bad.write_bytes(b"not a picture at all")
    exc = raised(lambda: probe_image(bad, max_pixels=1 << 24))
    assert isinstance(exc, ImageFileError)
    error = user_error(exc)
    assert error.kind is ErrorKind.FILE and not error.retryable
    assert error.message == str(exc) and str(bad) in error.message
    assert error.code == "invalid_image_format"


def test_a_mask_of_the_wrong_size_is_a_file_error() -> None:
    error = user_error(MaskSizeError("mask.png is 10x10, the photo 64x48."))
    assert (error.kind, error.code) == (ErrorKind.FILE, "corrupt_image")


def test_a_result_that_cannot_be_saved_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    exc = raised(lambda: write_atomic(tmp_path / "gone" / "001-v0.png", b"x"))
    assert isinstance(exc, FileNotFoundError) and exc.filename
    error = user_error(exc, save_hint="free some disk space or choose another --out")
    assert error.kind is ErrorKind.DISK and error.retryable and not error.needs_settings
    assert error.message == (
        f"{exc.filename} could not be written (No such file or directory); "
        "free some disk space or choose another --out."
    )


def test_the_editors_disk_message_is_unchanged() -> None:
    hint = "free some disk space or check that the results folder can be written, then retry"
    error = user_error(OSError(28, "No space left on device", "/r/001-v0.png"), save_hint=hint)
    assert error.message == (
        "/r/001-v0.png could not be written (No space left on device); free some "
        "disk space or check that the results folder can be written, then retry."
    )


def test_a_disk_error_without_a_file_or_hint() -> None:
    error = user_error(OSError(28, "No space left on device"))
    assert error.message == f"A file could not be written (No space left on device); {SAVE_HINT}."
    assert user_error(OSError("odd")).message.startswith("A file could not be written (odd);")


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "Connection refused"),
        (TimeoutError(), "TimeoutError"),
    ],
)
def test_connection_oserrors_are_the_network_not_the_disk(exc: OSError, reason: str) -> None:
    error = user_error(exc)
    assert (error.kind, error.message, error.retryable) == (
        ErrorKind.NETWORK, f"Network failure: {reason}.", True,
    )  # fmt: skip


# --- anything else -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (raised(lambda: {}["size"]), "Unexpected error: KeyError: 'size'"),
        (ValueError("bad\nvalue"), "Unexpected error: ValueError: bad value"),
        (KeyboardInterrupt(), "Unexpected error: KeyboardInterrupt"),
    ],
)
def test_anything_else_is_internal_and_final(exc: BaseException, message: str) -> None:
    error = user_error(exc)
    assert (error.kind, error.message, error.retryable) == (ErrorKind.INTERNAL, message, False)
    assert error.status is error.code is error.request_id is None


@pytest.mark.parametrize(
    "exc",
    [
        ApiError("x", status=401),
        ApiError("x", status=500),
        NetworkError("x"),
        InputError("x"),
        ProtocolError("x"),
        ImageFileError("x"),
        OSError(28, "full"),
        TimeoutError(),
        RuntimeError("x"),
    ],
)
def test_every_kind_is_the_enums_and_every_message_one_line(exc: BaseException) -> None:
    error = user_error(exc, save_hint="a\nhint")
    assert type(error.kind) is ErrorKind and error.kind in KINDS
    assert error.message and "\n" not in error.message


# --- the error itself --------------------------------------------------------------------


def test_user_error_carries_what_the_editor_needs() -> None:
    error = UserError("blocked", "api", status=400, retryable=False)
    assert error.kind is ErrorKind.API and str(error) == "blocked"
    one = error.for_variant(2)
    assert (one.variant, one.message, one.status, error.variant) == (2, "blocked", 400, None)
    with pytest.raises(FrozenInstanceError):
        error.variant = 1  # type: ignore[misc]
    with pytest.raises(ValueError):
        UserError("x", "nonsense")
    with pytest.raises(TypeError):
        UserError("x", ErrorKind.API, 400)  # type: ignore[misc]  # details are keywords


def test_plain_takes_the_kinds_retryability() -> None:
    assert UserError.plain("oops") == UserError("oops", ErrorKind.INTERNAL, retryable=False)
    assert UserError.plain("gone", ErrorKind.NETWORK).retryable
    assert not UserError.plain("bad key", "auth").retryable
    assert UserError.plain("bad key", "auth").needs_settings
    assert not UserError.plain("gone", ErrorKind.NETWORK, retryable=False).retryable


# --- the CLI's use of it -------------------------------------------------------------------


def test_the_cli_has_an_exit_code_for_every_kind() -> None:
    assert set(EXIT_CODES) == set(ErrorKind)
    assert EXIT_CODES[ErrorKind.API] == EXIT_CODES[ErrorKind.AUTH] == EXIT_API
    assert EXIT_CODES[ErrorKind.PROTOCOL] == EXIT_API
    assert EXIT_CODES[ErrorKind.NETWORK] == EXIT_NETWORK
    assert EXIT_CODES[ErrorKind.INPUT] == EXIT_CODES[ErrorKind.DISK] == EXIT_INVALID
    assert EXIT_CODES[ErrorKind.FILE] == EXIT_INVALID
    assert EXIT_CODES[ErrorKind.INTERNAL] not in {0, EXIT_INVALID, EXIT_API, EXIT_NETWORK, 130}


def test_the_cli_error_record_keeps_its_fields(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    exc = ApiError("blocked", status=400, type="t", code="c", param="p", request_id="r")
    Reporter(out, err, as_json=True).failure(user_error(exc), ResultWriter(tmp_path))
    record = json.loads(out.getvalue())
    assert record == {
        "event": "error", "kind": "api", "message": str(exc), "status": 400, "type": "t",
        "code": "c", "param": "p", "request_id": "r", "files": [],
    }  # fmt: skip
    Reporter(out, err).failure(user_error(NetworkError("dropped")), ResultWriter(tmp_path))
    assert err.getvalue() == "retouch: dropped\n"
