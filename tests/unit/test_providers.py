from __future__ import annotations

import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from app.core.providers import Provider, builtin_providers, is_loopback_host
from app.services.keys import KeyStore


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class LockedKeyring(MemoryKeyring):
    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked("locked")


class NoKeyring(MemoryKeyring):
    priority = 0


def test_builtin_providers(schema) -> None:
    local, openai = builtin_providers(schema)
    assert local.models == ("local-inpaint",) and not local.needs_key
    assert "gpt-image-2" in openai.models and openai.needs_key
    assert openai.base_url == "https://api.openai.com"


@pytest.mark.parametrize(
    ("url", "plain_remote"),
    [
        ("http://127.0.0.1:8000", False),
        ("http://localhost", False),
        ("http://[::1]:9000", False),
        ("https://vendor.example", False),
        ("http://vendor.example", True),
        ("http://192.168.1.20:8080", True),
    ],
)
def test_plain_http_to_another_host_is_flagged(url: str, plain_remote: bool) -> None:
    assert Provider("c", "Custom", "custom", base_url=url).is_plain_http_remote is plain_remote


def test_provider_problems_name_the_setting() -> None:
    bad = Provider("c", " ", "custom", base_url="vendor.example", path="v1/image/edits")
    problems = " ".join(bad.problems())
    assert "Base URL" in problems and "must start with /" in problems and "name" in problems
    assert Provider("c", "V", "custom", base_url="https://v.example").problems() == []


def test_provider_json_round_trip_has_no_key() -> None:
    custom = Provider(
        "c1", "Vendor", "custom", "https://v.example", "/v1/image/edits", True, ("m",)
    )
    data = custom.to_json()
    assert Provider.from_json(data) == custom
    assert not any("key" in name for name in data)
    with pytest.raises(ValueError, match="unknown provider kind"):
        Provider.from_json({"id": "x", "kind": "ftp"})


def test_is_loopback_host() -> None:
    assert is_loopback_host("127.0.0.5") and is_loopback_host("LOCALHOST")
    assert not is_loopback_host("example.com") and not is_loopback_host("10.0.0.1")


def test_keyring_is_read_once() -> None:
    backend = MemoryKeyring()
    backend.store[("Retouch Studio", "openai")] = "sk-stored"
    reads = []
    original = backend.get_password
    backend.get_password = lambda s, u: reads.append(u) or original(s, u)
    keys = KeyStore(backend)
    assert [keys.get("openai") for _ in range(5)] == ["sk-stored"] * 5
    assert reads == ["openai"]
    assert "sk-stored" not in repr(keys)


def test_keys_go_to_the_keyring() -> None:
    backend = MemoryKeyring()
    keys = KeyStore(backend)
    assert keys.persistent and keys.set("openai", " sk-secret ")
    assert backend.store == {("Retouch Studio", "openai"): "sk-secret"}
    assert KeyStore(backend).get("openai") == "sk-secret"
    keys.delete("openai")
    assert keys.get("openai") is None
    keys.delete("openai")  # deleting twice is fine


def test_without_a_keyring_keys_live_for_the_session_only() -> None:
    backend = NoKeyring()
    keys = KeyStore(backend)
    assert not keys.persistent and "session only" in keys.where
    assert keys.set("openai", "sk-secret") is False
    assert keys.get("openai") == "sk-secret" and backend.store == {}
    assert KeyStore(backend).get("openai") is None
    assert "sk-secret" not in repr(keys)


def test_a_locked_keyring_falls_back_to_the_session() -> None:
    keys = KeyStore(LockedKeyring())
    assert keys.set("openai", "sk-secret") is False
    assert keys.get("openai") == "sk-secret"
