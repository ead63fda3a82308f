"""The invocation: everything an operation may use from the outside world, handed in explicitly.

Operations (deisctl.ops) take an Invocation and return a result; they never read sys.argv,
sys.stdin, the process environment or a terminal themselves. The CLI builds one per command
(deisctl.cli.options.invocation); tests and other programs can build their own.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple, Optional, TextIO

from deisctl.settings import Settings


def _no_prompt(question: str, secret: bool = False) -> str:
    from deisctl.errors import UsageError

    raise UsageError(f"cannot ask {question.strip().rstrip(':?')!r}: there is no terminal")


def _no_confirm(question: str) -> bool:
    return False


class Invocation(NamedTuple):
    settings: Settings
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO
    env: Mapping[str, str] = {}
    is_terminal: bool = False  # stdin and stdout are a terminal: questions may be asked, a pty given
    prompt: Callable[..., str] = _no_prompt  # prompt(question, secret=False) -> answer
    confirm: Callable[[str], bool] = _no_confirm  # confirm(question) -> yes?

    @property
    def output(self) -> str:
        return self.settings.output

    @property
    def debug(self) -> bool:
        return self.settings.debug

    def note(self, message: str) -> None:
        """A message for people (progress, what was done): stderr, never stdout."""
        self.stderr.write(message + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        self.note(f"warning: {message}")

    def password_prompt(self) -> Optional[Callable[[str], str]]:
        """A prompt for secrets, or None when there is no terminal to ask on."""
        if not self.is_terminal:
            return None
        return lambda question: self.prompt(question, secret=True)
