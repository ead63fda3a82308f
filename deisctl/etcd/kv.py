"""Reads and plain writes: single keys, several keys in one transaction, prefixes, and a
snapshot of prefixes and keys at one revision. Each function takes the Store and runs its
request through Store.run (failover and retries)."""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

import etcd3
from etcd3.etcdrpc import Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest

from deisctl.errors import ConflictError, NotFoundError, UsageError, first_few
from deisctl.limits import AUDIT_OPS, MAX_REQUEST_BYTES, MAX_TXN_OPS, REQUEST_OVERHEAD

# Sent with every request: a member without a leader refuses it at once ("etcdserver: no
# leader", before executing it) instead of holding it until the deadline (lost quorum).
HAS_LEADER = (("hasleader", "true"),)


def key_bytes(key: str) -> bytes:
    """A key as etcd stores it. Keys are text in deisctl, decoded with key_text, so that a key
    another client wrote in bytes that are not UTF-8 goes back exactly as it came (prune
    deletes that key, not its escaped display text)."""
    return key.encode("utf-8", "surrogateescape")


def key_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def value_bytes(value) -> bytes:
    """A value to write: text (UTF-8), or the exact bytes another client wrote (rollback)."""
    return value if isinstance(value, bytes) else value.encode("utf-8")


class KV:
    """One key-value pair with its MVCC metadata."""

    __slots__ = ("key", "value", "mod_revision", "create_revision", "version", "lease")

    def __init__(self, key: str, value: bytes, mod_revision: int, create_revision: int, version: int,
                 lease: int = 0):
        self.key, self.value = key, value
        self.mod_revision, self.create_revision, self.version = mod_revision, create_revision, version
        self.lease = lease  # the lease it lives by (a component's heartbeat), 0: none

    def __repr__(self) -> str:
        return f"KV({self.key!r}, mod_revision={self.mod_revision})"

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", errors="backslashreplace")


class Snapshot(NamedTuple):
    """Keys read at one revision."""

    revision: int
    rows: dict  # full key -> KV


class Previous(list):
    revision = 0  # the revision the write was applied at (0: not known)

    """Each key's value before a write, in order (None: the key did not exist). `known` is False
    when etcd's reply to the write was lost and what the keys held before it cannot be
    established; the entries are then all None."""

    known = True


def prefix_range_end(prefix: str) -> bytes:
    return etcd3.utils.prefix_range_end(key_bytes(prefix))


def kv_from_proto(proto) -> KV:
    return KV(key_text(proto.key), proto.value, proto.mod_revision,
              proto.create_revision, proto.version, proto.lease)


def raw_call(client, stub: str, method: str, request):
    """A unary RPC with the client's deadline and credentials, refused at once by a member
    without a leader; gRPC's errors reach Store.run, which tells failures from answers."""
    return getattr(getattr(client, stub), method)(request, client.timeout, credentials=client.call_credentials,
                                                  metadata=tuple(client.metadata or ()) + HAS_LEADER)


def _check_txn_size(count: int, store=None) -> None:
    limit = MAX_TXN_OPS - (AUDIT_OPS if store is not None and store.settings.audit else 0)
    if count > limit:
        raise UsageError(
            f"{count} keys in one command; at most {limit} fit in one etcd transaction (etcd allows "
            f"{MAX_TXN_OPS} operations" + (f", the audit record takes {MAX_TXN_OPS - limit})" if limit < MAX_TXN_OPS
                                           else ")"),
            hint="split the command, or use 'deisctl config apply'",
        )


def _reads(keys: Sequence[bytes], revision: int = 0) -> TxnRequest:
    """One transaction reading each key (at a past revision when given)."""
    return TxnRequest(success=[RequestOp(request_range=RangeRequest(key=k, revision=revision)) for k in keys])


def _read_at(client, keys: Sequence[bytes], revision: int):
    """The keys as they were at revision (a compacted revision: an error that says so)."""
    import grpc

    try:
        return raw_call(client, "kvstub", "Txn", _reads(keys, revision))
    except grpc.RpcError as exc:
        if "compacted" not in (exc.details() or "") and "future revision" not in (exc.details() or ""):
            raise
        raise ConflictError(f"revision {revision} cannot be read back ({exc.details()}): cannot tell what "
                            f"changed after it; nothing was written",
                            hint="read the keys again and pass their current revision") from None


def _first(item) -> Optional[KV]:
    kvs = item.response_range.kvs
    return kv_from_proto(kvs[0]) if kvs else None


def get(store, key: str) -> Optional[KV]:
    request = RangeRequest(key=key_bytes(key))
    response = store.run(lambda c: raw_call(c, "kvstub", "Range", request))
    return kv_from_proto(response.kvs[0]) if response.kvs else None


def get_many(store, keys: Sequence[str]) -> dict[str, KV]:
    """Read several keys from one revision (a single transaction)."""
    if len(keys) == 1:
        found = get(store, keys[0])
        return {keys[0]: found} if found else {}
    _check_txn_size(len(keys))
    request = _reads([key_bytes(k) for k in keys])
    response = store.run(lambda c: raw_call(c, "kvstub", "Txn", request))
    rows = {key: _first(item) for key, item in zip(keys, response.responses)}
    return {key: row for key, row in rows.items() if row is not None}


# A component of any size is read in pages at one revision: the first of FIRST_PAGE_KEYS keys,
# the next sized from what the keys weighed so far, to about PAGE_BYTES each (at most
# MAX_PAGE_KEYS keys: etcd walks the whole range's index for every page).
FIRST_PAGE_KEYS = 1000
PAGE_BYTES = 16 * 1024 * 1024
MAX_PAGE_KEYS = 20000


def list_prefix(store, prefix: str) -> list[KV]:
    """Every key under prefix, in key order, read in pages at one revision."""
    return _pages(store, key_bytes(prefix), prefix_range_end(prefix), 0)[1]


def pages(store, start: bytes, end: bytes, revision: int = 0):
    """(revision, rows) of each page of the range [start, end), in key order, all read at one
    revision (0: the current one, fixed by the first page): memory bounded by a page, not by the
    range. A page too large for one message (etcd's values are up to 1.5 MiB each; gRPC takes
    64 MiB) is read again in halves."""
    limit, weight, count = FIRST_PAGE_KEYS, 0, 0
    while True:
        # No sort options: etcd returns keys in key order anyway, and any sort makes it read the
        # whole range for every page.
        request = RangeRequest(key=start, range_end=end, revision=revision, limit=limit)
        try:
            response = store.run(lambda c: raw_call(c, "kvstub", "Range", request))
        except UsageError as exc:
            if "as too large" not in exc.message or limit == 1:
                raise
            limit = max(1, limit // 2)
            continue
        revision = revision or response.header.revision
        yield revision, [kv_from_proto(kv) for kv in response.kvs]
        if not response.more or not response.kvs:
            return
        start = response.kvs[-1].key + b"\0"  # the next key after the last one read
        count += len(response.kvs)
        weight += sum(len(kv.key) + len(kv.value) for kv in response.kvs)
        limit = max(1, min(MAX_PAGE_KEYS, PAGE_BYTES * count // max(weight, 1)))


def _pages(store, start: bytes, end: bytes, revision: int) -> tuple[int, list[KV]]:
    """(revision, rows) of the range [start, end), read in pages at one revision (pages)."""
    rows: list[KV] = []
    for revision, page in pages(store, start, end, revision):
        rows += page
    return revision, rows


def keys_under(store, prefix: str, serializable: bool = True) -> list[str]:
    """The keys under prefix (names only, sorted), read in one request; by default from the
    member itself (serializable: cheap, and what a typo check needs; writes are guarded on
    their own), else through the leader (what a conflict check needs)."""
    request = RangeRequest(key=key_bytes(prefix), range_end=prefix_range_end(prefix), keys_only=True,
                           serializable=serializable, sort_order=RangeRequest.ASCEND, sort_target=RangeRequest.KEY)
    response = store.run(lambda c: raw_call(c, "kvstub", "Range", request))
    return [key_text(kv.key) for kv in response.kvs]


def first_segments(store, prefix: str, limit: int = 1000) -> list[str]:
    """The distinct first path segments under prefix (the components under <prefix>/), found by
    skipping from one to the next: one small request per segment, however many keys each holds."""
    names: list[str] = []
    base = key_bytes(prefix)
    start, end = base, prefix_range_end(prefix)
    while len(names) < limit:
        request = RangeRequest(key=start, range_end=end, limit=1, keys_only=True)
        response = store.run(lambda c: raw_call(c, "kvstub", "Range", request))
        if not response.kvs:
            break
        key = response.kvs[0].key
        name, slash, _rest = key[len(base):].partition(b"/")
        names.append(name.decode("utf-8", "backslashreplace"))
        start = etcd3.utils.prefix_range_end(base + name + b"/") if slash else key + b"\0"
    return names


def request_bytes(items: Sequence[tuple[str, Optional[str]]]) -> int:
    """What the keys and values of one transaction weigh in its request."""
    return sum(len(key_bytes(k)) + (len(value_bytes(v)) if v else 0) for k, v in items)


def put_many(store, items: Sequence[tuple[str, str]], not_after: Optional[int] = None) -> Previous:
    """Write all pairs in one transaction; return each key's previous value (or None), with the
    revision written as `.revision`. not_after: only if no key changed after that revision (else
    a ConflictError naming them; nothing written).

    When the reply to the write is lost (the member died or stopped answering after it was
    sent), the retry first finds out what happened (lost_reply_verdict), so that the previous
    values reported are the ones the write replaced, or are said to be unknown."""
    _check_txn_size(len(items), store)
    size = request_bytes(items)
    if size > MAX_REQUEST_BYTES - REQUEST_OVERHEAD:
        raise UsageError(f"the values are too large for one transaction ({size} bytes; etcd accepts at most "
                         f"{MAX_REQUEST_BYTES} bytes per request)", hint="set them in separate commands")
    pairs = [(key_bytes(k), value_bytes(v)) for k, v in items]
    request = TxnRequest(success=[RequestOp(request_put=PutRequest(key=k, value=v, prev_kv=True)) for k, v in pairs])
    if not_after is not None:
        # Each key as it was at that revision: one that existed must still have the same
        # mod_revision (a change or a delete after it moves or clears that); one that did not
        # must still be absent.
        then = [_first(item) for item in store.run(
            lambda c: _read_at(c, [k for k, _ in pairs], not_after)).responses]
        request.compare.extend(
            Compare(key=k, result=Compare.EQUAL, target=Compare.MOD, mod_revision=row.mod_revision) if row is not None
            else Compare(key=k, result=Compare.EQUAL, target=Compare.VERSION, version=0)
            for (k, _), row in zip(pairs, then))
        request.failure.extend(RequestOp(request_range=RangeRequest(key=k)) for k, _ in pairs)
    store.connected()
    floor = store.seen_revision  # the cluster's revision before the first attempt, or older

    def put(client) -> Previous:
        response = store.send_audited(client, request, [(k, "put") for k, _ in items])
        if not response.succeeded:
            now = [_first(item) for item in response.responses]
            if all(row is not None and row.value == value for row, (_, value) in zip(now, pairs)):
                done = Previous([None] * len(pairs))  # a retry of its own write, applied the first time
                done.known, done.revision = False, max(row.mod_revision for row in now)
                return done
            changed = [key_text(k) + (" (deleted)" if row is None else "") for (k, _), row, before in zip(pairs, now, then)
                       if (row is None) != (before is None) or (row is not None and row.mod_revision > not_after)]
            raise ConflictError(f"changed after revision {not_after}: {first_few(changed)}; nothing was written")
        previous = Previous(kv_from_proto(r.response_put.prev_kv) if r.response_put.HasField("prev_kv") else None
                            for r in response.responses)
        previous.revision = response.header.revision
        return previous

    def find_out(client) -> Previous:
        import grpc

        now = raw_call(client, "kvstub", "Txn", _reads([k for k, _ in pairs]))
        rows = [_first(item) for item in now.responses]
        verdict = lost_reply_verdict(floor, now.header.revision, [(r.value, r.mod_revision) if r else None for r in rows],
                                     [v for _, v in pairs])
        if verdict == REDO:
            return put(client)
        if verdict != UNKNOWN:  # applied at that revision: the values before it are the previous ones
            try:
                before = raw_call(client, "kvstub", "Txn", _reads([k for k, _ in pairs], verdict - 1))
                return Previous(_first(item) for item in before.responses)
            except grpc.RpcError as exc:
                if "compacted" not in (exc.details() or ""):
                    raise
        elif any(row is None or row.value != value for row, (_, value) in zip(rows, pairs)):
            put(client)  # whatever happened, the keys must hold the values asked for
        unknown = Previous([None] * len(pairs))
        unknown.known = False
        unknown.revision = verdict if verdict not in (REDO, UNKNOWN) else 0
        return unknown

    return store.run(put, write=True, after_unknown=find_out)


REDO = "redo"
UNKNOWN = "unknown"


def lost_reply_verdict(floor: int, revision: int, rows: Sequence, values: Sequence[bytes]):
    """What a one-transaction write whose reply was lost did, from its keys as they are now.

    floor: a revision the cluster had reached before the write was sent; revision: the
    cluster's revision now; rows: each key's (value, mod_revision) now, or None when absent;
    values: what the write put. Returns REDO (it was not applied), the revision it was applied
    at, or UNKNOWN. A transaction changes all its keys at one revision above floor; so a key
    not changed since floor (or nothing changed since floor) proves it was not applied, and
    every key holding its value at one such revision shows where it was. A concurrent write of
    the very same values in one transaction looks the same; then that revision is still where
    the values came from.
    """
    if revision <= floor or any(row is not None and row[1] <= floor for row in rows):
        return REDO
    revisions = {row[1] for row in rows if row is not None}
    if len(revisions) == 1 and all(row is not None and row[0] == value for row, value in zip(rows, values)):
        return revisions.pop()
    return UNKNOWN


class MissingKeys(NotFoundError):
    """A guarded delete found these keys missing (full keys); nothing was deleted."""

    def __init__(self, missing: list[str]):
        super().__init__(f"not found: {first_few(missing)}; nothing was deleted",
                         hint="--ignore-missing deletes the others")
        self.missing = missing


DELETE_RETRIES = 10  # an ignore-missing delete read again after a concurrent change of its keys


def delete_many(store, keys: Sequence[str], *, must_exist: bool) -> list[KV]:
    """Delete all keys in one transaction; the deleted keys' last values. With must_exist, a
    missing key deletes nothing (MissingKeys). Without, only the keys there are are deleted and
    recorded in the audit trail (none: no transaction, no record), guarded: each one still the
    value read, each missing one still missing; a concurrent change makes it read again."""
    _check_txn_size(len(keys), store)
    raw = [key_bytes(k) for k in keys]
    if must_exist:
        request = TxnRequest(
            compare=[Compare(key=k, result=Compare.GREATER, target=Compare.VERSION, version=0) for k in raw],
            success=[RequestOp(request_delete_range=DeleteRangeRequest(key=k, prev_kv=True)) for k in raw],
            failure=[RequestOp(request_range=RangeRequest(key=k)) for k in raw])
        # Repeating a guarded delete that was applied would report the keys missing.
        response = store.run(lambda c: store.send_audited(c, request, [(k, "delete") for k in keys]), write=True,
                             retry_unknown=False)
        if not response.succeeded:
            missing = [k for k, item in zip(keys, response.responses) if not item.response_range.kvs]
            raise MissingKeys(missing)
        return [kv_from_proto(p) for r in response.responses for p in r.response_delete_range.prev_kvs]
    for _ in range(DELETE_RETRIES):
        reads = _reads(raw)
        rows = [_first(item) for item in store.run(lambda c: raw_call(c, "kvstub", "Txn", reads)).responses]
        present = [(k, key, row) for k, key, row in zip(raw, keys, rows) if row is not None]
        if not present:
            return []
        request = TxnRequest(
            compare=[Compare(key=k, result=Compare.EQUAL, target=Compare.MOD, mod_revision=row.mod_revision)
                     for k, _, row in present]
            + [Compare(key=k, result=Compare.EQUAL, target=Compare.VERSION, version=0)
               for k, row in zip(raw, rows) if row is None],
            success=[RequestOp(request_delete_range=DeleteRangeRequest(key=k, prev_kv=True)) for k, _, _ in present])
        # A repeat after a lost reply would find the keys gone and report nothing deleted: not repeated.
        response = store.run(lambda c: store.send_audited(c, request, [(key, "delete") for _, key, _ in present]),
                             write=True, retry_unknown=False)
        if response.succeeded:
            return [kv_from_proto(p) for r in response.responses for p in r.response_delete_range.prev_kvs]
    raise ConflictError(f"the keys kept changing while they were deleted ({DELETE_RETRIES} tries): "
                        f"{first_few(keys)}; nothing was deleted")


def snapshot(store, prefixes: Sequence[str], keys: Sequence[str] = ()) -> Snapshot:
    """Every key under each prefix, plus the given keys, all read at one revision: the keys in
    transactions of point reads, each prefix in pages (_pages) at the revision of the first
    read, so that a component of any size can be read."""
    rows: dict[str, KV] = {}
    revision = 0
    raw_keys = [key_bytes(k) for k in keys]
    for start in range(0, len(raw_keys), MAX_TXN_OPS):
        request = _reads(raw_keys[start:start + MAX_TXN_OPS], revision)
        response = store.run(lambda c: raw_call(c, "kvstub", "Txn", request))
        revision = revision or response.header.revision
        for item in response.responses:
            for kv in item.response_range.kvs:
                row = kv_from_proto(kv)
                rows[row.key] = row
    for prefix in prefixes:
        revision, found = _pages(store, key_bytes(prefix), prefix_range_end(prefix), revision)
        rows.update((row.key, row) for row in found)
    if not revision:  # nothing to read: the revision alone
        response = store.run(lambda c: raw_call(c, "kvstub", "Range", RangeRequest(key=b"\0", limit=1,
                                                                                   keys_only=True)))
        revision = response.header.revision
    return Snapshot(revision, rows)
