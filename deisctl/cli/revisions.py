"""`deisctl config COMPONENT history|rollback|watch`: etcd's MVCC revisions of a component's keys."""

from __future__ import annotations

import contextlib

from typing import Optional

import click

from deisctl.cli import completion
from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.options import component_of, invocation, output_option
from deisctl.ops import revisions as ops
from deisctl.output import emit, emit_item
from deisctl.output import revisions as views


@click.command("history", cls=DeisctlCommand)
@click.argument("key", metavar="KEY", shell_complete=completion.keys)
@click.option("--show-secrets", is_flag=True, help="Print secret values.")
@output_option
@click.pass_context
def history(ctx: click.Context, key: str, show_secrets: bool, fmt: Optional[str]):
    """Previous values of KEY with their etcd revisions, oldest first.

    As far back as etcd has not compacted its history (a note says when it has). etcd keeps no
    wall-clock times: revisions are the order of changes across the whole cluster.
    """
    inv = invocation(ctx, fmt)
    result = ops.history(inv, component_of(ctx), key)
    emit(inv, views.history(result, show_secrets))
    return result


@click.command("rollback", cls=DeisctlCommand)
@click.argument("key", metavar="KEY", shell_complete=completion.keys)
@click.option("--to-revision", required=True, metavar="N", help="An etcd revision, as listed by 'history'.")
@click.option("--show-secrets", is_flag=True, help="Print secret values.")
@output_option
@click.pass_context
def rollback(ctx: click.Context, key: str, to_revision: str, show_secrets: bool, fmt: Optional[str]):
    """Restore the value KEY had at revision N.

    Guarded: if the key changes between the read and the write, nothing is written (exit 6).
    A revision etcd has compacted is gone (exit 3); so is a revision where KEY did not exist.
    """
    inv = invocation(ctx, fmt)
    result = ops.rollback(inv, component_of(ctx), key, to_revision)
    emit(inv, views.rolled_back(result, show_secrets), wrote=True)
    return result


@click.command("watch", cls=DeisctlCommand)
@click.argument("key", required=False, metavar="[KEY]", shell_complete=completion.keys)
@click.option("--count", metavar="N", help="Stop after N changes.")
@click.option("--timeout", metavar="SECONDS", help="Stop after this long (exit 1 if --count was not reached).")
@click.option("--show-secrets", is_flag=True, help="Print secret values.")
@output_option
@click.pass_context
def watch(ctx: click.Context, key: Optional[str], count: Optional[str], timeout: Optional[str], show_secrets: bool,
          fmt: Optional[str]) -> None:
    """Print each change as 'key: old → new' (JSON lines with -o json) until interrupted.

    Survives the failure of a member: reconnects through another endpoint and resumes at the
    revision after the last one printed, so no change is missed or repeated. Ctrl-C stops it
    with exit status 130 and no error message; --count/--timeout stop it with 0.
    """
    inv = invocation(ctx, fmt)
    # closing(): the stream and its channel are closed here, however the loop ends (Ctrl-C included).
    with contextlib.closing(ops.watch(inv, component_of(ctx), key, count=count, timeout=timeout)) as events:
        for event in events:
            emit_item(inv, *views.watch_event(event, show_secrets))
