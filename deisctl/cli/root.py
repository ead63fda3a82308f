"""The root command: the global options and the command groups (the tree the boundary runs)."""

from __future__ import annotations

import click

from deisctl import __version__, commands
from deisctl.cli import completion
from deisctl.cli.groups import LazyGroup, help_if_bare
from deisctl.cli.process import process_of
from deisctl.errors import EXIT_CODE_HELP
from deisctl.settings import (DEFAULT_COMMAND_TIMEOUT, DEFAULT_DIAL_TIMEOUT, DEFAULT_ENDPOINTS, DEFAULT_PREFIX,
                              OUTPUT_FORMATS, env_name)


def global_option(*flags: str, help: str, shown_default=None, **kwargs):
    """A global option whose help ends with its environment variable (settings.env_name, the one
    rule) and the default settings.build applies: `[env: DEISCTL_NAME; default: D]`. The option's
    own value stays None when not given (flag > environment > context > default)."""
    name = max(flags, key=len).lstrip("-").replace("-", "_")
    shown = f"env: {env_name(name)}" + ("" if shown_default is None else f"; default: {shown_default}")
    return click.option(*flags, help=f"{help} [{shown}]", **kwargs)


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
@global_option("--endpoints", metavar="URLS", shown_default=DEFAULT_ENDPOINTS,
               help="Comma-separated etcd client URLs; several = one cluster, with failover.")
@global_option("--prefix", metavar="PATH", shown_default=DEFAULT_PREFIX, help="Root of the Deis keys in etcd.")
@global_option("--cacert", metavar="FILE", help="CA bundle that signed the etcd server certificates (https endpoints).")
@global_option("--cert", metavar="FILE", help="Client certificate for TLS client authentication.")
@global_option("--key", metavar="FILE", help="Private key of --cert.")
@global_option("--user", metavar="NAME[:PASSWORD]",
               help="etcd user (needs https endpoints). A password given here is visible to other local users "
                    "in `ps`: prefer DEISCTL_PASSWORD or the prompt on a terminal.")
@global_option("--dial-timeout", metavar="SECONDS", shown_default=f"{DEFAULT_DIAL_TIMEOUT:g}",
               help="Time allowed to connect to an endpoint.")
@global_option("--command-timeout", metavar="SECONDS", shown_default=f"{DEFAULT_COMMAND_TIMEOUT:g}",
               help="Time allowed for each etcd request.")
@global_option("-o", "--output", metavar="FORMAT", shown_default="text", shell_complete=completion.choices(OUTPUT_FORMATS),
               help="text, json or yaml.")
@global_option("--tunnel", metavar="[USER@]HOST[:PORT]",
               help="Reach etcd and the nodes through this SSH bastion; --endpoints are resolved on its side.")
@global_option("--context", metavar="NAME", shell_complete=completion.context_names,
               help="Named cluster context from the config file (DEISCTL_CONFIG).")
@global_option("--reason", metavar="TEXT", help="Why: recorded with each change in the audit trail.")
@global_option("--debug", is_flag=True, default=None, help="Show tracebacks on errors.")
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
