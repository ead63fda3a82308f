"""A real interactive bash on a pseudo-terminal, for testing completion as a person gets it: the
keys are typed (TAB included), readline and bash's own word splitting do the rest."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time

from tests.rig.process import stop_process

_PROMPT = "rig$ "
_MARK = "@@"


class InteractiveBash:
    """`bash --norc -i` on a pty, with deisctl's completion script loaded and `bin_dir` first on PATH."""

    def __init__(self, bin_dir: str, env: dict, timeout: float = 30):
        self.timeout = timeout
        self.env = dict(env, PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}", TERM="dumb",
                        INPUTRC="/dev/null", PS1=_PROMPT, HISTFILE="/dev/null")
        self.proc: subprocess.Popen | None = None
        self.master = -1
        self.output = ""

    def __enter__(self) -> "InteractiveBash":
        self.master, slave = os.openpty()
        try:
            self.proc = subprocess.Popen(["bash", "--norc", "--noprofile", "-i"], stdin=slave, stdout=slave,
                                         stderr=slave, env=self.env, start_new_session=True, close_fds=True)
        finally:
            os.close(slave)
        self.run_line('eval "$(deisctl --show-completion bash)"; bind "set bell-style none"')
        return self

    def __exit__(self, *exc) -> None:
        stop_process(self.proc)
        os.close(self.master)

    def _read_until(self, pattern: re.Pattern, start: int) -> re.Match:
        deadline = time.monotonic() + self.timeout
        while True:
            found = pattern.search(self.output, start)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"bash did not print {pattern.pattern!r}; it printed:\n{self.output[start:]}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # bash is gone
                    chunk = b""
                if not chunk:
                    raise EOFError(f"bash exited; it printed:\n{self.output[start:]}")
                self.output += chunk.decode("utf-8", "replace").replace("\r", "")

    def run_line(self, line: str) -> None:
        start = len(self.output)
        os.write(self.master, line.encode() + b"\r")
        self._read_until(re.compile(re.escape(_PROMPT)), start)

    def line_after(self, keys: str) -> str:
        """Type keys (with \\t for TAB) at an empty prompt and return the command line they leave."""
        return self.type(keys)[0]

    def type(self, keys: str) -> tuple[str, str]:
        """Type keys at an empty prompt; then Ctrl-A puts `echo @@ ` before what they left and Enter
        runs it (readline takes the keys in order, so this waits for every TAB's completion).
        Returns (the line's words as echo prints them, everything bash showed meanwhile: a TAB
        TAB's candidates)."""
        start = len(self.output)
        os.write(self.master, keys.encode() + b"\x01" + f"echo {_MARK} ".encode() + b"\r")
        found = self._read_until(re.compile(rf"^{_MARK} (.*)\n", re.M), start)
        self._read_until(re.compile(re.escape(_PROMPT)), found.end())
        return found.group(1).rstrip(), self.output[start:found.start()]


class InteractiveShell:
    """zsh or fish, interactive on a pty that is its controlling terminal (fish needs one), with
    deisctl's completion script for that shell loaded (Click's own). `line_after(keys)` types keys
    (TAB included), then Ctrl-A puts `rigsave ` before what they left and Enter runs it: a
    function that writes its arguments to a file, read back here (the screen of a line editor is
    no place to read a result from)."""

    SETUP = {
        "zsh": ("rigsave() {{ print -r -- \"$*\" > {file}; }}; PS1='rig$ '; autoload -Uz compinit && "
                "compinit -u; eval \"$(deisctl --show-completion zsh)\"; unsetopt beep"),
        "fish": ("function rigsave; echo $argv > {file}; end; function fish_prompt; echo -n 'rig$ '; end; "
                 "set -g fish_greeting; deisctl --show-completion fish | source"),
    }
    ARGV = {"zsh": ["zsh", "-f", "-i"], "fish": ["fish", "--no-config", "-i"]}

    def __init__(self, shell: str, bin_dir: str, env: dict, work: str, timeout: float = 30):
        self.shell, self.timeout = shell, timeout
        self.saved = os.path.join(work, f"{shell}-line.txt")
        self.env = dict(env, PATH=f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}", HISTFILE="/dev/null",
                        TERM="dumb" if shell == "zsh" else "xterm", HOME=work, XDG_CONFIG_HOME=work,
                        XDG_DATA_HOME=work)
        self.proc: subprocess.Popen | None = None
        self.master = -1

    def __enter__(self) -> "InteractiveShell":
        import fcntl
        import termios

        def controlling_terminal():  # its own session, the pty as its terminal
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.master, slave = os.openpty()
        try:
            self.proc = subprocess.Popen(self.ARGV[self.shell], stdin=slave, stdout=slave, stderr=slave, env=self.env,
                                         preexec_fn=controlling_terminal, close_fds=True)
        finally:
            os.close(slave)
        self._drain(1.0)
        self._save(self.SETUP[self.shell].format(file=self.saved) + "; rigsave ready\r")
        return self

    def __exit__(self, *exc) -> None:
        stop_process(self.proc)
        os.close(self.master)

    def _drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    return

    def _save(self, keys: str) -> str:
        if os.path.exists(self.saved):
            os.unlink(self.saved)
        os.write(self.master, keys.encode())
        deadline = time.monotonic() + self.timeout
        while not (os.path.exists(self.saved) and open(self.saved).read().endswith("\n")):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.shell} did not run rigsave for {keys!r}")
            self._drain(0.05)
        return open(self.saved).read().rstrip("\n")

    def line_after(self, keys: str) -> str:
        """Type keys (with \\t for TAB) at an empty prompt; the command line they leave."""
        self._drain(0.2)
        return self._save(keys + "\x01rigsave \r")
