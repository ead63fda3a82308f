"""A remote command with local streams attached (`deisctl dock`): stdin pumped to it, its
output to stdout/stderr, a pty when asked. The streams and the pty choice are handed in by
the caller; nothing here looks at sys.stdin or sys.stdout."""

from __future__ import annotations

import os
import shlex
import threading
from typing import Iterator, Optional, TextIO

from deisctl.errors import DeisctlError, UnreachableError
from deisctl.ssh.paramiko_loader import load_paramiko
from deisctl.ssh.session import SSHSession, reason


def stream(session: SSHSession, argv: list[str], *, stdin: TextIO, stdout: TextIO, stderr: TextIO, pty: bool,
           timeout: Optional[float] = None, term: str = "xterm") -> int:
    """Run argv with stdin/stdout/stderr attached (a pty of type term if asked; the local terminal
    is then put in raw mode); return its exit status."""
    return _Streamer(session, argv, stdin, stdout, stderr, pty, timeout, term).run()


class _Streamer:
    """Pump stdin to the channel and its output to stdout/stderr until the command exits."""

    def __init__(self, session, argv, stdin, stdout, stderr, pty, timeout, term):
        self.session, self.argv, self.pty, self.timeout, self.term = session, argv, pty, timeout, term
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self._restore = None

    def run(self) -> int:
        paramiko = load_paramiko()
        chan = self.session.open_channel()
        try:
            return self._run(chan)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise UnreachableError(f"ssh {self.session.label}: connection lost: {reason(exc)}") from None
        finally:
            if self._restore:
                self._restore()
            chan.close()

    def _run(self, chan) -> int:
        if self.pty:
            cols, rows = _terminal_size(self.stdout)
            self.session.request(chan, lambda: chan.get_pty(term=self.term, width=cols, height=rows))
        self.session.request(chan, lambda: chan.exec_command(shlex.join(self.argv)))
        if self.pty:
            self._restore = _raw_terminal(self.stdin, chan, self.stdout)
        pumps = [threading.Thread(target=_pump_out, args=(chan.recv, self.stdout), daemon=True)]
        if not self.pty:  # a pty merges stderr into stdout
            pumps.append(threading.Thread(target=_pump_out, args=(chan.recv_stderr, self.stderr), daemon=True))
        for pump in pumps:
            pump.start()
        # Never joined: it may sit in a read of our stdin after the command is gone.
        threading.Thread(target=self._pump_in, args=(chan,), daemon=True).start()
        if not chan.status_event.wait(self.timeout):
            raise UnreachableError(f"ssh {self.session.label}: the command did not finish within "
                                   f"--remote-timeout {self.timeout:g}s; stopped waiting")
        for pump in pumps:
            pump.join(5)
        status = chan.recv_exit_status()
        if status < 0:
            raise DeisctlError(f"ssh {self.session.label}: the command ended without an exit status "
                               "(killed by a signal?)")
        return status

    def _pump_in(self, chan) -> None:
        source = getattr(self.stdin, "buffer", self.stdin)
        fd = _fileno(self.stdin)
        try:
            while True:
                if fd is not None:
                    data = os.read(fd, 65536)  # returns what a terminal or pipe has, at once
                else:
                    read = getattr(source, "read1", source.read)
                    data = read(65536)
                if not data:
                    break
                chan.sendall(data if isinstance(data, bytes) else data.encode())
            chan.shutdown_write()
        except (OSError, EOFError, ValueError):
            pass


def _pump_out(recv, stream_: TextIO) -> None:
    out = getattr(stream_, "buffer", None)
    while True:
        try:
            data = recv(65536)
        except (OSError, EOFError):
            return
        if not data:
            return
        try:
            if out is not None:
                out.write(data)
                out.flush()
            else:
                stream_.write(data.decode("utf-8", "replace"))
                stream_.flush()
        except (OSError, ValueError):  # our reader went away
            return


def _fileno(stream_) -> Optional[int]:
    try:
        return stream_.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _terminal_size(stream_) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(_fileno(stream_) if _fileno(stream_) is not None else 1)
        return size.columns, size.lines
    except OSError:
        return 80, 24


def _raw_terminal(stdin, chan, stdout):
    """Raw mode on our terminal (keys go to the remote pty as typed) and window resizes forwarded."""
    import signal
    import termios
    import tty

    fd = _fileno(stdin)
    saved = termios.tcgetattr(fd)
    tty.setraw(fd)

    def resize(*_):
        cols, rows = _terminal_size(stdout)
        try:
            chan.resize_pty(width=cols, height=rows)
        except Exception:  # the channel may be gone already
            pass

    previous = signal.signal(signal.SIGWINCH, resize) if threading.current_thread() is threading.main_thread() else None

    def restore():
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        if previous is not None:
            signal.signal(signal.SIGWINCH, previous)

    return restore


def lines(session: SSHSession, argv: list[str], stop) -> Iterator[tuple[str, str]]:
    """Run argv and yield ("stdout" or "stderr", one line without its newline) as they come,
    until the command ends or `stop` (a threading.Event) is set. A command that ends with a failure
    status is a DeisctlError naming it (its stderr came as lines first); a lost connection an
    UnreachableError."""
    import time

    paramiko = load_paramiko()
    chan = session.open_channel()
    pending = {"stdout": bytearray(), "stderr": bytearray()}

    def cut(name: str, final: bool = False):
        buffer = pending[name]
        while b"\n" in buffer or (final and buffer):
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            yield name, line.rstrip(b"\r").decode("utf-8", "replace")

    try:
        session.request(chan, lambda: chan.exec_command(shlex.join(argv)))
        while not stop.is_set():
            got = False
            for name, ready, recv in (("stdout", chan.recv_ready, chan.recv),
                                      ("stderr", chan.recv_stderr_ready, chan.recv_stderr)):
                if ready():
                    pending[name].extend(recv(65536))
                    got = True
                    yield from cut(name)
            if got:
                continue
            if chan.exit_status_ready():
                break
            if chan.closed or not session.transport.is_active():
                raise UnreachableError(f"ssh {session.label}: connection lost")
            time.sleep(0.05)
        if stop.is_set():
            return
        yield from cut("stdout", final=True)
        yield from cut("stderr", final=True)
        status = chan.recv_exit_status()
        if status != 0:
            raise DeisctlError(f"{session.label}: {' '.join(argv[:2])} exited {status}")
    except (OSError, EOFError, paramiko.SSHException) as exc:
        raise UnreachableError(f"ssh {session.label}: connection lost: {reason(exc)}") from None
    finally:
        chan.close()
