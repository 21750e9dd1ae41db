"""Where requests go: the local engine, OpenAI, or a compatible vendor. Plain data; the
API key is never part of it (keys live in the system keyring)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from app.core.schema import Schema

LOCAL_ID = "local"
# The local engine is deterministic: split n=1 streams name the variant they want.
LOCAL_VARIANT_HEADER = "X-Retouch-Variant"
OPENAI_ID = "openai"
KINDS = ("local", "openai", "custom")
OPENAI_HOST = "api.openai.com"
MODERATION_NOT_TAKEN = (
    "Not sent: OpenAI's multipart edit endpoint does not take moderation (it is "
    "documented for the JSON request only)."
)


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    kind: str
    base_url: str = ""
    path: str = "/v1/images/edits"
    force_image_array: bool = False
    models: tuple[str, ...] = field(default_factory=tuple)
    takes_moderation: bool = True
    """Whether ``moderation`` is sent when set: OpenAI's multipart edit endpoint does not
    take it (documented for the JSON request only; openai-python#2331), a vendor's may."""

    @property
    def moderation_note(self) -> str | None:
        """Why moderation is not sent to this provider, or None when it is."""
        if self.takes_moderation or self.kind == "local":
            return None
        return MODERATION_NOT_TAKEN

    @property
    def needs_key(self) -> bool:
        return self.kind != "local"

    @property
    def is_plain_http_remote(self) -> bool:
        """Plain http to a host other than this machine: the key would cross the network
        in clear text, so the user must confirm it."""
        parts = urlsplit(self.base_url)
        return parts.scheme == "http" and not is_loopback_host(parts.hostname or "")

    def problems(self) -> list[str]:
        if self.kind == "local":
            return []
        found = []
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            found.append(
                f"Base URL {self.base_url!r} is not a web address; write it like "
                "https://api.example.com"
            )
        if not self.path.startswith("/"):
            found.append(f"Endpoint path {self.path!r} must start with /, e.g. /v1/images/edits")
        if not self.name.strip():
            found.append("Give the provider a name.")
        return found

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["models"] = list(self.models)
        return data

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Provider:
        kind = raw.get("kind", "custom")
        if kind not in KINDS:
            raise ValueError(f"unknown provider kind {kind!r}")
        return cls(
            id=str(raw["id"]),
            name=str(raw.get("name", raw["id"])),
            kind=kind,
            base_url=str(raw.get("base_url", "")),
            path=str(raw.get("path", "/v1/images/edits")),
            force_image_array=bool(raw.get("force_image_array", False)),
            models=tuple(str(m) for m in raw.get("models", ())),
            takes_moderation=bool(raw.get("takes_moderation", kind != "openai")),
        )


def builtin_providers(schema: Schema) -> tuple[Provider, Provider]:
    local = Provider(
        LOCAL_ID,
        "Local engine (offline)",
        "local",
        models=schema.model_names("local"),
    )
    openai = Provider(
        OPENAI_ID,
        "OpenAI",
        "openai",
        base_url="https://api.openai.com",
        path=schema.default_path,
        models=schema.model_names(),
        takes_moderation=False,
    )
    return local, openai


def is_openai_url(url: str) -> bool:
    """A base URL of OpenAI's own API (its multipart edits take no ``moderation``)."""
    return (urlsplit(url).hostname or "").lower() == OPENAI_HOST


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
