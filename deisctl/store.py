"""etcd v3 access: the one client factory, endpoint failover, timeouts, and the
mapping of gRPC failures to deisctl errors.

Every RPC carries a deadline (--command-timeout); connecting is bounded by
--dial-timeout, with all endpoints dialled at once so that one hung member
cannot use up the budget of the others.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, NamedTuple, Optional, Sequence, TypeVar
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
    if "hostname verification" in lowered:
        return "TLS: the server certificate does not name this host (use the name it was issued for)"
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

    def __init__(self, settings: Settings, via=None):
        self.settings = settings
        # Reaches the endpoints on our behalf (deisctl.remote.Tunnel, for --tunnel): .local_address(host,
        # port) gives the address to dial instead, .failure(host, port) why it could not get through.
        self._via = via
        self._own_tunnel = None
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
        self._close_client()
        if self._own_tunnel is not None:
            self._own_tunnel.close()
            self._own_tunnel = self._via = None

    def _close_client(self) -> None:
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
        via = self._tunnel()
        for ep in candidates:
            creds = self._channel_credentials() if ep.secure else None
            host, port, opts = ep.grpc_host, ep.port, _GRPC_OPTIONS
            if via is not None:
                host, port = via.local_address(ep.host, ep.port)
                # TLS still verifies the name the user gave, not the forwarder's address.
                opts = opts + [("grpc.ssl_target_name_override", ep.host)]
            channels[ep.url] = etcd3.Endpoint(host, port, secure=ep.secure, creds=creds, opts=opts)
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
                self._down[ep.url] = (via and via.failure(ep.host, ep.port)) or _probe_failure(probe, timeout)
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

    def _tunnel(self):
        if self._via is None and self.settings.tunnel:
            from deisctl import remote  # paramiko: only when a tunnel is asked for

            self._own_tunnel = self._via = remote.open_tunnel(self.settings.tunnel,
                                                              remote.ssh_options_from_env(self.settings.env, settings=self.settings))
        return self._via

    def _unreachable(self) -> UnreachableError:
        reasons = ", ".join(f"{url} ({why})" for url, why in self._down.items())
        return UnreachableError(f"cannot reach etcd: {reasons}")

    def _reset(self) -> None:
        self._close_client()
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

    # -- revisions: guarded multi-transaction writes, reads at a revision, history, watch and
    #    per-member status (config export/apply/diff, history, rollback, watch; check) --------

    before_guarded_txn: Optional[Callable[[int, int], None]] = None  # test seam: (index, total)

    def snapshot(self, prefixes: Sequence[str], keys: Sequence[str] = ()) -> "Snapshot":
        """Every key under each prefix, plus the given keys, all read at one revision."""
        from etcd3.etcdrpc import RangeRequest, RequestOp, TxnRequest

        ranges = [(p.encode("utf-8"), prefix_range_end(p)) for p in prefixes]
        ranges += [(k.encode("utf-8"), None) for k in keys]
        rows: dict[str, KV] = {}
        revision = 0
        for start in range(0, max(len(ranges), 1), MAX_TXN_OPS):
            ops = []
            for key, end in ranges[start:start + MAX_TXN_OPS]:
                request = RangeRequest(key=key, revision=revision)
                if end is not None:
                    request.range_end = end
                ops.append(RequestOp(request_range=request))
            request = TxnRequest(success=ops)
            response = self.run(lambda c: _raw_call(c, "kvstub", "Txn", request))
            revision = revision or response.header.revision
            for item in response.responses:
                for kv in item.response_range.kvs:
                    row = _kv(kv)
                    rows[row.key] = row
        return Snapshot(revision, rows)

    def guarded_write(self, changes: Sequence[tuple[str, Optional[str]]], expected: dict,
                      progress: Optional[Callable[[int, int], None]] = None) -> int:
        """Put (key, value) and delete (key, None), each key guarded by the mod_revision it had
        when it was read (expected[key]; missing or 0: the key must not exist).

        Up to MAX_TXN_OPS changes: one transaction, all or nothing. More: consecutive
        transactions of MAX_TXN_OPS changes, each all or nothing; a conflict stops at the
        transaction that detects it (the ones before it stay written). Returns the revision
        of the last transaction.
        """
        from etcd3.etcdrpc import Compare, TxnRequest

        from deisctl.errors import ConflictError

        batches = [changes[i:i + MAX_TXN_OPS] for i in range(0, len(changes), MAX_TXN_OPS)]
        revision = 0
        for index, batch in enumerate(batches):
            if Store.before_guarded_txn is not None:
                Store.before_guarded_txn(index, len(batches))
            request = TxnRequest()
            compare, success, failure = request.compare.add, request.success.add, request.failure.add
            for key, value in batch:
                raw = key.encode("utf-8")
                mod = expected.get(key) or 0
                if mod:
                    compare(key=raw, result=Compare.EQUAL, target=Compare.MOD, mod_revision=mod)
                else:
                    compare(key=raw, result=Compare.EQUAL, target=Compare.CREATE, create_revision=0)
                if value is None:
                    success().request_delete_range.key = raw
                else:
                    put = success().request_put
                    put.key, put.value = raw, value.encode("utf-8")
                failure().request_range.key = raw
            response = self.run(lambda c: _raw_call(c, "kvstub", "Txn", request))
            revision = response.header.revision
            if not response.succeeded:
                current = {kv.key.decode("utf-8", "backslashreplace"): kv
                           for item in response.responses for kv in item.response_range.kvs}
                # A transaction retried after a lost connection may have been applied the first
                # time: its guards then fail on its own writes, and the state is already right.
                if not all((current[k].value == v.encode("utf-8")) if k in current else v is None
                           for k, v in batch):
                    changed = [k for k, _ in batch
                               if (current[k].mod_revision if k in current else 0) != (expected.get(k) or 0)]
                    names = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
                    if index == 0:
                        tail = "nothing was written"
                    else:
                        written = sum(len(b) for b in batches[:index])
                        tail = (f"the first {written} of {len(changes)} changes ({index} of {len(batches)} "
                                "transactions) were written, the rest were not; run it again to converge")
                    raise ConflictError(f"changed by someone else since it was read: {names}; {tail}")
            if progress:
                progress(index + 1, len(batches))
        return revision

    def get_at(self, key: str, revision: int) -> Optional[KV]:
        """The key as it was at a past revision (None when it did not exist then)."""
        from etcd3.etcdrpc import RangeRequest

        request = RangeRequest(key=key.encode("utf-8"), revision=revision)

        def op(client):
            try:
                return _raw_call(client, "kvstub", "Range", request)
            except grpc.RpcError as exc:
                details = exc.details() or ""
                if "compacted" in details:
                    raise CompactedError(
                        f"revision {revision} of {key} is no longer available: etcd has compacted it",
                        hint="'history' shows the revisions that remain") from None
                if "future revision" in details:
                    raise UsageError(f"revision {revision} does not exist yet") from None
                raise

        response = self.run(op)
        return _kv(response.kvs[0]) if response.kvs else None

    def history(self, key: str, quiet: float = 0.4) -> "tuple[list[HistoryEntry], int, Optional[KV]]":
        """Every put and delete of one key that etcd still has, oldest first.

        Returns (entries, compact_revision or 0, current KV or None). The events are replayed
        by a watch that starts at revision 1 (or etcd's compaction point) and is read up to the
        key's current mod_revision; for a key that does not exist now, until etcd has sent
        nothing more for `quiet` seconds (it replays history in rounds of ~100 ms).
        """
        snap = self.snapshot([], [key])
        current = snap.rows.get(key)
        deadline = time.monotonic() + self.settings.command_timeout
        start, compacted = 1, 0
        while True:
            if self._client is None:
                self._dial()
            entries: list[HistoryEntry] = []
            reader = _StreamReader(self._client, _watch_create(key, None, start, False))
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        if current is None:
                            return entries, compacted, current
                        raise UnreachableError(f"etcd at {self._current.url}: history of {key} not complete "
                                               f"within --command-timeout {self.settings.command_timeout:g}s")
                    item = reader.next(remaining if current is not None else min(remaining, quiet))
                    if item is None:
                        if current is None:
                            return entries, compacted, current
                        continue
                    if isinstance(item, grpc.RpcError):
                        raise map_rpc_error(item, self._current.url)
                    if isinstance(item, Exception):
                        raise UnreachableError(f"etcd at {self._current.url}: {item}")
                    if item.compact_revision:
                        break  # restart the replay at the compaction point
                    for event in item.events:
                        kv = event.kv
                        entries.append(HistoryEntry(kv.mod_revision, event.type == 1, kv.value, kv.version))
                    if current is not None and entries and entries[-1].revision >= current.mod_revision:
                        return entries, compacted, current
            finally:
                reader.close()
            compacted = start = item.compact_revision

    def watch(self, key: str, range_end: Optional[bytes], start_revision: int, deadline: Optional[float] = None):
        """Yield (revision, events) from start_revision on, until the deadline (time.monotonic()).

        When the member serving the stream fails or loses its leader, reconnect through
        another endpoint and resume at the revision after the last one delivered: no event is
        lost or repeated. Compaction of revisions not yet delivered is an error.
        """
        next_revision = start_revision
        while True:
            reconnect_until = time.monotonic() + self.settings.dial_timeout + self.settings.command_timeout
            while self._client is None:
                try:
                    self._dial()
                except UnreachableError:
                    if time.monotonic() >= reconnect_until:
                        raise
                    self._down.clear()  # try them all again: a member that was down may be back
                    time.sleep(0.2)
            reader = _StreamReader(self._client, _watch_create(key, range_end, next_revision, True))
            failure = None
            try:
                while failure is None:
                    wait = 0.5 if deadline is None else min(deadline - time.monotonic(), 0.5)
                    if wait <= 0:
                        return
                    item = reader.next(wait)
                    if item is None:
                        continue
                    if isinstance(item, grpc.RpcError):
                        if item.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED,
                                               grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
                            raise map_rpc_error(item, self._current.url)
                        failure = _short_reason(item.details() or str(item.code()))
                    elif isinstance(item, Exception):
                        failure = str(item)
                    elif item.compact_revision:
                        raise CompactedError(
                            f"etcd compacted revisions up to {item.compact_revision} before they were "
                            f"delivered: events from revision {next_revision} on are lost", item.compact_revision)
                    elif item.canceled:
                        failure = item.cancel_reason or "watch canceled by the server"
                    elif item.events:
                        next_revision = item.events[-1].kv.mod_revision + 1
                        yield item.header.revision, list(item.events)
            finally:
                reader.close()
            where = self._current.url
            self._reset()
            self._down[where] = failure  # prefer the other members for the next stream
            self.on_reconnect(where, failure, next_revision)
            time.sleep(0.1)

    def on_reconnect(self, endpoint: str, reason: str, resume_revision: int) -> None:
        """Called when a watch stream failed, before reconnecting (the CLI reports it)."""

    def member_statuses(self) -> "list[MemberStatus]":
        """Status of every endpoint, probed at once, within --dial-timeout + --command-timeout."""
        timeout = self.settings.dial_timeout + self.settings.command_timeout
        channels, futures = {}, {}
        via = self._tunnel()
        for ep in self.endpoints:
            creds = self._channel_credentials() if ep.secure else None
            host, port, opts = ep.grpc_host, ep.port, _GRPC_OPTIONS
            if via is not None:  # as _dial does: through the bastion, TLS name kept
                host, port = via.local_address(ep.host, ep.port)
                opts = opts + [("grpc.ssl_target_name_override", ep.host)]
            channels[ep.url] = etcd3.Endpoint(host, port, secure=ep.secure, creds=creds, opts=opts)
            futures[ep.url] = MaintenanceStub(channels[ep.url].channel).Status.future(StatusRequest(),
                                                                                       timeout=timeout)
        results = []
        for ep in self.endpoints:
            future = futures[ep.url]
            try:
                status = future.result()
                results.append(MemberStatus(ep.url, True, "", status.version, status.header.member_id,
                                            status.leader, status.raftTerm))
            except grpc.RpcError as exc:
                detail = map_rpc_error(exc, ep.url).message if _answered(future) else _probe_failure(future, timeout)
                if via is not None and not _answered(future):
                    detail = via.failure(ep.host, ep.port) or detail
                results.append(MemberStatus(ep.url, False, detail))
            finally:
                channels[ep.url].close()
        return results


class CompactedError(NotFoundError):
    """The revision asked for is older than etcd's last compaction."""

    def __init__(self, message: str, compact_revision: int = 0, **kw):
        super().__init__(message, **kw)
        self.compact_revision = compact_revision


class Snapshot(NamedTuple):
    """Keys read at one revision."""

    revision: int
    rows: dict  # full key -> KV


class HistoryEntry(NamedTuple):
    revision: int
    deleted: bool
    value: bytes
    version: int  # 1 on the put that created the key (again)


class MemberStatus(NamedTuple):
    endpoint: str
    ok: bool
    detail: str = ""  # why it failed
    version: str = ""
    member_id: int = 0
    leader: int = 0
    raft_term: int = 0


def prefix_range_end(prefix: str) -> bytes:
    return etcd3.utils.prefix_range_end(prefix.encode("utf-8"))


def _raw_call(client, stub: str, method: str, request):
    """A unary RPC with the client's deadline and credentials; network failures are mapped as the
    library maps them, so that Store.run fails over and retries."""
    try:
        return getattr(getattr(client, stub), method)(request, client.timeout, credentials=client.call_credentials,
                                                      metadata=client.metadata)
    except grpc.RpcError as exc:
        code = exc.code()
        if code == grpc.StatusCode.UNAVAILABLE:
            raise etcd_errors.ConnectionFailedError() from exc
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise etcd_errors.ConnectionTimeoutError() from exc
        raise


def _watch_create(key: str, range_end: Optional[bytes], start_revision: int, prev_kv: bool):
    from etcd3.etcdrpc import WatchCreateRequest

    create = WatchCreateRequest(key=key.encode("utf-8"), start_revision=start_revision, prev_kv=prev_kv)
    if range_end is not None:
        create.range_end = range_end
    return create


class _StreamReader:
    """Reads a gRPC watch stream on a daemon thread, so that the caller waits with a timeout
    and Ctrl-C stays responsive."""

    def __init__(self, client, create):
        import queue

        from etcd3.etcdrpc import WatchRequest, WatchStub

        self._queue_mod = queue
        self.responses: "queue.Queue" = queue.Queue()
        self._requests: "queue.Queue" = queue.Queue()
        self._requests.put(WatchRequest(create_request=create))

        def requests():
            while True:
                item = self._requests.get()
                if item is None:
                    return
                yield item

        # hasleader: a member that loses its leader ends the stream, so that we move on.
        metadata = tuple(client.metadata or ()) + (("hasleader", "true"),)
        self._call = WatchStub(client.channel).Watch(requests(), credentials=client.call_credentials,
                                                     metadata=metadata)
        self._thread = threading.Thread(target=self._pump, name="deisctl-watch", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            for response in self._call:
                self.responses.put(response)
            self.responses.put(ConnectionError("the watch stream ended"))
        except Exception as exc:  # grpc.RpcError mostly; never leave the reader hanging
            self.responses.put(exc)

    def next(self, timeout: float):
        """The next response or exception object; None when the timeout passed first."""
        try:
            return self.responses.get(timeout=max(timeout, 0))
        except self._queue_mod.Empty:
            return None

    def close(self) -> None:
        self._call.cancel()  # first: ends the stream and the pump thread
        self._requests.put(None)  # then lets gRPC's request-iterator thread finish
        # No thread may still be inside gRPC when the channel closes or the interpreter exits.
        self._thread.join(timeout=2)
