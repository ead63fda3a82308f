"""The work done inside the controller: the remote command that runs the fixed Django script
(script.py, sent as text on stdin), the request it carries and the parsing of its one result line.

The script never changes with the input.  The request (action, usernames, flags)
travels inside it only as base64 of JSON, a literal that no input can break out
of, and usernames are checked against Django's own rule before anything leaves
this machine.  One SSH connection and one Django process per command; every
change happens inside one transaction, after every named user was found (and,
for demote, after checking that an active administrator remains, unless forced).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from typing import Optional

from deisctl.errors import DeisctlError, NotFoundError, UsageError, first_few

# Django's UnicodeUsernameValidator and User.username's max_length.
USERNAME_RE = re.compile(r"^[\w.@+-]+\Z")
USERNAME_MAX = 150
CONTAINER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")  # docker/podman container names
RUNTIMES = ("docker", "podman", "none")
DEFAULT_CONTAINER = "deis-controller"
DEFAULT_APP_DIR = "/app"  # where the Deis controller image keeps manage.py
DEFAULT_PYTHON = "python"
DEFAULT_REMOTE_TIMEOUT = 120.0  # seconds for the Django process of `users`; dock has none
MARKER = "deisctl-result:"  # starts the script's result line (spelt out in script.py too)
INTERACTIVE_EXIT = 97  # the script's exit status when Django's shell went interactive
LAST_ADMIN = "last-admin"  # the script's refusal: a demote that would leave no active administrator
_B64_RE = re.compile(r"[A-Za-z0-9+/=]*\Z")


def validate_usernames(names: list[str]) -> list[str]:
    """Django's default rule, checked here so that nothing odd is ever sent; duplicates dropped."""
    for name in names:
        if len(name) > USERNAME_MAX or not USERNAME_RE.match(name):
            shown = name if len(name) <= 40 else name[:40] + "..."
            raise UsageError(
                f"invalid username {shown!r}",
                hint=f"letters, digits and @ . + - _ only, at most {USERNAME_MAX} characters; nothing was sent",
            )
    return list(dict.fromkeys(names))


def validate_container(name: str) -> str:
    if not CONTAINER_RE.match(name):
        raise UsageError(f"invalid --container {name!r}")
    return name


@functools.lru_cache(maxsize=None)
def script_source() -> bytes:
    """The text of script.py as installed next to this module; read, never imported, to be sent."""
    from importlib import resources

    return resources.files(__name__).joinpath("script.py").read_bytes()


def program(request: dict) -> bytes:
    """The fixed script plus one call carrying the request as base64 of JSON."""
    payload = base64.b64encode(json.dumps(request).encode("utf-8")).decode("ascii")
    assert _B64_RE.match(payload)  # cannot leave its string literal
    return script_source() + f'\n\n_deisctl_main("{payload}")\n'.encode("ascii")


def shell_command(runtime: str, container: str, app_dir: Optional[str], python: str) -> list[str]:
    """argv of `manage.py shell -v 0` on the node; quoted once, with shlex.join, by the SSH layer."""
    shell = [python, "manage.py", "shell", "-v", "0"]
    if runtime == "none":
        # cd to the app dir; the paths are positional parameters, never part of the shell code.
        return ["sh", "-c", 'cd "$1" && shift && exec "$@"', "deisctl", app_dir or DEFAULT_APP_DIR, *shell]
    workdir = ["-w", app_dir] if app_dir else []  # else the image's WORKDIR (/app in Deis)
    return [runtime, "exec", "-i", *workdir, container, *shell]


def parse_reply(completed, label: str) -> dict:
    """The script's result line, or the remote error as one line."""
    if completed.status == INTERACTIVE_EXIT:
        raise DeisctlError(f"{label}: Django's shell started before the script arrived and went "
                           "interactive; nothing was run", hint="rerun the command")
    if completed.status != 0:
        raise DeisctlError(f"{label}: remote command failed (exit {completed.status}): "
                           f"{completed.last_error_line()}")
    text = completed.stdout.decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise DeisctlError(f"{label}: the controller script gave no result: {completed.last_error_line()}")
    try:
        reply = json.loads(lines[-1][len(MARKER):])
    except ValueError:
        raise DeisctlError(f"{label}: unreadable result from the controller script") from None
    if not reply.get("ok"):
        if reply.get("refused") == LAST_ADMIN:
            raise UsageError(f"demoting {first_few(reply.get('users') or [])} would leave the controller without an "
                             "active administrator; nothing was changed", hint="pass --force to demote anyway")
        missing = reply.get("missing") or []
        raise NotFoundError(f"no such user(s) on the controller: {first_few(missing)}; nothing was changed")
    return reply
