"""`deisctl users revoke-token|promote|demote|list`: the controller's users, changed from
inside its container over SSH (the operations page's `docker exec ... manage.py shell`)."""

from __future__ import annotations

import sys
from typing import Any, Iterable, List, Optional

import typer

from deisctl import output
from deisctl.cli.node_options import Reach, node_options, resolve
from deisctl.cli.options import OUTPUT, settings_with_output
from deisctl.errors import EXIT_CODE_HELP, UsageError

users_app = typer.Typer(
    help="Manage the controller's users inside its container, over SSH: revoke API tokens, "
         "promote and demote administrators, list.",
    epilog=EXIT_CODE_HELP,
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

_TEXT = {
    "revoked": "token revoked",
    "would-revoke": "token would be revoked (dry run)",
    "no-token": "no token",
    "promoted": "promoted to administrator",
    "would-promote": "would be promoted to administrator (dry run)",
    "already-admin": "already an administrator",
    "demoted": "demoted to normal user",
    "would-demote": "would be demoted to normal user (dry run)",
    "not-admin": "not an administrator",
}
USERS_ARG = typer.Argument(None, metavar="USER...", help="Usernames on the controller.", show_default=False)


@users_app.callback()
@node_options(django=True, envvar=True)
def users(ctx: typer.Context) -> None:
    """Manage the controller's users inside its container, over SSH."""


class ChangeResult(output.Result):
    def __init__(self, rows: list[dict], dry_run: bool):
        self.rows, self.dry_run = rows, dry_run

    def data(self) -> Any:
        return {"changed": any(r["changed"] for r in self.rows), "dry_run": self.dry_run, "users": self.rows}

    def lines(self) -> Iterable[str]:
        return (f"{r['user']}: {_TEXT.get(r['result'], r['result'])}" for r in self.rows)


class ListResult(output.Result):
    def __init__(self, rows: list[dict]):
        self.rows = rows

    def data(self) -> Any:
        return self.rows

    def lines(self) -> Iterable[str]:
        table = [("USERNAME", "ADMIN", "TOKEN", "JOINED")] + [
            (r["username"], "yes" if r["admin"] else "no", "yes" if r["has_token"] else "no",
             (r["date_joined"] or "-")[:19].replace("T", " ")) for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        return ("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3] for row in table)


def _run(ctx: typer.Context, request: dict, before_connect=None) -> dict:
    """One SSH connection, one Django process: the fixed script with the request on stdin."""
    from deisctl import controller

    node = resolve(ctx)
    with Reach(ctx.find_root().obj, node) as r:
        host = r.host_of("controller")
        if before_connect:
            before_connect(host)
        session = r.connect(host)
        argv = controller.shell_command(node.runtime, node.container, node.app_dir, node.python)
        timeout = 120.0 if node.remote_timeout is None else node.remote_timeout
        completed = session.run(argv, controller.program(request), timeout=timeout)
        return controller.parse_reply(completed, session.label)


def _change(ctx: typer.Context, action: str, names: Optional[List[str]], dry_run: bool, fmt: Optional[str]) -> None:
    from deisctl import controller

    fmt = settings_with_output(ctx, fmt).output  # checked before anything is sent
    if not names:
        raise UsageError("name at least one user")
    users = controller.validate_usernames(names)
    reply = _run(ctx, {"action": action, "users": users, "dry_run": dry_run})
    output.emit(ChangeResult(reply["users"], dry_run), fmt)


@users_app.command("revoke-token")
@node_options(django=True, envvar=False)
def revoke_token(
    ctx: typer.Context,
    names: Optional[List[str]] = USERS_ARG,
    all_users: bool = typer.Option(False, "--all", help="Revoke the token of every user who has one."),
    yes: bool = typer.Option(False, "--yes", "-y", help="With --all: do not ask for confirmation."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Connect and report; change nothing."),
    fmt: Optional[str] = OUTPUT,
) -> None:
    """Delete users' API tokens: they get a new one at their next `deis login`.

    Idempotent: a user without a token is reported as `no token`. All or nothing:
    if any named user does not exist, nothing is changed (exit 3).
    """
    if all_users and names:
        raise UsageError("give either USER... or --all, not both")
    if not all_users:
        return _change(ctx, "revoke-token", names, dry_run, fmt)
    fmt = settings_with_output(ctx, fmt).output  # checked before anything is sent

    def confirm(host: str) -> None:
        if dry_run or yes:
            return
        if sys.stdin is None or not sys.stdin.isatty():
            raise UsageError("--all revokes every user's token: confirm with --yes (no terminal to ask on)")
        if not typer.confirm(f"Revoke the API token of EVERY user of the controller on {host}?", default=False):
            raise UsageError("not confirmed; nothing was changed")

    reply = _run(ctx, {"action": "revoke-token", "all": True, "dry_run": dry_run}, before_connect=confirm)
    if not reply["users"]:
        output.note("no user has a token; nothing to revoke")
    output.emit(ChangeResult(reply["users"], dry_run), fmt)


@users_app.command("promote")
@node_options(django=True, envvar=False)
def promote(
    ctx: typer.Context,
    names: Optional[List[str]] = USERS_ARG,
    dry_run: bool = typer.Option(False, "--dry-run", help="Connect and report; change nothing."),
    fmt: Optional[str] = OUTPUT,
) -> None:
    """Make users administrators (is_superuser and is_staff), as `deis perms:create USER --admin` does;
    works even when no administrator can log in."""
    _change(ctx, "promote", names, dry_run, fmt)


@users_app.command("demote")
@node_options(django=True, envvar=False)
def demote(
    ctx: typer.Context,
    names: Optional[List[str]] = USERS_ARG,
    dry_run: bool = typer.Option(False, "--dry-run", help="Connect and report; change nothing."),
    fmt: Optional[str] = OUTPUT,
) -> None:
    """Make administrators normal users again (clears is_superuser and is_staff)."""
    _change(ctx, "demote", names, dry_run, fmt)


@users_app.command("list")
@node_options(django=True, envvar=False)
def list_(ctx: typer.Context, fmt: Optional[str] = OUTPUT) -> None:
    """Every user: username, administrator or not, whether they have an API token, date joined."""
    fmt = settings_with_output(ctx, fmt).output  # checked before anything is sent
    reply = _run(ctx, {"action": "list"})
    output.emit(ListResult(reply["users"]), fmt)
