"""The root command: the global options and the command groups (the tree the boundary runs)."""

from __future__ import annotations

import click

from deisctl import __version__
from deisctl.cli import completion
from deisctl.cli.groups import LazyGroup, help_if_bare
from deisctl.cli.options import RunState
from deisctl.errors import EXIT_CODE_HELP


def _version(ctx: click.Context, _param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"deisctl {__version__}")
        ctx.exit()


@click.group(
    cls=LazyGroup,
    lazy_subcommands={
        "config": "deisctl.cli.config.config_group",
        "registration": "deisctl.cli.registration.registration_group",
        "check": "deisctl.cli.check.check",
        "context": "deisctl.cli.context.context_group",
        "users": "deisctl.cli.users.users_group",
        "dock": "deisctl.cli.dock.dock",
    },
    name="deisctl",
    help="Administer a Deis cluster whose configuration lives in etcd.",
    epilog=EXIT_CODE_HELP,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--endpoints", metavar="URLS",
              help="Comma-separated etcd client URLs; several = one cluster, with failover. "
                   "[env: DEISCTL_ENDPOINTS; default: http://127.0.0.1:2379]")
@click.option("--prefix", metavar="PATH", help="Root of the Deis keys in etcd. [env: DEISCTL_PREFIX; default: /deis]")
@click.option("--cacert", metavar="FILE",
              help="CA bundle that signed the etcd server certificates (https endpoints). [env: DEISCTL_CACERT]")
@click.option("--cert", metavar="FILE", help="Client certificate for TLS client authentication. [env: DEISCTL_CERT]")
@click.option("--key", metavar="FILE", help="Private key of --cert. [env: DEISCTL_KEY]")
@click.option("--user", metavar="NAME[:PASSWORD]",
              help="etcd user (needs https endpoints). A password given here is visible to other local users "
                   "in `ps`: prefer DEISCTL_PASSWORD or the prompt on a terminal. [env: DEISCTL_USER]")
@click.option("--dial-timeout", metavar="SECONDS",
              help="Time allowed to connect to an endpoint. [env: DEISCTL_DIAL_TIMEOUT; default: 2]")
@click.option("--command-timeout", metavar="SECONDS",
              help="Time allowed for each etcd request. [env: DEISCTL_COMMAND_TIMEOUT; default: 5]")
@click.option("-o", "--output", metavar="FORMAT", help="text, json or yaml. [env: DEISCTL_OUTPUT; default: text]")
@click.option("--tunnel", metavar="[USER@]HOST[:PORT]",
              help="Reach etcd and the nodes through this SSH bastion; --endpoints are resolved on its side. "
                   "[env: DEISCTL_TUNNEL]")
@click.option("--context", metavar="NAME",
              help="Named cluster context from the config file (DEISCTL_CONFIG). [env: DEISCTL_CONTEXT]")
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
def root(ctx: click.Context, **flags) -> None:
    state: RunState = ctx.ensure_object(RunState)
    state.flags = flags
    if flags.get("debug"):
        state.debug = True
    help_if_bare(ctx)  # a bare `deisctl`: the help is what the user needs
