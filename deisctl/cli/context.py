"""`deisctl context list|use|show`: named clusters from the config file (see deisctl.contexts)."""

from __future__ import annotations

from typing import Optional

import click

from deisctl.cli import completion
from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.options import invocation, output_option
from deisctl.ops import contexts as ops
from deisctl.output import contexts as views
from deisctl.output import emit


@click.group("context", cls=DeisctlGroup, short_help="Named cluster contexts from the config file.")
@click.pass_context
def context_group(ctx: click.Context) -> None:
    """Named cluster contexts from the config file (DEISCTL_CONFIG, default ~/.config/deisctl/config.yaml).

    The file, for example:

    \b
        current-context: staging
        contexts:
          staging:
            endpoints: http://10.0.1.10:2379,http://10.0.1.11:2379
            prefix: /deis
          prod:
            endpoints: [https://10.0.0.10:2379, https://10.0.0.11:2379]
            cacert: ~/.deis/prod/ca.pem     # relative paths: to this file
            user: root                      # password: DEISCTL_PASSWORD or a prompt
            ssh_user: core
            controller_host: 10.0.0.12

    Every option is flag > DEISCTL_* environment variable > context > default.
    """
    help_if_bare(ctx)


@context_group.command("list")
@output_option
@click.pass_context
def list_(ctx: click.Context, fmt: Optional[str]):
    """List the contexts; * marks the one in use."""
    inv = invocation(ctx, fmt, lenient_context=True)
    result = ops.list_contexts(inv)
    emit(inv, views.context_list(result))
    return result


@context_group.command("use")
@click.argument("name", shell_complete=completion.context_names)
@click.pass_context
def use(ctx: click.Context, name: str) -> None:
    """Make NAME the current context (current-context in the file; the rest is kept as is)."""
    ops.use(invocation(ctx, lenient_context=True), name)


@context_group.command("show")
@click.argument("name", required=False, shell_complete=completion.context_names)
@output_option
@click.pass_context
def show(ctx: click.Context, name: Optional[str], fmt: Optional[str]):
    """Show a context's settings, or (without NAME) every setting in effect and where it came
    from: flag or environment > context > default."""
    inv = invocation(ctx, fmt, lenient_context=True)
    if name is not None:
        result = ops.show(inv, name)
        emit(inv, views.context_settings(result))
    else:
        result = ops.effective(inv)
        emit(inv, views.effective(result))
    return result
