"""The work done inside the controller: the remote command that runs the fixed Django script
(script.py), the request it carries, and the exchange with it that decides when a change commits.

The script never changes with the input.  The request (action, usernames, flags)
travels inside it only as base64 of JSON, a literal that no input can break out
of, and usernames are checked against Django's own rule before anything leaves
this machine (the controller checks its own limit again: 30 characters on Django 1.6).
One SSH connection and one Django process per command; every change happens inside
one transaction, after every named user was found (and, for demote, after checking
that an active administrator remains, unless forced).

The exchange (one line each way, so that an interrupt or a lost connection ends the same way on
every runtime and every controller, Python 2.7 / Django 1.6 as well as today's): `python -c
BOOTSTRAP` in the app dir reads the script from stdin (its length, a newline, the text) and runs
it; the script starts Django through the image's own manage.py (its settings module), makes a
change inside its transaction and reports it as prepared; it then waits for deisctl's commit line
on the same stdin and commits only if it comes, rolling back on end of input (deisctl interrupted
or gone, the channel closed) or when it did not come within the request's commit_within. So
until deisctl has sent that line, nothing was changed, whatever happens. Replies travel on the
script's own standard output, which it keeps apart from everything else the controller prints.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import time
from typing import Optional

from deisctl.controller import script as words
from deisctl.errors import ConflictError, DeisctlError, NotFoundError, UsageError, first_few

# Django's UnicodeUsernameValidator and User.username's max_length (today's; older Djangos allow
# less, and the controller refuses what its own field does not take).
USERNAME_RE = re.compile(r"^[\w.@+-]+\Z")
USERNAME_MAX = 150
CONTAINER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")  # docker/podman container names
RUNTIMES = ("docker", "podman", "none")
DEFAULT_CONTAINER = "deis-controller"
DEFAULT_APP_DIR = "/app"  # where the Deis controller image keeps manage.py
DEFAULT_PYTHON = "python"
DEFAULT_REMOTE_TIMEOUT = 120.0  # seconds for the Django process of `users`; dock has none
MARKER = words.MARKER
COMMIT_ORDER = words.COMMIT_LINE
# `python -c BOOTSTRAP`: reads the framed script from stdin and runs it in a namespace of its own.
# Fixed text, in what Python 2.7 and 3 share (Python 2's stdin is bytes already; its `exec(code,
# globals)` is the statement's tuple form): nothing of the request is in the command line. A short
# read (the sender gone) runs nothing. stdin stays open for the commit order.
BOOTSTRAP = ("import sys; r = getattr(sys.stdin, 'buffer', sys.stdin); n = int(r.readline()); s = r.read(n); "
             "len(s) == n or sys.exit('deisctl: the script arrived incomplete; nothing was run'); "
             "exec(compile(s, 'deisctl-controller-script', 'exec'), {'__name__': 'deisctl_controller_script'})")
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


def framed(request: dict) -> bytes:
    """What BOOTSTRAP reads from stdin: the program's length in bytes, a newline, the program."""
    body = program(request)
    return b"%d\n" % len(body) + body


def remote_command(runtime: str, container: str, app_dir: Optional[str], python: str) -> list[str]:
    """argv of `python -c BOOTSTRAP` in the controller's app dir on the node (in its container,
    or on the node itself with runtime none); quoted once, with shlex.join, by the SSH layer."""
    shell = [python, "-c", BOOTSTRAP]
    if runtime == "none":
        # cd to the app dir; the paths are positional parameters, never part of the shell code.
        return ["sh", "-c", 'cd "$1" && shift && exec "$@"', "deisctl", app_dir or DEFAULT_APP_DIR, *shell]
    workdir = ["-w", app_dir] if app_dir else []  # else the image's WORKDIR (/app in Deis)
    return [runtime, "exec", "-i", *workdir, container, *shell]


class Exchange:
    """One request to the script over a running remote command (ssh.session.RemoteCommand, or
    anything with its send/close_input/readline/finish), within one deadline.

    What is known at any moment, for an interrupt: `ordered` is set just before the commit line
    is sent (until then nothing was changed); `prepared` is the change the script holds ready
    (its rows); confirm() waits a little longer for the outcome once ordered."""

    def __init__(self, command, request: dict, label: str, deadline: Optional[float], commit_within: float):
        self.command, self.label, self.deadline = command, label, deadline
        self.request = dict(request, commit_within=commit_within)
        self.prepared: Optional[dict] = None
        self.ordered = False

    def run(self) -> dict:
        """The script's reply (ok; for a change, the change it committed), or its refusal or
        failure raised as a DeisctlError; None if the deadline passed first."""
        if not self.command.send(framed(self.request), self.deadline):
            return None
        reply = self._next_reply(self.deadline)
        if reply is None or not reply.get("prepared"):
            return reply
        self.prepared = reply
        self.ordered = True  # before sending: once any of the line may be on its way, it may commit
        if not self.command.send(COMMIT_ORDER, self.deadline):
            return None
        return self._outcome(self._next_reply(self.deadline))

    def confirm(self, within: float) -> Optional[dict]:
        """After an interrupt, the commit having been ordered: the final reply if it comes within
        `within` seconds, else None."""
        try:
            return self._outcome(self._next_reply(time.monotonic() + within))
        except DeisctlError:
            return None

    def _outcome(self, final: Optional[dict]) -> Optional[dict]:
        if final is None:
            return None
        if not final.get("committed"):
            raise DeisctlError(f"{self.label}: the controller did not commit: {final.get('reason', 'no reason')}; "
                               "nothing was changed")
        return {key: value for key, value in self.prepared.items() if key != "prepared"}

    def _next_reply(self, deadline: Optional[float]) -> Optional[dict]:
        """The next reply line, parsed and checked; None if the deadline passed first."""
        while True:
            line = self.command.readline(deadline)
            if line is None:
                return None
            if not line:  # the command ended without (another) reply
                completed = self.command.finish(deadline)
                if completed is None:
                    return None
                raise _failure(completed, self.label)
            text = line.decode("utf-8", "replace")
            if text.startswith(MARKER):
                return _checked(text[len(MARKER):], self.label, self.request.get("action", ""))


def _failure(completed, label: str) -> DeisctlError:
    if completed.status != 0:
        return DeisctlError(f"{label}: remote command failed (exit {completed.status}): "
                            f"{completed.last_error_line()}")
    return DeisctlError(f"{label}: the controller script gave no result: {completed.last_error_line()}")


def _checked(text: str, label: str, action: str = "") -> dict:
    try:
        reply = json.loads(text)
    except ValueError:
        raise DeisctlError(f"{label}: unreadable result from the controller script") from None
    if not isinstance(reply, dict):
        raise DeisctlError(f"{label}: unexpected result from the controller script")
    if reply.get("ok"):
        return reply
    refused, users = reply.get("refused"), first_few(reply.get("users") or [])
    problems = " ".join(str(problem) for problem in reply.get("problems") or [])
    if refused == words.LAST_ADMIN and action == words.DELETE:
        raise UsageError(f"deleting {users} would leave the controller without an active administrator; nothing "
                         "was changed", hint="make another user an administrator first: users promote USER")
    if refused == words.LAST_ADMIN:
        raise UsageError(f"demoting {users} would leave the controller without an "
                         "active administrator; nothing was changed", hint="pass --force to demote anyway")
    if refused == words.EXISTS:
        raise ConflictError(f"user {users} already exists on the controller; nothing was changed",
                            hint="to give it a new password: users set-password USER")
    if refused == words.BAD_PASSWORD:
        raise UsageError(f"the controller's password validators refused the password for {users}: "
                         f"{problems}; nothing was changed")
    if refused == words.BAD_EMAIL:
        raise UsageError(f"invalid --email for {users}: {problems}; nothing was changed")
    if refused == words.BAD_USERNAME and problems:
        raise UsageError(f"the controller refuses the username {users}: {problems}; nothing was changed")
    if refused == words.BAD_USERNAME:
        raise UsageError(f"username {users} is longer than the controller allows (at most {reply.get('limit')} "
                         "characters there); nothing was changed")
    if refused == words.ANONYMOUS:
        raise UsageError(f"{users} is django-guardian's anonymous user, which the controller needs as it is: "
                         f"{reply.get('action', action)} refused; nothing was changed")
    if refused == words.OWNS:
        owned = ", ".join(f"{count} {label_}" for label_, count in sorted((reply.get("owned") or {}).items()))
        raise UsageError(f"deleting {users} would also delete what they own on the controller ({owned}); nothing "
                         "was changed", hint="transfer or destroy their apps first (deis apps:transfer, apps:destroy)")
    if "missing" in reply:
        raise NotFoundError(f"no such user(s) on the controller: {first_few(reply['missing'])}; nothing was changed")
    if "committed" in reply:  # not committed: Exchange._outcome says why
        return reply
    raise DeisctlError(f"{label}: unexpected result from the controller script")
