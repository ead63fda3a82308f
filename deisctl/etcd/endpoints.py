"""Where etcd is: endpoint URLs, and the one place that opens a gRPC channel to an endpoint
(TLS credentials, the tunnel's forwarded address, channel options)."""

from __future__ import annotations

import re
from typing import Optional

import etcd3
import grpc
from etcd3.etcdrpc import MaintenanceStub, StatusRequest

from deisctl.errors import DeisctlError, UsageError

# Fail fast instead of queueing RPCs while a channel reconnects; we fail over ourselves.
# No gRPC keepalive: etcd answers pings more frequent than its --grpc-keepalive-min-time (5 s)
# with GOAWAY "too_many_pings", and gRPC core sends few keepalive pings on a quiet stream;
# a hung member is detected by deadlines and, on watch streams, by progress requests (watch.py).
# A local subchannel pool: a channel opened after a failure gets a connection of its own, not
# the one gRPC's global pool would still share from the channel just closed (perhaps to a hung
# member, or with a reply lost on it).
GRPC_OPTIONS = [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", 64 * 1024 * 1024),
                ("grpc.use_local_subchannel_pool", 1)]


class Endpoint:
    __slots__ = ("url", "host", "port", "secure")

    def __init__(self, url: str, host: str, port: int, secure: bool):
        self.url, self.host, self.port, self.secure = url, host, port, secure

    def __repr__(self) -> str:
        return f"Endpoint({self.url!r})"

    @property
    def grpc_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def identity(self) -> tuple:
        """What makes two URLs the same endpoint: scheme, host (case-folded; an IP address in
        its one canonical spelling) and port (2379 when not given)."""
        host = self.host.lower().rstrip(".")
        if ":" in host:  # IPv6 has many spellings of one address (IPv4's are not worth an import)
            import ipaddress

            try:
                host = ipaddress.ip_address(host).compressed
            except ValueError:
                pass
        return self.secure, host, self.port


# [SCHEME://]HOST[:PORT][/], HOST a name, an IPv4 address or a bracketed IPv6 one. Parsed here
# rather than with urllib.parse, whose import (and ipaddress's) costs every `config get` ~5 ms.
_URL_RE = re.compile(r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
                     r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9._-]+))"
                     r"(?::(?P<port>[0-9]{1,5}))?/?\Z")


def parse_endpoint(url: str) -> Endpoint:
    bad = UsageError(f"invalid etcd endpoint {url[:80]!r}", hint="use http://HOST:PORT or https://HOST:PORT")
    match = _URL_RE.match(url.strip())
    if not match:
        raise bad
    scheme = (match["scheme"] or "http").lower()
    host = match["v6"] or match["host"]
    port = int(match["port"]) if match["port"] else 2379
    if scheme not in ("http", "https") or not 0 < port < 65536:
        raise bad
    netloc = f"[{host}]" if match["v6"] else host
    netloc += f":{match['port']}" if match["port"] else ""
    return Endpoint(f"{scheme}://{netloc}", host.lower() if not match["v6"] else host, port, scheme == "https")


def parse_endpoints(settings) -> list[Endpoint]:
    """The endpoints of the settings, checked before anything is sent; an endpoint listed twice
    (the same URL however spelled) is dialled once."""
    endpoints: dict[tuple, Endpoint] = {}
    for url in settings.endpoints:
        ep = parse_endpoint(url)
        endpoints.setdefault(ep.identity, ep)
    if settings.user and not all(ep.secure for ep in endpoints.values()):
        raise UsageError("--user needs https:// endpoints",
                         hint="gRPC sends credentials only over TLS; pass --cacert too")
    return list(endpoints.values())


class Dialer:
    """Opens gRPC channels to endpoints: directly, or through `via` (an open tunnel with
    .local_address(host, port) -> the address to dial instead, and .failure(host, port) -> why
    it could not get through, or None)."""

    def __init__(self, settings, via=None):
        self.settings = settings
        self.via = via
        self._credentials = None

    def credentials(self):
        """TLS credentials from --cacert/--cert/--key, read and checked once (a bad local file is
        a usage error naming it, before anything is dialled)."""
        if self._credentials is None:
            from deisctl.etcd.tls import read_credentials

            self._credentials = grpc.ssl_channel_credentials(*read_credentials(self.settings))
        return self._credentials

    def address(self, ep: Endpoint):
        """What a plain socket connects to for ep: (host, port), or the path of the tunnel's unix
        socket."""
        if self.via is None:
            return ep.host, ep.port
        local = self.via.local_address(ep.host, ep.port)
        return local if isinstance(local, str) else tuple(local)

    def target(self, ep: Endpoint) -> tuple[str, object, list]:
        """(host, port, channel options) to dial for ep; through a tunnel's unix socket, ("unix",
        its path): gRPC's `unix:PATH` target."""
        if self.via is None:
            return ep.grpc_host, ep.port, GRPC_OPTIONS
        local = self.address(ep)
        host, port = ("unix", local) if isinstance(local, str) else local
        # TLS still verifies the name the user gave, not the forwarder's address; HTTP/2 names it too.
        return host, port, GRPC_OPTIONS + [("grpc.ssl_target_name_override", ep.host),
                                           ("grpc.default_authority", f"{ep.grpc_host}:{ep.port}")]

    def channel(self, ep: Endpoint) -> etcd3.Endpoint:
        creds = self.credentials() if ep.secure else None
        host, port, opts = self.target(ep)
        return etcd3.Endpoint(host, port, secure=ep.secure, creds=creds, opts=opts)

    def failure(self, ep: Endpoint) -> Optional[DeisctlError]:
        """Why the tunnel could not reach ep (None: no tunnel, or it has nothing to say): an
        AuthError when the bastion refused to forward, else an UnreachableError."""
        return self.via.failure(ep.host, ep.port) if self.via is not None else None


def probe(channel: etcd3.Endpoint, timeout: float):
    """A cheap Status call on the channel, as a future (grpc.Future)."""
    return MaintenanceStub(channel.channel).Status.future(StatusRequest(), timeout=timeout)
