"""The root command and the boundary: the one place where argv, the process's streams and
environment come in, and where exceptions become `error: ...` lines and exit codes.

Click is used through its documented API only: commands and groups built with its
decorators, `Group.get_command`/`resolve_command`/`shell_complete` overrides, and its
exception classes. Usage errors are reworded here, so that they read the same on every
supported Click version.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping, Optional

import click

from deisctl import __version__
from deisctl.cli import completion
from deisctl.cli.completion import COMPLETE_VAR
from deisctl.cli.groups import DeisctlGroup, help_if_bare
from deisctl.cli.options import RunState
from deisctl.errors import EXIT_CODE_HELP, DeisctlError, ExitCode

def _version(ctx: click.Context, _param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"deisctl {__version__}")
        ctx.exit()


@click.group(
    cls=DeisctlGroup,
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


def _register() -> None:
    from deisctl.cli import check, config, context, dock, users

    root.add_command(config.config_group)
    root.add_command(check.check)
    root.add_command(context.context_group)
    root.add_command(users.users_group)
    root.add_command(dock.dock)


_register()


# -- the boundary ----------------------------------------------------------------------------

def main(argv: Optional[list[str]] = None) -> None:
    """The console script: run and exit with the code of the exit-code table."""
    sys.exit(run(argv))


def run(argv: Optional[list[str]] = None, *, env: Optional[Mapping[str, str]] = None, stdin=None, stdout=None,
        stderr=None) -> int:
    """Run one command line; return its exit code. Streams and environment may be injected
    (tests run the real command tree in-process this way); by default they are the process's."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ if env is None else env)
    saved = sys.stdin, sys.stdout, sys.stderr
    # Click writes help and completion to sys.stdout: point the process's streams at the injected ones.
    sys.stdin, sys.stdout, sys.stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    state = RunState(env=env, debug=bool(env.get("DEISCTL_DEBUG")))
    try:
        return _run(argv, state)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdin, sys.stdout, sys.stderr = saved


def _run(argv: list[str], state: RunState) -> int:
    if COMPLETE_VAR in state.env:
        return _complete(state)
    try:
        with root.make_context("deisctl", argv, obj=state) as ctx:
            result = root.invoke(ctx)  # what the command returned: its operation's result
        return _result_code(result)
    except click.exceptions.Exit as exc:  # --help, --version, ctx.exit(n)
        return exc.exit_code
    except DeisctlError as exc:
        _traceback(state)
        code = exc.exit_code
        if code == ExitCode.FAILED and state.failure_code is not None:
            code = state.failure_code
        _error(exc.render())
        return int(code)
    except click.UsageError as exc:
        _error(_usage_message(exc))
        return int(ExitCode.USAGE)
    except (click.Abort, KeyboardInterrupt):
        return int(ExitCode.INTERRUPTED)  # Ctrl-C: the shell shows ^C; no error line
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return int(ExitCode.FAILED)
    except click.ClickException as exc:  # not raised by deisctl's own code; mapped all the same
        _error(f"error: {' '.join(exc.format_message().split())}")
        return int(ExitCode.FAILED)
    except Exception as exc:  # a bug, or a library failure that was not mapped
        _traceback(state)
        detail = " ".join(str(exc).split()) or type(exc).__name__
        _error(f"error: unexpected {type(exc).__name__}: {detail} (rerun with --debug for a traceback)")
        return int(ExitCode.FAILED if state.failure_code is None else state.failure_code)


def _result_code(result) -> int:
    """A result decides its exit code when the outcome is not simply success (check, diff, dock,
    watch): `exit_code`, and `error`, a one-line message for stderr."""
    error = getattr(result, "error", None)
    if error:
        _error(f"error: {' '.join(str(error).split())}")
    return int(getattr(result, "exit_code", ExitCode.OK))


def _complete(state: RunState) -> int:
    """Click's completion protocol (`_DEISCTL_COMPLETE=bash_complete COMP_WORDS=... deisctl`)."""
    try:
        root.main([], prog_name="deisctl", complete_var=COMPLETE_VAR, obj=state)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(ExitCode.OK)
    return int(ExitCode.OK)


def _error(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _traceback(state: RunState) -> None:
    if state.debug:
        import traceback

        traceback.print_exc()


def _usage_message(exc: click.UsageError) -> str:
    """deisctl's words for Click's usage errors: one line, the same on every Click version."""
    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else "deisctl"
    hint = f"see '{where} --help'"
    if isinstance(exc, click.NoSuchOption):
        option = exc.option_name
        message = f"no such option: {option}"
        close = [p for p in (getattr(exc, "possibilities", None) or ()) if p != option]
        if close:
            message += f" (did you mean {sorted(close)[0]}?)"
        if ctx is not None and ctx.parent is not None and option in _global_options(ctx):
            hint = (f"{option} is a global option: put it before the command, "
                    f"as in 'deisctl {option} ... {ctx.command_path.split(' ', 1)[-1]} ...'")
        return f"error: {message} ({hint})"
    if isinstance(exc, click.BadOptionUsage):
        option = exc.option_name
        param = _param_named(ctx, option)
        if param is not None and getattr(param, "is_flag", False):
            return f"error: option {option} takes no value ({hint})"
        return f"error: option {option} needs a value ({hint})"
    if isinstance(exc, click.MissingParameter):
        param = exc.param
        if isinstance(param, click.Argument):
            return f"error: missing argument {param.human_readable_name} ({hint})"
        if isinstance(param, click.Option):
            return f"error: missing option {param.opts[0]} ({hint})"
    if isinstance(exc, click.BadParameter) and exc.param is not None:
        name = exc.param.opts[0] if isinstance(exc.param, click.Option) else exc.param.human_readable_name
        return f"error: invalid value for {name} ({hint})"
    if isinstance(exc, click.BadArgumentUsage) or type(exc) is click.UsageError:
        # e.g. more arguments than the command takes
        return f"error: {_first_words(exc)} ({hint})"
    return f"error: {_first_words(exc)} ({hint})"


def _first_words(exc: click.ClickException) -> str:
    text = " ".join(exc.format_message().split()).rstrip(".")
    return text[:1].lower() + text[1:]


def _param_named(ctx: Optional[click.Context], option: str):
    if ctx is None:
        return None
    for param in ctx.command.params:
        if option in getattr(param, "opts", ()) or option in getattr(param, "secondary_opts", ()):
            return param
    return None


def _global_options(ctx: click.Context) -> set:
    return {name for param in ctx.find_root().command.params for name in param.opts}
