"""Syntax of component names, keys and KEY=VALUE arguments, and secret masking.

Pure functions: no etcd, no I/O. Everything here runs before anything is sent.
"""

from __future__ import annotations

import re

from deisctl.commands import CONFIG as CONFIG_COMMANDS
from deisctl.errors import UsageError

COMPONENT_RE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
SEGMENT_RE = re.compile(r"[A-Za-z0-9_.-]+\Z")
MASK = "********"
# `deisctl config NAME` means the command NAME for these, so no component may be named so.
RESERVED_COMPONENTS = tuple(CONFIG_COMMANDS)
# A key is secret when any segment of its path contains one of these words (any case), or ends
# in "key"/"keys" (secretKey, builderKey, sessionkeys, myKEY).
SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "credential", "private", "apikey")
_SECRET_RE = re.compile("|".join(SECRET_WORDS) + r"|keys?\Z")
_PRIVATE_KEY_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def validate_component(component: str) -> str:
    if not COMPONENT_RE.match(component):
        raise UsageError(
            f"invalid component name {component[:60]!r}",
            hint="lowercase letters, digits and '-', starting with a letter or digit",
        )
    if component in RESERVED_COMPONENTS:
        raise UsageError(f"{component!r} cannot be a component name: 'deisctl config {component}' is a command")
    return component


def require_utf8(text: str, what: str) -> str:
    """Text that came from argv, the environment or a parser may hold bytes that are not UTF-8
    (surrogate escapes) or lone surrogates: etcd stores UTF-8, so refuse them before anything is sent."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} is not UTF-8 text") from None
    return text


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
        raise UsageError(f"expected KEY=VALUE, got {arg[:60]!r}")
    require_utf8(key, "a key")
    validate_key(key)
    require_utf8(value, f"the value of {key!r}")
    if value == "":
        raise UsageError(f"empty value for {key!r}", hint="use 'rm' to delete a key")
    return key, value


def is_secret(key: str) -> bool:
    """Keys whose values are masked unless --show-secrets (see SECRET_WORDS)."""
    return any(_SECRET_RE.search(segment.lower()) for segment in key.split("/"))


def holds_private_key(value: str) -> bool:
    """A PEM private-key block anywhere in the value (a key pasted into any setting)."""
    return "PRIVATE KEY-----" in value and _PRIVATE_KEY_PEM.search(value) is not None


def shown(key: str, value: str | None, show_secrets: bool) -> str | None:
    """The value as printed: masked when the key is secret or the value holds a private key."""
    if value is None or show_secrets or not (is_secret(key) or holds_private_key(value)):
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
