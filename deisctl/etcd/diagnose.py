"""What answers at an endpoint that gRPC could not talk to, in one phrase: an etcd 2 server (Deis
v1 clusters ran etcd 2 on port 4001: HTTP/1.1 only, keys in the v2 keyspace), an HTTP server that
is not etcd, a TLS server behind an http:// URL, a plain server behind an https:// URL.

Run only after a dial failed, so it costs nothing on the way to a working member: one HTTP/1.1
`GET /version` (what every etcd since 2.0 answers), and a bare TLS handshake when that is not
answered. The TLS here verifies nothing: it only asks which protocol the server speaks, and
nothing is sent but that request.
"""

from __future__ import annotations

import json
import re
import socket
import time
from typing import NamedTuple, Optional


class Reply(NamedTuple):
    status: int
    headers: dict  # lower-cased names
    body: str


DIAGNOSIS_FLOOR = 2.0  # seconds


def diagnose(address: tuple, server_name: str, secure: bool, timeout: float) -> Optional[str]:
    """What answers at address (host, port) of an endpoint; None when nothing more can be said.

    Asked only once the endpoint has failed, with its own time: at least DIAGNOSIS_FLOOR, so
    that a loaded machine (a busy CI runner) still gets the real answer and not a bare "the
    server closed the connection"; within the dial + command timeouts of the contract."""
    deadline = time.monotonic() + max(timeout, DIAGNOSIS_FLOOR)
    reply = _http_get(address, server_name, deadline, tls=secure)
    if reply is not None:
        return _describe(reply, secure, plain=not secure)
    if secure:
        reply = _http_get(address, server_name, deadline, tls=False)
        return _describe(reply, secure, plain=True) if reply is not None else None
    if _speaks_tls(address, server_name, deadline):
        return "a TLS server: use https:// and --cacert"
    return None


def _describe(reply: Reply, secure: bool, plain: bool) -> Optional[str]:
    if "http request to an https server" in reply.body.lower():  # Go's answer to plain HTTP on TLS
        return "a TLS server: use https:// and --cacert"
    version = etcd_version(reply.body)
    if version and version.split(".")[0] in ("0", "2"):
        return (f"an etcd {version} server: it speaks only the v2 API, and its keys are in the v2 keyspace, "
                "which deisctl does not read (deisctl needs etcd v3)")
    if secure and plain:
        what = f"etcd {version}" if version else _http_server(reply)
        return f"not a TLS server: {what} answers plain http here (use http://)"
    if version:
        return None  # an etcd 3 that answers HTTP but not gRPC: nothing better to say than gRPC's reason
    return f"not an etcd server: {_http_server(reply)} answers here (GET /version: {reply.status})"


def _http_server(reply: Reply) -> str:
    server = reply.headers.get("server", "").strip()
    return f"an HTTP server ({server[:60]})" if server else "an HTTP server"


def etcd_version(body: str) -> Optional[str]:
    """etcd's server version from its /version answer: JSON {"etcdserver": "2.3.8", ...} since
    2.1, the text "etcd 2.0.13" before."""
    start, end = body.find("{"), body.rfind("}")
    if 0 <= start < end:
        try:
            data = json.loads(body[start:end + 1])
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("etcdserver"), str):
            return data["etcdserver"][:20]
    found = re.match(r"\s*etcd (\d+\.\d+\.\d+)", body)
    return found.group(1) if found else None


def _open(address, timeout: float) -> socket.socket:
    """A connected socket: TCP to (host, port), or a unix socket at a path (a tunnel's)."""
    if isinstance(address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        return sock
    return socket.create_connection(address, timeout=timeout)


def _connect(address, server_name: str, deadline: float, tls: bool):
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    try:
        sock = _open(address, remaining)
    except OSError:
        return None
    if not tls:
        return sock
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # which protocol, not whom: nothing secret is sent
    context.set_alpn_protocols(["http/1.1"])
    try:
        return context.wrap_socket(sock, server_hostname=server_name or None)
    except (OSError, ValueError):
        sock.close()
        return None


def _http_get(address: tuple, server_name: str, deadline: float, tls: bool) -> Optional[Reply]:
    sock = _connect(address, server_name, deadline, tls)
    if sock is None:
        return None
    data = b""
    try:
        host = server_name if ":" not in server_name else f"[{server_name}]"
        sock.sendall(f"GET /version HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
                     "Connection: close\r\n\r\n".encode("ascii", "replace"))
        while len(data) < 65536:
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        sock.close()
    if not data.startswith(b"HTTP/"):
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return Reply(status, headers, body.decode("utf-8", "replace"))


def _speaks_tls(address: tuple, server_name: str, deadline: float) -> bool:
    """Whether a TLS server answers at address: a handshake completes, or the server answers it
    with a TLS alert. A server that wants a client certificate refuses ours with an alert that
    comes before or after the handshake ends, depending on the machine's speed (TLS 1.3): both
    mean TLS, so that the answer does not depend on timing."""
    import ssl

    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    try:
        sock = _open(address, remaining)
    except OSError:
        return False
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # which protocol, not whom: nothing secret is sent
    try:
        with context.wrap_socket(sock, server_hostname=server_name or None):
            return True
    except ssl.SSLError as exc:
        return "ALERT" in (exc.reason or "").upper()  # its refusal was a TLS record
    except (OSError, ValueError):
        return False
    finally:
        sock.close()
