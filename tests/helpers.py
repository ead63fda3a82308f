"""Helpers shared by the test modules (fixtures are in tests/conftest.py and tests/plugins/remote_rig.py)."""
from __future__ import annotations

import contextlib
import subprocess
import time
import uuid


CERT_PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
PRIVATE_KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAsecretbytes\n-----END PRIVATE KEY-----\n"

# Usernames that must be refused before anything is sent to a node: shell and Python injection,
# path tricks, control and separator characters, option lookalikes, Django's length limit.
HOSTILE_USERNAMES = [
    "bob; touch /tmp/deisctl-canary",
    "$(touch /tmp/deisctl-canary)",
    "`touch /tmp/deisctl-canary`",
    "bob'); import os; os.system('touch /tmp/deisctl-canary'); ('",
    'bob"\nimport os\n',
    "bob\n",
    "bob smith",
    "../../etc/passwd",
    "",
    "a" * 151,
    "bob\x00",
    "bob\u2028",
    "-o ProxyCommand=x",
]


def write(tmp_path, text: str, name: str = "settings.yaml") -> str:
    """A file in the test's folder (a settings document by default); its path."""
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def assert_error(outcome, code: int, *fragments: str):
    """One `error: ...` line on stderr, no traceback, the exit code, and each fragment in that line."""
    assert outcome.exit_code == code, (outcome.exit_code, outcome.stdout, outcome.stderr)
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.stderr
    assert "Traceback" not in outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def hint_of(out) -> str:
    """The hint: the parenthesised end of the one error line."""
    line = out.stderr.strip()
    assert line.startswith("error: ") and line.endswith(")"), out.stderr
    depth = 0
    for index in range(len(line) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(line[index], 0)
        if depth == 0:
            return line[index + 1:-1]
    raise AssertionError(f"unbalanced hint: {line}")


def new_users(n: int, tag: str = "u") -> list[str]:
    """Unique usernames: the controller container is shared by the whole session."""
    return [f"{tag}{uuid.uuid4().hex[:10]}" for _ in range(n)]


def node_flags(sshd, *, known_hosts: str | None = None, key: str | None = None, port: int | None = None) -> list:
    """Options that reach the rig's node (this machine's sshd, whose sessions see the private dockerd)."""
    return ["--host", sshd.host, "--ssh-port", str(port or sshd.port), "--ssh-user", sshd.user,
            "--ssh-key", key or sshd.client_key, "--known-hosts", known_hosts or sshd.known_hosts]


def ssh_connections(sshd) -> int:
    """Connections sshd has accepted so far (it logs each at LogLevel VERBOSE)."""
    return sshd.log_path.read_text(errors="replace").count("Connection from")


class ExecCounter:
    """`docker exec` processes started in the controller since construction, from the engine's own events."""

    def __init__(self, engine, container: str = "deis-controller"):
        self.engine, self.container = engine, container
        self.since = f"{time.time() - 0.05:.3f}"

    def commands(self) -> list[str]:
        until = f"{time.time() + 0.5:.3f}"
        out = self.engine.docker("events", "--since", self.since, "--until", until, "--filter", "type=container",
                                 "--filter", f"container={self.container}", "--filter", "event=exec_create",
                                 "--format", "{{.Action}}").stdout
        return [line.split(": ", 1)[-1] for line in out.splitlines() if line.strip()]


def keygen(path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    return str(path)


def run_on_terminal(argv: list, answer: bytes = b"", *, env: dict, prompt: bytes = b"[y/N]", timeout: float = 30,
                    answers: list | None = None):
    """Run argv on a real pseudo-terminal (stdin, stdout and stderr), type `answer` once `prompt`
    shows (or each (prompt, answer) of answers in turn); return (exit code, everything it
    printed, each prompt answered shown as <asked>). A prompt that never comes is a failure."""
    import os
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True, env=env)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        for expected, typed in answers if answers is not None else [(prompt, answer)]:
            while expected not in seen and proc.poll() is None and time.monotonic() < deadline:
                try:
                    seen += os.read(master, 1024)
                except OSError:
                    break
            assert expected in seen, seen
            if expected:
                seen = seen.replace(expected, b"<asked>", 1)
            os.write(master, typed)
        # Read to the end before waiting: a command that prints more than the terminal holds
        # blocks until someone reads it (EIO once the last writer has closed the terminal).
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                seen += data
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, seen.decode("utf-8", "replace")


# Makes the named users active administrators; prints the other active ones; demotes those if exclusive.
_ADMINS = """
import json
from django.contrib.auth.models import User
names, exclusive = json.loads({args!r})
others = User.objects.filter(is_superuser=True, is_active=True).exclude(username__in=names)
print(json.dumps(list(others.values_list("username", flat=True))))
if exclusive:
    others.update(is_superuser=False, is_staff=False)
User.objects.filter(username__in=names).update(is_superuser=True, is_staff=True)
"""


@contextlib.contextmanager
def sole_admins(controller, *names: str):
    """Within the block, names are the only active administrators of the controller (shared by the
    session); the others are demoted, and made administrators again afterwards."""
    import json

    others = json.loads(controller.shell(_ADMINS.format(args=json.dumps([names, True]))).stdout)
    try:
        yield
    finally:
        controller.shell(_ADMINS.format(args=json.dumps([others, False])))


class LocalCommand:
    """A command run on this machine with ssh.session.RemoteCommand's interface (send,
    close_input, readline, finish, close): the controller script's exchange without SSH."""

    def __init__(self, argv, cwd, env):
        import threading

        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self._out, self._eof, self._err = bytearray(), False, bytearray()
        self._stderr = threading.Thread(target=lambda: self._err.extend(self.proc.stderr.read()), daemon=True)
        self._stderr.start()

    def send(self, data: bytes, deadline) -> bool:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()
        return True

    def close_input(self) -> None:
        if not self.proc.stdin.closed:
            self.proc.stdin.close()

    def readline(self, deadline):
        import os
        import select

        from deisctl.ssh.session import take_line

        while True:
            line = take_line(self._out, self._eof)
            if line is not None:
                return line
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and (left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]):
                return None
            data = os.read(self.proc.stdout.fileno(), 65536)
            self._out.extend(data)
            self._eof = not data

    def finish(self, deadline):
        from deisctl.ssh.session import Completed

        rest = bytearray()
        while line := self.readline(deadline):
            rest.extend(line)
        self.proc.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._stderr.join(5)
        return Completed(self.proc.returncode, bytes(rest), bytes(self._err))

    def close(self) -> None:
        self.close_input()
        try:
            self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()


def without_revision(rows):
    """A write's JSON rows without their `revision` (checked apart: it must be the same positive number)."""
    revisions = {row.pop("revision") for row in rows}
    assert len(revisions) == 1 and revisions.pop() > 0, rows
    return rows
