"""`deisctl users revoke-token|promote|demote|list`: the controller's users, changed from
inside its container over SSH (the operations page's `docker exec ... manage.py shell`)."""

from __future__ import annotations

import sys
from typing import Any, Iterable, Optional

import click

from deisctl import output
from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.node_options import Reach, node_options, remember, resolve
from deisctl.cli.options import output_option, invocation
from deisctl.errors import EXIT_CODE_HELP, UsageError

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


def users_argument(fn):
    return click.argument("names", nargs=-1, metavar="USER...")(fn)


@click.group("users", cls=DeisctlGroup, epilog=EXIT_CODE_HELP)
@node_options(django=True)
@click.pass_context
def users_group(ctx: click.Context, **node_values) -> None:
    """Manage the controller's users inside its container, over SSH: revoke API tokens,
    promote and demote administrators, list."""
    remember(ctx, node_values)
    help_if_bare(ctx)


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


def _run(ctx: click.Context, settings, node_values: dict, request: dict, before_connect=None) -> dict:
    """One SSH connection, one Django process: the fixed script with the request on stdin."""
    from deisctl import controller

    node = resolve(ctx, node_values, settings)
    with Reach(settings, node) as r:
        host = r.host_of("controller")
        if before_connect:
            before_connect(host)
        session = r.connect(host)
        argv = controller.shell_command(node.runtime, node.container, node.app_dir, node.python)
        timeout = 120.0 if node.remote_timeout is None else node.remote_timeout
        completed = session.run(argv, controller.program(request), timeout=timeout)
        return controller.parse_reply(completed, session.label)


def _change(ctx: click.Context, action: str, names: tuple[str, ...], dry_run: bool, fmt: Optional[str],
            node_values: dict) -> None:
    from deisctl import controller

    settings = invocation(ctx, fmt).settings  # checked before anything is sent
    if not names:
        raise UsageError("name at least one user")
    users = controller.validate_usernames(list(names))
    reply = _run(ctx, settings, node_values, {"action": action, "users": users, "dry_run": dry_run})
    output.emit(ChangeResult(reply["users"], dry_run), settings.output)


@users_group.command("revoke-token")
@users_argument
@click.option("--all", "all_users", is_flag=True, help="Revoke the token of every user who has one.")
@click.option("--yes", "-y", is_flag=True, help="With --all: do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Connect and report; change nothing.")
@output_option
@node_options(django=True)
@click.pass_context
def revoke_token(ctx: click.Context, names: tuple[str, ...], all_users: bool, yes: bool, dry_run: bool,
                 fmt: Optional[str], **node_values) -> None:
    """Delete users' API tokens: they get a new one at their next `deis login`.

    Idempotent: a user without a token is reported as `no token`. All or nothing:
    if any named user does not exist, nothing is changed (exit 3).
    """
    if all_users and names:
        raise UsageError("give either USER... or --all, not both")
    if not all_users:
        return _change(ctx, "revoke-token", names, dry_run, fmt, node_values)
    settings = invocation(ctx, fmt).settings  # checked before anything is sent

    def confirm(host: str) -> None:
        if dry_run or yes:
            return
        if sys.stdin is None or not sys.stdin.isatty():
            raise UsageError("--all revokes every user's token: confirm with --yes (no terminal to ask on)")
        if not click.confirm(f"Revoke the API token of EVERY user of the controller on {host}?", default=False,
                             err=True):
            raise UsageError("not confirmed; nothing was changed")

    reply = _run(ctx, settings, node_values, {"action": "revoke-token", "all": True, "dry_run": dry_run},
                 before_connect=confirm)
    if not reply["users"]:
        output.note("no user has a token; nothing to revoke")
    output.emit(ChangeResult(reply["users"], dry_run), settings.output)


@users_group.command("promote")
@users_argument
@click.option("--dry-run", is_flag=True, help="Connect and report; change nothing.")
@output_option
@node_options(django=True)
@click.pass_context
def promote(ctx: click.Context, names: tuple[str, ...], dry_run: bool, fmt: Optional[str], **node_values) -> None:
    """Make users administrators (is_superuser and is_staff), as `deis perms:create USER --admin` does;
    works even when no administrator can log in."""
    _change(ctx, "promote", names, dry_run, fmt, node_values)


@users_group.command("demote")
@users_argument
@click.option("--dry-run", is_flag=True, help="Connect and report; change nothing.")
@output_option
@node_options(django=True)
@click.pass_context
def demote(ctx: click.Context, names: tuple[str, ...], dry_run: bool, fmt: Optional[str], **node_values) -> None:
    """Make administrators normal users again (clears is_superuser and is_staff)."""
    _change(ctx, "demote", names, dry_run, fmt, node_values)


@users_group.command("list")
@output_option
@node_options(django=True)
@click.pass_context
def list_(ctx: click.Context, fmt: Optional[str], **node_values) -> None:
    """Every user: username, administrator or not, whether they have an API token, date joined."""
    settings = invocation(ctx, fmt).settings  # checked before anything is sent
    reply = _run(ctx, settings, node_values, {"action": "list"})
    output.emit(ListResult(reply["users"]), settings.output)
