"""etcd v3 access: the one client factory, endpoint failover, timeouts, and the
mapping of gRPC failures to deisctl errors.

Every RPC carries a deadline (--command-timeout); connecting is bounded by
--dial-timeout, with all endpoints dialled at once so that one hung member
cannot use up the budget of the others.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional, Sequence, TypeVar
from urllib.parse import urlsplit

import etcd3
import grpc
from etcd3 import exceptions as etcd_errors
from etcd3.etcdrpc import MaintenanceStub, StatusRequest

from deisctl.errors import AuthError, DeisctlError, NotFoundError, UnreachableError, UsageError
from deisctl.settings import Settings

MAX_TXN_OPS = 128  # etcd's default --max-txn-ops
T = TypeVar("T")
# Fail fast instead of queueing RPCs while a channel reconnects; we fail over ourselves.
_GRPC_OPTIONS = [("grpc.enable_retries", 0), ("grpc.max_receive_message_length", 64 * 1024 * 1024)]


class Endpoint:
    __slots__ = ("url", "host", "port", "secure")

    def __init__(self, url: str, host: str, port: int, secure: bool):
        self.url, self.host, self.port, self.secure = url, host, port, secure

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


class KV:
    """One key-value pair with its MVCC metadata (plain class: cheap to import)."""

    __slots__ = ("key", "value", "mod_revision", "create_revision", "version")

    def __init__(self, key: str, value: bytes, mod_revision: int, create_revision: int, version: int):
        self.key, self.value = key, value
        self.mod_revision, self.create_revision, self.version = mod_revision, create_revision, version

    def __repr__(self) -> str:
        return f"KV({self.key!r}, mod_revision={self.mod_revision})"

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", errors="backslashreplace")


def _kv(proto) -> KV:
    return KV(proto.key.decode("utf-8", "backslashreplace"), proto.value, proto.mod_revision,
              proto.create_revision, proto.version)


def _kv_from_meta(value: bytes, meta) -> KV:
    return KV(meta.key.decode("utf-8", "backslashreplace"), value, meta.mod_revision,
              meta.create_revision, meta.version)


def _short_reason(details: str) -> str:
    lowered = details.lower()
    if "handshake" in lowered or "certificate" in lowered or "ssl" in lowered:
        return "TLS handshake failed (check --cacert and the endpoint's http/https scheme)"
    if "refused" in lowered:
        return "connection refused"
    if "socket closed" in lowered or "end of tcp stream" in lowered:
        return "connection closed by the server (http endpoint on a TLS server?)"
    return details.rsplit(": ", 1)[-1][:120] or "connection failed"


def _answered(probe) -> bool:
    """The server answered the probe: success, or any refusal that is not a network failure."""
    error = probe.exception()
    return error is None or error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def _probe_failure(probe, timeout: float) -> str:
    error = probe.exception()
    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"no answer within --dial-timeout {timeout:g}s"
    return _short_reason(error.details() or "")


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
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return UnreachableError(f"etcd at {where}: {_short_reason(details)}")
    return DeisctlError(f"etcd at {where} failed: {text}")


class Store:
    """A connection to one etcd cluster, through whichever endpoint answers."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.endpoints = [parse_endpoint(url) for url in settings.endpoints]
        if settings.user and not all(ep.secure for ep in self.endpoints):
            raise UsageError("--user needs https:// endpoints",
                             hint="gRPC sends credentials only over TLS; pass --cacert too")
        self._client = None
        self._current: Optional[Endpoint] = None
        self._down: dict[str, str] = {}  # endpoint url -> why we gave up on it
        self._credentials = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- connecting ---------------------------------------------------------------

    def _channel_credentials(self):
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

    def _dial(self) -> None:
        """Connect through the first endpoint that answers within --dial-timeout.

        Every candidate is probed at once with a cheap Status call, so a hung
        member cannot use up the time of the others; earlier endpoints in the
        list are preferred when several answer.
        """
        candidates = [ep for ep in self.endpoints if ep.url not in self._down]
        if not candidates:
            raise self._unreachable()
        timeout = self.settings.dial_timeout
        cond = threading.Condition()
        channels, probes = {}, {}
        for ep in candidates:
            creds = self._channel_credentials() if ep.secure else None
            channels[ep.url] = etcd3.Endpoint(ep.grpc_host, ep.port, secure=ep.secure, creds=creds,
                                              opts=_GRPC_OPTIONS)
            probes[ep.url] = MaintenanceStub(channels[ep.url].channel).Status.future(StatusRequest(),
                                                                                      timeout=timeout)

            def notify(_future):
                with cond:
                    cond.notify_all()

            probes[ep.url].add_done_callback(notify)

        chosen = None
        deadline = time.monotonic() + timeout + 0.5  # the probes' own deadline ends the wait first
        with cond:
            while True:
                answered = [ep for ep in candidates if probes[ep.url].done() and _answered(probes[ep.url])]
                chosen = answered[0] if answered else None
                remaining = deadline - time.monotonic()
                if chosen or all(p.done() for p in probes.values()) or remaining <= 0:
                    break
                cond.wait(remaining)

        for ep in candidates:
            if chosen is not None and ep.url == chosen.url:
                continue
            probe = probes[ep.url]
            if probe.done() and not _answered(probe):
                self._down[ep.url] = _probe_failure(probe, timeout)
            elif chosen is None:
                self._down[ep.url] = f"no answer within --dial-timeout {timeout:g}s"
            probe.cancel()
            channels[ep.url].close()
        if chosen is None:
            raise self._unreachable()

        try:
            self._client = etcd3.MultiEndpointEtcd3Client(
                endpoints=[channels[chosen.url]],
                timeout=self.settings.command_timeout,
                user=self.settings.user,
                password=self.settings.password,
            )
        except grpc.RpcError as exc:  # Authenticate is a raw call in the library
            channels[chosen.url].close()
            error = map_rpc_error(exc, chosen.url)
            if isinstance(error, UnreachableError):
                self._down[chosen.url] = error.message
                return self._dial()
            raise error from None
        self._current = chosen

    def _unreachable(self) -> UnreachableError:
        reasons = ", ".join(f"{url} ({why})" for url, why in self._down.items())
        return UnreachableError(f"cannot reach etcd: {reasons}")

    def _reset(self) -> None:
        self.close()
        self._current = None

    def run(self, op: Callable[[object], T], *, idempotent: bool = True) -> T:
        """Run op(client); when the member stops answering, reconnect and retry.

        Reconnecting probes every endpoint again, so a dead member is skipped and a
        live one that only lost its leader is retried after a short pause. A write
        that timed out is retried only if repeating it cannot change the outcome.
        """
        attempts = 0
        while True:
            if self._client is None:
                self._dial()
            where = self._current.url
            timeout = self.settings.command_timeout
            try:
                return op(self._client)
            except (etcd_errors.ConnectionFailedError, etcd_errors.NoServerAvailableError):
                failure = "connection lost or no leader"
            except etcd_errors.ConnectionTimeoutError:
                if not idempotent:
                    raise UnreachableError(
                        f"etcd at {where} did not answer within --command-timeout {timeout:g}s; "
                        "the write may or may not have been applied",
                        hint="read the keys back before retrying",
                    ) from None
                failure = f"no answer within --command-timeout {timeout:g}s"
            except etcd_errors.InternalServerError:
                raise DeisctlError(f"etcd at {where} reported an internal error") from None
            except grpc.RpcError as exc:
                raise map_rpc_error(exc, where) from None
            attempts += 1
            self._reset()
            if attempts > len(self.endpoints) + 1:
                raise UnreachableError(f"etcd at {where}: {failure}")
            time.sleep(min(0.2 * attempts, 1.0))  # leave time for a leader election

    # -- key-value operations -----------------------------------------------------

    @staticmethod
    def _check_txn_size(count: int) -> None:
        if count > MAX_TXN_OPS:
            raise UsageError(
                f"{count} keys in one command; etcd allows at most {MAX_TXN_OPS} operations per transaction",
                hint="split the command, or use 'deisctl config apply'",
            )

    def get(self, key: str) -> Optional[KV]:
        value, meta = self.run(lambda c: c.get(key))
        return None if meta is None else _kv_from_meta(value, meta)

    def get_many(self, keys: Sequence[str]) -> dict[str, KV]:
        """Read several keys from one revision (a single transaction)."""
        if len(keys) == 1:
            found = self.get(keys[0])
            return {keys[0]: found} if found else {}
        self._check_txn_size(len(keys))

        def op(client):
            return client.transaction(compare=[], success=[client.transactions.get(k) for k in keys], failure=[])

        _, responses = self.run(op)
        result = {}
        for key, rows in zip(keys, responses):
            if rows:
                result[key] = _kv_from_meta(*rows[0])
        return result

    def list_prefix(self, prefix: str) -> list[KV]:
        rows = self.run(lambda c: list(c.get_prefix(prefix, sort_order="ascend", sort_target="key")))
        return [_kv_from_meta(value, meta) for value, meta in rows]

    def put_many(self, items: Sequence[tuple[str, str]]) -> list[Optional[KV]]:
        """Write all pairs in one transaction; return each key's previous value (or None)."""
        self._check_txn_size(len(items))

        def op(client):
            puts = [client.transactions.put(k, v.encode("utf-8"), prev_kv=True) for k, v in items]
            return client.transaction(compare=[], success=puts, failure=[])

        _, responses = self.run(op)
        return [_kv(r.response_put.prev_kv) if r.response_put.HasField("prev_kv") else None for r in responses]

    def delete_many(self, keys: Sequence[str], *, must_exist: bool) -> list[KV]:
        """Delete all keys in one transaction. With must_exist, a missing key deletes nothing."""
        self._check_txn_size(len(keys))

        def op(client):
            t = client.transactions
            compare = [t.version(k) > 0 for k in keys] if must_exist else []
            deletes = [t.delete(k, prev_kv=True) for k in keys]
            return client.transaction(compare=compare, success=deletes, failure=[t.get(k) for k in keys])

        # Repeating a guarded delete that was applied would report the keys missing.
        succeeded, responses = self.run(op, idempotent=not must_exist)
        if not succeeded:
            missing = [k for k, rows in zip(keys, responses) if not rows]
            raise NotFoundError(f"not found: {', '.join(missing)}; nothing was deleted",
                                hint="--ignore-missing deletes the others")
        return [_kv(p) for r in responses for p in r.response_delete_range.prev_kvs]
