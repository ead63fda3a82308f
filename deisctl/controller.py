"""The work done inside the controller: one fixed Django script, the remote command
that runs it, and the parsing of its one result line.

The script never changes with the input.  The request (action, usernames, flags)
travels inside it only as base64 of JSON, a literal that no input can break out
of, and usernames are checked against Django's own rule before anything leaves
this machine.  One SSH connection and one Django process per command; every
change happens inside one transaction, after every named user was found.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Optional

from deisctl.errors import DeisctlError, NotFoundError, UsageError

# Django's UnicodeUsernameValidator and User.username's max_length.
USERNAME_RE = re.compile(r"^[\w.@+-]+\Z")
USERNAME_MAX = 150
CONTAINER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")  # docker/podman container names
RUNTIMES = ("docker", "podman", "none")
DEFAULT_CONTAINER = "deis-controller"
DEFAULT_APP_DIR = "/app"  # where the Deis controller image keeps manage.py
DEFAULT_PYTHON = "python"
MARKER = "deisctl-result:"
INTERACTIVE_EXIT = 97  # the script's exit status when Django's shell went interactive
_B64_RE = re.compile(r"[A-Za-z0-9+/=]*\Z")

SCRIPT = r'''# deisctl controller script (deisctl/controller.py): fixed code; the request is base64 of JSON.
import builtins, os, sys
# Django's shell runs stdin only if it was readable at start-up; if it fell back to an interactive
# console instead, stop here before any line with an effect runs.
(hasattr(sys, "ps1") or hasattr(builtins, "__IPYTHON__")) and os._exit(97)


def _deisctl_main(payload):
    import base64
    import json

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    request = json.loads(base64.b64decode(payload).decode("utf-8"))
    action, dry_run = request["action"], bool(request.get("dry_run"))
    User = get_user_model()
    name_of = User.USERNAME_FIELD
    chunk = 500  # below sqlite's limit of bound parameters per query

    def report(**result):
        sys.stdout.write("\n" + "deisctl-result:" + json.dumps(result) + "\n")
        sys.stdout.flush()

    def in_chunks(items):
        return [items[i:i + chunk] for i in range(0, len(items), chunk)]

    def token_holders(users):
        held = set()
        for ids in in_chunks([u.pk for u in users]):
            held.update(Token.objects.filter(user_id__in=ids).values_list("user_id", flat=True))
        return held

    if action == "list":
        held = set(Token.objects.values_list("user_id", flat=True))
        rows = []
        for user in User.objects.order_by(name_of):
            joined = getattr(user, "date_joined", None)
            rows.append({
                "username": getattr(user, name_of),
                "admin": bool(getattr(user, "is_superuser", False)),
                "staff": bool(getattr(user, "is_staff", False)),
                "has_token": user.pk in held,
                "date_joined": joined.isoformat() if joined else None,
            })
        report(ok=True, users=rows)
        return

    with transaction.atomic():
        if request.get("all"):
            users = list(User.objects.filter(pk__in=Token.objects.values("user_id")).order_by(name_of))
        else:
            names = request["users"]
            found = {}
            for part in in_chunks(names):
                for user in User.objects.filter(**{name_of + "__in": part}):
                    found[getattr(user, name_of)] = user
            missing = [n for n in names if n not in found]
            if missing:  # all or nothing: nothing has been changed yet
                report(ok=False, missing=missing)
                return
            users = [found[n] for n in names]

        results = []
        if action == "revoke-token":
            held = token_holders(users)
            for user in users:
                has = user.pk in held
                outcome = ("would-revoke" if dry_run else "revoked") if has else "no-token"
                results.append({"user": getattr(user, name_of), "result": outcome, "changed": has and not dry_run})
            if not dry_run:
                for ids in in_chunks(sorted(held)):
                    Token.objects.filter(user_id__in=ids).delete()
        elif action in ("promote", "demote"):
            admin = action == "promote"
            for user in users:
                changes = user.is_superuser != admin or user.is_staff != admin
                if not changes:
                    outcome = "already-admin" if admin else "not-admin"
                elif dry_run:
                    outcome = "would-promote" if admin else "would-demote"
                else:
                    outcome = "promoted" if admin else "demoted"
                    user.is_superuser = user.is_staff = admin
                    user.save(update_fields=["is_superuser", "is_staff"])
                results.append({"user": getattr(user, name_of), "result": outcome,
                                "changed": changes and not dry_run})
        else:
            raise ValueError("unknown action %r" % (action,))
        report(ok=True, users=results)


'''


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


def program(request: dict) -> bytes:
    """The fixed script plus one call carrying the request as base64 of JSON."""
    payload = base64.b64encode(json.dumps(request).encode("utf-8")).decode("ascii")
    assert _B64_RE.match(payload)  # cannot leave its string literal
    return (SCRIPT + f'_deisctl_main("{payload}")\n').encode("utf-8")


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
        missing = reply.get("missing") or []
        raise NotFoundError(f"no such user(s) on the controller: {', '.join(missing)}; nothing was changed")
    return reply
