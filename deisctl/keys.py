"""Syntax of component names, keys and KEY=VALUE arguments, and secret masking.

Pure functions: no etcd, no I/O. Everything here runs before anything is sent.
"""

from __future__ import annotations

import re

from deisctl.errors import UsageError

COMPONENT_RE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
SEGMENT_RE = re.compile(r"[A-Za-z0-9_.-]+\Z")
MASK = "********"
_SECRET_WORDS = ("password", "secret", "token")


def validate_component(component: str) -> str:
    if not COMPONENT_RE.match(component):
        raise UsageError(
            f"invalid component name {component!r}",
            hint="lowercase letters, digits and '-', starting with a letter or digit",
        )
    return component


def validate_key(key: str) -> str:
    """A key relative to its component: segments of [A-Za-z0-9_.-] joined by '/'."""
    if not key:
        raise UsageError("empty key")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise UsageError(
                f"invalid key {key!r}: empty, '.' or '..' path segment",
                hint="write keys like auth/ldap/bind/dn",
            )
        if not SEGMENT_RE.match(segment):
            raise UsageError(
                f"invalid key {key!r}: segment {segment!r} may only hold letters, "
                "digits, '_', '.' and '-'"
            )
    return key


def parse_assignment(arg: str) -> tuple[str, str]:
    """Split KEY=VALUE on the FIRST '=' so that values may contain '='."""
    key, sep, value = arg.partition("=")
    if not sep:
        raise UsageError(f"expected KEY=VALUE, got {arg!r}")
    validate_key(key)
    if value == "":
        raise UsageError(f"empty value for {key!r}", hint="use 'rm' to delete a key")
    return key, value


def is_secret(key: str) -> bool:
    """Keys whose values are masked unless --show-secrets: *Key/*key, password, secret, token."""
    last = key.rsplit("/", 1)[-1]
    lowered = last.lower()
    return last.endswith(("Key", "key")) or any(word in lowered for word in _SECRET_WORDS)


def shown(key: str, value: str | None, show_secrets: bool) -> str | None:
    if value is None or show_secrets or not is_secret(key):
        return value
    return MASK


class Layout:
    """Where the Deis keys live in etcd: <prefix>/<component>/<key> (the one place that says so)."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str):
        self.prefix = prefix  # normalized: absolute, no trailing '/'

    @property
    def root(self) -> str:
        return self.prefix + "/"

    def component(self, component: str) -> str:
        return f"{self.prefix}/{component}/"

    def key(self, component: str, key: str) -> str:
        return f"{self.prefix}/{component}/{key}"

    def split(self, full_key: str) -> tuple[str, str]:
        """(component, key) of a full key under the prefix; ('', rest) when it has no component part."""
        rest = full_key[len(self.root):] if full_key.startswith(self.root) else full_key
        component, sep, key = rest.partition("/")
        return (component, key) if sep else ("", rest)
