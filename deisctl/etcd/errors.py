"""gRPC failures as deisctl errors: one clear line each, with the exit code of its kind."""

from __future__ import annotations

import grpc

from deisctl.errors import AuthError, DeisctlError, NotFoundError, UnreachableError, UsageError

_NETWORK = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class CompactedError(NotFoundError):
    """The revision asked for is older than etcd's last compaction."""

    def __init__(self, message: str, compact_revision: int = 0, **kw):
        super().__init__(message, **kw)
        self.compact_revision = compact_revision


def short_reason(details: str) -> str:
    """gRPC's connection failure text, said the way an operator can act on."""
    lowered = details.lower()
    if "hostname verification" in lowered:
        return "TLS: the server certificate does not name this host (use the name it was issued for)"
    if "handshake" in lowered or "certificate" in lowered or "ssl" in lowered:
        return "TLS handshake failed (check --cacert and the endpoint's http/https scheme)"
    if "refused" in lowered:
        return "connection refused"
    if "socket closed" in lowered or "end of tcp stream" in lowered:
        return "connection closed by the server (http endpoint on a TLS server?)"
    return details.rsplit(": ", 1)[-1][:120] or "connection failed"


def answered(probe) -> bool:
    """The server answered the probe (a done future): success, or any refusal that is not a
    network failure."""
    error = probe.exception()
    return error is None or error.code() not in _NETWORK


def probe_failure(probe, timeout: float) -> str:
    """Why a probe that did not answer failed."""
    error = probe.exception()
    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"no answer within --dial-timeout {timeout:g}s"
    return short_reason(error.details() or "")


def map_rpc_error(exc: grpc.RpcError, where: str) -> DeisctlError:
    """Turn a raw gRPC error into a deisctl error with a clear one-line message."""
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else None) or str(exc)
    text = details.removeprefix("etcdserver: ")
    lowered = text.lower()
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED) or "authentication failed" in lowered \
            or "user name is empty" in lowered or "permission denied" in lowered or "invalid auth token" in lowered:
        hint = "pass --user NAME[:PASSWORD] (with https:// endpoints)" if "empty" in lowered else None
        return AuthError(f"etcd at {where} refused: {text}", hint=hint)
    if "too many operations" in lowered:
        return UsageError(f"etcd at {where} refused the transaction: {text}",
                          hint="the server allows fewer operations per transaction; write fewer keys at once")
    if "request is too large" in lowered:
        return UsageError(f"etcd at {where} refused the request: {text}")
    if code in _NETWORK:
        return UnreachableError(f"etcd at {where}: {short_reason(details)}")
    return DeisctlError(f"etcd at {where} failed: {text}")
