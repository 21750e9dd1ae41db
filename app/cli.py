"""The ``retouch`` command: the editor (no subcommand), ``edit`` and ``serve``.

``edit`` flags are generated from the field schema, so a field added to
``resources/schema/image_edits.json`` becomes a flag with no code change here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO
from urllib.parse import urlsplit

from app import __version__
from app.core.errors import ErrorKind, UserError
from app.core.events import CompletedImage, ImageEvent, PartialImage, Usage
from app.core.imageio import ImageFileError, probe_image, write_atomic
from app.core.naming import result_name
from app.core.providers import LOCAL_VARIANT_HEADER, is_loopback_host
from app.core.request import EditRequest
from app.core.schema import FieldSpec, Schema, SchemaError, load_schema
from app.core.validation import Problem, validate_files, validate_values

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_API = 3
EXIT_NETWORK = 4
EXIT_INTERRUPTED = 130
DEFAULT_BASE_URL = "https://api.openai.com"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in {"edit", "serve", "-h", "--help", "--version"}:
        from app.gui import run

        return run(argv)
    try:
        schema = load_schema()
    except SchemaError as exc:
        print(f"retouch: {exc}", file=sys.stderr)
        return EXIT_INVALID
    parser = build_parser(schema)
    args = parser.parse_args(argv)
    try:
        return args.handler(args, schema)
    except KeyboardInterrupt:
        print("retouch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


class _Parser(argparse.ArgumentParser):
    """No abbreviated flags (``--api-key`` must not mean ``--api-key-env``), and an error
    about unknown arguments names the flags only: a value typed after an unknown flag may be
    a secret, and is never echoed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        prefix = "unrecognized arguments: "
        if message.startswith(prefix):
            flags = [word for word in message[len(prefix) :].split() if word.startswith("-")]
            message = prefix + (" ".join(flags) or "(values not shown)")
            if any(flag.split("=")[0] in SECRET_FLAGS for flag in flags):
                message += (
                    ". Keys are never given on the command line (they would stay in the shell's"
                    " history and show in ps): put the key in an environment variable and name"
                    " it with --api-key-env VAR"
                )
        super().error(message)


SECRET_FLAGS = {"--api-key", "--key", "--apikey"}


def build_parser(schema: Schema) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="retouch",
        description="Retouch photos with OpenAI-compatible image-edit APIs. "
        "With no command, opens the editor.",
    )
    parser.add_argument("--version", action="version", version=f"retouch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{edit,serve}", parser_class=_Parser)
    _add_edit_command(commands, schema)
    _add_serve_command(commands)
    return parser


# --- retouch edit --------------------------------------------------------------------


def _add_edit_command(commands: Any, schema: Schema) -> None:
    edit = commands.add_parser(
        "edit",
        help="send one edit request and write every image it returns",
        description="Send one image-edit request and write each image to --out the moment "
        "it arrives (partials included). The API key is read from the environment variable "
        "named by --api-key-env, never from a flag.",
        epilog="exit codes: 0 success, 2 invalid input (nothing sent), 3 the API answered "
        "with an error, 4 network failure or timeout after retries, 130 interrupted",
    )
    for spec in schema.fields:
        _add_field_flag(edit, spec, schema)
    conn = edit.add_argument_group("connection")
    conn.add_argument(
        "--base-url",
        default=os.environ.get("RETOUCH_BASE_URL", DEFAULT_BASE_URL),
        help="the provider's base URL (default: $RETOUCH_BASE_URL or %(default)s)",
    )
    conn.add_argument(
        "--path",
        default=schema.default_path,
        help="endpoint path (default %(default)s; some vendors use /v1/image/edits)",
    )
    conn.add_argument(
        "--api-key-env",
        default="OPENAI_API_KEY",
        metavar="VAR",
        help="environment variable holding the API key (default %(default)s)",
    )
    conn.add_argument(
        "--force-image-array",
        action="store_true",
        help="send image[] even for a single image (some gateways need it)",
    )
    conn.add_argument(
        "--single-request",
        action="store_true",
        help="with --stream and --n > 1, send one request instead of one per variant "
        "(cheaper: input tokens are billed once; partials cannot be told apart)",
    )
    conn.add_argument("--connect-timeout", type=float, default=5.0, metavar="S")
    conn.add_argument("--read-timeout", type=float, default=600.0, metavar="S")
    conn.add_argument("--max-retries", type=int, default=2, metavar="N")
    out = edit.add_argument_group("output")
    out.add_argument("--out", type=Path, default=Path("."), metavar="DIR")
    out.add_argument("--json", action="store_true", help="print one JSON object per line per event")
    edit.set_defaults(handler=_run_edit)


def _add_field_flag(parser: argparse.ArgumentParser, spec: FieldSpec, schema: Schema) -> None:
    help_text = spec.help.replace("%", "%%")
    if spec.kind == "image_list":
        parser.add_argument(
            "--image", dest="image", action="append", type=Path, required=True,
            metavar="FILE", help=help_text,
        )  # fmt: skip
        return
    if spec.kind == "mask":
        parser.add_argument("--mask", type=Path, metavar="FILE", help=help_text)
        return
    if spec.kind == "boolean":
        parser.add_argument(
            spec.flag, dest=spec.name, action=argparse.BooleanOptionalAction, default=None,
            help=help_text,
        )  # fmt: skip
        return
    metavar = "|".join(spec.choices) if spec.choices else spec.kind.upper()
    if spec.kind == "size":
        metavar = "WxH|auto"
    default_note = f" (default {spec.default})" if spec.default is not None else ""
    if spec.kind == "model":
        local = ", ".join(schema.model_names("local"))
        default_note = f" (default {spec.default}; {local} when --base-url is loopback)"
    parser.add_argument(
        spec.flag,
        dest=spec.name,
        type=_parser_for(spec),
        default=None,
        required=spec.required and spec.default is None,
        metavar=metavar,
        help=help_text + default_note,
    )


def _parser_for(spec: FieldSpec) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return spec.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{spec.flag}: {exc}") from None

    parse.__name__ = spec.kind
    return parse


def _run_edit(args: argparse.Namespace, schema: Schema) -> int:
    report = Reporter(sys.stdout, sys.stderr, as_json=args.json)
    loopback = _is_loopback(args.base_url)
    values = {
        spec.name: getattr(args, spec.name)
        for spec in schema.value_fields
        if getattr(args, spec.name, None) is not None
    }
    for spec in schema.value_fields:
        if spec.kind == "model" and spec.name not in values:
            # A loopback URL is almost always the local engine, which has its own models.
            local = schema.model_names("local")
            values[spec.name] = local[0] if loopback and local else spec.default
    problems = validate_values(values, schema)
    file_problems, _ = validate_files(args.image, args.mask, schema)
    problems += file_problems
    api_key = os.environ.get(args.api_key_env) or None
    if api_key is None and not loopback:
        problems.append(
            Problem(
                "api_key",
                f"no API key: set the environment variable {args.api_key_env} "
                "(or name another one with --api-key-env).",
            )
        )
    if not args.out.is_dir():
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            problems.append(Problem("out", f"{args.out}: cannot create the folder ({exc})."))
    if problems:
        report.invalid(problems)
        return EXIT_INVALID

    from app.client import ClientConfig

    config = ClientConfig(
        base_url=args.base_url,
        path=args.path,
        api_key=api_key,
        force_image_array=args.force_image_array,
        connect_timeout=args.connect_timeout,
        read_timeout=args.read_timeout,
        max_retries=args.max_retries,
        variant_header=LOCAL_VARIANT_HEADER if loopback else None,
    )
    request = EditRequest(images=tuple(args.image), values=values, mask=args.mask)
    writer = ResultWriter(args.out)
    return asyncio.run(_stream_to_disk(config, schema, request, writer, report, args))


async def _stream_to_disk(
    config: Any,
    schema: Schema,
    request: EditRequest,
    writer: ResultWriter,
    report: Reporter,
    args: argparse.Namespace,
) -> int:
    from app.client import ImageEditClient
    from app.client.errors import user_error

    async with ImageEditClient(config, schema, on_retry=report.retry) as client:
        try:
            async for event in client.variants(request, split_streams=not args.single_request):
                path = await asyncio.to_thread(writer.write, event)
                report.image(event, path)
        except Exception as exc:  # every failure is reported, with what arrived before it
            error = user_error(
                exc,
                save_hint=SAVE_HINT,
                key_hint=f"check the API key in the environment variable {args.api_key_env} "
                "(or name another one with --api-key-env)",
            )
            report.failure(error, writer)
            return EXIT_CODES[error.kind]
    report.done(writer)
    return EXIT_OK


SAVE_HINT = "free some disk space or choose another --out"
# What each kind of failure exits with (the epilog and the README document 2, 3 and 4). An
# internal error (a bug) exits 1, as it did when it escaped as a traceback.
EXIT_CODES = {
    ErrorKind.API: EXIT_API,
    ErrorKind.AUTH: EXIT_API,
    ErrorKind.PROTOCOL: EXIT_API,
    ErrorKind.NETWORK: EXIT_NETWORK,
    ErrorKind.INPUT: EXIT_INVALID,
    ErrorKind.DISK: EXIT_INVALID,
    ErrorKind.FILE: EXIT_INVALID,
    ErrorKind.INTERNAL: EXIT_INTERNAL,
}


@dataclass
class ResultWriter:
    """Writes each image the moment it arrives, atomically, under a name that sorts in
    arrival order and shows the variant and the partial index."""

    folder: Path
    stamp: str = field(default_factory=lambda: datetime.now().strftime("%Y%m%d-%H%M%S"))
    written: list[Path] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    def write(self, event: ImageEvent) -> Path:
        name = result_name(event, len(self.written) + 1, prefix=f"retouch-{self.stamp}-")
        path = write_atomic(self.folder / name, event.data)
        self.written.append(path)
        if isinstance(event, CompletedImage) and event.usage is not None:
            self.usage = self.usage + event.usage
        return path

    @property
    def finals(self) -> int:
        return sum(p.stem.endswith("-final") for p in self.written)


@dataclass
class Reporter:
    """Progress for people (one short line per event) or for scripts (JSON lines)."""

    out: TextIO
    err: TextIO
    as_json: bool = False

    def _emit(self, record: dict[str, Any], line: str, *, error: bool = False) -> None:
        if self.as_json:
            print(json.dumps(record), file=self.out, flush=True)
        else:
            print(line, file=self.err if error else self.out, flush=True)

    def invalid(self, problems: list[Problem]) -> None:
        listed = [{"field": p.field, "file": p.file, "message": p.message} for p in problems]
        record = {"event": "invalid", "problems": listed}
        lines = "\n".join(f"  - {p}" for p in problems)
        self._emit(record, f"retouch: nothing was sent; fix these first:\n{lines}", error=True)

    def retry(self, notice: Any) -> None:
        record = {
            "event": "retry",
            "attempt": notice.attempt,
            "delay": round(notice.delay, 3),
            "reason": notice.reason,
        }
        line = f"retry {notice.attempt} in {notice.delay:.1f} s ({notice.reason})"
        self._emit(record, line, error=True)

    def image(self, event: ImageEvent, path: Path) -> None:
        try:
            info = probe_image(path, max_pixels=1 << 40)
            dims = {"width": info.width, "height": info.height, "format": info.format}
        except ImageFileError:
            dims = {}
        kind = "partial" if isinstance(event, PartialImage) else "completed"
        record: dict[str, Any] = {
            "event": kind,
            "variant": event.variant,
            "file": str(path),
            "bytes": len(event.data),
            **dims,
        }
        # The JSON keeps the API's indexes (from 0); the line for people counts from 1,
        # as the editor's tiles do.
        if isinstance(event, PartialImage):
            record["partial_index"] = event.partial_index
            label = f"partial {event.partial_index + 1} of variant {event.variant + 1}"
        else:
            record["usage"] = event.usage.to_json() if event.usage else None
            label = f"variant {event.variant + 1} done"
        record["request_id"] = event.request_id
        size = f"{dims['width']}x{dims['height']}" if dims else "?"
        self._emit(record, f"{label}: {path} ({size})")

    def failure(self, error: UserError, writer: ResultWriter) -> None:
        record = {
            "event": "error",
            "kind": error.kind.value,
            "message": error.message,
            "status": error.status,
            "type": error.type,
            "code": error.code,
            "param": error.param,
            "request_id": error.request_id,
            "files": [str(p) for p in writer.written],
        }
        kept = f"; {len(writer.written)} image(s) already saved" if writer.written else ""
        self._emit(record, f"retouch: {error.message}{kept}", error=True)

    def done(self, writer: ResultWriter) -> None:
        usage = writer.usage
        record = {
            "event": "done",
            "images": writer.finals,
            "files": [str(p) for p in writer.written],
            "usage": usage.to_json(),
        }
        line = (
            f"{writer.finals} image(s) saved to {writer.folder}; tokens: "
            f"{usage.input_tokens} in, {usage.output_tokens} out"
        )
        self._emit(record, line)


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


# --- retouch serve -------------------------------------------------------------------


def _add_serve_command(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the local engine as an OpenAI-compatible server",
        description="Run the built-in local engine: POST /v1/images/edits (and "
        "/v1/image/edits) on loopback. The first line printed is the URL.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument(
        "--token",
        default=None,
        help="require 'Authorization: Bearer TOKEN' (default: $RETOUCH_ENGINE_TOKEN, if set)",
    )
    serve.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="stop when standard input closes (the editor runs the engine this way, so it "
        "never outlives the editor)",
    )
    serve.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace, schema: Schema) -> int:
    token = args.token or os.environ.get("RETOUCH_ENGINE_TOKEN") or None
    if not _is_loopback(f"http://{args.host}/"):
        print(
            f"retouch: warning: serving on {args.host}, reachable from other machines"
            + ("" if token else " and without a token (set --token)"),
            file=sys.stderr,
        )
    from app.engine.server import serve

    return serve(host=args.host, port=args.port, token=token, exit_with_stdin=args.exit_with_stdin)
