"""``retouch serve``: run the built-in local engine as an OpenAI-compatible server.

The engine always has a token unless ``--no-token`` says otherwise: the one given (from
``RETOUCH_ENGINE_TOKEN``, ``--token-file`` or ``--token``), else a random one printed on the
line after the URL, as Jupyter does.
"""

from __future__ import annotations

import argparse
import os
import secrets
import stat
import sys
from pathlib import Path
from typing import Any

from app.core.providers import is_loopback_host
from app.core.schema import Schema

TOKEN_ENV = "RETOUCH_ENGINE_TOKEN"


class TokenError(Exception):
    """A token file that cannot be used; the message names it and says what to do."""


def add_serve_command(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the local engine as an OpenAI-compatible server",
        description="Run the built-in local engine: POST /v1/images/edits (and "
        "/v1/image/edits) on loopback. The first line printed is the URL; when no token is "
        "given, the next line is the random token clients must send.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    tokens = serve.add_mutually_exclusive_group()
    tokens.add_argument(
        "--token",
        default=None,
        help=f"require 'Authorization: Bearer TOKEN' (visible to other users in the process "
        f"list: prefer ${TOKEN_ENV} or --token-file; default: ${TOKEN_ENV}, else a random "
        "token, printed)",
    )
    tokens.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="read the token from the first line of FILE",
    )
    tokens.add_argument(
        "--no-token",
        action="store_true",
        help="answer requests without a token: any program on this machine can use the "
        "engine (web pages are still refused)",
    )
    serve.add_argument(
        "--max-connections",
        type=_positive,
        metavar="N",
        help="connections held at once (default: 1000, or fewer under the open-file limit)",
    )
    serve.add_argument(
        "--max-work",
        type=_positive,
        metavar="N",
        help="edits worked on at once (default: one per core); others wait their turn",
    )
    serve.add_argument(
        "--max-queue",
        type=_positive,
        metavar="N",
        help="edits waiting for a turn before the engine answers 429 (default: 32)",
    )
    serve.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="stop when standard input closes (the editor runs the engine this way, so it "
        "never outlives the editor)",
    )
    serve.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace, schema: Schema) -> int:
    try:
        token, made = choose_token(args)
    except TokenError as exc:
        print(f"retouch serve: {exc}", file=sys.stderr)
        return 2
    for warning in serve_warnings(args, token):
        print(f"retouch: warning: {warning}", file=sys.stderr)
    from app.engine.guards import Guards
    from app.engine.server import serve

    chosen = {"max_connections": args.max_connections, "max_work": args.max_work,
              "max_queue": args.max_queue}  # fmt: skip
    guards = Guards(**{name: value for name, value in chosen.items() if value is not None})
    notes = (token_note(token),) if made and token else ()
    return serve(
        host=args.host,
        port=args.port,
        token=token,
        exit_with_stdin=args.exit_with_stdin,
        guards=guards,
        notes=notes,
    )


def choose_token(args: argparse.Namespace) -> tuple[str | None, bool]:
    """The engine's token and whether it was made here (then it is printed). Raises
    TokenError for a token file that cannot be used."""
    if args.no_token:
        return None, False
    if args.token:
        return args.token, False
    if args.token_file is not None:
        return read_token_file(args.token_file), False
    given = os.environ.get(TOKEN_ENV, "").strip()
    if given:
        return given, False
    return secrets.token_urlsafe(32), True


def read_token_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise TokenError(
            f"--token-file {path}: cannot read it ({reason}); give a readable file whose "
            "first line is the token."
        ) from None
    token = (text.splitlines() or [""])[0].strip()
    if not token:
        raise TokenError(f"--token-file {path}: its first line is empty; write the token on it.")
    return token


def token_note(token: str) -> str:
    return (
        f"Token: {token}  (clients send 'Authorization: Bearer <token>'; a new one is made "
        f"at each start unless ${TOKEN_ENV} or --token-file gives one)"
    )


def serve_warnings(args: argparse.Namespace, token: str | None) -> list[str]:
    warnings = []
    if args.token:
        warnings.append(
            "--token is visible to other users of this machine in the process list (ps); "
            f"pass it in ${TOKEN_ENV} or --token-file instead."
        )
    if args.token_file is not None and _readable_by_others(args.token_file):
        warnings.append(
            f"--token-file {args.token_file} can be read by other users; "
            f"chmod 600 {args.token_file}."
        )
    if args.no_token:
        warnings.append(
            "--no-token: every program on this machine can use the engine without a token "
            "(web pages are still refused)."
        )
    if not is_loopback_host(args.host):
        warnings.append(
            f"serving on {args.host}, reachable from other machines"
            + ("" if token else " and without a token (leave out --no-token)")
        )
    return warnings


def _positive(text: str) -> int:
    value = int(text) if text.isascii() and text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False
