"""The audit trail: a record of each write deisctl makes, in the same etcd transaction.

Records live outside every Deis component (AUDIT_ROOT + the prefix, e.g. /deisctl-audit/deis/):
`records/<seq>` holds one record (canonical JSON), `head` the chain's head (the last seq, its
hash, and what trimming left: the first seq kept and the hash of the record before it). Each
record carries the hash of the one before it, so a deleted or edited record breaks the chain
(verify). The transaction of a change also compares the head's mod_revision with the one read
and writes the record and the head: the change, its record and the new head land together or
not at all, and the record's key has the change's revision. A concurrent writer that moved the
head first makes the transaction fail on that compare only; it is sent again on the new head
(HEAD_RETRIES times at most). A secret's value is never in a record: only keys and actions.
"""

from __future__ import annotations

import hashlib
import json
from typing import NamedTuple, Optional, Sequence

from deisctl.errors import AuthError, ConflictError
from deisctl.etcd.kv import key_bytes, raw_call
from deisctl.limits import AUDIT_KEEP, AUDIT_MAX_AGE_DAYS

AUDIT_ROOT = "/deisctl-audit"
AUDIT_OPS = 3  # operations a record adds to a transaction (record, head, trim)
AUDIT_BYTES = 16 * 1024  # room a record may take in a request (bigger change lists are summarised)
LISTED_CHANGES = 50  # keys a record names; beyond that it counts them per component
DEFAULT_KEEP = AUDIT_KEEP  # records kept (DEISCTL_AUDIT_KEEP)
DEFAULT_MAX_AGE_DAYS = AUDIT_MAX_AGE_DAYS  # records older than this are trimmed (DEISCTL_AUDIT_MAX_AGE)
TRIM_SLACK = 100  # trimming waits until this many records are over the limit, then trims them all
HEAD_RETRIES = 20


def root(prefix: str) -> str:
    return AUDIT_ROOT + prefix + "/"


class Head(NamedTuple):
    seq: int = 0  # the last record's number (0: none yet)
    hash: str = ""  # its hash
    first: int = 1  # the first record kept
    anchor: str = ""  # the hash of the record before `first` (trimmed), "" when none was
    mod_revision: int = 0  # of the head key (0: absent)
    first_time: str = ""  # the time of record `first` (for trimming by age)


def _head(value: bytes, mod_revision: int) -> Head:
    data = json.loads(value)
    return Head(data["seq"], data["hash"], data["first"], data["anchor"], mod_revision, data.get("first_time", ""))


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def encode(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Trail:
    """The trail of one prefix, and who is writing (the actor: time is taken per record)."""

    def __init__(self, prefix: str, actor: dict, keep: int = DEFAULT_KEEP, max_age_days: float = DEFAULT_MAX_AGE_DAYS):
        import socket

        self.prefix, self.keep, self.max_age_days = prefix, keep, max_age_days
        self.actor = dict(actor, host=actor.get("host") or socket.gethostname())
        self.root = root(prefix)
        self.head_key = key_bytes(self.root + "head")

    def record_key(self, seq: int) -> bytes:
        return key_bytes(f"{self.root}records/{seq:016d}")

    def read_head(self, client) -> Head:
        from etcd3.etcdrpc import RangeRequest

        response = raw_call(client, "kvstub", "Range", RangeRequest(key=self.head_key))
        if not response.kvs:
            return Head()
        return _head(response.kvs[0].value, response.kvs[0].mod_revision)

    def record(self, head: Head, changes: Sequence[tuple[str, str]]) -> dict:
        """changes: (full key, action)."""
        import datetime

        rows = []
        counts: dict = {}
        for full, action in changes:
            # Key names are text as deisctl shows them: bytes that are not UTF-8 escaped.
            full = full.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            component, _, key = full[len(self.prefix) + 1:].partition("/")
            counts[component] = counts.get(component, 0) + 1
            if len(rows) < LISTED_CHANGES:
                rows.append({"component": component, "key": key, "action": action})
        record = dict(self.actor, seq=head.seq + 1, prev=head.hash, changes=rows, count=len(changes),
                      time=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"))
        if len(changes) > LISTED_CHANGES:
            record["components"] = counts  # the rest, counted
        return record

    def attach(self, client, request, head: Head, changes) -> None:
        """Add the record, the head and (when due) trimming to request, guarded by the head."""
        from etcd3.etcdrpc import Compare

        entry = self.record(head, changes)
        record = encode(entry)
        if len(record) > AUDIT_BYTES:  # long key names: keep the counts only
            entry["changes"] = []
            record = encode(entry)
        seq = head.seq + 1
        first, anchor, first_time = (head.first, head.anchor, head.first_time) if head.seq else (1, "", entry["time"])
        cutoff = self._cutoff(client, head, entry["time"])
        if cutoff:  # records head.first..cutoff go; the head keeps the last one's hash
            kept = self._records(client, cutoff, cutoff + 2)
            if kept and kept[0][0]["seq"] == cutoff:
                anchor, first = digest(kept[0][1]), cutoff + 1  # the stored bytes, as verify hashes them
                first_time = kept[1][0]["time"] if len(kept) > 1 else entry["time"]
            else:
                cutoff = 0
        compare = request.compare.add(key=self.head_key, target=Compare.MOD, result=Compare.EQUAL,
                                      mod_revision=head.mod_revision)
        if not head.mod_revision:
            compare.target, compare.create_revision = Compare.CREATE, 0
        put = request.success.add().request_put
        put.key, put.value = self.record_key(seq), record
        put = request.success.add().request_put
        put.key = self.head_key
        put.value = encode({"seq": seq, "hash": digest(record), "first": first, "anchor": anchor,
                            "first_time": first_time})
        if cutoff:
            delete = request.success.add().request_delete_range
            delete.key, delete.range_end = self.record_key(head.first), self.record_key(cutoff + 1)
        request.failure.add().request_range.key = self.head_key

    def _cutoff(self, client, head: Head, now: str) -> int:
        """The last record to trim (0: none): beyond the newest `keep` (once TRIM_SLACK are
        over), or older than max_age_days (at most TRIM_SLACK of them a write)."""
        import datetime

        cutoff = 0
        if head.seq + 1 - self.keep >= head.first + TRIM_SLACK:
            cutoff = head.seq + 1 - self.keep
        oldest = (datetime.datetime.fromisoformat(now) - datetime.timedelta(days=self.max_age_days)).isoformat()
        if head.seq and head.first_time and head.first_time < oldest:
            for record, _ in self._records(client, head.first, head.seq + 1, limit=TRIM_SLACK):
                if record["time"] >= oldest:
                    break
                cutoff = max(cutoff, record["seq"])
        return cutoff

    def _records(self, client, first: int, end: int, limit: int = 0) -> list:
        """[(record, its stored bytes)] of seq first..end-1."""
        from etcd3.etcdrpc import RangeRequest

        request = RangeRequest(key=self.record_key(first), range_end=self.record_key(end), limit=limit)
        return [(json.loads(kv.value), kv.value) for kv in raw_call(client, "kvstub", "Range", request).kvs]


def send(store, client, request, changes: Sequence[tuple[str, str]]):
    """Send a transaction with its audit record (when the store keeps a trail); the response
    as the transaction alone would have it (the record's operations taken off its lists).
    A transaction that failed only because the head moved is sent again on the new head."""
    trail = store.trail
    if trail is None or not changes:
        return raw_call(client, "kvstub", "Txn", request)
    from etcd3.etcdrpc import TxnRequest

    import grpc

    for _ in range(HEAD_RETRIES):
        try:
            head = trail.read_head(client)
            full = TxnRequest()
            full.CopyFrom(request)
            trail.attach(client, full, head, changes)
            response = raw_call(client, "kvstub", "Txn", full)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.PERMISSION_DENIED:
                raise
            raise AuthError(f"etcd at {store.where} refused the write: permission denied (a write and its audit "
                            f"record need readwrite on {trail.root} as well)",
                            hint="grant that to the etcd user's role, or set DEISCTL_AUDIT=off to write without "
                                 "a record") from None
        if response.succeeded:
            del response.responses[len(request.success):]
            return response
        now = response.responses[-1].response_range.kvs
        if (now[0].mod_revision if now else 0) == head.mod_revision:  # the change's own guards failed
            del response.responses[len(request.failure):]
            return response
    raise ConflictError(f"the audit trail under {trail.root} kept moving ({HEAD_RETRIES} tries); nothing was written")


def at_revisions(store, prefix: str, low: int, high: int) -> dict:
    """{revision: record} of the records written between two revisions (one filtered read)."""
    from etcd3.etcdrpc import RangeRequest

    from deisctl.etcd.kv import prefix_range_end

    base = root(prefix) + "records/"
    request = RangeRequest(key=key_bytes(base), range_end=prefix_range_end(base), min_mod_revision=low,
                           max_mod_revision=high)
    found = {}
    for kv in store.run(lambda client: raw_call(client, "kvstub", "Range", request)).kvs:
        try:
            found[kv.mod_revision] = json.loads(kv.value)
        except ValueError:
            continue
    return found


def record_only(store, changes: Sequence[tuple[str, str]]) -> int:
    """A record of changes made elsewhere (the controller's users): its revision."""
    from etcd3.etcdrpc import TxnRequest

    response = store.run(lambda client: send(store, client, TxnRequest(), changes), write=True)
    return response.header.revision


# -- reading and verifying --------------------------------------------------------------------------


class Entry(NamedTuple):
    record: dict
    revision: int  # the record's (its change's) revision
    raw: bytes


def entries(store, prefix: str) -> tuple[Head, list[Entry]]:
    """The head and every record kept, oldest first, read at one revision."""
    from deisctl.etcd.kv import snapshot

    base = root(prefix)
    snap = snapshot(store, [base + "records/"], [base + "head"])
    head_kv = snap.rows.get(base + "head")
    head = Head() if head_kv is None else _head(head_kv.value, head_kv.mod_revision)
    rows = sorted((kv for key, kv in snap.rows.items() if key.startswith(base + "records/")), key=lambda kv: kv.key)
    found = []
    for kv in rows:
        try:
            found.append(Entry(json.loads(kv.value), kv.mod_revision, kv.value))
        except ValueError:
            found.append(Entry({"seq": int(kv.key.rsplit("/", 1)[1]), "unreadable": True}, kv.mod_revision, kv.value))
    return head, found


def verify(head: Head, found: Sequence[Entry]) -> Optional[str]:
    """None when the chain is whole; else what broke it, naming the first record concerned."""
    expected_seq, expected_prev = head.first, head.anchor
    for entry in found:
        seq = int(entry.record.get("seq", 0))
        if seq != expected_seq:
            return (f"record {expected_seq} was deleted" if seq > expected_seq
                    else f"record {seq} is out of place")
        if entry.record.get("unreadable") or entry.record.get("prev") != expected_prev:
            return f"record {seq - 1 if seq > head.first else seq} was edited or deleted (record {seq} " \
                   "does not follow it)"
        expected_seq, expected_prev = seq + 1, digest(entry.raw)
    if expected_seq - 1 != head.seq:
        return f"record {expected_seq} was deleted" if expected_seq <= head.seq else \
            f"records after {head.seq} were added outside deisctl"
    if head.seq and expected_prev != head.hash:
        return f"record {head.seq} was edited"
    return None
