"""The backup archive: one ZIP file (format deisctl-backup/1), written atomically, read back and
verified. Pure file work: what goes in comes from deisctl.ops.backup.

Members, each a section written as it is read (never the whole keyspace in memory):
  keys.jsonl        every key under the prefix at one revision, one JSON object a line:
                    {"k": key (text; "kb": base64 when not UTF-8), "v": base64 of the value, or "ve":
                    its encryption, "lease": it lived by a lease, "published": a heartbeat or
                    generated secret the component wrote itself, "secret": masked by deisctl}
  audit.jsonl       the audit trail's keys (records, head, policy), as the keys are
  controller.json   the controller's users, tokens and what they own, as its Django serializes
                    them (with --controller; encrypted whole with a passphrase)
  manifest.json     written last: the format, deisctl's version, the time, the cluster (id, member
                    versions), the revision, the prefix, the encryption's parameters, and per
                    section its member, count, bytes and sha256

Encryption (a passphrase given): the secret values, and the controller section whole, with
AES-256-GCM from `cryptography` (already there under paramiko; its AEAD is made for this); the key
from the passphrase with scrypt (n=2**15, r=8, p=1) and a salt of the archive's own; each value's
key name as associated data, so that a value moved to another key does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from typing import Any, Iterator, NamedTuple, Optional

from deisctl.errors import DeisctlError, UsageError

FORMAT = "deisctl-backup/1"
MANIFEST = "manifest.json"
MEMBERS = {"keys": "keys.jsonl", "audit": "audit.jsonl", "controller": "controller.json"}
SECTIONS = tuple(MEMBERS)
SCRYPT = {"n": 2 ** 15, "r": 8, "p": 1}


class BackupDamaged(DeisctlError):
    """The archive is not a deisctl backup, or one that was truncated or edited: exit 1."""


class WrongPassphrase(DeisctlError):
    """A value does not decrypt with the passphrase given."""


class Sealer:
    """AES-256-GCM with a key derived from a passphrase (scrypt): seal and open values."""

    def __init__(self, passphrase: str, salt: Optional[bytes] = None, params: Optional[dict] = None):
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        self.salt = salt if salt is not None else os.urandom(16)
        self.params = dict(params or SCRYPT)
        key = Scrypt(salt=self.salt, length=32, **self.params).derive(passphrase.encode("utf-8"))
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    @property
    def description(self) -> dict:
        return {"cipher": "AES-256-GCM", "kdf": "scrypt", "salt": base64.b64encode(self.salt).decode(), **self.params}

    @classmethod
    def of(cls, description: dict, passphrase: str) -> "Sealer":
        if description.get("cipher") != "AES-256-GCM" or description.get("kdf") != "scrypt":
            raise BackupDamaged(f"the archive is encrypted with {description.get('cipher')!r}, which this deisctl "
                                "does not know")
        params = {name: int(description[name]) for name in ("n", "r", "p")}
        return cls(passphrase, base64.b64decode(description["salt"]), params)

    def seal(self, data: bytes, aad: bytes) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, data, aad)).decode("ascii")

    def open(self, token: str, aad: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        raw = base64.b64decode(token)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], aad)
        except InvalidTag:
            raise WrongPassphrase("a value of the archive does not decrypt: the passphrase is wrong, or the "
                                  "archive was edited") from None


class _Section:
    """One member being written: lines counted and hashed as they go."""

    def __init__(self, stream):
        self.stream, self.count, self.bytes, self.hash = stream, 0, 0, hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.hash.update(data)
        self.bytes += len(data)

    def line(self, obj: Any) -> None:
        self.write(json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n")
        self.count += 1


class Writer:
    """Writes an archive into a binary file (the atomic one of localfiles.atomic_file)."""

    def __init__(self, handle):
        self.zip = zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self.sections: dict = {}

    def section(self, name: str):
        import contextlib

        @contextlib.contextmanager
        def writing():
            with self.zip.open(MEMBERS[name], "w", force_zip64=True) as stream:
                section = _Section(stream)
                yield section
            self.sections[name] = {"member": MEMBERS[name], "count": section.count, "bytes": section.bytes,
                                   "sha256": section.hash.hexdigest()}

        return writing()

    def abandon(self) -> None:
        """After a failure (a full disk): let go of the half-written archive without another write."""
        try:
            self.zip.close()
        except (OSError, ValueError):
            pass

    def finish(self, manifest: dict) -> None:
        manifest = dict(manifest, format=FORMAT, sections=self.sections)
        self.zip.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        self.zip.close()


def encode_key(key: str) -> dict:
    """A key name as the archive keeps it: text, or base64 of its bytes when they are not UTF-8."""
    try:
        key.encode("utf-8")
        return {"k": key}
    except UnicodeEncodeError:
        return {"kb": base64.b64encode(key.encode("utf-8", "surrogateescape")).decode("ascii")}


def decode_key(entry: dict) -> str:
    if "kb" in entry:
        return base64.b64decode(entry["kb"]).decode("utf-8", "surrogateescape")
    return entry["k"]


class Summary(NamedTuple):
    manifest: dict
    counts: dict  # section -> entries
    encrypted: bool


class Reader:
    """An archive opened for reading: its manifest checked; sections read line by line, each
    checked against the manifest's count and sha256 when it has been read to its end."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
            names = set(self.zip.namelist())
            if MANIFEST not in names:
                raise BackupDamaged(f"{path} is not a deisctl backup (no {MANIFEST})")
            self.manifest = json.loads(self.zip.read(MANIFEST))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise BackupDamaged(f"{path} is not a deisctl backup, or it was truncated ({exc})") from None
        except (ValueError, KeyError) as exc:
            raise BackupDamaged(f"{path}: its {MANIFEST} is damaged ({type(exc).__name__})") from None
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise BackupDamaged(f"{path} is not a deisctl backup of format {FORMAT}")
        sections = self.manifest.get("sections")
        if not isinstance(sections, dict) or not all(name in MEMBERS for name in sections):
            raise BackupDamaged(f"{path}: its {MANIFEST} lists no sections deisctl knows")
        for name, entry in sections.items():
            if not isinstance(entry, dict) or entry.get("member") != MEMBERS[name] or MEMBERS[name] not in names:
                raise BackupDamaged(f"{path}: the {name} section is missing")

    @property
    def sections(self) -> dict:
        return self.manifest["sections"]

    @property
    def encryption(self) -> Optional[dict]:
        return self.manifest.get("encryption")

    def sealer(self, passphrase: Optional[str]) -> Optional[Sealer]:
        if not self.encryption:
            return None
        if not passphrase:
            raise UsageError(f"{self.path} is encrypted: its passphrase is needed",
                             hint="give it on a terminal, with --passphrase-stdin, or in DEISCTL_BACKUP_PASSPHRASE")
        return Sealer.of(self.encryption, passphrase)

    def raw(self, name: str) -> Iterator[bytes]:
        """The section's lines as stored, checked against the manifest once read to its end."""
        entry = self.sections[name]
        digest, count, size = hashlib.sha256(), 0, 0
        try:
            with self.zip.open(entry["member"]) as stream:
                for line in stream:
                    digest.update(line)
                    size += len(line)
                    count += 1
                    yield line
        except (zipfile.BadZipFile, EOFError, OSError) as exc:  # a CRC error, a truncated member
            raise BackupDamaged(f"{self.path}: the {name} section is damaged ({exc})") from None
        if digest.hexdigest() != entry.get("sha256") or size != entry.get("bytes"):
            raise BackupDamaged(f"{self.path}: the {name} section was changed (its sha256 is not the manifest's)")
        if name != "controller" and count != entry.get("count"):
            raise BackupDamaged(f"{self.path}: the {name} section holds {count} entries, its manifest says "
                                f"{entry.get('count')}")

    def entries(self, name: str) -> Iterator[dict]:
        for number, line in enumerate(self.raw(name), 1):
            try:
                entry = json.loads(line)
            except ValueError:
                raise BackupDamaged(f"{self.path}: line {number} of the {name} section is not JSON") from None
            if not isinstance(entry, dict):
                raise BackupDamaged(f"{self.path}: line {number} of the {name} section is not an object")
            yield entry

    def value(self, entry: dict, sealer: Optional[Sealer]) -> bytes:
        """A key entry's value: decoded, or decrypted with the sealer."""
        try:
            if "ve" in entry:
                if sealer is None:
                    raise UsageError(f"{self.path} holds encrypted values: its passphrase is needed")
                return sealer.open(entry["ve"], decode_key(entry).encode("utf-8", "surrogateescape"))
            return base64.b64decode(entry["v"], validate=True)
        except (KeyError, ValueError, TypeError):
            raise BackupDamaged(f"{self.path}: an entry of the keys section is damaged") from None

    def controller(self, sealer: Optional[Sealer]) -> Any:
        """The controller section's objects (decrypted with the sealer when it is encrypted)."""
        data = b"".join(self.raw("controller"))
        try:
            outer = json.loads(data)
            if isinstance(outer, dict) and "sealed" in outer:
                if sealer is None:
                    raise UsageError(f"{self.path}: the controller section is encrypted: its passphrase is needed")
                return json.loads(sealer.open(outer["sealed"], b"controller"))
            return outer
        except ValueError:
            raise BackupDamaged(f"{self.path}: the controller section is not JSON") from None

    def close(self) -> None:
        self.zip.close()
