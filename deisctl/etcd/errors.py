"""gRPC failures as deisctl errors: one clear line each, with the exit code of its kind; and what
a failed call tells about its request (never sent, refused unexecuted, or outcome unknown)."""

from __future__ import annotations

import grpc

from deisctl.errors import AuthError, DeisctlError, NotFoundError, UnreachableError, UsageError

_NETWORK = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
# What etcd itself answers to a Status call it refuses: the member is there.
_ETCD_REFUSALS = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
                  grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                  grpc.StatusCode.RESOURCE_EXHAUSTED)

# How a call failed, for Store.run: whether to retry, and whether a write may have been applied.
NOT_SENT = "not sent"  # no connection: the request never left
NO_LEADER = "no leader"  # refused before execution (the hasleader check): nothing applied
TIMEOUT = "timeout"  # no answer in time: a write may or may not have been applied
LOST = "lost"  # the connection broke during the call: likewise unknown

NO_LEADER_TEXT = "the member has no leader: the cluster has lost its quorum or is electing one"


class CompactedError(NotFoundError):
    """The revision asked for is older than etcd's last compaction."""

    def __init__(self, message: str, compact_revision: int = 0, **kw):
        super().__init__(message, **kw)
        self.compact_revision = compact_revision


def _details(exc) -> str:
    return (exc.details() if hasattr(exc, "details") else None) or str(exc)


def short_reason(details: str) -> str:
    """gRPC's connection failure text, said the way an operator can act on (diagnose.py says
    more about a server that closes the connection or answers in another protocol)."""
    lowered = details.lower()
    if "hostname verification" in lowered or "is not in peer certificate" in lowered:  # newer / older gRPC
        return "TLS: the server certificate does not name this host (use the name it was issued for)"
    if "handshake" in lowered or "certificate" in lowered or "ssl" in lowered:
        return "TLS handshake failed (check --cacert and the endpoint's http/https scheme)"
    if "refused" in lowered:
        return "connection refused"
    if "socket closed" in lowered or "end of tcp stream" in lowered:
        return "connection closed by the server"
    if "failed parsing http/2" in lowered or "http1.x" in lowered:
        return "the server does not speak HTTP/2 (gRPC)"
    return details.rsplit(": ", 1)[-1][:120] or "connection failed"


def worth_diagnosing(details: str) -> bool:
    """A dial failure where something answered, but not as etcd v3 does (diagnose.py can tell what)."""
    lowered = details.lower()
    return not any(sign in lowered for sign in ("refused", "hostname verification", "is not in peer certificate",
                                                "certificate_verify_failed",
                                                "dns resolution", "no route", "unreachable"))


def answered(probe) -> bool:
    """The server answered the probe (a done future) as an etcd member does: with its status,
    or with one of etcd's own refusals."""
    if probe.cancelled():
        return False
    error = probe.exception()
    return error is None or error.code() in _ETCD_REFUSALS


def probe_failure(probe, timeout: float) -> str:
    """Why a probe that did not answer failed."""
    if probe.cancelled():
        return f"no answer within --dial-timeout {timeout:g}s"
    error = probe.exception()
    code = error.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"no answer within --dial-timeout {timeout:g}s"
    if code not in _NETWORK and code != grpc.StatusCode.INTERNAL:  # an HTTP/2 server, not etcd
        return f"not an etcd v3 server (its answer to etcd's Status call: {code.name.lower()})"
    return short_reason(error.details() or "")


def failure_kind(exc) -> "str | None":
    """NOT_SENT, NO_LEADER, TIMEOUT or LOST for a call that got no answer from etcd; None for
    an answer (a refusal or an error etcd reported)."""
    code = exc.code() if hasattr(exc, "code") else None
    lowered = _details(exc).lower()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return TIMEOUT
    if "no leader" in lowered:
        return NO_LEADER
    # etcd's own deadline: "etcdserver: request timed out" (UNAVAILABLE), "context deadline
    # exceeded" (UNKNOWN), "leader changed": the request may have been executed.
    if "timed out" in lowered or "deadline exceeded" in lowered or "leader changed" in lowered:
        return TIMEOUT
    if code == grpc.StatusCode.UNAVAILABLE:
        if "failed to connect" in lowered or "refused" in lowered:
            return NOT_SENT
        return LOST
    if code == grpc.StatusCode.CANCELLED:
        return LOST
    return None


def failure_text(exc, kind: str, command_timeout: float) -> str:
    """The reason, for a call that failed as `kind` (failure_kind)."""
    details = _details(exc).removeprefix("etcdserver: ")
    if kind == TIMEOUT:
        own = exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED if hasattr(exc, "code") else True
        return f"no answer within --command-timeout {command_timeout:g}s" + ("" if own else f": {details}")
    if kind == NO_LEADER:
        return NO_LEADER_TEXT
    if kind == LOST:
        return stream_failure(exc)
    return short_reason(details)


def stream_failure(exc) -> str:
    """Why an established call or stream ended: the member died, restarted or lost its leader
    (never a hint about TLS: the connection had worked)."""
    lowered = _details(exc).lower()
    if "no leader" in lowered:
        return "the member lost its leader"
    if "socket closed" in lowered or "end of tcp stream" in lowered or "eof" in lowered:
        return "the member closed the connection"
    if "goaway" in lowered or "server stopped" in lowered or "shutdown" in lowered:
        return "the member is shutting down"
    return "connection lost"


def token_expired(exc) -> bool:
    """etcd refused a request because the auth token it was sent with has expired."""
    return "invalid auth token" in _details(exc).lower()


def map_rpc_error(exc: grpc.RpcError, where: str) -> DeisctlError:
    """Turn a raw gRPC error into a deisctl error with a clear one-line message."""
    code = exc.code() if hasattr(exc, "code") else None
    details = _details(exc)
    text = details.removeprefix("etcdserver: ")
    lowered = text.lower()
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED) or "authentication failed" in lowered \
            or "user name is empty" in lowered or "permission denied" in lowered or "invalid auth token" in lowered:
        hint = "pass --user NAME[:PASSWORD] (with https:// endpoints)" if "empty" in lowered else None
        return AuthError(f"etcd at {where} refused: {text}", hint=hint)
    if "too many operations" in lowered:
        return UsageError(f"etcd at {where} refused the transaction: {text}",
                          hint="the server allows fewer operations per transaction; write fewer keys at once")
    if "request is too large" in lowered or "received message larger than max" in lowered:
        # etcd's own limit, or gRPC's below it (--max-request-bytes + 512 KiB): unexecuted either way
        return UsageError(f"etcd at {where} refused the request as too large: {text}")
    if code in _NETWORK:
        return UnreachableError(f"etcd at {where}: {short_reason(details)}")
    kind = failure_kind(exc)  # etcd's own timeouts and leader loss: unreachable, not failed
    if kind is not None:
        return UnreachableError(f"etcd at {where}: {NO_LEADER_TEXT if kind == NO_LEADER else text}")
    return DeisctlError(f"etcd at {where} failed: {text}")
