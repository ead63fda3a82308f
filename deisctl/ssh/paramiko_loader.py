"""paramiko, imported only once something is dialled, with its logging kept off stderr
unless the invocation asked for debugging (set_debug, called by the operation)."""

from __future__ import annotations

import sys
from typing import Optional, TextIO

_debug_handler = None  # the handler set_debug attached, if any


def load_paramiko():
    """paramiko, imported on first use (with its optional `invoke` hidden) and kept quiet."""
    import logging
    import warnings

    if "paramiko" not in sys.modules:
        # paramiko.config imports the optional `invoke` only for ssh_config's `Match exec`, which
        # deisctl never reads: ~90 ms of every remote command. Without it paramiko carries on as designed.
        hidden = "invoke" not in sys.modules
        if hidden:
            sys.modules["invoke"] = None  # makes `import invoke` raise ImportError
        try:
            with warnings.catch_warnings():
                # e.g. cryptography's deprecation notices: not the user's concern; stderr is for errors.
                warnings.simplefilter("ignore")
                import paramiko
        finally:
            if hidden:
                del sys.modules["invoke"]
    import paramiko

    logger = logging.getLogger("paramiko")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        # Else Python's last-resort handler prints the transport thread's tracebacks on stderr.
        logger.addHandler(logging.NullHandler())
    return paramiko


def set_debug(stream: Optional[TextIO]) -> None:
    """paramiko's debug log on stream (`--debug`), or off (None). Called by the operation with the
    invocation's own setting and stderr: never guessed from sys.argv or the environment, so that
    `deisctl dock controller grep --debug x` leaves it off. Replaces any earlier stream (several
    invocations may run in one process)."""
    import logging

    global _debug_handler
    logger = logging.getLogger("paramiko")
    if _debug_handler is not None:
        logger.removeHandler(_debug_handler)
        _debug_handler = None
        logger.setLevel(logging.NOTSET)
    if stream is not None:
        _debug_handler = logging.StreamHandler(stream)
        _debug_handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
        logger.addHandler(_debug_handler)
        logger.setLevel(logging.DEBUG)
