"""The `--tunnel` bastion: one SSH connection that carries etcd's gRPC (local unix sockets
forwarded to the endpoints) and the SSH connections to the nodes. Targets are resolved and
reached on the bastion's side.

The forwarding sockets live in a directory of their own, mode 0700: only the invoking user (and
root) can connect to them. A loopback TCP port would let any local user reach the private etcd
through deisctl's login while it runs."""

from __future__ import annotations

import functools
import socket
import threading
from typing import Callable, Optional

from deisctl.errors import DeisctlError, UsageError
from deisctl.ssh.connect import PassphrasePrompt, connect
from deisctl.ssh.options import DEFAULT_SSH_PORT, Address, SSHOptions
from deisctl.ssh.session import SSHSession


def parse_tunnel(spec: str) -> Address:
    """`[USER@]HOST[:PORT]` (IPv6 as `[::1]:22`); port 22 by default."""
    bad = UsageError(f"invalid --tunnel {spec!r}", hint="[USER@]HOST[:PORT]")
    user, sep, rest = spec.strip().rpartition("@")
    if sep and not user:
        raise bad
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else (None if not tail else "x")
    elif rest.count(":") == 1:
        host, port = rest.split(":")
    else:
        host, port = rest, None
    if not host or host.startswith("-") or any(c.isspace() for c in host) or (port is not None and not port.isdigit()):
        raise bad
    port = int(port) if port else DEFAULT_SSH_PORT
    if not 0 < port < 65536:
        raise bad
    return Address(host, port, user or None)


class Tunnel:
    """One SSH connection to the bastion: local unix sockets forwarded to targets (for etcd's
    gRPC), and channels to the nodes.  Targets are resolved and reached on the bastion's side."""

    def __init__(self, session: SSHSession):
        self.session = session
        self._listeners: dict[tuple[str, int], socket.socket] = {}
        self._failures: dict[tuple[str, int], DeisctlError] = {}
        self._open: set = set()
        self._lock = threading.Lock()
        self._closed = False
        self._dir: Optional[str] = None

    def local_address(self, host: str, port: int) -> str:
        """The path of a unix socket, in a directory only this user may enter, whose connections
        are carried to host:port through the bastion."""
        import os
        import tempfile

        with self._lock:
            listener = self._listeners.get((host, port))
            if listener is None:
                if self._dir is None:
                    self._dir = tempfile.mkdtemp(prefix="deisctl-tunnel-")  # mode 0700
                path = os.path.join(self._dir, f"{len(self._listeners)}.sock")
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(path)
                listener.listen(16)
                self._listeners[(host, port)] = listener
                threading.Thread(target=self._accept, args=(listener, host, port), daemon=True).start()
            return listener.getsockname()

    def failure(self, host: str, port: int) -> Optional[DeisctlError]:
        """Why the bastion could not reach host:port, if it tried and failed: an AuthError when it
        refused (its forwarding policy), else an UnreachableError."""
        return self._failures.get((host, port))

    def channel(self, host: str, port: int):
        return self.session.open_forward(host, port)

    def _accept(self, listener: socket.socket, host: str, port: int) -> None:
        while not self._closed:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                chan = self.session.open_forward(host, port)  # the origin: this machine's loopback
            except DeisctlError as exc:
                self._failures[(host, port)] = exc
                conn.close()
                continue
            self._failures.pop((host, port), None)
            self._open.update((conn, chan))
            threading.Thread(target=self._copy, args=(conn.recv, chan.sendall, chan.shutdown_write, conn, chan),
                             daemon=True).start()
            threading.Thread(target=self._copy, args=(chan.recv, conn.sendall,
                                                      functools.partial(_shutdown, conn), conn, chan),
                             daemon=True).start()

    def _copy(self, recv, send, eof, conn, chan) -> None:
        try:
            while True:
                data = recv(65536)
                if not data:
                    break
                send(data)
            eof()
        except (OSError, EOFError):
            for end in (conn, chan):
                try:
                    end.close()
                except Exception:  # the bastion's connection went first (a tunnel closing): nothing to close
                    pass

    def close(self) -> None:
        import shutil

        self._closed = True
        for listener in self._listeners.values():
            _shutdown(listener, socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
        for item in list(self._open):
            try:
                item.close()
            except Exception:
                pass
        self.session.close()


def _shutdown(conn: socket.socket, how: int = socket.SHUT_WR) -> None:
    try:
        conn.shutdown(how)
    except OSError:
        pass


def open_tunnel(spec: str, opts: SSHOptions, *, note: Callable[[str], None],
                passphrase_prompt: PassphrasePrompt = None) -> Tunnel:
    """Log in to the bastion `[USER@]HOST[:PORT]` with the same key and host-key policy as the nodes."""
    address = parse_tunnel(spec)
    session = connect(address.host, opts, port=address.port, user=address.user, what="bastion", note=note,
                      passphrase_prompt=passphrase_prompt)
    return Tunnel(session)
