"""One authenticated SSH connection: run a command with its stdin and collect its output within
a deadline; channels to other hosts (for the bastion tunnel)."""

from __future__ import annotations

import shlex
import socket
import threading
import time
from dataclasses import dataclass
from typing import Optional

from deisctl.errors import UnreachableError
from deisctl.ssh.paramiko_loader import load_paramiko


def reason(exc: BaseException) -> str:
    """A network failure in a few lowercase words."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the name ({exc.strerror or exc})"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return " ".join(str(exc).split()) or type(exc).__name__


class SSHSession:
    """One authenticated SSH connection to a node (or to the bastion)."""

    def __init__(self, transport, label: str, timeout: float):
        self.transport = transport
        self.label = label
        self.timeout = timeout

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "SSHSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open_channel(self):
        """A session channel, opened within the SSH timeout."""
        paramiko = load_paramiko()
        try:
            return self.transport.open_session(timeout=self.timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise UnreachableError(f"ssh {self.label}: cannot open a session: {reason(exc)}") from None

    def run(self, argv: list[str], stdin: bytes = b"", timeout: Optional[float] = None) -> "Completed":
        """Run argv (quoted once with shlex.join) with stdin; collect its output within timeout."""
        paramiko = load_paramiko()
        command = shlex.join(argv)
        chan = self.open_channel()
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            chan.settimeout(timeout)  # bounds the send below too, should the remote side not read
            self.request(chan, lambda: chan.exec_command(command))
            # Sent at once, then EOF: Django's `shell` reads stdin only if data is already waiting.
            if stdin:
                chan.sendall(stdin)
            chan.shutdown_write()
            out, err = _collect(chan, deadline)
            if not chan.exit_status_ready():
                raise UnreachableError(
                    f"ssh {self.label}: the remote command did not finish within --remote-timeout {timeout:g}s",
                    hint="it may or may not have made its changes; check before retrying",
                )
            return Completed(chan.recv_exit_status(), out, err)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise UnreachableError(f"ssh {self.label}: connection lost: {reason(exc)}") from None
        finally:
            chan.close()

    def request(self, chan, send) -> None:
        """Send a channel request (exec, pty) and wait for the node's answer within the SSH
        timeout. paramiko waits for that answer without a limit (a node that opens the channel
        and never answers, an sshd stopped at that moment): past the limit the connection is
        closed, which ends paramiko's wait, and the command may or may not have started."""
        import threading

        paramiko = load_paramiko()
        expired = threading.Event()

        def give_up() -> None:
            expired.set()
            self.transport.close()

        timer = threading.Timer(self.timeout, give_up)
        timer.daemon = True
        timer.start()
        try:
            send()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            if expired.is_set():
                raise UnreachableError(f"ssh {self.label}: no answer to the request to run the command within "
                                       f"--ssh-timeout {self.timeout:g}s",
                                       hint="it may or may not have run; check before retrying") from None
            raise UnreachableError(f"ssh {self.label}: cannot run the command: {reason(exc)}") from None
        finally:
            timer.cancel()
        if expired.is_set():  # answered in the same instant the limit passed: the connection is gone
            raise UnreachableError(f"ssh {self.label}: no answer to the request to run the command within "
                                   f"--ssh-timeout {self.timeout:g}s", hint="it may or may not have run; check "
                                   "before retrying")

    def open_forward(self, host: str, port: int, origin=("127.0.0.1", 0)):
        """A direct-tcpip channel to host:port as the remote side resolves and reaches it."""
        paramiko = load_paramiko()
        try:
            return self.transport.open_channel("direct-tcpip", (host, port), origin, timeout=self.timeout)
        except paramiko.ChannelException as exc:
            raise UnreachableError(f"bastion {self.label} cannot reach {host}:{port}: {exc.text.lower()}") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise UnreachableError(f"bastion {self.label} cannot reach {host}:{port}: {reason(exc)}") from None


@dataclass
class Completed:
    status: int
    stdout: bytes
    stderr: bytes

    def last_error_line(self) -> str:
        for text in (self.stderr, self.stdout):
            lines = [line.strip() for line in text.decode("utf-8", "replace").splitlines() if line.strip()]
            if lines:
                return lines[-1][:300]
        return "(no output)"


def _collect(chan, deadline: Optional[float]) -> tuple[bytes, bytes]:
    """Read stdout and stderr to the end (or the deadline); stderr in a thread so neither blocks."""
    chan.settimeout(0.2)
    err = bytearray()

    def read_stderr():
        while True:
            try:
                data = chan.recv_stderr(65536)
            except socket.timeout:
                if chan.closed or (deadline is not None and time.monotonic() > deadline):
                    return
                continue
            if not data:
                return
            err.extend(data)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    out = bytearray()
    while True:
        try:
            data = chan.recv(65536)
        except socket.timeout:
            if deadline is not None and time.monotonic() > deadline:
                break
            continue
        if not data:
            break
        out.extend(data)
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    chan.status_event.wait(remaining)
    reader.join(1.0 if remaining is None else min(1.0, remaining + 0.2))
    return bytes(out), bytes(err)
