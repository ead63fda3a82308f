"""`deisctl audit [COMPONENT] [--key KEY] [--since WHEN] [--limit N]` and `deisctl audit verify`."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.options import invocation, output_option
from deisctl.output import emit

VERIFY = "verify"  # `deisctl audit verify`: the chain's check, not a component


@click.command("audit", cls=DeisctlCommand, short_help="Who changed what, when and why (deisctl's writes).")
@click.argument("component", required=False)
@click.option("--key", metavar="KEY", help="Only records that change this key.")
@click.option("--since", metavar="WHEN", help="Only records at or after this UTC time (2026-12-03, 2026-12-03T10:00).")
@click.option("--limit", metavar="N", help="Only the last N records.")
@output_option
@click.pass_context
def audit(ctx: click.Context, component: Optional[str], key: Optional[str], since: Optional[str],
          limit: Optional[str], fmt: Optional[str]):
    """The records of deisctl's writes, oldest first: time (UTC), local user and host, the
    command (without values), the reason (--reason before the command, or DEISCTL_REASON), the
    revision and the keys changed. `deisctl audit verify` checks that none was deleted or
    edited (exit 1 naming the first that was)."""
    from deisctl.ops import audit as ops
    from deisctl.output import audit as views

    inv = invocation(ctx, fmt)
    if component == VERIFY:
        result = ops.verify(inv)
        emit(inv, views.verified(result))
        return result
    result = ops.list_records(inv, component, key, since, limit)
    emit(inv, views.records(result))
    return result
