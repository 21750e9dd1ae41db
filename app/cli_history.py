"""``retouch history`` (list, show, rerun, delete) and the recording of ``retouch edit``'s
jobs into the history (app.services.history).

Recording never fails an edit: the images are written first, and a history that cannot be
written (a full disk, a database another program holds too long) is reported once on
standard error while the edit goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.core.events import CompletedImage, ImageEvent
from app.core.providers import is_loopback_host
from app.core.schema import Schema
from app.services.history import HistoryError, HistoryStore, JobRecord, default_path

EXIT_OK = 0
EXIT_INVALID = 2
SUBCOMMANDS = ("list", "show", "rerun", "delete")
HISTORY_OFF = "the edit goes on without being recorded in the history"


def open_history(warn: Callable[[str], None]) -> HistoryStore:
    """The history at its usual place (``default_path``), with the jobs of processes
    that died marked interrupted. A file moved aside is told through ``warn``."""
    store = HistoryStore.open(default_path())
    if store.notice:
        warn(store.notice)
    store.mark_interrupted()
    return store


def _warn(message: str) -> None:
    print(f"retouch: {message}", file=sys.stderr, flush=True)


# --- recording retouch edit ------------------------------------------------------------


class EditRecording:
    """One ``retouch edit`` run in the history: begun before anything is sent, each image
    added as the ResultWriter writes it (in the writer's worker thread), finished with the
    outcome. The first failure is reported through ``warn``; the run goes on."""

    def __init__(self, store: HistoryStore, job_id: str, warn: Callable[[str], None]) -> None:
        self.store, self.job_id = store, job_id
        self._warn = warn
        self._failed = False
        self.request_ids: list[str] = []

    @classmethod
    def start(
        cls,
        args: argparse.Namespace,
        values: Mapping[str, Any],
        warn: Callable[[str], None] = _warn,
        *,
        region: tuple[int, int, int, int] | None = None,
    ) -> EditRecording | None:
        """Record the job about to be sent (the designer's own --image and --mask files
        are stored), or None (said through ``warn``) when the history cannot be written.
        ``region``: with --crop-to-mask, the region of the first image sent (x, y, w, h);
        the crop options are recorded with it, so that a re-run crops again."""
        try:
            store = open_history(warn)
        except HistoryError as exc:
            warn(f"{exc} ({HISTORY_OFF})")
            return None
        job_id = uuid.uuid4().hex
        host = urlsplit(args.base_url).hostname or ""
        paste_back = {"feather": args.feather} if args.paste_back else None
        options = {
            "split_streams": not args.single_request,
            "force_image_array": args.force_image_array,
            **({"rerun_of": args.rerun_of} if getattr(args, "rerun_of", None) else {}),
        }
        if region is not None:
            options["crop_to_mask"] = {
                "padding": args.padding,
                "context_image": args.context_image,
                "allow_experimental_size": args.allow_experimental_size,
            }
        try:
            store.begin_job(
                job_id,
                program="cli",
                inputs=list(args.image),
                mask=args.mask,
                params=dict(values),
                provider="Local engine" if is_loopback_host(host) else host,
                base_url=args.base_url,
                api_path=args.path,
                folder=args.out,
                input_names=getattr(args, "input_names", None),
                mask_name=getattr(args, "mask_name", None),
                region=region,
                paste_back=paste_back,
                options=options,
            )
        except HistoryError as exc:
            store.close()
            warn(f"{exc} ({HISTORY_OFF})")
            return None
        return cls(store, job_id, warn)

    def saved(self, event: ImageEvent, path: Path) -> None:
        """An image is on disk (called by ResultWriter.write, in its worker thread)."""
        if event.request_id:
            self.request_ids.append(event.request_id)
        if isinstance(event, CompletedImage):
            self._add(event.variant, "final", path, None)
        else:
            self._add(event.variant, "partial", path, event.partial_index)

    def pasted(self, variant: int, path: Path) -> None:
        self._add(variant, "pasted", path, None)

    def drift(self, variant: int, share: float | None) -> None:
        """A final's drift (crop to mask: measured inside the region, outside the mask)."""
        if self._failed:
            return
        try:
            self.store.set_drift(self.job_id, variant, share)
        except HistoryError as exc:
            self._fail(exc)

    def finish(self, status: str, usage: Mapping[str, Any] | None, request_id: str | None) -> None:
        """Record the outcome (tried even after a failure: the disk may have room again),
        and close the store."""
        ids = [*self.request_ids, *([request_id] if request_id else [])]
        try:
            self.store.finish_job(self.job_id, status, usage, ids)
        except HistoryError as exc:
            self._fail(exc)
        finally:
            self.store.close()

    def _add(self, variant: int, kind: str, path: Path, index: int | None) -> None:
        if self._failed:  # stop waiting on a history that already failed this run
            return
        try:
            self.store.add_file(self.job_id, variant, kind, path, partial_index=index)
        except HistoryError as exc:
            self._fail(exc)

    def _fail(self, exc: HistoryError) -> None:
        if not self._failed:
            self._failed = True
            self._warn(f"{exc} The images are saved all the same.")


# --- retouch history --------------------------------------------------------------------


def add_history_command(
    commands: Any, add_connection: Callable[[argparse.ArgumentParser, bool], None]
) -> None:
    """``retouch history`` and its subcommands. ``add_connection(parser, for_rerun)`` adds
    the connection flags of ``retouch edit`` (with no defaults when for a rerun: the job's
    own provider is used unless a flag says otherwise)."""
    history = commands.add_parser(
        "history",
        help="list, show, re-run or delete recorded jobs",
        description="Every job of the editor and of `retouch edit` is recorded, with copies "
        f"of its inputs and mask, in {default_path()} ($RETOUCH_HOME/history.sqlite3 when "
        "set). IDs may be shortened to any unique prefix.",
    )
    sub = history.add_subparsers(
        dest="history_command", metavar="{" + ",".join(SUBCOMMANDS) + "}", required=True
    )
    listing = sub.add_parser("list", help="the newest jobs first")
    listing.add_argument("--json", action="store_true", help="one JSON array of job objects")
    listing.add_argument("--limit", type=_positive, default=20, metavar="N")
    listing.add_argument("--search", metavar="TEXT", help="jobs whose prompt contains TEXT")
    listing.set_defaults(handler=_list)
    show = sub.add_parser("show", help="one job with every parameter")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.set_defaults(handler=_show)
    rerun = sub.add_parser(
        "rerun",
        help="send a job again: the same stored inputs, mask and parameters (billed again)",
        description="Send a recorded job again with its stored inputs, mask and parameters, "
        "to the same provider unless connection flags say otherwise. A new job is recorded.",
    )
    rerun.add_argument("id", metavar="ID")
    add_connection(rerun, True)
    out = rerun.add_argument_group("output")
    out.add_argument("--out", type=Path, default=Path("."), metavar="DIR")
    out.add_argument("--json", action="store_true", help="print one JSON object per event")
    rerun.set_defaults(handler=_rerun)
    delete = sub.add_parser(
        "delete", help="forget a job and remove its images and the copies only it uses"
    )
    delete.add_argument("id", metavar="ID")
    delete.set_defaults(handler=_delete)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of 1 or more")
    return value


def _with_store(
    action: Callable[[HistoryStore, argparse.Namespace, Schema], int],
) -> Callable[[argparse.Namespace, Schema], int]:
    def run(args: argparse.Namespace, schema: Schema) -> int:
        try:
            store = open_history(_warn)
        except HistoryError as exc:
            _warn(str(exc))
            return EXIT_INVALID
        try:
            return action(store, args, schema)
        except (HistoryError, LookupError) as exc:
            _warn(str(exc.args[0]) if isinstance(exc, LookupError) else str(exc))
            return EXIT_INVALID
        finally:
            store.close()

    return run


def find_job(store: HistoryStore, prefix: str) -> JobRecord:
    """The job whose id is ``prefix`` or starts with it; LookupError saying why not."""
    ids = store.match_ids(prefix.strip().lower(), limit=5) if prefix.strip() else []
    if not ids:
        raise LookupError(f"no job {prefix!r} in the history {store.path} (retouch history list)")
    if len(ids) > 1 and prefix not in ids:
        raise LookupError(
            f"{prefix!r} matches several jobs ({', '.join(i[:12] for i in ids)}…); "
            "give more characters of the ID"
        )
    record = store.get_job(prefix if prefix in ids else ids[0])
    if record is None:  # deleted meanwhile by another process
        raise LookupError(f"no job {prefix!r} in the history {store.path}")
    return record


@_with_store
def _list(store: HistoryStore, args: argparse.Namespace, _schema: Schema) -> int:
    records = store.list_jobs(limit=args.limit, search=args.search)
    if args.json:
        print(json.dumps([r.to_json() for r in records], indent=1))
        return EXIT_OK
    if not records:
        print(
            "no jobs recorded" + (f" whose prompt contains {args.search!r}" if args.search else "")
        )
    for r in records:
        missing = "  (files missing)" if r.files_missing or r.folder_missing else ""
        prompt = r.prompt if len(r.prompt) <= 50 else r.prompt[:49] + "…"
        print(
            f"{r.id[:12]}  {r.created:%Y-%m-%d %H:%M}  {r.status:<11}  {r.model or '-':<14}"
            f"  {len(r.results)} result(s)  {prompt}{missing}"
        )
    return EXIT_OK


@_with_store
def _show(store: HistoryStore, args: argparse.Namespace, _schema: Schema) -> int:
    record = find_job(store, args.id)
    if args.json:
        print(json.dumps(record.to_json(), indent=1))
        return EXIT_OK
    data = record.to_json()
    for key in ("id", "created", "finished", "status", "program", "provider", "base_url",
                "path", "folder"):  # fmt: skip
        print(f"{key + ':':<12}{data[key] if data[key] is not None else '-'}")
    print("parameters:")
    for name, value in record.params.items():
        print(f"  {name}: {value}")
    names = [i.name for i in record.inputs]
    for label, paths in (("inputs", data["inputs"]), ("results", data["results"]),
                         ("partials", data["partials"])):  # fmt: skip
        print(f"{label}:")
        for number, path in enumerate(paths):
            missing = "  (missing)" if not Path(path).is_file() else ""
            named = f"  (was {names[number]})" if label == "inputs" else ""
            print(f"  {path}{named}{missing}")
    if record.mask:
        print(f"mask:       {record.mask.path}  (was {record.mask.name})")
    if record.usage:
        print(f"usage:      {json.dumps(dict(record.usage))}")
    if record.request_ids:
        print(f"requests:   {', '.join(record.request_ids)}")
    return EXIT_OK


@_with_store
def _delete(store: HistoryStore, args: argparse.Namespace, _schema: Schema) -> int:
    record = find_job(store, args.id)
    freed = store.delete_job(record.id)
    files = len(record.files)
    print(f"deleted job {record.id[:12]} ({files} image file(s)); freed {_size(freed)}")
    return EXIT_OK


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    for unit in ("KB", "MB", "GB"):
        count_f = count / 1024
        if count_f < 1024 or unit == "GB":
            return f"{count_f:.1f} {unit}"
        count = int(count_f)
    return f"{count} bytes"


def _rerun(args: argparse.Namespace, schema: Schema) -> int:
    """``retouch edit`` with the job's stored inputs, mask and parameters."""
    try:
        with open_history(_warn) as store:
            record = find_job(store, args.id)
    except HistoryError as exc:
        _warn(str(exc))
        return EXIT_INVALID
    except LookupError as exc:
        _warn(str(exc.args[0]))
        return EXIT_INVALID
    missing = [i for i in (*record.inputs, *([record.mask] if record.mask else [])) if i.missing]
    if missing:
        names = ", ".join(f"{i.path} (was {i.name})" for i in missing)
        _warn(f"job {record.id[:12]} cannot be sent again: its stored copies are gone: {names}")
        return EXIT_INVALID
    from app.cli import build_parser

    edit_args = build_parser(schema).parse_args(rerun_argv(record, schema, args))
    edit_args.input_names = [i.name for i in record.inputs]
    edit_args.mask_name = record.mask.name if record.mask else None
    edit_args.rerun_of = record.id
    return int(edit_args.handler(edit_args, schema))


CONNECTION = (
    "base_url", "path", "api_key_env", "connect_timeout", "read_timeout", "idle_timeout",
    "job_timeout", "max_retries",
)  # fmt: skip


def rerun_argv(record: JobRecord, schema: Schema, args: argparse.Namespace) -> list[str]:
    """The ``retouch edit`` arguments that send ``record`` again; connection flags given
    to ``rerun`` win over the job's own provider."""
    argv = ["edit"]
    for stored in record.inputs:
        argv += ["--image", str(stored.path)]
    if record.mask:
        argv += ["--mask", str(record.mask.path)]
    crop = record.options.get("crop_to_mask")
    for spec in schema.value_fields:
        value = record.params.get(spec.name)
        if value is None or (crop is not None and spec.name == "size"):
            continue  # crop to mask plans the size again (the same, for the same files)
        if spec.kind == "boolean":
            argv.append(spec.flag if value else f"--no-{spec.flag[2:]}")
        else:
            argv.append(f"{spec.flag}={spec.encode(value)}")  # '=': a prompt may start with -
    given = vars(args)
    own = {"base_url": record.base_url, "path": record.api_path}
    for name in CONNECTION:
        value = given.get(name)
        value = own.get(name) if value is None else value
        if value is not None:
            argv.append(f"--{name.replace('_', '-')}={value}")
    options = record.options
    if given.get("force_image_array") or options.get("force_image_array"):
        argv.append("--force-image-array")
    if given.get("single_request") or options.get("split_streams") is False:
        argv.append("--single-request")
    if isinstance(crop, dict):
        argv += _crop_argv(crop)
    if record.paste_back is not None:
        argv.append("--paste-back")
        feather = record.paste_back.get("feather")
        if feather is not None:
            argv.append(f"--feather={feather}")
    argv += ["--out", str(args.out)] + (["--json"] if args.json else [])
    return argv


def _crop_argv(crop: Mapping[str, Any]) -> list[str]:
    """The --crop-to-mask flags a recorded crop-to-mask run was given."""
    argv = ["--crop-to-mask"]
    if isinstance(crop.get("padding"), int):
        argv.append(f"--padding={crop['padding']}")
    if crop.get("context_image"):
        argv.append("--context-image")
    if crop.get("allow_experimental_size"):
        argv.append("--allow-experimental-size")
    return argv
