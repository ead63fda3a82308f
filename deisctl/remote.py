"""SSH to the nodes: host-key policy, key authentication, remote commands with
timeouts, and the bastion tunnel (`--tunnel`) for etcd and the nodes.

paramiko is imported only here, and only once something is actually dialled:
`deisctl config ...` must start without it.  Every network step has a deadline
(connect, banner, key exchange, auth, channel open, the remote command), and
every failure becomes a DeisctlError with the exit code of the table in
deisctl.errors: cannot connect 4, host key or auth refused 5, remote failure 1.
"""

from __future__ import annotations

import functools
import os
import shlex
import socket
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Mapping, Optional

from deisctl.errors import AuthError, DeisctlError, UnreachableError, UsageError
from deisctl.known_hosts import (DEFAULT_SSH_PORT, KnownHosts, fingerprint, known_hosts_name, preferred_key_types,
                                 verify_host_key)

DEFAULT_SSH_USER = "core"  # the login user of Deis (CoreOS) nodes
DEFAULT_SSH_TIMEOUT = 10.0
DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
GLOBAL_KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
HOST_KEY_POLICIES = ("yes", "accept-new")
_DEFAULT_KEY_FILES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")


def load_paramiko():
    """paramiko, imported on first use (with its optional `invoke` hidden) and kept quiet."""
    import logging
    import warnings

    if "paramiko" not in sys.modules:
        # paramiko.config imports the optional `invoke` only for ssh_config's `Match exec`, which
        # deisctl never reads: ~90 ms of every remote command. Without it paramiko carries on as designed.
        hidden = "invoke" not in sys.modules
        if hidden:
            sys.modules["invoke"] = None  # makes `import invoke` raise ImportError
        try:
            with warnings.catch_warnings():
                # e.g. cryptography's deprecation notices: not the user's concern; stderr is for errors.
                warnings.simplefilter("ignore")
                import paramiko
        finally:
            if hidden:
                del sys.modules["invoke"]
    import paramiko
    logger = logging.getLogger("paramiko")
    if not logger.handlers:
        # Else Python's last-resort handler prints the transport thread's tracebacks on stderr.
        logger.addHandler(logging.NullHandler())
        if os.environ.get("DEISCTL_DEBUG") or "--debug" in sys.argv:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
    return paramiko


# -- options -----------------------------------------------------------------------


@dataclass(frozen=True)
class SSHOptions:
    """How to log in to a node (and to the bastion): resolved, validated values."""

    user: str = DEFAULT_SSH_USER
    port: int = DEFAULT_SSH_PORT
    key_file: Optional[str] = None  # None: the SSH agent, then the usual ~/.ssh/id_* files
    known_hosts: Optional[str] = None  # None: ~/.ssh/known_hosts (+ the global file, read only)
    strict_host_key_checking: str = "yes"
    timeout: float = DEFAULT_SSH_TIMEOUT

    @property
    def known_hosts_path(self) -> str:
        return os.path.expanduser(self.known_hosts or DEFAULT_KNOWN_HOSTS)


def ssh_options(*, user=None, port=None, key_file=None, known_hosts=None, strict=None,
                timeout=None) -> SSHOptions:
    """Apply defaults and check values (None = not given); fails before any I/O."""
    user = user or DEFAULT_SSH_USER
    if user.startswith("-") or any(c.isspace() or c in "@:" for c in user):
        raise UsageError(f"invalid --ssh-user {user!r}")
    port = DEFAULT_SSH_PORT if port is None else int(port)
    if not 0 < port < 65536:
        raise UsageError(f"invalid --ssh-port {port}", hint="1-65535")
    strict = (strict or "yes").lower()
    if strict not in HOST_KEY_POLICIES:
        raise UsageError(f"invalid --strict-host-key-checking {strict!r}", hint="yes or accept-new")
    timeout = DEFAULT_SSH_TIMEOUT if timeout is None else float(timeout)
    if not timeout > 0:
        raise UsageError(f"--ssh-timeout must be a positive number of seconds, got {timeout:g}")
    key_file = os.path.expanduser(key_file) if key_file else None
    known_hosts = os.path.expanduser(known_hosts) if known_hosts else None
    return SSHOptions(user, port, key_file, known_hosts, strict, timeout)


def ssh_options_from_env(env: Mapping[str, str] = os.environ, settings=None) -> SSHOptions:
    """For commands without the SSH flags (e.g. `config` with --tunnel): DEISCTL_SSH_*, else the
    context's values (deisctl.contexts), else the defaults."""
    context = {}
    if settings is not None:
        from deisctl import contexts

        context = {k: contexts.value(settings, k) for k in ("ssh_user", "ssh_key", "ssh_port", "known_hosts")}
    port = env.get("DEISCTL_SSH_PORT") or context.get("ssh_port")
    timeout = env.get("DEISCTL_SSH_TIMEOUT")
    try:
        port = int(port) if port else None
        timeout = float(timeout) if timeout else None
    except ValueError:
        raise UsageError("DEISCTL_SSH_PORT / DEISCTL_SSH_TIMEOUT must be numbers") from None
    return ssh_options(user=env.get("DEISCTL_SSH_USER") or context.get("ssh_user"), port=port,
                       key_file=env.get("DEISCTL_SSH_KEY") or context.get("ssh_key"),
                       known_hosts=env.get("DEISCTL_KNOWN_HOSTS") or context.get("known_hosts"),
                       strict=env.get("DEISCTL_STRICT_HOST_KEY_CHECKING"), timeout=timeout)


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    user: Optional[str] = None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user + '@' if self.user else ''}{host}:{self.port}"


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


def check_host(host: str, where: str) -> str:
    """A node name or address as given by --host or the etcd heartbeat key."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or host.startswith("-") or any(c.isspace() or c in "/@\\'\"`$;" for c in host):
        raise UsageError(f"invalid host {host!r} from {where}")
    return host


# -- connections -------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
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

    def _session(self):
        paramiko = load_paramiko()
        try:
            return self.transport.open_session(timeout=self.timeout)
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise UnreachableError(f"ssh {self.label}: cannot open a session: {_reason(exc)}") from None

    def run(self, argv: list[str], stdin: bytes = b"", timeout: Optional[float] = None) -> "Completed":
        """Run argv (quoted once with shlex.join) with stdin; collect its output within timeout."""
        paramiko = load_paramiko()
        command = shlex.join(argv)
        chan = self._session()
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            chan.settimeout(timeout)  # bounds the send below too, should the remote side not read
            chan.exec_command(command)
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
            raise UnreachableError(f"ssh {self.label}: connection lost: {_reason(exc)}") from None
        finally:
            chan.close()

    def stream(self, argv: list[str], *, pty: bool, timeout: Optional[float] = None) -> int:
        """Run argv with our stdin/stdout/stderr attached (a pty if asked); return its exit status."""
        return _Streamer(self, argv, pty, timeout).run()

    def open_forward(self, host: str, port: int, origin=("127.0.0.1", 0)):
        """A direct-tcpip channel to host:port as the remote side resolves and reaches it."""
        paramiko = load_paramiko()
        try:
            return self.transport.open_channel("direct-tcpip", (host, port), origin, timeout=self.timeout)
        except paramiko.ChannelException as exc:
            raise UnreachableError(f"bastion {self.label} cannot reach {host}:{port}: {exc.text.lower()}") from None
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise UnreachableError(f"bastion {self.label} cannot reach {host}:{port}: {_reason(exc)}") from None


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


def _load_key(path: str, flag: str):
    paramiko = load_paramiko()
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        raise UsageError(f"{flag} file {path!r} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read {flag} file {path!r}: {exc.strerror or exc}") from None
    except (paramiko.SSHException, ValueError, TypeError) as exc:
        # An encrypted OpenSSH key shows up as a TypeError from cryptography, older formats as
        # PasswordRequiredException.
        if not (isinstance(exc, paramiko.PasswordRequiredException) or "password" in str(exc).lower()):
            raise UsageError(f"{flag} file {path!r} is not a usable private key: {_reason(exc)}") from None
    if sys.stdin is None or not sys.stdin.isatty():
        raise AuthError(f"SSH key {path} is encrypted and there is no terminal to ask for its passphrase",
                        hint="load it into ssh-agent and omit --ssh-key")
    import getpass

    passphrase = getpass.getpass(f"passphrase for {path}: ")
    try:
        return paramiko.PKey.from_path(path, passphrase.encode())
    except (paramiko.SSHException, ValueError, TypeError):
        raise AuthError(f"wrong passphrase for SSH key {path}") from None


def _authenticate(transport, opts: SSHOptions, label: str, key_file_key=None) -> None:
    """Public keys only: --ssh-key alone if given (loaded beforehand), else the agent's keys,
    then ~/.ssh/id_*."""
    paramiko = load_paramiko()
    tried: list[str] = []
    agent = None

    def candidates():
        nonlocal agent
        if opts.key_file:
            yield opts.key_file, key_file_key
            return
        try:
            agent = paramiko.Agent()
            for key in agent.get_keys():
                yield "agent key " + fingerprint(key), key
        except (paramiko.SSHException, OSError):
            pass
        for path in map(os.path.expanduser, _DEFAULT_KEY_FILES):
            if os.path.isfile(path):
                try:
                    yield path, paramiko.PKey.from_path(path)
                except (paramiko.SSHException, OSError, ValueError, TypeError):
                    continue  # encrypted (without agent) or unreadable: skipped

    try:
        for name, key in candidates():
            tried.append(name)
            try:
                transport.auth_publickey(opts.user, key)
            except paramiko.BadAuthenticationType as exc:
                raise AuthError(f"ssh {label} does not accept public keys (it allows: {', '.join(exc.allowed_types)})") from None
            except paramiko.AuthenticationException as exc:
                if "timeout" in str(exc).lower():
                    raise UnreachableError(f"ssh {label}: no answer to authentication within --ssh-timeout "
                                           f"{opts.timeout:g}s") from None
                continue
            if transport.is_authenticated():
                return
    finally:
        if agent is not None:
            agent.close()
    if not tried:
        raise AuthError(f"no SSH key to log in to {label}", hint="start ssh-agent or pass --ssh-key FILE")
    raise AuthError(f"ssh {label} refused the key(s): {', '.join(tried)}", hint="check --ssh-user and --ssh-key")


def _handshake(transport, timeout: float, failure: str) -> None:
    """Banner and key exchange, each bounded by the timeout (paramiko's own start_client timeout
    returns silently instead of failing)."""
    done = threading.Event()
    transport.start_client(event=done)
    deadline = time.monotonic() + 2 * timeout  # banner_timeout covers the first half
    while not done.wait(0.05):
        if not transport.is_active():
            break
        if time.monotonic() > deadline:
            raise UnreachableError(f"{failure}: no SSH key exchange within --ssh-timeout {timeout:g}s")
    if not transport.is_active():
        error = transport.get_exception()
        text = str(error).lower()
        why = f"no SSH banner within --ssh-timeout {timeout:g}s" if "banner" in text else (
            _reason(error) if error else "the server closed the connection")
        raise UnreachableError(f"{failure}: {why}")


def connect(host: str, opts: SSHOptions, *, port: Optional[int] = None, user: Optional[str] = None,
            via: Optional[SSHSession] = None, note: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
            what: str = "ssh") -> SSHSession:
    """Connect, verify the host key, log in. Through `via` (the bastion) if given."""
    paramiko = load_paramiko()
    port = opts.port if port is None else port
    user = user or opts.user
    label = str(Address(host, port, user))
    deadline_msg = f"within --ssh-timeout {opts.timeout:g}s"
    # Before dialling: a bad --ssh-key fails without a connection, and a passphrase prompt
    # does not eat into the server's login timeout.
    key_file_key = _load_key(opts.key_file, "--ssh-key") if opts.key_file else None
    if via is not None:
        sock = via.open_forward(host, port)
    else:
        try:
            sock = socket.create_connection((host, port), timeout=opts.timeout)
        except OSError as exc:
            why = f"no answer {deadline_msg}" if isinstance(exc, (socket.timeout, TimeoutError)) else _reason(exc)
            raise UnreachableError(f"cannot reach {what} {label}: {why}") from None
    transport = session = None
    try:
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.handshake_timeout = transport.auth_timeout = opts.timeout
        known = KnownHosts(opts.known_hosts_path,
                           () if opts.known_hosts else (GLOBAL_KNOWN_HOSTS,))
        entries = [e for e in known.entries_for(known_hosts_name(host, port)) if not e.revoked]
        security = transport.get_security_options()
        security.key_types = preferred_key_types(entries, tuple(security.key_types))
        _handshake(transport, opts.timeout, f"cannot reach {what} {label}")
        verify_host_key(known, host, port, transport.get_remote_server_key(), opts.strict_host_key_checking, note)
        _authenticate(transport, replace(opts, user=user), label, key_file_key)
        session = SSHSession(transport, label, opts.timeout)
        return session
    except (OSError, EOFError, paramiko.SSHException) as exc:
        raise UnreachableError(f"{what} {label}: connection lost: {_reason(exc)}") from None
    finally:
        if session is None:
            if transport is not None:
                transport.close()
            sock.close()


# -- interactive streaming (dock) ----------------------------------------------------


class _Streamer:
    """Pump our stdin to the channel and its output to our stdout/stderr until the command exits."""

    def __init__(self, session: SSHSession, argv: list[str], pty: bool, timeout: Optional[float]):
        self.session, self.argv, self.pty, self.timeout = session, argv, pty, timeout
        # Captured now: the pump threads must write where the command was invoked with.
        self.stdin, self.stdout, self.stderr = sys.stdin, sys.stdout, sys.stderr

    def run(self) -> int:
        paramiko = load_paramiko()
        chan = self.session._session()
        self._restore = None
        try:
            return self._run(chan)
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise UnreachableError(f"ssh {self.session.label}: connection lost: {_reason(exc)}") from None
        finally:
            if self._restore:
                self._restore()
            chan.close()

    def _run(self, chan) -> int:
        if self.pty:
            cols, rows = _terminal_size(self.stdout)
            chan.get_pty(term=os.environ.get("TERM", "xterm"), width=cols, height=rows)
        chan.exec_command(shlex.join(self.argv))
        if self.pty:
            self._restore = _raw_terminal(self.stdin, chan, self.stdout)
        pumps = [threading.Thread(target=self._pump_out, args=(chan.recv, self.stdout), daemon=True)]
        if not self.pty:  # a pty merges stderr into stdout
            pumps.append(threading.Thread(target=self._pump_out, args=(chan.recv_stderr, self.stderr),
                                          daemon=True))
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

    @staticmethod
    def _pump_out(recv, stream) -> None:
        out = getattr(stream, "buffer", None)
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
                    stream.write(data.decode("utf-8", "replace"))
                    stream.flush()
            except (OSError, ValueError):  # our reader went away
                return

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


def _fileno(stream) -> Optional[int]:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _terminal_size(stream) -> tuple[int, int]:
    try:
        size = os.get_terminal_size(_fileno(stream) if _fileno(stream) is not None else 1)
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


# -- the bastion tunnel ----------------------------------------------------------------


class Tunnel:
    """One SSH connection to the bastion: local loopback ports forwarded to targets (for etcd's gRPC),
    and channels to the nodes.  Targets are resolved and reached on the bastion's side."""

    def __init__(self, session: SSHSession):
        self.session = session
        self._listeners: dict[tuple[str, int], socket.socket] = {}
        self._failures: dict[tuple[str, int], str] = {}
        self._open: set = set()
        self._lock = threading.Lock()
        self._closed = False

    def local_address(self, host: str, port: int) -> tuple[str, int]:
        """A 127.0.0.1 port whose connections are carried to host:port through the bastion."""
        with self._lock:
            listener = self._listeners.get((host, port))
            if listener is None:
                listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                listener.bind(("127.0.0.1", 0))
                listener.listen(16)
                self._listeners[(host, port)] = listener
                threading.Thread(target=self._accept, args=(listener, host, port), daemon=True).start()
            return listener.getsockname()

    def failure(self, host: str, port: int) -> Optional[str]:
        """Why the bastion could not reach host:port, if it tried and failed."""
        return self._failures.get((host, port))

    def channel(self, host: str, port: int):
        return self.session.open_forward(host, port)

    def _accept(self, listener: socket.socket, host: str, port: int) -> None:
        while not self._closed:
            try:
                conn, peer = listener.accept()
            except OSError:
                return
            try:
                chan = self.session.open_forward(host, port, origin=peer)
            except DeisctlError as exc:
                self._failures[(host, port)] = exc.message.split(": ", 1)[-1]
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
            conn.close()
            chan.close()

    def close(self) -> None:
        self._closed = True
        for listener in self._listeners.values():
            _shutdown(listener, socket.SHUT_RDWR)  # wakes the thread blocked in accept()
            listener.close()
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


def open_tunnel(spec: str, opts: SSHOptions) -> Tunnel:
    """Log in to the bastion `[USER@]HOST[:PORT]` with the same key and host-key policy as the nodes."""
    address = parse_tunnel(spec)
    session = connect(address.host, opts, port=address.port, user=address.user, what="bastion")
    return Tunnel(session)
