"""Reads and plain writes: single keys, several keys in one transaction, prefixes, and a
snapshot of prefixes and keys at one revision. Each function takes the Store and runs its
request through Store.run (failover and retries)."""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import etcd3
import grpc
from etcd3 import exceptions as etcd_errors

from deisctl.errors import NotFoundError, UsageError
from deisctl.limits import MAX_REQUEST_BYTES, MAX_TXN_OPS, REQUEST_OVERHEAD


class KV:
    """One key-value pair with its MVCC metadata."""

    __slots__ = ("key", "value", "mod_revision", "create_revision", "version")

    def __init__(self, key: str, value: bytes, mod_revision: int, create_revision: int, version: int):
        self.key, self.value = key, value
        self.mod_revision, self.create_revision, self.version = mod_revision, create_revision, version

    def __repr__(self) -> str:
        return f"KV({self.key!r}, mod_revision={self.mod_revision})"

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", errors="backslashreplace")


class Snapshot(NamedTuple):
    """Keys read at one revision."""

    revision: int
    rows: dict  # full key -> KV


def prefix_range_end(prefix: str) -> bytes:
    return etcd3.utils.prefix_range_end(prefix.encode("utf-8"))


def kv_from_proto(proto) -> KV:
    return KV(proto.key.decode("utf-8", "backslashreplace"), proto.value, proto.mod_revision,
              proto.create_revision, proto.version)


def _kv_from_meta(value: bytes, meta) -> KV:
    return KV(meta.key.decode("utf-8", "backslashreplace"), value, meta.mod_revision,
              meta.create_revision, meta.version)


def raw_call(client, stub: str, method: str, request):
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


def _check_txn_size(count: int) -> None:
    if count > MAX_TXN_OPS:
        raise UsageError(
            f"{count} keys in one command; etcd allows at most {MAX_TXN_OPS} operations per transaction",
            hint="split the command, or use 'deisctl config apply'",
        )


def get(store, key: str) -> Optional[KV]:
    value, meta = store.run(lambda c: c.get(key))
    return None if meta is None else _kv_from_meta(value, meta)


def get_many(store, keys: Sequence[str]) -> dict[str, KV]:
    """Read several keys from one revision (a single transaction)."""
    if len(keys) == 1:
        found = get(store, keys[0])
        return {keys[0]: found} if found else {}
    _check_txn_size(len(keys))

    def op(client):
        return client.transaction(compare=[], success=[client.transactions.get(k) for k in keys], failure=[])

    _, responses = store.run(op)
    result = {}
    for key, rows in zip(keys, responses):
        if rows:
            result[key] = _kv_from_meta(*rows[0])
    return result


def list_prefix(store, prefix: str) -> list[KV]:
    rows = store.run(lambda c: list(c.get_prefix(prefix, sort_order="ascend", sort_target="key")))
    return [_kv_from_meta(value, meta) for value, meta in rows]


def request_bytes(items: Sequence[tuple[str, Optional[str]]]) -> int:
    """What the keys and values of one transaction weigh in its request."""
    return sum(len(k.encode("utf-8")) + (len(v.encode("utf-8")) if v else 0) for k, v in items)


def put_many(store, items: Sequence[tuple[str, str]]) -> list[Optional[KV]]:
    """Write all pairs in one transaction; return each key's previous value (or None)."""
    _check_txn_size(len(items))
    size = request_bytes(items)
    if size > MAX_REQUEST_BYTES - REQUEST_OVERHEAD:
        raise UsageError(f"the values are too large for one transaction ({size} bytes; etcd accepts at most "
                         f"{MAX_REQUEST_BYTES} bytes per request)", hint="set them in separate commands")

    def op(client):
        puts = [client.transactions.put(k, v.encode("utf-8"), prev_kv=True) for k, v in items]
        return client.transaction(compare=[], success=puts, failure=[])

    _, responses = store.run(op)
    return [kv_from_proto(r.response_put.prev_kv) if r.response_put.HasField("prev_kv") else None for r in responses]


def delete_many(store, keys: Sequence[str], *, must_exist: bool) -> list[KV]:
    """Delete all keys in one transaction. With must_exist, a missing key deletes nothing."""
    _check_txn_size(len(keys))

    def op(client):
        t = client.transactions
        compare = [t.version(k) > 0 for k in keys] if must_exist else []
        deletes = [t.delete(k, prev_kv=True) for k in keys]
        return client.transaction(compare=compare, success=deletes, failure=[t.get(k) for k in keys])

    # Repeating a guarded delete that was applied would report the keys missing.
    succeeded, responses = store.run(op, idempotent=not must_exist)
    if not succeeded:
        missing = [k for k, rows in zip(keys, responses) if not rows]
        raise NotFoundError(f"not found: {', '.join(missing)}; nothing was deleted",
                            hint="--ignore-missing deletes the others")
    return [kv_from_proto(p) for r in responses for p in r.response_delete_range.prev_kvs]


def snapshot(store, prefixes: Sequence[str], keys: Sequence[str] = ()) -> Snapshot:
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
        response = store.run(lambda c: raw_call(c, "kvstub", "Txn", request))
        revision = revision or response.header.revision
        for item in response.responses:
            for kv in item.response_range.kvs:
                row = kv_from_proto(kv)
                rows[row.key] = row
    return Snapshot(revision, rows)
