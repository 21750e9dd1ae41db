"""The local engine cannot be driven by a web page, and tells a client nothing of its insides
(issue 15): a token by default, Host and Origin checked, no CORS, numbers read strictly, and
a generic answer (with a request id) when it fails."""

from __future__ import annotations

import logging
import re
import stat

import httpx
import pytest

import app.engine.server as engine_server
from app.cli import main
from tests.support.engine import (
    host_port,
    image_parts,
    next_line,
    raw_request,
    running_engine,
    serve_command,
    sse_events,
)
from tests.support.images import encode, gradient, mask_bytes

W, H = 64, 48
PNG = encode(gradient(W, H), "PNG")
MASK = mask_bytes(W, H, (20, 15, 40, 30))
URL_LINE = re.compile(r"Retouch engine listening on (http://127\.0\.0\.1:\d+)\n")


@pytest.fixture(scope="module")
def engine() -> str:
    with running_engine(token="tok") as url:
        yield url


@pytest.fixture
def http(engine: str) -> httpx.Client:
    with httpx.Client(base_url=engine, timeout=30, headers={"authorization": "Bearer tok"}) as c:
        yield c


def edit(http: httpx.Client, headers: dict | None = None, **fields: str) -> httpx.Response:
    return http.post(
        "/v1/images/edits",
        data={"prompt": "x", **fields},
        files=image_parts([PNG], MASK),
        headers=headers,
    )


# --- a token by default ----------------------------------------------------------------------


def test_serve_makes_a_random_token_and_prints_it_after_the_url_line() -> None:
    tokens = []
    for _ in range(2):
        with serve_command() as (process, line):
            url = URL_LINE.fullmatch(line).group(1)  # the first line is machine-readable
            tokens.append(re.match(r"Token: (\S+)  ", next_line(process, 5.0)).group(1))
            assert httpx.get(f"{url}/v1/models").json()["error"]["code"] == "missing_api_key"
            good = {"authorization": f"Bearer {tokens[-1]}"}
            assert httpx.get(f"{url}/v1/models", headers=good).status_code == 200
            assert httpx.get(f"{url}/health").status_code == 200  # open: the editor's check
    assert len(tokens[0]) >= 32 and tokens[0] != tokens[1]  # a new one at each start


def test_a_given_token_is_never_printed_and_the_editor_way_of_starting_still_connects() -> None:
    """The editor: ``-m app serve --port 0 --exit-with-stdin`` with its token in the
    environment (app/services/engine_process.py)."""
    env = {"RETOUCH_ENGINE_TOKEN": "editor-secret-token"}
    with serve_command("--exit-with-stdin", env=env) as (process, line):
        url = URL_LINE.fullmatch(line).group(1)
        good = {"authorization": "Bearer editor-secret-token"}
        assert httpx.get(f"{url}/v1/models", headers=good).status_code == 200
        assert httpx.get(f"{url}/v1/models").status_code == 401
        process.stdin.close()  # as when the editor goes away
        assert process.wait(timeout=20) == 0
        rest, errors = process.stdout.read(), process.stderr.read()
    assert "editor-secret-token" not in rest + errors and "Token:" not in rest
    assert "warning" not in errors


def test_no_token_is_an_explicit_choice_with_a_warning() -> None:
    with serve_command("--no-token") as (process, line):
        url = URL_LINE.fullmatch(line).group(1)
        assert httpx.get(f"{url}/v1/models").status_code == 200
        process.send_signal(2)
        process.wait(timeout=20)
        errors = process.stderr.read()
    assert "warning: --no-token: every program on this machine can use the engine" in errors


def test_token_from_a_file_and_a_warning_when_it_is_on_the_command_line(tmp_path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    with serve_command("--token-file", str(secret)) as (process, line):
        url = URL_LINE.fullmatch(line).group(1)
        good = {"authorization": "Bearer from-a-file"}
        assert httpx.get(f"{url}/v1/models", headers=good).status_code == 200
        assert httpx.get(f"{url}/v1/models").status_code == 401
        process.send_signal(2)
        process.wait(timeout=20)
        assert "warning" not in process.stderr.read()
    with serve_command("--token", "on-the-command-line") as (process, _):
        process.send_signal(2)
        process.wait(timeout=20)
        errors = process.stderr.read()
    assert "warning: --token is visible to other users of this machine in the process list" in (
        errors
    )
    assert "RETOUCH_ENGINE_TOKEN or --token-file" in errors


def test_serve_flags_set_the_connection_cap_the_turns_and_the_queue(capsys) -> None:
    flags = ("--no-token", "--max-connections", "50", "--max-work", "3", "--max-queue", "7")
    with serve_command(*flags) as (_, line):
        health = httpx.get(URL_LINE.fullmatch(line).group(1) + "/health").json()
    assert health["connections"]["cap"] == 50
    assert (health["admission"]["slots"], health["admission"]["queue_limit"]) == (3, 7)
    with pytest.raises(SystemExit):
        main(["serve", "--max-work", "0"])
    assert "--max-work: expected a whole number of 1 or more, got '0'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "expected"), [(None, "cannot read it"), ("\n  \n", "its first line is empty")]
)
def test_a_token_file_that_cannot_be_used_is_named_before_anything_starts(
    tmp_path, capsys, content, expected
) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content)
    assert main(["serve", "--token-file", str(path)]) == 2
    assert f"--token-file {path}: {expected}" in capsys.readouterr().err


def test_token_choices_exclude_each_other(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--no-token", "--token", "x"])
    assert "not allowed with argument" in capsys.readouterr().err


# --- Host, Origin and CORS -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST", "[::1]:{port}", "127.0.0.2"]
)
def test_loopback_hosts_are_served(http, engine, host) -> None:
    headers = {"host": host.format(port=host_port(engine)[1])}
    assert http.get("/v1/models", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",  # DNS rebinding: a page whose name now resolves to 127.0.0.1
        "127.0.0.1.nip.io:{port}",
        "localhost.evil.example",
        "192.168.1.20:{port}",  # the engine listens on loopback only
        "[::1",
        "::1",
        "localhost:port",
    ],
)
def test_other_hosts_are_refused_with_403_even_with_the_token(http, engine, host) -> None:
    headers = {"host": host.format(port=host_port(engine)[1])}
    for reply in (http.get("/health", headers=headers), edit(http, headers=headers)):
        assert reply.status_code == 403, reply.text
        assert reply.json()["error"]["code"] == "host_not_allowed"
        assert "127.0.0.1" in reply.json()["error"]["message"]


def test_a_request_without_a_host_is_refused(engine) -> None:
    answer = raw_request(engine, "GET /health HTTP/1.0\n\n")
    assert answer.startswith(b"HTTP/1.1 403 ") and b"host_not_allowed" in answer


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://localhost:3000", "https://127.0.0.1"]
)
def test_a_web_page_cannot_post_an_edit_nor_read_anything(http, origin) -> None:
    """A page can POST multipart/form-data without a CORS preflight: the Origin header its
    browser adds is what tells the engine."""
    headers = {"origin": origin}
    for reply in (edit(http, headers=headers), http.get("/health", headers=headers)):
        assert reply.status_code == 403
        assert reply.json()["error"]["code"] == "origin_not_allowed"
        assert not [name for name in reply.headers if name.startswith("access-control-")]
    assert http.get("/health").json()["work"]["finished"] == 0  # no work was done


def test_the_engines_own_origin_and_no_origin_are_served(http, engine) -> None:
    assert edit(http, headers={"origin": engine}).status_code == 200
    assert edit(http).status_code == 200


def test_no_answer_grants_cors(http, engine) -> None:
    preflight = {"origin": engine, "access-control-request-method": "POST",
                 "access-control-request-headers": "authorization"}  # fmt: skip
    replies = [
        http.options("/v1/images/edits", headers=preflight),
        http.options("/v1/images/edits", headers={**preflight, "origin": "http://evil.example"}),
        http.get("/v1/models"),
        edit(http),
    ]
    assert [r.status_code for r in replies] == [405, 403, 200, 200]
    for reply in replies:
        assert not [name for name in reply.headers if name.startswith("access-control-")]


def test_the_bound_address_is_a_right_host_and_any_ip_when_listening_everywhere() -> None:
    with running_engine(bound_host="0.0.0.0") as url, httpx.Client(base_url=url) as http:
        assert http.get("/health", headers={"host": "192.168.1.20:8000"}).status_code == 200
        assert http.get("/health", headers={"host": "my-laptop.local:8000"}).status_code == 403


# --- numbers are ASCII digits; a failure says nothing of the engine's insides ----------------


@pytest.mark.parametrize("value", ["²".encode("latin-1"), "٣".encode(), b"1_0", b"+1", b"10"])
def test_a_variant_header_that_is_not_plain_digits_or_too_high_is_a_400(http, value) -> None:
    reply = edit(http, headers={"x-retouch-variant": value})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["code"] == "invalid_value" and "x-retouch-variant" in error["message"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": "٣"}, "n"),  # Arabic-Indic three: int() reads it as 3
        ({"n": "1_0"}, "n"),  # int() reads 10
        ({"n": "²"}, "n"),
        ({"size": "６４x４８"}, "size"),  # full-width digits
        ({"output_format": "jpeg", "output_compression": "٥٠"}, "output_compression"),
        ({"stream": "true", "partial_images": "１"}, "partial_images"),
    ],
)
def test_form_numbers_must_be_ascii_digits(http, fields, param) -> None:
    reply = edit(http, **fields)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert (error["param"], error["code"]) == (param, "invalid_value")
    assert "0-9" in error["message"]


def test_an_unexpected_failure_is_a_generic_500_with_a_request_id_logged_here(
    http, monkeypatch, caplog
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("secret detail at /home/someone/engine.py")

    monkeypatch.setattr(engine_server, "prepare_edit", broken)
    with caplog.at_level(logging.ERROR):
        reply = edit(http)
    assert reply.status_code == 500
    request_id = reply.headers["x-request-id"]
    error = reply.json()["error"]
    assert error["code"] == "server_error" and request_id in error["message"]
    assert "secret" not in reply.text and "RuntimeError" not in reply.text
    assert request_id in caplog.text and "secret detail" in caplog.text  # logged locally
    monkeypatch.undo()
    assert edit(http).status_code == 200  # the same connection goes on


def test_a_failure_during_a_stream_is_a_generic_error_event(http, monkeypatch, caplog) -> None:
    def failing_events(*_: object) -> list:
        def steps():
            raise ValueError("secret stream detail")
            yield

        return [steps()]

    monkeypatch.setattr(engine_server, "edit_events", failing_events)
    with caplog.at_level(logging.ERROR):
        reply = edit(http, stream="true")
    events = sse_events(reply.text)
    assert [name for name, _ in events] == ["error"]
    message = events[0][1]["error"]["message"]
    assert reply.headers["x-request-id"] in message and "secret" not in reply.text
    assert "secret stream detail" in caplog.text
