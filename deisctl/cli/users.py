"""`deisctl users revoke-token|promote|demote|list`: the controller's users, changed from
inside its container over SSH (deisctl.ops.users)."""

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


@click.group("users", cls=DeisctlGroup, short_help="The controller's users: tokens, administrators.", epilog=EXIT_CODE_HELP)
@node_options(django=DJANGO_ALL)
@click.pass_context
def users_group(ctx: click.Context, **node_values) -> None:
    """Manage the controller's users inside its container, over SSH: revoke API tokens,
    promote and demote administrators, list."""
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
