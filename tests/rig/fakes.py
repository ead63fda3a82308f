"""Servers that are not a healthy etcd v3 member, for the reliability tests: all on loopback,
each a thread of the test process, stopped by close().

- HungServer: accepts TCP connections and never says a word (a frozen process, a black hole).
- EtcdV2Server: an emulation of an etcd 2.3 server (what Deis v1 clusters ran on port 4001).
- PlainHTTPServer: an HTTP/1.1 server that is not etcd at all (a web server on the wrong port).
- SilentExecSSHServer: an SSH server (paramiko's server side) that logs anyone in and opens their
  session channels, then never answers the request to run a command.
- ReplyLosingProxy: a TCP proxy to a real etcd member that loses the reply of one request after
  etcd has received it (and so applied a write): the "lost reply" of a real network.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional
from urllib.parse import unquote, urlsplit


def _loopback_listener(backlog: int) -> tuple[socket.socket, str]:
    """A listening socket on a free loopback port (accept() wakes every 0.2 s to see a stop), and its URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.settimeout(0.2)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


class HungServer:
    """A port that accepts TCP connections and then never says a word."""

    def __init__(self):
        self._sock, self.url = _loopback_listener(64)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.accepted.append(self._sock.accept()[0])
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.accepted:
            conn.close()
        self._sock.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_HTTPServer"

    def log_message(self, *args) -> None:  # quiet: the tests read their own output
        pass

    def version_string(self) -> str:
        return self.server.banner

    def _reply(self, status: int, body: dict | str, headers: Optional[dict] = None) -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/html")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.server.answer(self)

    do_PUT = do_POST = do_DELETE = do_GET


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    banner = ""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, handler: _Handler) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()


class EtcdV2Server(_HTTPServer):
    """An emulation of an etcd 2.3 member's client port: real etcd 2 is not installable here.

    Like etcd 2.3.8 it speaks HTTP/1.1 only: gRPC's HTTP/2 preface gets an HTTP/1.1 error reply
    (Python's server answers 505, Go's net/http in etcd 2 an HTTP/1.1 4xx: either way not
    HTTP/2). It answers `GET /version` with etcd 2.3.8's JSON and serves `GET/PUT /v2/keys/...`
    from a dict, with etcd 2's JSON shapes and X-Etcd-Index header (enough to show that the
    keys are there, in the v2 keyspace).
    """

    banner = ""  # etcd 2 (Go net/http) sends no Server header value worth showing

    def __init__(self, keys: Optional[dict] = None):
        self.keys = dict(keys or {})
        self.index = 7
        super().__init__()

    def answer(self, handler: _Handler) -> None:
        self.requests.append(f"{handler.command} {handler.path}")
        path = urlsplit(handler.path).path
        index = {"X-Etcd-Cluster-Id": "7e27652122e8b2ae", "X-Etcd-Index": str(self.index)}
        if path == "/version":
            return handler._reply(200, {"etcdserver": "2.3.8", "etcdcluster": "2.3.0"})
        if not path.startswith("/v2/keys/"):
            return handler._reply(404, "404 page not found\n")
        key = unquote(path[len("/v2/keys"):])
        if handler.command == "PUT":
            length = int(handler.headers.get("Content-Length") or 0)
            form = handler.rfile.read(length).decode()
            value = unquote(form.partition("value=")[2].split("&")[0])
            self.index += 1
            self.keys[key] = value
            node = {"key": key, "value": value, "modifiedIndex": self.index, "createdIndex": self.index}
            return handler._reply(200, {"action": "set", "node": node}, index)
        if key in self.keys:
            node = {"key": key, "value": self.keys[key], "modifiedIndex": self.index, "createdIndex": self.index}
            return handler._reply(200, {"action": "get", "node": node}, index)
        return handler._reply(404, {"errorCode": 100, "message": "Key not found", "cause": key,
                                    "index": self.index}, index)


class PlainHTTPServer(_HTTPServer):
    """A web server that is not etcd: 404 for everything, as nginx would say it."""

    banner = "nginx/1.22.1"

    def answer(self, handler: _Handler) -> None:
        self.requests.append(f"{handler.command} {handler.path}")
        handler._reply(404, "<html><head><title>404 Not Found</title></head></html>\n")


class ReplyLosingProxy:
    """A TCP proxy to a real etcd member that loses the server's reply to one gRPC request.

    Reads the HTTP/2 frames etcd sends back (9-byte header: length, type, flags, stream id) and,
    on the `lose_connection`-th accepted connection, drops every frame of client streams from
    `lose_stream` on (stream 1 is deisctl's Status probe, 3 the first real request). etcd has
    received and executed the request; only its answer is lost, as when a member or a link
    fails between apply and reply. `on_lost` is called once, in the proxy's thread, when the
    first frame of the lost reply arrives (etcd has answered: a write is applied by then).
    """

    def __init__(self, target_port: int, *, lose_connection: int = 1, lose_stream: int = 3,
                 on_lost: Optional[Callable[[], None]] = None):
        self.target_port = target_port
        self.lose_connection, self.lose_stream = lose_connection, lose_stream
        self.on_lost = on_lost
        self.lost = threading.Event()
        self.connections = 0
        self._sock, self.url = _loopback_listener(16)
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client = self._sock.accept()[0]
            except OSError:
                continue
            self.connections += 1
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self._open += [client, server]
            lossy = self.connections == self.lose_connection
            threading.Thread(target=self._copy, args=(client, server), daemon=True).start()
            threading.Thread(target=self._replies, args=(server, client, lossy), daemon=True).start()

    @staticmethod
    def _copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _replies(self, server: socket.socket, client: socket.socket, lossy: bool) -> None:
        if not lossy:
            return self._copy(server, client)
        buffer = b""
        try:
            while data := server.recv(65536):
                buffer += data
                out = b""
                while len(buffer) >= 9:
                    length = int.from_bytes(buffer[:3], "big")
                    if len(buffer) < 9 + length:
                        break
                    frame, buffer = buffer[:9 + length], buffer[9 + length:]
                    stream = int.from_bytes(frame[5:9], "big") & 0x7FFFFFFF
                    if stream >= self.lose_stream:
                        if not self.lost.is_set():
                            self.lost.set()
                            if self.on_lost is not None:
                                self.on_lost()
                        continue
                    out += frame
                if out:
                    client.sendall(out)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for s in self._open:
            try:
                s.close()
            except OSError:
                pass
        self._sock.close()


class SilentExecSSHServer:
    """An SSH server that accepts any public key, opens session channels, and never answers an
    exec (or pty) request: what a node looks like when its sshd is stopped at that moment.
    known_hosts_line is the line that makes its host key known."""

    def __init__(self):
        import paramiko

        self._paramiko = paramiko
        self.host_key = paramiko.RSAKey.generate(2048)
        self._sock, url = _loopback_listener(16)
        self.port = int(url.rsplit(":", 1)[1])
        self.known_hosts_line = f"[127.0.0.1]:{self.port} {self.host_key.get_name()} {self.host_key.get_base64()}\n"
        self.exec_requests = 0
        self._release = threading.Event()
        self._stop = threading.Event()
        self._transports: list = []
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        server = self

        class Interface(self._paramiko.ServerInterface):
            def check_auth_publickey(self, username, key):
                return server._paramiko.AUTH_SUCCESSFUL

            def get_allowed_auths(self, username):
                return "publickey"

            def check_channel_request(self, kind, chanid):
                return server._paramiko.OPEN_SUCCEEDED

            def check_channel_pty_request(self, *args):
                return self._never()

            def check_channel_exec_request(self, channel, command):
                return self._never()

            def _never(self):
                server.exec_requests += 1
                server._release.wait()  # until close(): the request is never answered
                return False

        while not self._stop.is_set():
            try:
                conn = self._sock.accept()[0]
            except OSError:
                continue
            transport = self._paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            transport.start_server(server=Interface())
            self._transports.append(transport)

    def close(self) -> None:
        self._stop.set()
        self._release.set()
        self._thread.join()
        for transport in self._transports:
            transport.close()
        self._sock.close()


class ClientCertTLSServer:
    """A TLS server (TLS 1.2 at most) that wants a client certificate: it answers a handshake
    without one with an alert before the handshake ends, whatever the machine's speed (with TLS
    1.3, the refusal comes after it, and a client may or may not see it first: the race this
    server takes out)."""

    def __init__(self, tls_files):
        import ssl

        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.maximum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(str(tls_files.server_cert), str(tls_files.server_key))
        self.context.load_verify_locations(str(tls_files.ca))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self._sock, url = _loopback_listener(16)
        self.port = self._sock.getsockname()[1]
        self.url = url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn = self._sock.accept()[0]
            except OSError:
                continue
            threading.Thread(target=self._handshake, args=(conn,), daemon=True).start()

    def _handshake(self, conn) -> None:
        conn.settimeout(10)
        try:
            with self.context.wrap_socket(conn, server_side=True):
                pass
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()
