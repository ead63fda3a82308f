"""Reading a local file the user named (a settings document, a certificate): a regular file
only, and never more than a bound, so that /dev/zero, a FIFO or a huge file cannot hang deisctl
or exhaust its memory."""

from __future__ import annotations

import os
import stat


class Unreadable(Exception):
    """Why the file cannot be read, in a few words (the caller names the file)."""


def read_bounded(path: str, limit: int) -> bytes:
    """At most limit + 1 bytes of a regular file (one byte more tells the caller it is too large)."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
        fd = os.open(os.path.expanduser(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
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
