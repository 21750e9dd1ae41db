"""The connection flags of ``retouch edit`` and ``retouch history rerun``: where the
request goes, with which key, and how long to wait for what."""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

from app.core.schema import Schema

DEFAULT_BASE_URL = "https://api.openai.com"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
ENGINE_TOKEN_ENV = "RETOUCH_ENGINE_TOKEN"  # what retouch serve and the editor's engine read


def key_env(given: str | None, loopback: bool) -> str:
    """The environment variable the API key is read from: the one given with --api-key-env;
    else, for the local engine (a loopback base URL), its token's when that is set; else
    OPENAI_API_KEY. An OpenAI key is never sent to a local engine that has its own token."""
    if given:
        return given
    if loopback and os.environ.get(ENGINE_TOKEN_ENV):
        return ENGINE_TOKEN_ENV
    return DEFAULT_KEY_ENV


def add_connection(parser: argparse.ArgumentParser, schema: Schema, for_rerun: bool) -> None:
    """The connection flags. For ``history rerun`` they have no defaults: what is not
    given is the recorded job's (its base URL and path) or edit's own default."""

    def default(value: Any) -> Any:
        return None if for_rerun else value

    conn = parser.add_argument_group("connection")
    conn.add_argument(
        "--base-url",
        default=default(os.environ.get("RETOUCH_BASE_URL", DEFAULT_BASE_URL)),
        help="the provider's base URL (default: $RETOUCH_BASE_URL or %(default)s)",
    )
    conn.add_argument(
        "--path",
        default=default(schema.default_path),
        help="endpoint path (default %(default)s; some vendors use /v1/image/edits)",
    )
    conn.add_argument(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help=f"environment variable holding the API key (default {DEFAULT_KEY_ENV}; for a "
        f"loopback base URL, {ENGINE_TOKEN_ENV} when it is set: the local engine's token)",
    )
    conn.add_argument(
        "--force-image-array",
        action="store_true",
        help="send image[] even for a single image (some gateways need it)",
    )
    conn.add_argument(
        "--send-moderation",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether --moderation is sent (default: yes, except to OpenAI's API, whose "
        "multipart edit endpoint does not take it)",
    )
    conn.add_argument(
        "--single-request",
        action="store_true",
        help="with --stream and --n > 1, send one request instead of one per variant "
        "(cheaper: input tokens are billed once; partials cannot be told apart)",
    )
    conn.add_argument("--connect-timeout", type=float, default=default(5.0), metavar="S")
    conn.add_argument("--read-timeout", type=float, default=default(600.0), metavar="S")
    conn.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=default(600.0),
        metavar="S",
        help="give up when no image arrives for this long once the answer has begun "
        "(keep-alives do not count; default %(default)s)",
    )
    conn.add_argument(
        "--job-timeout",
        type=_seconds,
        default=default(1800.0),
        metavar="S",
        help="give up when the whole edit, retries included, takes longer (default %(default)s)",
    )
    conn.add_argument("--max-retries", type=int, default=default(2), metavar="N")
    if for_rerun:  # what a flag not given means is the recorded job's own
        conn.description = "default: the recorded job's base URL and path; edit's for the rest"
        for action in conn._group_actions:
            action.help = (action.help or "").split(" (default")[0] or None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} seconds: give a time above 0")
    return value
