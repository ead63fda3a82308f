"""`deisctl registration status|enable|disable|admin-only`: both registration keys, consistently."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.options import invocation, output_option
from deisctl.ops import registration as ops
from deisctl.output import emit
from deisctl.output import registration as views


@click.group("registration", cls=DeisctlGroup, short_help="Who may register, on every Deis version.")
@click.pass_context
def registration_group(ctx: click.Context) -> None:
    """Who may register new users, on every Deis version: Deis < 1.6 reads
    controller/registrationEnabled, Deis >= 1.6 controller/registrationMode; these commands
    write both in one transaction."""
    help_if_bare(ctx)


@registration_group.command("status")
@output_option
@click.pass_context
def status(ctx: click.Context, fmt: Optional[str]):
    """What Deis < 1.6 and >= 1.6 do with today's keys, and whether they contradict each other."""
    inv = invocation(ctx, fmt)
    result = ops.status(inv)
    emit(inv, views.registration(result))
    return result


def _setter(action: str, summary: str):
    @click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
    @output_option
    @click.pass_context
    def command(ctx: click.Context, dry_run: bool, fmt: Optional[str]):
        inv = invocation(ctx, fmt)
        result = ops.set_registration(inv, action, dry_run=dry_run)
        emit(inv, views.registration(result), wrote=not dry_run)
        return result

    legacy, mode = ops.ACTIONS[action]
    command.__doc__ = f"{summary}: registrationEnabled={legacy} and registrationMode={mode}, atomically."
    return registration_group.command(action)(command)


enable = _setter("enable", "Anyone may register")
disable = _setter("disable", "Nobody may register")
admin_only = _setter("admin-only", "Only administrators may register new users")
