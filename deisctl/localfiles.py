"""Local files the user named: `~` expanded from the invocation's environment (the one place that
does), bounded reads of regular files only, and the one atomic writer.

Reading: a regular file only, never more than a bound, so that /dev/zero, a FIFO or a huge file
cannot hang deisctl or exhaust its memory. Writing: through a temp file only we can have made,
renamed over the target, so that a reader never sees half a file and a planted symlink is never
followed; a target that is not a regular file is never replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
from typing import Mapping


class Unreadable(Exception):
    """Why the file cannot be read, in a few words (the caller names the file)."""


class Unwritable(Exception):
    """Why the file cannot be written, in a few words (the caller names the file)."""


def expand_user(path: str, env: Mapping[str, str]) -> str:
    """`~` and `~/...` from env's HOME (else the account's home directory, as a shell does);
    `~NAME/...` from the system's account database. Other paths are returned as they are."""
    if not path.startswith("~"):
        return path
    name, sep, rest = path[1:].partition("/")
    if name or not env.get("HOME"):
        # ~NAME, or no HOME in this environment: the account database, never the process's HOME.
        import pwd

        try:
            home = pwd.getpwnam(name).pw_dir if name else pwd.getpwuid(os.getuid()).pw_dir
        except KeyError:
            return path
    else:
        home = env["HOME"]
    return home.rstrip("/") + ("/" + rest if sep else "") if home != "/" else "/" + rest


def read_bounded(path: str, limit: int) -> bytes:
    """At most limit + 1 bytes of a regular file (one byte more tells the caller it is too large).
    `path` is already expanded (expand_user)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Unreadable("not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            return handle.read(limit + 1)
        except OSError as exc:
            raise Unreadable(exc.strerror or str(exc)) from None


def write_atomic(path: str, text: str, *, private: bool, keep_mode: bool = False) -> str:
    """Write text to path (already expanded) atomically; returns the file written (atomic_file)."""
    with atomic_file(path, private=private, keep_mode=keep_mode) as handle:
        handle.write(text.encode("utf-8"))
    return os.path.realpath(path)


@contextlib.contextmanager
def atomic_file(path: str, *, private: bool, keep_mode: bool = False):
    """A binary file to write path (already expanded) through, atomically: what the block wrote
    replaces path when it ends, and nothing of it does when it fails (the temp file is removed).

    A symlink is followed to its target (a config file kept in a dotfiles repository stays a
    link); a target that exists and is not a regular file (a device, a FIFO, a directory) is
    refused, never replaced. The temp file is made with mkstemp in the target's folder (O_EXCL,
    mode 0600 before any byte is written), fsynced, then renamed over the target. Its mode:
    0600 when private, else 0644, or the target's own with keep_mode. An OSError (a full disk)
    is an Unwritable."""
    import tempfile

    target = os.path.realpath(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise Unwritable(exc.strerror or str(exc)) from None
    if mode is not None and not stat.S_ISREG(mode):
        raise Unwritable("it exists and is not a regular file; deisctl replaces only regular files")
    folder = os.path.dirname(target)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            if keep_mode and mode is not None:
                os.fchmod(handle.fileno(), stat.S_IMODE(mode))
            elif not private:
                os.fchmod(handle.fileno(), 0o644)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise Unwritable(exc.strerror or str(exc)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
