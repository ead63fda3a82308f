"""The boundary: the one place where argv, the streams and the environment come in, and where
exceptions and results become `error: ...` lines and exit codes (deisctl.errors' table).

`run` builds everything from its arguments: nothing reads or replaces sys.stdin/stdout/stderr
or os.environ (tests run the real command tree in-process with their own streams). `main`, the
console script, is the only caller that hands over the process's own.

Click is used through its documented API only: commands and groups built with its decorators,
`Group.get_command`/`resolve_command`/`shell_complete` overrides, `make_context` + `invoke`,
its exception classes and `click.shell_completion`'s classes. Usage errors are reworded here,
so that they read the same on every supported Click version.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence, TextIO

import click

from deisctl.cli.completion import COMPLETE_VAR, respond
from deisctl.cli.process import Process
from deisctl.cli.root import root
from deisctl.cli.usage import usage_message
from deisctl.errors import DeisctlError, ExitCode, Outcome
from deisctl.settings import debug_enabled

_OUTPUT_ERRORS = (5, 9, 28, 32)  # EIO, EBADF, ENOSPC, EPIPE: writing stdout or stderr failed


def main(argv: Optional[list[str]] = None) -> None:
    """The console script: run with the process's argv, streams and environment; exit with the
    code of the exit-code table."""
    import os
    import signal
    import sys

    def terminated(_signum, _frame):  # SIGTERM ends deisctl as Ctrl-C does: through its cleanup and messages
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    streams = [_usable(sys.stdin), _usable(sys.stdout), _usable(sys.stderr)]
    for stream in streams[1:]:
        # An output encoding that cannot show a character (PYTHONIOENCODING=ascii, LANG=C) shows
        # it escaped instead of failing the command after its work is done.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    code = run(sys.argv[1:] if argv is None else argv, stdin=streams[0], stdout=streams[1], stderr=streams[2],
               env=os.environ)
    try:
        streams[1].flush()
    except (BrokenPipeError, ValueError):
        # The reader went away (`| head`): point the descriptor at /dev/null, so that the
        # interpreter's own flush at exit has nowhere to fail (Python's documented recipe).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass  # closed or full: already said (a warning or an error line), and in the exit code
    sys.exit(code)


class _Closed:
    """A standard stream the process was started without (`deisctl ... >&-`): Python gives None;
    every use fails as a closed descriptor does, so that deisctl says so instead of a traceback."""

    def _fail(self, *_args):
        import errno

        raise OSError(errno.EBADF, "the stream is closed")

    write = read = readline = flush = _fail

    def isatty(self) -> bool:
        return False


def _usable(stream):
    return _Closed() if stream is None else stream


def run(argv: Sequence[str], *, stdin: TextIO, stdout: TextIO, stderr: TextIO, env: Mapping[str, str]) -> int:
    """Run one command line with these streams and this environment; return its exit code."""
    process = Process(stdin, stdout, stderr, dict(env), tuple(argv))
    if COMPLETE_VAR in process.env:
        return respond(root, process)
    ctx = None
    try:
        ctx = root.make_context("deisctl", list(argv), obj=process)
        with ctx:
            result = root.invoke(ctx)  # what the command returned: its operation's result
        return _result_code(process, result)
    except click.exceptions.Exit as exc:  # --help, --version, ctx.exit(n)
        return exc.exit_code
    except DeisctlError as exc:
        _traceback(process, ctx)
        _error(process, exc.render())
        return int(exc.exit_code)
    except click.UsageError as exc:
        _error(process, usage_message(exc))
        return int(ExitCode.USAGE)
    except (click.Abort, KeyboardInterrupt, EOFError):
        return int(ExitCode.INTERRUPTED)  # Ctrl-C (or ^D at a question): the shell shows ^C; no error line
    except BrokenPipeError:
        return int(ExitCode.FAILED)  # the reader went away (e.g. `| head`): stop quietly
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRORS:
            return _unexpected(process, ctx, exc)
        _error(process, f"error: cannot write the output: {exc.strerror or exc}")  # --help on a full disk, ...
        return int(ExitCode.FAILED)
    except click.ClickException as exc:  # not raised by deisctl's own code; mapped all the same
        _error(process, f"error: {' '.join(exc.format_message().split())}")
        return int(ExitCode.FAILED)
    except Exception as exc:  # a bug, or a library failure that was not mapped
        return _unexpected(process, ctx, exc)
    finally:
        for stream in (stdout, stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


def _unexpected(process: Process, ctx, exc: BaseException) -> int:
    _traceback(process, ctx)
    detail = " ".join(str(exc).split()) or type(exc).__name__
    _error(process, f"error: unexpected {type(exc).__name__}: {detail} (for a traceback: rerun with "
                    "DEISCTL_DEBUG=1, or with --debug before the command)")
    return int(ExitCode.FAILED)


def _result_code(process: Process, result) -> int:
    """A result whose type declares its outcome (errors.Outcome: check, diff, dock, watch)
    decides the exit code, and may carry one line for stderr; any other result is success."""
    if not isinstance(result, Outcome):
        return int(ExitCode.OK)
    error = getattr(result, "error", None)  # Outcome: optional, for the types that have a message
    if error:
        _error(process, f"error: {' '.join(str(error).split())}")
    return int(result.exit_code)


def _error(process: Process, line: str) -> None:
    """The one `error:` line: escaped (it may carry argv, keys from etcd or a node's words)."""
    from deisctl.escaping import escape

    try:
        process.stderr.write(escape(" ".join(line.splitlines())) + "\n")
        process.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr itself is closed or full: the exit code is all that is left to say it


def _traceback(process: Process, ctx: Optional[click.Context]) -> None:
    if debug_enabled(ctx.params.get("debug") if ctx is not None else None, process.env):
        import traceback

        traceback.print_exc(file=process.stderr)
