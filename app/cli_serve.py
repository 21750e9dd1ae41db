"""``retouch serve``: run the built-in local engine as an OpenAI-compatible server."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from app.core.providers import is_loopback_host
from app.core.schema import Schema


def add_serve_command(commands: Any) -> None:
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
    if not is_loopback_host(args.host):
        print(
            f"retouch: warning: serving on {args.host}, reachable from other machines"
            + ("" if token else " and without a token (set --token)"),
            file=sys.stderr,
        )
    from app.engine.server import serve

    return serve(host=args.host, port=args.port, token=token, exit_with_stdin=args.exit_with_stdin)
