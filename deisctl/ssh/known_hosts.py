"""OpenSSH known_hosts files and the host-key policy of deisctl's SSH connections:
a known key is accepted, an unknown one refused (or recorded with accept-new), a
changed or @revoked one always refused. Plain, hashed (|1|) and wildcard names.

Nothing here dials: the connect module hands in the key the server presented.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from typing import Callable

from deisctl.errors import AuthError, UsageError
from deisctl.ssh.options import DEFAULT_SSH_PORT, FLAGS, Naming
from deisctl.ssh.paramiko_loader import load_paramiko  # paramiko itself only once something is dialled


def fingerprint(key) -> str:
    """OpenSSH's SHA256 fingerprint of a paramiko key."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def known_hosts_name(host: str, port: int) -> str:
    """The name OpenSSH writes to and looks up in known_hosts."""
    return host if port == DEFAULT_SSH_PORT else f"[{host}]:{port}"


@dataclass
class HostEntry:
    path: str
    lineno: int
    key: object
    revoked: bool


class KnownHosts:
    """OpenSSH known_hosts files: plain, hashed (|1|) and wildcard names, @revoked markers."""

    def __init__(self, user_file: str, extra_files: tuple[str, ...] = ()):
        self.user_file = user_file
        self.files = (user_file, *extra_files)

    def entries_for(self, name: str) -> list[HostEntry]:
        paramiko = load_paramiko()
        found = []
        for path in self.files:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    lines = handle.read().splitlines()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise UsageError(f"cannot read known_hosts file {path!r}: {exc.strerror or exc}") from None
            for lineno, line in enumerate(lines, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                revoked = False
                if line.startswith("@"):
                    marker, _, line = line.partition(" ")
                    if marker != "@revoked":
                        continue  # @cert-authority: certificates are not supported
                    revoked = True
                try:
                    entry = paramiko.hostkeys.HostKeyEntry.from_line(line, lineno)
                except Exception:  # a key type paramiko does not know, or a broken line
                    continue
                if entry is not None and entry.key is not None and self._matches(name, entry.hostnames):
                    found.append(HostEntry(path, lineno, entry.key, revoked))
        return found

    @staticmethod
    def _matches(name: str, patterns: list[str]) -> bool:
        paramiko = load_paramiko()
        matched = False
        for pattern in patterns:
            negated = pattern.startswith("!")
            pattern = pattern[1:] if negated else pattern
            if pattern.startswith("|1|"):
                hit = paramiko.HostKeys.hash_host(name, pattern) == pattern
            else:
                hit = _glob(pattern).match(name.lower()) is not None
            if hit and negated:
                return False
            matched = matched or hit
        return matched

    def append(self, name: str, key) -> None:
        path = self.user_file
        try:
            directory = os.path.dirname(path)
            if directory and not os.path.isdir(directory):
                os.makedirs(directory, mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+b") as handle:
                size = handle.seek(0, os.SEEK_END)
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    handle.write(b"\n")
                handle.write(f"{name} {key.get_name()} {key.get_base64()}\n".encode())
        except OSError as exc:
            raise UsageError(f"cannot record the host key in {path}: {exc.strerror or exc}") from None


def _glob(pattern: str):
    """OpenSSH host patterns: only * and ? are special ('[' is literal, as in [host]:port)."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower())
    return re.compile("".join(parts) + r"\Z")


def preferred_key_types(known: list[HostEntry], offered: tuple[str, ...]) -> list[str]:
    """Ask the server for a key type we already know, as OpenSSH does (else a new type looks 'changed')."""
    wanted = []
    for entry in known:
        name = entry.key.get_name()
        for algo in (("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa") if name == "ssh-rsa" else (name,)):
            if algo in offered and algo not in wanted:
                wanted.append(algo)
    return wanted + [algo for algo in offered if algo not in wanted]


def verify_host_key(known_hosts: KnownHosts, host: str, port: int, key, policy: str, note: Callable[[str], None],
                    naming: Naming = FLAGS):
    """Accept a known key; refuse an unknown one (or add it with accept-new); always refuse a changed one.
    naming: how the refusal's hint names accept-new in the command at hand."""
    name = known_hosts_name(host, port)
    entries = known_hosts.entries_for(name)
    blob, kind, fp = key.asbytes(), key.get_name(), fingerprint(key)
    if any(e.revoked and e.key.asbytes() == blob for e in entries):
        raise AuthError(f"host key of {name} ({kind} {fp}) is marked @revoked in known_hosts")
    valid = [e for e in entries if not e.revoked]
    if any(e.key.asbytes() == blob for e in valid):
        return
    if valid:
        # A different key than the one on record: possibly a man in the middle. Never accepted.
        old = valid[0]
        raise AuthError(
            f"HOST KEY OF {name} HAS CHANGED: it now presents {kind} {fp}, but {old.path}:{old.lineno} "
            f"records {old.key.get_name()} {fingerprint(old.key)}; possible man-in-the-middle attack, "
            "not connecting",
            hint=f"if the change is expected, remove the old entry with: ssh-keygen -R '{name}' -f {old.path}",
        )
    if policy == "accept-new":
        known_hosts.append(name, key)
        note(f"warning: permanently added {name} ({kind} {fp}) to {known_hosts.user_file}")
        return
    raise AuthError(
        f"host key of {name} is not known: {kind} {fp} (not in {', '.join(known_hosts.files)})",
        hint=f"verify that fingerprint, then rerun with {naming.setting('strict_host_key_checking', 'accept-new')} "
             "to record it",
    )


