"""`deisctl check`: smoke checks for CI and operators (deisctl.ops.check).

0 every check passed · 1 a check failed · 4 no etcd endpoint answered.
"""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.node_options import CONTAINER_ONLY, node_options, resolved
from deisctl.cli.options import invocation, output_option
from deisctl.output import emit


@click.command("check", cls=DeisctlCommand, short_help="Smoke checks of etcd and, optionally, the controller.")
@click.option("--controller", is_flag=True, help="Also SSH to the controller's node and check that its container runs.")
@click.option("--status", is_flag=True, help="Also every component on its nodes, as `deisctl status` shows them.")
@node_options(django=CONTAINER_ONLY)
@output_option
@click.pass_context
def check(ctx: click.Context, controller: bool, status: bool, fmt: Optional[str], **node_values):
    """Smoke checks: each endpoint answers (version, leader), the cluster has a leader, the
    required settings (platform/domain) are set and valid, the controller's heartbeat is there;
    with --controller, SSH to the controller's node works and its container is running; with
    --status, a row per component and node of `deisctl status` (its container runs, its
    heartbeat is published).

    Text: a table; JSON/YAML: a list of {check, ok, detail}. Exit status: 0 every check
    passed, 1 a check failed, 4 no etcd endpoint answered.
    """
    from deisctl.ops import check as ops
    from deisctl.output import check as views

    inv = invocation(ctx, fmt)
    result = ops.check(inv, resolved(ctx, inv, node_values), controller=controller, status=status)
    emit(inv, views.checks(result))  # printed before the boundary's error line, whatever the outcome
    return result
