"""The exit-code table and the exceptions that carry a code.

Every failure the user can cause or meet is raised as a DeisctlError subclass;
`deisctl.cli.main` is the one place that turns them into `error: ...` on stderr
and an exit code.
"""

from __future__ import annotations

from abc import ABC
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # the operation failed (remote error, unexpected etcd answer)
    USAGE = 2  # bad usage or invalid input; nothing was sent or written
    NOT_FOUND = 3  # a key, user, host or container that must exist does not
    UNREACHABLE = 4  # etcd (or a node) not reachable within the timeouts
    AUTH = 5  # authentication, permission or host-key verification refused
    CONFLICT = 6  # concurrent modification detected; nothing written
    COMPARISON_FAILED = 7  # `config diff` only: the comparison failed (its 1 means "different")
    PARTIAL = 8  # `config apply`, `restore`: their first transactions were written, the rest were not
    NOT_RECORDED = 9  # `users`: the change was made on the controller, its audit record was not written
    INTERRUPTED = 130  # Ctrl-C or SIGTERM (the shell's status for SIGINT)


MEANINGS = {
    ExitCode.OK: "ok",
    ExitCode.FAILED: "operation failed",
    ExitCode.USAGE: "bad usage or invalid input",
    ExitCode.NOT_FOUND: "not found",
    ExitCode.UNREACHABLE: "cannot reach etcd or the node within the timeouts",
    ExitCode.AUTH: "authentication, permission or host-key verification refused",
    ExitCode.CONFLICT: "conflict (concurrent modification)",
    ExitCode.COMPARISON_FAILED: "'config diff' could not compare",
    ExitCode.PARTIAL: "partly applied (the message says what was written)",
    ExitCode.NOT_RECORDED: "changed on the controller, but not recorded in the audit trail",
    ExitCode.INTERRUPTED: "interrupted",
}

EXIT_CODE_HELP = "Exit codes: " + ", ".join(f"{int(code)} {meaning}" for code, meaning in MEANINGS.items()) + "."


LIST_LIMIT = 5  # a message names at most this many items, then says how many more there are


def first_few(items, separator: str = ", ") -> str:
    """Up to LIST_LIMIT items joined, and ` and N more` for the rest: the one way a message lists
    keys, users or problems, so that no message grows with the input."""
    items = [str(item) for item in items]
    shown = separator.join(items[:LIST_LIMIT])
    return shown + (f" and {len(items) - LIST_LIMIT} more" if len(items) > LIST_LIMIT else "")


class DeisctlError(Exception):
    """An error with a one-line message and an exit code."""

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        line = f"error: {self.message}"
        if self.hint:
            line += f" ({self.hint})"
        # One line, whatever the message carried in, escaped as all text shown to people: a node's
        # or a controller's words inside it can neither forge a line nor drive the terminal.
        from deisctl.escaping import escape

        return escape(" ".join(line.splitlines()))


class UsageError(DeisctlError):
    exit_code = ExitCode.USAGE


class NotFoundError(DeisctlError):
    exit_code = ExitCode.NOT_FOUND


class UnreachableError(DeisctlError):
    exit_code = ExitCode.UNREACHABLE


class AuthError(DeisctlError):
    exit_code = ExitCode.AUTH


class ConflictError(DeisctlError):
    exit_code = ExitCode.CONFLICT


class ComparisonFailedError(DeisctlError):
    """`config diff` could not compare: what other commands report as 1 (its 1 means "different")."""

    exit_code = ExitCode.COMPARISON_FAILED


class Interrupted(DeisctlError):
    """Ctrl-C or SIGTERM while a remote change was under way: exit 130, with one line saying
    what is known (an interrupt anywhere else is exit 130 with no line: nothing was under way)."""

    exit_code = ExitCode.INTERRUPTED


class NotRecorded(DeisctlError):
    """A change made on the controller's node whose audit record etcd did not take: exit 9;
    the change stands."""

    exit_code = ExitCode.NOT_RECORDED


class PartlyApplied(DeisctlError):
    """A change set written in several transactions stopped after some of them were written:
    `written` (full keys) landed, the rest did not; `cause` is why it stopped. The operation
    attaches its `result` (what landed, what did not) before it lets this go."""

    exit_code = ExitCode.PARTIAL

    def __init__(self, message: str, *, written: list, cause: DeisctlError, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.written, self.cause = written, cause
        self.result = None


class Outcome(ABC):
    """The result types whose outcome is not plain success declare it: they are registered here
    (`@declares_outcome`) and carry `exit_code`, and `error` (a one-line message for stderr, or
    None) when they have one. The boundary reads these from registered types only; every other
    result is exit 0."""


def declares_outcome(cls):
    """Class decorator: cls's results carry exit_code and error (see Outcome)."""
    Outcome.register(cls)
    return cls
