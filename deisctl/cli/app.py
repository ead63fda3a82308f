"""The boundary: the one place where argv, the process's streams and environment come in, and
where exceptions and results become `error: ...` lines and exit codes (deisctl.errors' table).

Click is used through its documented API only: commands and groups built with its decorators,
`Group.get_command`/`resolve_command`/`shell_complete` overrides, `make_context` + `invoke`, and
its exception classes. Usage errors are reworded here, so that they read the same on every
supported Click version.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping, Optional

import click

from deisctl.cli.completion import COMPLETE_VAR
from deisctl.cli.options import RunState
from deisctl.cli.root import root
from deisctl.cli.usage import usage_message
from deisctl.errors import DeisctlError, ExitCode


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
        _error(usage_message(exc))
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
        _error(f"error: unexpected {type(exc).__name__}: {detail} (for a traceback: rerun with DEISCTL_DEBUG=1, "
               "or with --debug before the command)")
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
