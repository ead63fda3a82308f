"""`users revoke-token|promote|demote|list`: the controller's users, changed from inside its
container over SSH (the operations page's `docker exec ... manage.py shell`).

One SSH connection and one Django process per command: the fixed script of deisctl.controller
with the request on stdin, a prepared change committed only when deisctl says so.
"""

from __future__ import annotations

import time
from typing import Callable, NamedTuple, Optional, Sequence

from deisctl import controller
from deisctl.controller import script as words
from deisctl.errors import DeisctlError, Interrupted, NotRecorded, UnreachableError, UsageError, first_few
from deisctl.node import NodeOptions
from deisctl.ops.reach import Reach, is_missing_container, missing_container


def _ordered(rows: list, fields: tuple) -> list:
    """The controller's rows with their fields in deisctl's order (any others after, sorted)."""
    return [{**{name: row[name] for name in fields if name in row},
             **{name: row[name] for name in sorted(row) if name not in fields}} for row in rows]


class UserChanges(NamedTuple):
    users: list  # [{"user", "result", "changed"}], in the order named (or the controller's)
    dry_run: bool

    @property
    def changed(self) -> bool:
        return any(row["changed"] for row in self.users)


class UserList(NamedTuple):
    users: list  # [{"username", "admin", "staff", "has_token", "date_joined"}]


def _record(inv, reach, action: str, reply: dict) -> None:
    """The audit record of a change the controller confirmed (the users it changed), through
    the Reach's own etcd connection and tunnel; when etcd cannot take it, NotRecorded (the
    change stands)."""
    changed = [row for row in reply["users"] if row["changed"]]
    if not changed or not inv.settings.audit:
        return

    layout = inv.settings.layout
    try:
        reach.record([(layout.key("controller", f"users/{row['user']}"), row["result"]) for row in changed])
    except DeisctlError as exc:
        raise NotRecorded(f"{action} was made on the controller ({first_few([row['user'] for row in changed])}), "
                          f"but its audit record could not be written: {exc.message}") from None


def revoke_token(inv, names: Sequence[str], node: NodeOptions, *, all_users: bool = False, yes: bool = False,
                 dry_run: bool = False) -> UserChanges:
    """Delete the API tokens of the named users, or (all_users) of every user who has one; --all
    asks first on a terminal unless yes (or dry_run), and is refused without one."""
    if all_users and names:
        raise UsageError(f"give either USER... or {inv.name_of('all_users', flag='--all')}, not both")
    if not all_users:
        return _change(inv, words.REVOKE, names, node, dry_run)[0]
    asking = not (dry_run or yes)
    if asking and inv.confirm is None:  # nobody to ask: refused before anything is sent
        raise UsageError(f"{inv.name_of('all_users', flag='--all')} revokes every user's token: confirm with "
                         f"{inv.option('yes')} (no terminal to ask on)")

    def confirm(host: str) -> None:
        if asking and not inv.confirm(f"Revoke the API token of EVERY user of the controller on {host}?"):
            raise UsageError("not confirmed; nothing was changed")

    reply = _run(inv, node, {"action": words.REVOKE, "all": True, "dry_run": dry_run}, before_connect=confirm)
    if not reply["users"]:
        inv.note("no user has a token; nothing to revoke")
    return UserChanges(reply["users"], dry_run)


def promote(inv, names: Sequence[str], node: NodeOptions, *, dry_run: bool = False) -> UserChanges:
    """Make users administrators (is_superuser and is_staff)."""
    return _change(inv, words.PROMOTE, names, node, dry_run)[0]


def demote(inv, names: Sequence[str], node: NodeOptions, *, dry_run: bool = False, force: bool = False) -> UserChanges:
    """Make administrators normal users again. Refused (a usage error, nothing changed, dry run
    or not) when no active administrator would remain, unless force: decided by the controller
    inside the demote's own transaction, so two concurrent demotes cannot both pass."""
    result, reply = _change(inv, words.DEMOTE, names, node, dry_run, force=force)
    if reply.get("no_admin_left"):
        would = "would have" if dry_run else "has"
        inv.warn(f"the controller {would} no active administrator (deisctl users promote USER makes one)")
    return result


def read_password(inv, user: str, *, from_stdin: bool) -> str:
    """The password for user (deisctl.ops.secrets: standard input with --password-stdin, else
    asked twice on a terminal; never argv), refused before anything is sent."""
    from deisctl.ops.secrets import read_secret

    return read_secret(inv, "password", whose=f" for {user}", from_stdin=from_stdin, stdin_flag="--password-stdin",
                       twice=True, consequence="nothing was sent")


def create_user(inv, name: str, node: NodeOptions, *, password: str, admin: bool = False, email: Optional[str] = None,
                dry_run: bool = False) -> UserChanges:
    """A new user with password (checked by the controller's own password validators), an
    e-mail address and, with admin, administrator rights; an existing name is refused (exit 6)."""
    (user,) = controller.validate_usernames([name])
    request = {"action": words.CREATE, "users": [user], "password": password, "admin": admin, "email": email or "",
               "dry_run": dry_run}
    return _password_changes(inv, _run(inv, node, request)["users"], dry_run)


def set_password(inv, name: str, node: NodeOptions, *, password: str, revoke_token: bool = False,
                 dry_run: bool = False) -> UserChanges:
    """A new password for a user (Django's `changepassword`, without the old one), checked by
    the controller's validators; with revoke_token, the user's API token goes in the same
    transaction (a stolen one stops working)."""
    (user,) = controller.validate_usernames([name])
    request = {"action": words.SET_PASSWORD, "users": [user], "password": password, "revoke_token": revoke_token,
               "dry_run": dry_run}
    return _password_changes(inv, _run(inv, node, request)["users"], dry_run)


def _password_changes(inv, rows: list, dry_run: bool) -> UserChanges:
    """The result of create or set-password; a warning when the controller's Django has no
    password validation (before Django 1.9): it took the password unchecked."""
    if any(row.get("password_checked") is False for row in rows):
        inv.warn("the controller's Django has no password validators (they came with Django 1.9): the password "
                 "was not checked")
    return UserChanges(rows, dry_run)


def delete_users(inv, names: Sequence[str], node: NodeOptions, *, yes: bool = False, dry_run: bool = False) -> UserChanges:
    """Delete users (and their API tokens), all or none. Asks first on a terminal unless yes;
    refused without one unless yes. Never the last active administrator, and never a user who
    owns anything the deletion would take along (a Deis user's apps): decided inside the
    controller's transaction."""
    if not names:
        raise UsageError("name at least one user")
    users = controller.validate_usernames(list(names))
    asking = not (dry_run or yes)
    if asking and inv.confirm is None:  # nobody to ask: refused before anything is sent
        raise UsageError(f"deleting {first_few(users)} cannot be undone: confirm with {inv.option('yes')} (no terminal to "
                         "ask on)", hint=f"pass {inv.option('yes')}")

    def confirm(host: str) -> None:
        if asking and not inv.confirm(f"Delete {first_few(users)} from the controller on {host}? It cannot be "
                                      "undone."):
            raise UsageError("not confirmed; nothing was changed")

    reply = _run(inv, node, {"action": words.DELETE, "users": users, "dry_run": dry_run}, before_connect=confirm)
    return UserChanges(reply["users"], dry_run)


def list_users(inv, node: NodeOptions) -> UserList:
    """Every user of the controller."""
    return UserList(_run(inv, node, {"action": words.LIST})["users"])


def _change(inv, action: str, names: Sequence[str], node: NodeOptions, dry_run: bool,
            **options: bool) -> tuple[UserChanges, dict]:
    """The result, and the controller's whole reply."""
    if not names:
        raise UsageError("name at least one user")
    users = controller.validate_usernames(list(names))  # before anything is sent
    reply = _run(inv, node, {"action": action, "users": users, "dry_run": dry_run, **options})
    return UserChanges(reply["users"], dry_run), reply


def ask(inv, node: NodeOptions, request: dict) -> dict:
    """The controller script's reply to a request of another operation (backup's dump and load),
    over the same path, timeouts and commit protocol as the users'."""
    return _run(inv, node, request)


def _run(inv, node: NodeOptions, request: dict, before_connect: Optional[Callable[[str], None]] = None) -> dict:
    """One SSH connection, one Django process: the fixed script, and for a change the commit
    order once the controller holds it ready (deisctl.controller.Exchange)."""
    with Reach(inv, node) as reach:
        host = reach.host_of("controller")
        if before_connect:
            before_connect(host)
        reply = converse(reach.connect(host), node, request, host)
        if request["action"] in words.CHANGES and not request.get("dry_run"):
            try:
                _record(inv, reach, request["action"], reply)
            except KeyboardInterrupt:  # the change was committed: say so, and what became of its record
                raise Interrupted(f"interrupted after the controller on {host} had committed {request['action']} "
                                  f"({what_changed(reply['users'])}): its audit record may or may not have been "
                                  "written", hint="see deisctl audit controller") from None
        return reply


def converse(session, node, request: dict, host: str) -> dict:
    """The controller script's reply to one request, over an open SSH session to its node (rows
    in deisctl's field order); its refusal or failure raised as a DeisctlError. An interrupt
    during a change says what is known of it."""
    changing = request["action"] in words.CHANGES and not request.get("dry_run")
    argv = controller.remote_command(node.runtime, node.container, node.app_dir, node.python)
    timeout = controller.DEFAULT_REMOTE_TIMEOUT if node.remote_timeout is None else node.remote_timeout
    command = session.start(argv)
    exchange = controller.Exchange(command, request, session.label, time.monotonic() + timeout,
                                   commit_within=node.ssh.timeout)
    try:
        reply = exchange.run()
    except KeyboardInterrupt:
        if not changing:
            raise  # nothing was being changed: a plain interrupt
        raise _interrupted(exchange, request["action"], host, grace=node.ssh.timeout) from None
    except DeisctlError as exc:
        if node.runtime == "none" or exchange.ordered or not is_missing_container(exc.message):
            raise
        command.close()
        raise missing_container(session, node) from None
    finally:
        command.close()
    if reply is None:
        raise _timed_out(exchange, session.label, timeout, node.naming.of("remote_timeout"))
    if "users" in reply:
        fields = words.LIST_FIELDS if request["action"] == words.LIST else words.CHANGE_FIELDS
        reply["users"] = _ordered(reply["users"], fields)
    return reply


def _interrupted(exchange, action: str, host: str, grace: float) -> Interrupted:
    """What is known after Ctrl-C or SIGTERM during a change: not ordered to commit, nothing was
    changed; ordered, the outcome if the controller confirms within `grace` (a second interrupt
    stops that wait)."""
    if not exchange.ordered:
        return Interrupted(f"interrupted before the controller on {host} was told to commit {action}: "
                           "nothing was changed")
    try:
        final = exchange.confirm(grace)
    except KeyboardInterrupt:
        final = None
    if final is None:
        return Interrupted(f"interrupted after the controller on {host} was told to commit {action}: "
                           "the change may or may not have been made",
                           hint="see what it did with 'users list' and the same node options before retrying")
    return Interrupted(f"interrupted, but the controller on {host} had committed {action}: "
                       f"{what_changed(final['users'])}")


def _timed_out(exchange, label: str, timeout: float, option: str) -> UnreachableError:
    if exchange.ordered:
        return UnreachableError(f"{label}: the controller did not confirm within {option} {timeout:g}s "
                                "after it was told to commit: the change may or may not have been made",
                                hint="see what it did with 'users list' and the same node options before retrying")
    nothing = "; nothing was changed" if exchange.request["action"] in words.CHANGES else ""
    return UnreachableError(f"{label}: the controller did not answer within {option} {timeout:g}s{nothing}")


def what_changed(rows: list) -> str:
    """The users a committed change changed, in a few words."""
    changed = [row["user"] for row in rows if row["changed"]]
    return f"changed {first_few(changed)}" if changed else "no user needed a change"
