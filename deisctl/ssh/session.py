"""One authenticated SSH connection: run a command with its stdin and collect its output within
a deadline; channels to other hosts (for the bastion tunnel)."""

from __future__ import annotations

import shlex
import socket
import threading
import time
from dataclasses import dataclass
from typing import Optional

from deisctl.errors import AuthError, DeisctlError, UnreachableError
from deisctl.limits import MAX_NODE_OUTPUT_BYTES, NODE_STDERR_KEPT_BYTES
from deisctl.ssh.paramiko_loader import load_paramiko

FORWARDING_REFUSED_HINT = ("its sshd_config must allow this user TCP forwarding: AllowTcpForwarding yes or "
                           "local, and no PermitOpen or authorized_keys restriction against that address")


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

    def start(self, argv: list[str]) -> "RemoteCommand":
        """Start argv (quoted once with shlex.join) and return it running, to talk to: the caller
        sends its stdin and reads its output line by line, each read bounded by a deadline."""
        paramiko = load_paramiko()
        chan = self.open_channel()
        try:
            self.request(chan, lambda: chan.exec_command(shlex.join(argv)))
        except BaseException:
            chan.close()
            raise
        return RemoteCommand(chan, self.label, paramiko)

    def run(self, argv: list[str], stdin: bytes = b"", timeout: Optional[float] = None) -> "Completed":
        """Run argv with stdin (sent at once, then EOF); collect its output within timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        command = self.start(argv)
        try:
            completed = None
            if command.send(stdin, deadline):
                command.close_input()
                completed = command.finish(deadline)
            if completed is None:
                raise UnreachableError(
                    f"ssh {self.label}: the remote command did not finish within --remote-timeout {timeout:g}s",
                    hint="it may or may not have made its changes; check before retrying",
                )
            return completed
        finally:
            command.close()

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
            if exc.code == paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED:  # its policy, not the network
                raise AuthError(f"bastion {self.label} refuses to forward connections to {host}:{port}",
                                hint=FORWARDING_REFUSED_HINT) from None
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


def take_line(buffer: bytearray, ended: bool, searched: int = 0) -> Optional[bytes]:
    """The first line of buffer, taken out of it (with its newline; at the end, what is left);
    b"" when the output ended and nothing is left; None when more must be read first.
    searched: how much of buffer is known to hold no newline (a long line is searched once, not
    again from its start at each read)."""
    cut = buffer.find(b"\n", searched)
    if cut >= 0 or (ended and buffer):
        line = bytes(buffer[:cut + 1] if cut >= 0 else buffer)
        del buffer[:len(line)]
        return line
    return b"" if ended else None


STDERR_GRACE = 10.0  # seconds the end of a command's stderr is waited for after its exit status


class RemoteCommand:
    """A command running on the node: send to its stdin, read its stdout a line at a time, wait
    for its end. Every wait takes a deadline (time.monotonic(); None: no limit) and answers None
    when it passes; a lost connection is an UnreachableError. stderr is collected all along (in
    a thread, so that a chatty stderr never blocks stdout)."""

    def __init__(self, chan, label: str, paramiko):
        self._chan, self.label, self._paramiko = chan, label, paramiko
        self._out = bytearray()  # read from stdout, not yet returned
        self._searched = 0  # how much of _out holds no newline
        self._eof = False
        self._err = bytearray()
        chan.settimeout(0.2)  # the pace at which waits look at their deadline
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()

    def send(self, data: bytes, deadline: Optional[float]) -> bool:
        """Send data to the command's stdin; False if the deadline passed first (a node that
        does not read)."""
        sent = 0
        while sent < len(data):
            try:
                sent += self._guarded(lambda: self._chan.send(data[sent:sent + 32768]))
            except socket.timeout:
                if deadline is not None and time.monotonic() > deadline:
                    return False
        return True

    def close_input(self) -> None:
        self._guarded(self._chan.shutdown_write)

    def readline(self, deadline: Optional[float]) -> Optional[bytes]:
        """The next line of stdout (with its newline; the last one may lack it), b"" at its end,
        None if the deadline passed first."""
        while True:
            line = take_line(self._out, self._eof, self._searched)
            if line is not None:
                self._searched = 0
                return line
            self._searched = len(self._out)
            self._bounded("a line of more than")
            if not self._fill(deadline):
                return None

    def finish(self, deadline: Optional[float]) -> Optional["Completed"]:
        """Read stdout to its end and wait for the exit status: the whole result, or None if the
        deadline passed first."""
        while not self._eof:
            self._bounded("more than")
            if not self._fill(deadline):
                return None
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._chan.status_event.wait(remaining):
            return None
        # The node ends stderr with the command; its reader may not have been scheduled yet on a
        # busy machine: wait for it (a node that never ends stderr costs at most STDERR_GRACE).
        self._stderr_reader.join(STDERR_GRACE if remaining is None else min(max(remaining, 2.0), STDERR_GRACE))
        out, self._out = bytes(self._out), bytearray()
        return Completed(self._chan.recv_exit_status(), out, bytes(self._err))

    def close(self) -> None:
        """Close the channel: the command's stdin ends, and nothing more is read."""
        self._chan.close()

    def _bounded(self, what: str) -> None:
        if len(self._out) > MAX_NODE_OUTPUT_BYTES:
            self.close()
            raise DeisctlError(f"ssh {self.label}: the remote command printed {what} "
                               f"{MAX_NODE_OUTPUT_BYTES // (1024 * 1024)} MiB; deisctl stopped reading it")

    def _fill(self, deadline: Optional[float]) -> bool:
        """Read some stdout; False if the deadline passed first."""
        while True:
            try:
                data = self._guarded(lambda: self._chan.recv(65536))
            except socket.timeout:
                if deadline is not None and time.monotonic() > deadline:
                    return False
                continue
            if data:
                self._out.extend(data)
            else:
                self._eof = True
            return True

    def _guarded(self, step):
        try:
            return step()
        except socket.timeout:
            raise
        except (OSError, EOFError, self._paramiko.SSHException) as exc:
            raise UnreachableError(f"ssh {self.label}: connection lost: {reason(exc)}") from None

    def _read_stderr(self) -> None:
        while True:
            try:
                data = self._chan.recv_stderr(65536)
            except socket.timeout:
                if self._chan.closed:
                    return
                continue
            except (OSError, EOFError):
                return
            if not data:
                return
            self._err.extend(data)
            if len(self._err) > 2 * NODE_STDERR_KEPT_BYTES:  # its end is what is used
                del self._err[:-NODE_STDERR_KEPT_BYTES]
