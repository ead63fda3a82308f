"""The invocation: everything an operation may use from the outside world, handed in explicitly.

Operations (deisctl.ops) take an Invocation and return a result; they never read sys.argv,
sys.stdin, the process environment or a terminal themselves. The CLI builds one per command
(deisctl.cli.options.invocation), deisctl.api one per client; tests can build their own.

Questions: `prompt` and `confirm` are None when nobody can be asked (no terminal, a program):
operations then refuse with a hint instead of asking. `stores` and `sessions` make the etcd
client and the SSH sessions (None: deisctl's own), so a caller can wrap them.
"""

from __future__ import annotations

from typing import Callable, Mapping, NamedTuple, Optional, TextIO

from deisctl.settings import Settings


class Invocation(NamedTuple):
    settings: Settings
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO  # messages for people: notes, warnings (never results)
    env: Mapping[str, str] = {}  # DEISCTL_* of the node options, HOME for ~, TERM, ...
    prompt: Optional[Callable[..., str]] = None  # prompt(question, secret=False) -> answer; None: cannot ask
    confirm: Optional[Callable[[str], bool]] = None  # confirm(question) -> yes?; None: cannot ask
    pty: bool = False  # stdin and stdout are a terminal: `dock` gives the remote command a pty
    stores: Optional[Callable] = None  # stores(settings, via=, on_close=) -> etcd.client.Store
    sessions: Optional[Callable] = None  # sessions(host, ssh_options, via=, note=, passphrase_prompt=) -> Session
    terminal_out: bool = False  # stdout is a terminal: a person reads it (`get KEY` escapes what it prints)
    terminal_err: bool = False  # stderr is a terminal: progress lines rewritten in place are shown there
    door: str = "cli"  # who called: "cli" (messages name --flags) or "api" (they name keyword arguments)

    @property
    def output(self) -> str:
        return self.settings.output

    @property
    def debug(self) -> bool:
        return self.settings.debug

    def name_of(self, name: str, *, flag: Optional[str] = None) -> str:
        """An option's name as the caller spells it, for messages: `--tail` on the CLI, `tail`
        through deisctl.api and the collection (whose options are the API's names). name: the
        API's keyword; flag: the CLI's, when it is not --name-with-dashes (`--all` for all_users)."""
        if self.door == "api":
            return name
        return flag or "--" + name.replace("_", "-")

    def option(self, name: str, value: Optional[str] = None, *, flag: Optional[str] = None) -> str:
        """An option given, for hints: `--yes`, `--tail 100` on the CLI; `yes=True`, `tail=100`
        through deisctl.api."""
        if self.door == "api":
            return f"{name}={'True' if value is None else value}"
        return self.name_of(name, flag=flag) + ("" if value is None else f" {value}")

    def note(self, message: str) -> None:
        """A message for people (progress, what was done): stderr, never stdout; one line, escaped
        (it may name keys from etcd or words from a node)."""
        from deisctl.escaping import escape

        self.stderr.write(escape(message) + "\n")
        self.stderr.flush()

    def warn(self, message: str) -> None:
        self.note(f"warning: {message}")

    def password_prompt(self) -> Optional[Callable[[str], str]]:
        """A prompt for secrets, or None when nobody can be asked."""
        prompt = self.prompt
        if prompt is None:
            return None
        return lambda question: prompt(question, secret=True)
