"""`deisctl users create|set-password|delete|revoke-token|promote|demote|list`: the controller's
users, changed from inside its container over SSH (deisctl.ops.users).

This module is loaded only when `users` is run (commands.ROOT, cli.groups.LazyGroup), so the
operation and its views are imported at its top."""

from __future__ import annotations

import functools
from typing import Callable, Optional

import click

from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.node_options import DJANGO_ALL, node_options, remember, resolved
from deisctl.cli.options import invocation, output_option
from deisctl.errors import EXIT_CODE_HELP
from deisctl.node import NAMES as NODE_NAMES
from deisctl.ops import users as ops
from deisctl.output import emit
from deisctl.output import users as views


def users_argument(fn):
    return click.argument("names", nargs=-1, metavar="USER...")(fn)


def dry_run_option(fn):
    return click.option("--dry-run", is_flag=True, help="Connect and report; change nothing.")(fn)


def password_stdin_option(fn):
    return click.option("--password-stdin", is_flag=True,
                        help="Read the password from standard input (its first line; docker login's convention) "
                             "instead of asking twice on the terminal. Never give it in argv.")(fn)


def users_operation(view: Callable = views.changes) -> Callable:
    """What every `users` sub-command shares, around its body fn(inv, node, **its own options):
    -o and the node options; the invocation and the node options resolved (checked before
    anything is read or sent); the result rendered by view (the changes, written unless a dry
    run; or the listing). The command's own options and arguments go above this decorator."""
    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def command(ctx: click.Context, fmt: Optional[str], **values):
            node_values = {name: values.pop(name) for name in NODE_NAMES if name in values}
            inv = invocation(ctx, fmt)
            result = fn(inv, resolved(ctx, inv, node_values), **values)
            emit(inv, view(result), wrote=view is views.changes and not values.get("dry_run"))
            return result

        return click.pass_context(output_option(node_options(django=DJANGO_ALL)(command)))

    return decorate


@click.group("users", cls=DeisctlGroup, short_help="The controller's users: accounts, passwords, tokens, administrators.", epilog=EXIT_CODE_HELP)
@node_options(django=DJANGO_ALL)
@click.pass_context
def users_group(ctx: click.Context, **node_values) -> None:
    """Manage the controller's users inside its container, over SSH: create, set passwords,
    delete, revoke API tokens, promote and demote administrators, list."""
    remember(ctx, node_values)
    help_if_bare(ctx)


@users_group.command("revoke-token")
@users_argument
@click.option("--all", "all_users", is_flag=True, help="Revoke the token of every user who has one.")
@click.option("--yes", "-y", is_flag=True, help="With --all: do not ask for confirmation.")
@dry_run_option
@users_operation()
def revoke_token(inv, node, names: tuple[str, ...], all_users: bool, yes: bool, dry_run: bool):
    """Delete users' API tokens: they get a new one at their next `deis login`.

    Idempotent: a user without a token is reported as `no token`. All or nothing:
    if any named user does not exist, nothing is changed (exit 3).
    """
    return ops.revoke_token(inv, names, node, all_users=all_users, yes=yes, dry_run=dry_run)


@users_group.command("promote", short_help="Make users administrators (is_superuser and is_staff), as `deis perms:create --admin` does.")
@users_argument
@dry_run_option
@users_operation()
def promote(inv, node, names: tuple[str, ...], dry_run: bool):
    """Make users administrators (is_superuser and is_staff), as `deis perms:create USER --admin` does;
    works even when no administrator can log in."""
    return ops.promote(inv, names, node, dry_run=dry_run)


@users_group.command("demote")
@users_argument
@click.option("--force", is_flag=True, help="Demote even the last active administrator.")
@dry_run_option
@users_operation()
def demote(inv, node, names: tuple[str, ...], force: bool, dry_run: bool):
    """Make administrators normal users again (clears is_superuser and is_staff).

    Refused (exit 2, nothing changed) when no active administrator would be left,
    unless --force.
    """
    return ops.demote(inv, names, node, dry_run=dry_run, force=force)


@users_group.command("create")
@click.argument("name", metavar="USER")
@click.option("--admin", is_flag=True, help="Make the user an administrator (is_superuser and is_staff).")
@click.option("--email", metavar="ADDRESS", help="The user's e-mail address (checked by Django).")
@password_stdin_option
@dry_run_option
@users_operation()
def create(inv, node, name: str, admin: bool, email: Optional[str], password_stdin: bool, dry_run: bool):
    """Create a user with a password, as `deis register` does, even when registration is closed.

    The password is asked twice on a terminal, or read with --password-stdin; the controller's
    own password validators check it (their messages are shown, exit 2). An existing USER is
    refused (exit 6). One transaction inside the controller; nothing is changed on any refusal.
    """
    password = ops.read_password(inv, name, from_stdin=password_stdin)  # before anything is sent
    return ops.create_user(inv, name, node, password=password, admin=admin, email=email, dry_run=dry_run)


@users_group.command("set-password")
@click.argument("name", metavar="USER")
@click.option("--revoke-token", is_flag=True, help="Also delete the user's API token, in the same transaction.")
@password_stdin_option
@dry_run_option
@users_operation()
def set_password(inv, node, name: str, revoke_token: bool, password_stdin: bool, dry_run: bool):
    """Give a user a new password without the old one (Django's changepassword).

    The password is asked twice on a terminal, or read with --password-stdin, and checked by the
    controller's password validators (exit 2 with their messages). --revoke-token also logs out
    the user's `deis` clients: their token stops working at once.
    """
    password = ops.read_password(inv, name, from_stdin=password_stdin)
    return ops.set_password(inv, name, node, password=password, revoke_token=revoke_token, dry_run=dry_run)


@users_group.command("delete")
@users_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@dry_run_option
@users_operation()
def delete(inv, node, names: tuple[str, ...], yes: bool, dry_run: bool):
    """Delete users and their API tokens, all or none; it cannot be undone.

    Asks first on a terminal; refused without one unless --yes. Never deletes the last active
    administrator, nor a user who owns what the deletion would take along (apps: transfer them
    first), nothing is changed then (exit 2); an unknown USER changes nothing (exit 3).
    """
    return ops.delete_users(inv, names, node, yes=yes, dry_run=dry_run)


@users_group.command("list")
@users_operation(view=views.listing)
def list_(inv, node):
    """Every user: username, administrator or not, whether they have an API token, date joined."""
    return ops.list_users(inv, node)
