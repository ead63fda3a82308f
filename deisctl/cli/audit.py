"""`deisctl audit [COMPONENT] [--key KEY] [--since WHEN] [--limit N]`, `deisctl audit verify
[--expect-head SEQ:HASH]`, `deisctl audit repair` and `deisctl audit policy [--keep N|all]
[--max-age DAYS|none]`."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.options import invocation, output_option
from deisctl.errors import UsageError
from deisctl.output import emit

VERIFY = "verify"  # `deisctl audit verify`: the chain's check, not a component
REPAIR = "repair"  # `deisctl audit repair`: the head rebuilt from the records
POLICY = "policy"  # `deisctl audit policy`: the cluster's retention
MODES = (VERIFY, REPAIR, POLICY)
# Which options each way of calling `audit` takes (None: listing records).
OPTIONS_OF = {None: {"key", "since", "limit"}, VERIFY: {"expect_head"}, REPAIR: set(), POLICY: {"keep", "max_age"}}


@click.command("audit", cls=DeisctlCommand, short_help="Who changed what, when and why (deisctl's writes).")
@click.argument("component", required=False)
@click.option("--key", metavar="KEY", help="Only records that change this key.")
@click.option("--since", metavar="WHEN", help="Only records at or after this UTC time (2026-12-03, 2026-12-03T10:00).")
@click.option("--limit", metavar="N", help="Only the last N records.")
@click.option("--expect-head", metavar="SEQ:HASH", help="verify: the trail must still hold this head (as verify printed it).")
@click.option("--keep", metavar="N|all", help="policy: keep the newest N records.")
@click.option("--max-age", metavar="DAYS|none", help="policy: trim records older than DAYS.")
@output_option
@click.pass_context
def audit(ctx: click.Context, component: Optional[str], fmt: Optional[str], **options):
    """The records of deisctl's writes, oldest first: time (UTC), local user and host, the
    command (without values), the reason (--reason before the command, or DEISCTL_REASON), the
    revision and the keys changed.

    `deisctl audit verify` checks that none was deleted or edited (exit 1 naming the first that
    was), also against the head this machine last saw and, with --expect-head, a head kept from an
    earlier verify. `deisctl audit repair` rebuilds a missing or damaged head from the records.
    `deisctl audit policy` shows or sets how long the cluster keeps records (--keep, --max-age)."""
    from deisctl.ops import audit as ops
    from deisctl.output import audit as views

    mode = component if component in MODES else None
    stray = [name for name, value in options.items() if value is not None and name not in OPTIONS_OF[mode]]
    if stray:
        flag = "--" + stray[0].replace("_", "-")
        raise UsageError(f"{flag} goes with 'deisctl audit {_mode_of(stray[0])}', not with "
                         f"'deisctl audit{' ' + component if component else ''}'")
    inv = invocation(ctx, fmt)
    if mode == VERIFY:
        result = ops.verify(inv, options["expect_head"])
        emit(inv, views.verified(result))
    elif mode == REPAIR:
        result = ops.repair(inv)
        emit(inv, views.repaired(result), wrote=True)
    elif mode == POLICY:
        result = ops.policy(inv, options["keep"], options["max_age"])
        emit(inv, views.policy(result), wrote=result.changed)
    else:
        result = ops.list_records(inv, component, options["key"], options["since"], options["limit"])
        emit(inv, views.records(result))
    return result


def _mode_of(option: str) -> str:
    return next((mode or "[COMPONENT]") for mode, names in OPTIONS_OF.items() if option in names)
