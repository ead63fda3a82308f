"""Where etcd is: endpoint URLs, and the one place that opens a gRPC channel to an endpoint
(TLS credentials, the tunnel's forwarded address, channel options)."""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

import etcd3
import grpc
from etcd3.etcdrpc import MaintenanceStub, StatusRequest

from deisctl.errors import UsageError

# Fail fast instead of queueing RPCs while a channel reconnects; we fail over ourselves.
GRPC_OPTIONS = [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", 64 * 1024 * 1024)]


class Endpoint:
    __slots__ = ("url", "host", "port", "secure")

    def __init__(self, url: str, host: str, port: int, secure: bool):
        self.url, self.host, self.port, self.secure = url, host, port, secure

    def __repr__(self) -> str:
        return f"Endpoint({self.url!r})"

    @property
    def grpc_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


def parse_endpoint(url: str) -> Endpoint:
    raw = url if "://" in url else f"http://{url}"
    parts = urlsplit(raw)
    bad = UsageError(f"invalid etcd endpoint {url!r}", hint="use http://HOST:PORT or https://HOST:PORT")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise bad
    try:
        port = parts.port or 2379
    except ValueError:
        raise bad from None
    return Endpoint(f"{parts.scheme}://{parts.netloc}", parts.hostname, port, parts.scheme == "https")


def parse_endpoints(settings) -> list[Endpoint]:
    """The endpoints of the settings, checked before anything is sent."""
    endpoints = [parse_endpoint(url) for url in settings.endpoints]
    if settings.user and not all(ep.secure for ep in endpoints):
        raise UsageError("--user needs https:// endpoints",
                         hint="gRPC sends credentials only over TLS; pass --cacert too")
    return endpoints


class Dialer:
    """Opens gRPC channels to endpoints: directly, or through `via` (an open tunnel with
    .local_address(host, port) -> the address to dial instead, and .failure(host, port) -> why
    it could not get through, or None)."""

    def __init__(self, settings, via=None):
        self.settings = settings
        self.via = via
        self._credentials = None

    def credentials(self):
        """TLS credentials from --cacert/--cert/--key, read once."""
        if self._credentials is None:
            s = self.settings
            blobs = []
            for flag, path in (("--cacert", s.cacert), ("--key", s.key), ("--cert", s.cert)):
                if path is None:
                    blobs.append(None)
                    continue
                try:
                    with open(path, "rb") as handle:
                        blobs.append(handle.read())
                except OSError as exc:
                    raise UsageError(f"cannot read {flag} file {path!r}: {exc.strerror or exc}") from None
            self._credentials = grpc.ssl_channel_credentials(*blobs)
        return self._credentials

    def target(self, ep: Endpoint) -> tuple[str, int, list]:
        """(host, port, channel options) to dial for ep."""
        if self.via is None:
            return ep.grpc_host, ep.port, GRPC_OPTIONS
        host, port = self.via.local_address(ep.host, ep.port)
        # TLS still verifies the name the user gave, not the forwarder's address.
        return host, port, GRPC_OPTIONS + [("grpc.ssl_target_name_override", ep.host)]

    def channel(self, ep: Endpoint) -> etcd3.Endpoint:
        creds = self.credentials() if ep.secure else None
        host, port, opts = self.target(ep)
        return etcd3.Endpoint(host, port, secure=ep.secure, creds=creds, opts=opts)

    def failure(self, ep: Endpoint) -> Optional[str]:
        """Why the tunnel could not reach ep (None: no tunnel, or it has nothing to say)."""
        return self.via.failure(ep.host, ep.port) if self.via is not None else None


def probe(channel: etcd3.Endpoint, timeout: float):
    """A cheap Status call on the channel, as a future (grpc.Future)."""
    return MaintenanceStub(channel.channel).Status.future(StatusRequest(), timeout=timeout)
