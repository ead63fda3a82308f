"""Root command: global options, sub-command groups, and the one place where
exceptions become `error: ...` lines and exit codes."""

from __future__ import annotations

import os
import sys

from typing import Any, Optional

import typer

from deisctl import __version__, settings as settings_mod
from deisctl.cli.lazy import LazyGroup
from deisctl.errors import EXIT_CODE_HELP, DeisctlError, ExitCode

# Click's exceptions, from Click itself or from the copy that Typer >= 0.26 ships.
click_errors = sys.modules[typer.Exit.__module__]


class RootGroup(LazyGroup):
    """Runs the command tree and maps every failure to one stderr line and an exit code."""

    lazy_table = "root"  # check, context, users, dock: built when used (deisctl.cli.lazy)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra: Any):
        argv = list(sys.argv[1:] if args is None else args)
        code = _run(
            lambda: super(RootGroup, self).main(
                argv, prog_name or "deisctl", complete_var, standalone_mode=False, **extra
            ),
            debug="--debug" in argv or bool(os.environ.get("DEISCTL_DEBUG")),
        )
        if standalone_mode:
            sys.exit(code)
        return code


def _run(invoke, debug: bool) -> int:
    try:
        rv = invoke()
        return rv if isinstance(rv, int) else ExitCode.OK
    except DeisctlError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        typer.echo(exc.render(), err=True)
        return int(exc.exit_code)
    except click_errors.NoArgsIsHelpError as exc:
        # A bare `deisctl` or `deisctl config`: the help was what the user needed.
        typer.echo(exc.ctx.get_help())
        return int(ExitCode.OK)
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "deisctl"
        message = " ".join(exc.format_message().splitlines())
        hint = f"see '{where} --help'"
        option = getattr(exc, "option_name", None)
        if isinstance(exc, click_errors.NoSuchOption) and exc.ctx and exc.ctx.parent and option in _global_options(exc.ctx):
            hint = f"{option} is a global option: put it before the command, as in 'deisctl {option} ... config ...'"
        typer.echo(f"error: {message} ({hint})", err=True)
        return int(ExitCode.USAGE)
    except click_errors.Exit as exc:
        return exc.exit_code
    except (click_errors.Abort, KeyboardInterrupt):
        typer.echo("error: interrupted", err=True)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly without a traceback.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return int(ExitCode.FAILED)
    except Exception as exc:  # a bug, or a library failure we did not map
        if debug:
            import traceback

            traceback.print_exc()
        detail = " ".join(str(exc).splitlines()) or type(exc).__name__
        typer.echo(f"error: unexpected {type(exc).__name__}: {detail} (rerun with --debug for a traceback)",
                   err=True)
        return int(ExitCode.FAILED)


def _global_options(ctx) -> set:
    root = ctx.find_root().command
    return {name for param in root.params for name in param.opts}


app = typer.Typer(
    cls=RootGroup,
    name="deisctl",
    help="Administer a Deis cluster whose configuration lives in etcd.",
    epilog=EXIT_CODE_HELP,
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"deisctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    endpoints: Optional[str] = typer.Option(
        None, "--endpoints", envvar="DEISCTL_ENDPOINTS", metavar="URLS",
        help=f"Comma-separated etcd client URLs; several = one cluster, with failover. [default: {settings_mod.DEFAULT_ENDPOINTS}]"),
    prefix: Optional[str] = typer.Option(
        None, "--prefix", envvar="DEISCTL_PREFIX", metavar="PATH",
        help=f"Root of the Deis keys in etcd. [default: {settings_mod.DEFAULT_PREFIX}]"),
    cacert: Optional[str] = typer.Option(None, "--cacert", envvar="DEISCTL_CACERT", metavar="FILE",
                                         help="CA bundle that signed the etcd server certificates (https endpoints)."),
    cert: Optional[str] = typer.Option(None, "--cert", envvar="DEISCTL_CERT", metavar="FILE",
                                       help="Client certificate for TLS client authentication."),
    key: Optional[str] = typer.Option(None, "--key", envvar="DEISCTL_KEY", metavar="FILE",
                                      help="Private key of --cert."),
    user: Optional[str] = typer.Option(
        None, "--user", envvar="DEISCTL_USER", metavar="NAME[:PASSWORD]",
        help="etcd user (needs https endpoints). Without :PASSWORD, DEISCTL_PASSWORD or a prompt on a terminal."),
    dial_timeout: Optional[float] = typer.Option(
        None, "--dial-timeout", envvar="DEISCTL_DIAL_TIMEOUT", metavar="SECONDS",
        help=f"Time allowed to connect to an endpoint. [default: {settings_mod.DEFAULT_DIAL_TIMEOUT:g}]"),
    command_timeout: Optional[float] = typer.Option(
        None, "--command-timeout", envvar="DEISCTL_COMMAND_TIMEOUT", metavar="SECONDS",
        help=f"Time allowed for each etcd request. [default: {settings_mod.DEFAULT_COMMAND_TIMEOUT:g}]"),
    output: Optional[str] = typer.Option(None, "-o", "--output", envvar="DEISCTL_OUTPUT", metavar="FORMAT",
                                         help="text, json or yaml. [default: text]"),
    tunnel: Optional[str] = typer.Option(
        None, "--tunnel", envvar="DEISCTL_TUNNEL", metavar="HOST[:PORT]",
        help="Reach etcd and the nodes through this SSH bastion; --endpoints are resolved on its side."),
    context: Optional[str] = typer.Option(
        None, "--context", envvar="DEISCTL_CONTEXT", metavar="NAME",
        help="Named cluster context from the config file (DEISCTL_CONFIG)."),
    debug: bool = typer.Option(False, "--debug", envvar="DEISCTL_DEBUG", help="Show tracebacks on errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    ctx.obj = settings_mod.build(
        endpoints=endpoints, prefix=prefix, cacert=cacert, cert=cert, key=key, user=user,
        dial_timeout=dial_timeout, command_timeout=command_timeout, output=output, debug=debug,
        tunnel=tunnel, context=context, lenient_context=ctx.invoked_subcommand == "context",
    )


def _register() -> None:
    from deisctl.cli import config

    app.add_typer(config.config_app, name="config")


_register()


def main(argv: Optional[list[str]] = None) -> None:
    typer.main.get_command(app).main(argv, prog_name="deisctl")
