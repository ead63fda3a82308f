"""`deisctl users create|set-password|delete|revoke-token|promote|demote|list`: the controller's
users, changed from inside its container over SSH (deisctl.ops.users)."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.node_options import DJANGO_ALL, layers, node_options, remember
from deisctl.cli.options import invocation, output_option
from deisctl.errors import EXIT_CODE_HELP
from deisctl.output import emit


def users_argument(fn):
    return click.argument("names", nargs=-1, metavar="USER...")(fn)


def dry_run_option(fn):
    return click.option("--dry-run", is_flag=True, help="Connect and report; change nothing.")(fn)


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
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def revoke_token(ctx: click.Context, names: tuple[str, ...], all_users: bool, yes: bool, dry_run: bool,
                 fmt: Optional[str], **node_values):
    """Delete users' API tokens: they get a new one at their next `deis login`.

    Idempotent: a user without a token is reported as `no token`. All or nothing:
    if any named user does not exist, nothing is changed (exit 3).
    """
    from deisctl.ops import users as ops
    from deisctl.output import users as views

    inv = invocation(ctx, fmt)  # checked before anything is sent
    result = ops.revoke_token(inv, names, layers(ctx, node_values), all_users=all_users, yes=yes, dry_run=dry_run)
    emit(inv, views.changes(result), wrote=not dry_run)
    return result


@users_group.command("promote", short_help="Make users administrators (is_superuser and is_staff), as `deis perms:create --admin` does.")
@users_argument
@dry_run_option
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def promote(ctx: click.Context, names: tuple[str, ...], dry_run: bool, fmt: Optional[str], **node_values):
    """Make users administrators (is_superuser and is_staff), as `deis perms:create USER --admin` does;
    works even when no administrator can log in."""
    from deisctl.ops import users as ops
    from deisctl.output import users as views

    inv = invocation(ctx, fmt)
    result = ops.promote(inv, names, layers(ctx, node_values), dry_run=dry_run)
    emit(inv, views.changes(result), wrote=not dry_run)
    return result


@users_group.command("demote")
@users_argument
@click.option("--force", is_flag=True, help="Demote even the last active administrator.")
@dry_run_option
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def demote(ctx: click.Context, names: tuple[str, ...], force: bool, dry_run: bool, fmt: Optional[str],
           **node_values):
    """Make administrators normal users again (clears is_superuser and is_staff).

    Refused (exit 2, nothing changed) when no active administrator would be left,
    unless --force.
    """
    from deisctl.ops import users as ops
    from deisctl.output import users as views

    inv = invocation(ctx, fmt)
    result = ops.demote(inv, names, layers(ctx, node_values), dry_run=dry_run, force=force)
    emit(inv, views.changes(result), wrote=not dry_run)
    return result


def password_stdin_option(fn):
    return click.option("--password-stdin", is_flag=True,
                        help="Read the password from standard input (its first line; docker login's convention) "
                             "instead of asking twice on the terminal. Never give it in argv.")(fn)


@users_group.command("create")
@click.argument("name", metavar="USER")
@click.option("--admin", is_flag=True, help="Make the user an administrator (is_superuser and is_staff).")
@click.option("--email", metavar="ADDRESS", help="The user's e-mail address (checked by Django).")
@password_stdin_option
@dry_run_option
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def create(ctx: click.Context, name: str, admin: bool, email: Optional[str], password_stdin: bool, dry_run: bool,
           fmt: Optional[str], **node_values):
    """Create a user with a password, as `deis register` does, even when registration is closed.

    The password is asked twice on a terminal, or read with --password-stdin; the controller's
    own password validators check it (their messages are shown, exit 2). An existing USER is
    refused (exit 6). One transaction inside the controller; nothing is changed on any refusal.
    """
    from deisctl.ops import users as ops
    from deisctl.output import users as views

    inv = invocation(ctx, fmt)
    password = ops.read_password(inv, name, from_stdin=password_stdin)  # before anything is sent
    result = ops.create_user(inv, name, layers(ctx, node_values), password=password, admin=admin, email=email,
                             dry_run=dry_run)
    emit(inv, views.changes(result), wrote=not dry_run)
    return result


@users_group.command("set-password")
@click.argument("name", metavar="USER")
@click.option("--revoke-token", is_flag=True, help="Also delete the user's API token, in the same transaction.")
@password_stdin_option
@dry_run_option
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def set_password(ctx: click.Context, name: str, revoke_token: bool, password_stdin: bool, dry_run: bool,
                 fmt: Optional[str], **node_values):
    """Give a user a new password without the old one (Django's changepassword).

    The password is asked twice on a terminal, or read with --password-stdin, and checked by the
    controller's password validators (exit 2 with their messages). --revoke-token also logs out
    the user's `deis` clients: their token stops working at once.
    """
    from deisctl.ops import users as ops
    from deisctl.output import users as views

    inv = invocation(ctx, fmt)
    password = ops.read_password(inv, name, from_stdin=password_stdin)
    result = ops.set_password(inv, name, layers(ctx, node_values), password=password, revoke_token=revoke_token,
                              dry_run=dry_run)
    emit(inv, views.changes(result), wrote=not dry_run)
    return result


@users_group.command("delete")
@users_argument
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (needed without a terminal).")
@dry_run_option
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def delete(ctx: click.Context, names: tuple[str, ...], yes: bool, dry_run: bool, fmt: Optional[str],
           **node_values):
    """Delete users and their API tokens, all or none; it cannot be undone.

    Asks first on a terminal; refused without one unless --yes. Never deletes the last active
    administrator, nor a user who owns what the deletion would take along (apps: transfer them
    first), nothing is changed then (exit 2); an unknown USER changes nothing (exit 3).
    """
    from deisctl.ops import users as ops
    from deisctl.output import users as views

    inv = invocation(ctx, fmt)
    result = ops.delete_users(inv, names, layers(ctx, node_values), yes=yes, dry_run=dry_run)
    emit(inv, views.changes(result), wrote=not dry_run)
    return result


@users_group.command("list")
@output_option
@node_options(django=DJANGO_ALL)
@click.pass_context
def list_(ctx: click.Context, fmt: Optional[str], **node_values):
    """Every user: username, administrator or not, whether they have an API token, date joined."""
    from deisctl.ops import users as ops
    from deisctl.output import users as views

    inv = invocation(ctx, fmt)
    result = ops.list_users(inv, layers(ctx, node_values))
    emit(inv, views.listing(result))
    return result
