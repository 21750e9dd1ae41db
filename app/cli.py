"""The ``retouch`` command: the editor (no subcommand), ``edit`` and ``serve``.

``edit`` flags are generated from the field schema, so a field added to
``resources/schema/image_edits.json`` becomes a flag with no code change here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from app import __version__
from app.cli_connection import add_connection, key_env
from app.cli_history import EditRecording, add_history_command
from app.cli_report import Reporter, ResultWriter
from app.cli_send import (
    Cropped,
    add_crop_flags,
    check_crop_flags,
    crop_first,
    crop_sources,
    fit_first,
    pixels_argument,
    working_copies,
)
from app.cli_serve import add_serve_command
from app.core.errors import ErrorKind
from app.core.events import CompletedImage, ImageEvent
from app.core.limits import open_pixel_limit
from app.core.original import DEFAULT_FEATHER_PX, paste_back_file
from app.core.providers import (
    LOCAL_VARIANT_HEADER,
    MODERATION_NOT_TAKEN,
    is_loopback_host,
    is_openai_url,
)
from app.core.request import EditRequest
from app.core.schema import FieldSpec, Schema, SchemaError, load_schema
from app.core.validation import (
    NamedSource,
    Problem,
    validate_files,
    validate_values,
    value_warnings,
)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_API = 3
EXIT_NETWORK = 4
EXIT_INTERRUPTED = 130


COMMANDS = ("edit", "serve", "history")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0] not in COMMANDS and all(Path(a).is_file() for a in argv)):
        from app.gui import run  # no command, or photos to open: the editor

        return run(argv)
    if not argv[0].startswith("-") and argv[0] not in COMMANDS:
        wrong = next(a for a in argv if not Path(a).is_file())
        print(
            f"retouch: {wrong!r} is not a command, nor a photo that exists. Commands: "
            f"{', '.join(COMMANDS)} (retouch COMMAND --help); `retouch PHOTO...` opens the "
            "editor with those photos.",
            file=sys.stderr,
        )
        return EXIT_INVALID
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
    commands = parser.add_subparsers(
        dest="command", metavar="{" + ",".join(COMMANDS) + "}", parser_class=_Parser
    )
    _add_edit_command(commands, schema)
    add_serve_command(commands)
    add_history_command(commands, lambda sub, for_rerun: add_connection(sub, schema, for_rerun))
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
    add_connection(edit, schema, False)
    out = edit.add_argument_group("output")
    out.add_argument("--out", type=Path, default=Path("."), metavar="DIR")
    out.add_argument("--json", action="store_true", help="print one JSON object per line per event")
    out.add_argument(
        "--no-history",
        action="store_true",
        help="do not record this job in the history (retouch history)",
    )
    out.add_argument(
        "--paste-back",
        action="store_true",
        help="beside each final result, also write <result>-pasted.png (.tif for CMYK): the "
        "result pasted onto the first --image through the --mask, at the photo's own size, "
        "colour profile and bit depth; every pixel outside the mask stays the photo's",
    )
    out.add_argument(
        "--feather",
        type=_feather,
        default=None,
        metavar="PX",
        help="with --paste-back: how far inside the mask the blend reaches full strength "
        f"(default {DEFAULT_FEATHER_PX}, as in the editor)",
    )
    add_crop_flags(edit)
    edit.set_defaults(handler=_run_edit, edit_parser=edit)


def _feather(text: str) -> float:
    return pixels_argument(text, example=DEFAULT_FEATHER_PX)


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
    if args.feather is not None and not args.paste_back:
        args.edit_parser.error("argument --feather: only with --paste-back (it feathers the paste)")
    check_crop_flags(args, args.edit_parser)
    # Photos are sent as their upright 8-bit sRGB working copies (app.core.photo), kept in
    # a temporary folder until the run ends; messages name the designer's files.
    with tempfile.TemporaryDirectory(prefix="retouch-working-", ignore_cleanup_errors=True) as tmp:
        return _edit(args, schema, Path(tmp))


def _edit(args: argparse.Namespace, schema: Schema, work_dir: Path) -> int:
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
    mask, cropped, unchecked = args.mask, None, set[str]()
    if args.crop_to_mask:  # the first image is cut out here; the others as ever
        sources, copy_problems = working_copies(args.image[1:], work_dir, open_pixel_limit())
        cropped, crop_problems = crop_first(args, values, schema, work_dir, report)
        if cropped is not None:
            sources, mask = crop_sources(cropped, sources)
        else:  # nothing is sent: the problems say why, the photo as it is is not checked
            first = NamedSource(args.image[0], str(args.image[0]))
            sources, mask, unchecked = [first, *sources], None, {first.name}
            copy_problems = crop_problems + copy_problems
    else:
        sources, copy_problems = working_copies(args.image, work_dir, open_pixel_limit())
        if not copy_problems:
            sources, mask, fit_problems = fit_first(sources, mask, schema, work_dir, report)
            copy_problems += fit_problems
    problems = validate_values(values, schema)  # with the size crop to mask asks for
    file_problems, _ = validate_files(sources, mask, schema)
    unopened = {problem.file for problem in copy_problems} | unchecked
    problems += copy_problems + [
        p for p in file_problems if not (p.field == "image" and p.file in unopened)
    ]
    args.api_key_env = key_env(args.api_key_env, loopback)
    api_key = os.environ.get(args.api_key_env) or None
    if api_key is None and not loopback:
        problems.append(
            Problem(
                "api_key",
                f"no API key: set the environment variable {args.api_key_env} "
                "(or name another one with --api-key-env).",
            )
        )
    problems += _check_out(args.out)
    if problems:
        report.invalid(problems)
        return EXIT_INVALID
    for warning in value_warnings(values, schema):
        report.warning(f"{warning.field}: {warning.message}")
    send_moderation = args.send_moderation
    if send_moderation is None:
        send_moderation = not is_openai_url(args.base_url)
    if "moderation" in values and not send_moderation:
        del values["moderation"]
        why = (
            MODERATION_NOT_TAKEN
            if args.send_moderation is None
            else "Not sent (--no-send-moderation)."
        )
        report.warning(f"moderation: {why}")

    from app.client import ClientConfig

    config = ClientConfig(
        base_url=args.base_url,
        path=args.path,
        api_key=api_key,
        force_image_array=args.force_image_array,
        connect_timeout=args.connect_timeout,
        read_timeout=args.read_timeout,
        max_retries=args.max_retries,
        idle_timeout=args.idle_timeout,
        job_timeout=args.job_timeout,
        variant_header=LOCAL_VARIANT_HEADER if loopback else None,
    )
    images = tuple(Path(source.source) for source in sources)
    request = EditRequest(images=images, values=values, mask=mask)
    recording = None
    if not args.no_history:
        region = tuple(cropped.plan.region) if cropped is not None else None
        recording = EditRecording.start(args, values, region=region)
    writer = ResultWriter(args.out, on_saved=recording.saved if recording else None)
    if recording is not None:  # the names carry the job's id, as the history shows it
        writer.run = recording.job_id[:8]
    return asyncio.run(
        _stream_to_disk(config, schema, request, writer, report, args, recording, cropped)
    )


async def _stream_to_disk(
    config: Any,
    schema: Schema,
    request: EditRequest,
    writer: ResultWriter,
    report: Reporter,
    args: argparse.Namespace,
    recording: EditRecording | None = None,
    cropped: Cropped | None = None,
) -> int:
    from app.client import ImageEditClient
    from app.client.errors import user_error

    status, request_id = "cancelled", None  # unless it ends otherwise (Ctrl+C: cancelled)
    try:
        client = ImageEditClient(
            config, schema, on_retry=report.retry, on_warning=report.job_warning
        )
        async with client:
            try:
                split = not args.single_request
                events = client.variants(request, split_streams=split)
                async with contextlib.aclosing(events):  # closed here, even on a failure
                    async for event in events:
                        await _save(event, writer, report, args, recording, cropped)
            except Exception as exc:  # every failure is reported, with what arrived before it
                error = user_error(
                    exc,
                    save_hint=SAVE_HINT,
                    key_hint=f"check the API key in the environment variable {args.api_key_env} "
                    "(or name another one with --api-key-env)",
                )
                status, request_id = "failed", error.request_id
                report.failure(error, writer)
                return EXIT_CODES[error.kind]
        status = "done"
        report.done(writer)
        return EXIT_OK
    finally:
        if recording is not None:
            recording.finish(status, writer.usage.to_json(), request_id)


async def _save(
    event: ImageEvent,
    writer: ResultWriter,
    report: Reporter,
    args: argparse.Namespace,
    recording: EditRecording | None,
    cropped: Cropped | None,
) -> None:
    """One image that arrived: on disk (its folder made again if it was removed), its
    drift in the region, its paste-back, in the history, and reported."""
    had_folder = writer.recreated
    path = await asyncio.to_thread(writer.write, event)
    if writer.recreated and not had_folder:
        report.warning(
            f"{writer.folder} was removed during the run; it was made again for the "
            "images still to come (the ones written before are gone)"
        )
    pasted = drift = None
    final = isinstance(event, CompletedImage)
    if cropped is not None and final:  # inside the region, outside the mask
        drift = await asyncio.to_thread(cropped.drift, path)
        if recording is not None:
            await asyncio.to_thread(recording.drift, event.variant, drift)
    if args.paste_back and final:
        pasted = await asyncio.to_thread(_paste_back, args, path, cropped)
        writer.pasted.append(pasted)
        if recording is not None:
            await asyncio.to_thread(recording.pasted, event.variant, pasted)
    report.image(event, path, pasted, drift=drift)


def _check_out(folder: Path) -> list[Problem]:
    """--out made if needed and written to once (a probe file, removed), so that a folder
    that cannot take the results is named before a paid request goes out."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".retouch-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return [
            Problem(
                "out",
                f"{folder}: cannot write the results there ({reason}); choose a folder you "
                "can write to with --out.",
                file=str(folder),
            )
        ]
    return []


def _paste_back(args: argparse.Namespace, result: Path, cropped: Cropped | None) -> Path:
    """``<result>-pasted.png`` (or .tif) beside the result: the result on the designer's
    first image through the mask (in its region, with crop to mask), in the photo's own
    size, profile and depth."""
    feather = DEFAULT_FEATHER_PX if args.feather is None else args.feather
    if cropped is not None:
        return cropped.paste(result, feather)
    return paste_back_file(
        args.image[0], result, args.mask, feather, result.parent,
        max_pixels=open_pixel_limit(),
    )  # fmt: skip


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


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")
