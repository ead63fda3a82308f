"""The root command: the global options and the command groups (the tree the boundary runs)."""

from __future__ import annotations

import click

from deisctl import __version__, commands
from deisctl.cli import completion
from deisctl.cli.groups import LazyGroup, help_if_bare
from deisctl.cli.process import process_of
from deisctl.errors import EXIT_CODE_HELP
from deisctl.settings import (DEFAULT_COMMAND_TIMEOUT, DEFAULT_DIAL_TIMEOUT, DEFAULT_ENDPOINTS, DEFAULT_PREFIX,
                              OUTPUT_FORMATS)


def _version(ctx: click.Context, _param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"deisctl {__version__}", file=process_of(ctx).stdout)
        ctx.exit()


@click.group(
    cls=LazyGroup,
    lazy_subcommands=commands.ROOT,
    name="deisctl",
    help="Administer a Deis cluster whose configuration lives in etcd.",
    epilog=EXIT_CODE_HELP,
    invoke_without_command=True,
)
@click.option("--endpoints", metavar="URLS",
              help="Comma-separated etcd client URLs; several = one cluster, with failover. "
                   f"[env: DEISCTL_ENDPOINTS; default: {DEFAULT_ENDPOINTS}]")
@click.option("--prefix", metavar="PATH", help=f"Root of the Deis keys in etcd. [env: DEISCTL_PREFIX; default: {DEFAULT_PREFIX}]")
@click.option("--cacert", metavar="FILE",
              help="CA bundle that signed the etcd server certificates (https endpoints). [env: DEISCTL_CACERT]")
@click.option("--cert", metavar="FILE", help="Client certificate for TLS client authentication. [env: DEISCTL_CERT]")
@click.option("--key", metavar="FILE", help="Private key of --cert. [env: DEISCTL_KEY]")
@click.option("--user", metavar="NAME[:PASSWORD]",
              help="etcd user (needs https endpoints). A password given here is visible to other local users "
                   "in `ps`: prefer DEISCTL_PASSWORD or the prompt on a terminal. [env: DEISCTL_USER]")
@click.option("--dial-timeout", metavar="SECONDS",
              help=f"Time allowed to connect to an endpoint. [env: DEISCTL_DIAL_TIMEOUT; default: {DEFAULT_DIAL_TIMEOUT:g}]")
@click.option("--command-timeout", metavar="SECONDS",
              help=f"Time allowed for each etcd request. [env: DEISCTL_COMMAND_TIMEOUT; default: {DEFAULT_COMMAND_TIMEOUT:g}]")
@click.option("-o", "--output", metavar="FORMAT", shell_complete=completion.choices(OUTPUT_FORMATS),
              help="text, json or yaml. [env: DEISCTL_OUTPUT; default: text]")
@click.option("--tunnel", metavar="[USER@]HOST[:PORT]",
              help="Reach etcd and the nodes through this SSH bastion; --endpoints are resolved on its side. "
                   "[env: DEISCTL_TUNNEL]")
@click.option("--context", metavar="NAME", shell_complete=completion.context_names,
              help="Named cluster context from the config file (DEISCTL_CONFIG). [env: DEISCTL_CONTEXT]")
@click.option("--reason", metavar="TEXT", help="Why: recorded with each change in the audit trail. [env: DEISCTL_REASON]")
@click.option("--debug", is_flag=True, default=None, help="Show tracebacks on errors. [env: DEISCTL_DEBUG]")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Show the version and exit.")
@click.option("--show-completion", metavar="[SHELL]", is_flag=False, flag_value="", expose_value=False,
              is_eager=True, callback=completion.show_completion,
              help="Print the completion script for bash, zsh or fish (default: $SHELL).")
@click.option("--install-completion", metavar="[SHELL]", is_flag=False, flag_value="", expose_value=False,
              is_eager=True, callback=completion.install_completion,
              help="Install completion for bash, zsh or fish (default: $SHELL).")
@click.pass_context
def root(ctx: click.Context, **_flags) -> None:
    """The global options stay in ctx.params, where cli/options.py:global_flags reads them."""
    help_if_bare(ctx)  # a bare `deisctl`: the help is what the user needs
