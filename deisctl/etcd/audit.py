"""The audit trail: a record of each write deisctl makes, in the same etcd transaction.

Records live outside every Deis component (AUDIT_ROOT + the prefix, e.g. /deisctl-audit/deis/):
`records/<seq>` holds one record (canonical JSON), `head` the chain's head (the last seq, its
hash, and what trimming left: the first seq kept and the hash of the record before it), and
`policy` the cluster's retention (set by whoever administers the trail; writers only read it).
Each record carries the hash of the one before it, so a deleted or edited record breaks the chain
(verify). The transaction of a change also compares the head's mod_revision with the one read,
and that the new record's key does not exist (a record is never overwritten), and writes the
record and the head: the change, its record and the new head land together or not at all, and
the record's key has the change's revision. A concurrent writer that moved the head first makes
the transaction fail on that compare only; it is sent again on the new head (HEAD_RETRIES times
at most). A head that is behind the records (deleted, or rewritten) stops every write until the
trail is repaired (repair). A secret's value is never in a record: only keys and actions.

A chain inside etcd proves nothing to whoever can rewrite etcd: each write and each verify
leaves the head it saw in an anchor outside etcd (deisctl.anchors), and verify checks the trail
against it and against a head given to it.
"""

from __future__ import annotations

import hashlib
import json
from typing import NamedTuple, Optional, Sequence

from deisctl.errors import AuthError, ConflictError, DeisctlError, UsageError
from deisctl.etcd.kv import key_bytes, prefix_range_end, raw_call, snapshot
from deisctl.limits import AUDIT_BYTES, AUDIT_KEEP, AUDIT_MAX_AGE_DAYS, AUDIT_OPS  # noqa: F401

AUDIT_ROOT = "/deisctl-audit"
LISTED_CHANGES = 50  # keys a record names; beyond that it counts them per component
DEFAULT_KEEP = AUDIT_KEEP  # records kept, when the cluster has no policy of its own
DEFAULT_MAX_AGE_DAYS = AUDIT_MAX_AGE_DAYS  # records older than this are trimmed, likewise
TRIM_SLACK = 100  # trimming waits until this many records are over the limit, then trims them all
HEAD_RETRIES = 20
TRAIL_COMPONENT = "deisctl-audit"  # what a record of the trail's own changes (repair, policy) names


REPAIR_HINT = "check it with 'deisctl audit verify'; whoever administers the trail rebuilds its head from " \
              "the records with 'deisctl audit repair'"


def root(prefix: str) -> str:
    return AUDIT_ROOT + prefix + "/"


class TrailDamaged(DeisctlError):
    """The trail's head or a record is not what deisctl writes: writes stop (nothing written)."""


class Head(NamedTuple):
    seq: int = 0  # the last record's number (0: none yet)
    hash: str = ""  # its hash
    first: int = 1  # the first record kept
    anchor: str = ""  # the hash of the record before `first` (trimmed), "" when none was
    mod_revision: int = 0  # of the head key (0: absent)
    first_time: str = ""  # the time of record `first` (for trimming by age)


def _parse_head(value: bytes, mod_revision: int) -> tuple[Optional[Head], Optional[str]]:
    """(the head as stored, None), or (None, what is wrong with it)."""
    try:
        data = json.loads(value)
    except ValueError:
        return None, "not JSON"
    problem = _fields_problem(data, {"seq": int, "hash": str, "first": int, "anchor": str})
    if problem is None and (data["seq"] < 0 or data["first"] < 1 or data["first"] > data["seq"] + 1):
        problem = f"seq {data['seq']} and first {data['first']} do not fit"
    if problem:
        return None, problem
    return Head(data["seq"], data["hash"], data["first"], data["anchor"], mod_revision,
                str(data.get("first_time") or "")), None


def _head(value: bytes, mod_revision: int, where: str) -> Head:
    """The head as stored; a damaged one is a TrailDamaged naming what is wrong."""
    head, problem = _parse_head(value, mod_revision)
    if problem:
        raise TrailDamaged(f"the audit trail's head {where} is damaged ({problem}); nothing was written",
                           hint=REPAIR_HINT)
    return head


def _fields_problem(data, fields: dict) -> Optional[str]:
    """What is wrong with a stored object, or None: a JSON object whose fields have these types."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    for name, kind in fields.items():
        if name not in data:
            return f"no {name!r}"
        if not isinstance(data[name], kind) or (kind is int and isinstance(data[name], bool)):
            return f"{name!r} is not a {kind.__name__}"
    return None


CHANGE_FIELDS = {"component": str, "key": str, "action": str}


def record_problem(record) -> Optional[str]:
    """What is wrong with a stored record (parsed), or None when it has the fields deisctl writes."""
    problem = _fields_problem(record, {"seq": int, "prev": str, "time": str, "changes": list, "count": int})
    if problem:
        return problem
    for change in record["changes"]:
        problem = _fields_problem(change, CHANGE_FIELDS)
        if problem:
            return f"a change is {problem}"
    return None


class Policy(NamedTuple):
    """How long the cluster keeps its records: the newest `keep`, none older than `max_age_days`
    (None: no limit of that kind). Stored at <trail>/policy by whoever administers the trail."""
    keep: Optional[int] = DEFAULT_KEEP
    max_age_days: Optional[float] = float(DEFAULT_MAX_AGE_DAYS)
    stored: bool = False  # False: the default (no policy key); True: the cluster's own
    damaged: str = ""  # what is wrong with a stored policy that cannot be read (then nothing is trimmed)


def _policy(value: Optional[bytes]) -> Policy:
    if value is None:
        return Policy()
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    keep = data.get("keep") if isinstance(data, dict) else None
    age = data.get("max_age_days") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not (keep is None or (isinstance(keep, int) and not isinstance(keep, bool)
                                                            and keep >= 1)) \
            or not (age is None or (isinstance(age, (int, float)) and not isinstance(age, bool) and age > 0)):
        # Unreadable: keep everything (a damaged policy must not be a way to erase records).
        return Policy(None, None, True, "not the JSON object deisctl writes")
    return Policy(keep, None if age is None else float(age), True)


def encode_policy(keep: Optional[int], max_age_days: Optional[float]) -> bytes:
    return encode({"keep": keep, "max_age_days": max_age_days})


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def encode(record: dict) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Trail:
    """The trail of one prefix, and who is writing (the actor: time is taken per record).
    anchors: where the heads this machine saw are kept (deisctl.anchors.Anchors), or None."""

    def __init__(self, prefix: str, actor: dict, anchors=None):
        import socket

        self.prefix, self.anchors = prefix, anchors
        self.actor = dict(actor, host=actor.get("host") or socket.gethostname())
        self.root = root(prefix)
        self.head_key = key_bytes(self.root + "head")
        self.policy_key = key_bytes(self.root + "policy")

    def record_key(self, seq: int) -> bytes:
        return key_bytes(f"{self.root}records/{seq:016d}")

    def read_head(self, client) -> Head:
        return self.read_state(client)[0]

    def read_state(self, client) -> tuple[Head, Policy]:
        """The head and the cluster's retention policy, read together."""
        from etcd3.etcdrpc import RangeRequest, RequestOp, TxnRequest

        request = TxnRequest(success=[RequestOp(request_range=RangeRequest(key=self.head_key)),
                                      RequestOp(request_range=RangeRequest(key=self.policy_key))])
        head_kvs, policy_kvs = (item.response_range.kvs for item in raw_call(client, "kvstub", "Txn",
                                                                             request).responses)
        head = Head() if not head_kvs else _head(head_kvs[0].value, head_kvs[0].mod_revision, f"at {self.root}head")
        return head, _policy(policy_kvs[0].value if policy_kvs else None)

    def record(self, head: Head, changes: Sequence[tuple[str, str]]) -> dict:
        """changes: (full key, action)."""
        import datetime

        rows = []
        counts: dict = {}
        for full, action in changes:
            # Key names are text as deisctl shows them: bytes that are not UTF-8 escaped.
            full = full.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            if full.startswith(self.root):  # the trail's own keys (its head, its policy)
                component, key = TRAIL_COMPONENT, full[len(self.root):]
            else:
                component, _, key = full[len(self.prefix) + 1:].partition("/")
            counts[component] = counts.get(component, 0) + 1
            if len(rows) < LISTED_CHANGES:
                rows.append({"component": component, "key": key, "action": action})
        record = dict(self.actor, seq=head.seq + 1, prev=head.hash, changes=rows, count=len(changes),
                      time=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"))
        if len(changes) > LISTED_CHANGES:
            record["components"] = counts  # the rest, counted
        return record

    def attach(self, client, request, head: Head, changes, policy: Optional[Policy] = None) -> tuple[int, str]:
        """Add the record, the head and (when due) trimming by the cluster's policy to request,
        guarded by the head and by the new record's key being free; the new head (seq, hash)."""
        from etcd3.etcdrpc import Compare

        entry = self.record(head, changes)
        record = encode(entry)
        if len(record) > AUDIT_BYTES:  # long key names: keep the counts only
            entry["changes"] = []
            record = encode(entry)
        seq = head.seq + 1
        first, anchor, first_time = (head.first, head.anchor, head.first_time) if head.seq else (1, "", entry["time"])
        cutoff = self._cutoff(client, head, entry["time"], policy or Policy())
        if cutoff:  # records head.first..cutoff go; the head keeps the last one's hash
            kept = self._records(client, cutoff, cutoff + 2)
            if kept and isinstance(kept[0][0], dict) and kept[0][0].get("seq") == cutoff:
                anchor, first = digest(kept[0][1]), cutoff + 1  # the stored bytes, as verify hashes them
                later = kept[1][0] if len(kept) > 1 else None
                first_time = later.get("time", "") if isinstance(later, dict) else entry["time"]
            else:
                cutoff = 0
        compare = request.compare.add(key=self.head_key, target=Compare.MOD, result=Compare.EQUAL,
                                      mod_revision=head.mod_revision)
        if not head.mod_revision:
            compare.target, compare.create_revision = Compare.CREATE, 0
        request.compare.add(key=self.record_key(seq), target=Compare.CREATE, result=Compare.EQUAL, create_revision=0)
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
        request.failure.add().request_range.key = self.record_key(seq)
        return seq, digest(record)

    def _cutoff(self, client, head: Head, now: str, policy: Policy) -> int:
        """The last record to trim (0: none) by the cluster's policy: beyond the newest `keep`
        (once TRIM_SLACK are over), or older than max_age_days (at most TRIM_SLACK of them a write)."""
        import datetime

        cutoff = 0
        if policy.keep is not None and head.seq + 1 - policy.keep >= head.first + TRIM_SLACK:
            cutoff = head.seq + 1 - policy.keep
        if policy.max_age_days is None:
            return cutoff
        oldest = (datetime.datetime.fromisoformat(now) - datetime.timedelta(days=policy.max_age_days)).isoformat()
        if head.seq and head.first_time and head.first_time < oldest:
            for record, _ in self._records(client, head.first, head.seq + 1, limit=TRIM_SLACK):
                if not isinstance(record, dict) or not isinstance(record.get("time"), str) \
                        or record["time"] >= oldest:
                    break  # a damaged record ends trimming by age: it is verify's to name
                cutoff = max(cutoff, record.get("seq", 0) if isinstance(record.get("seq"), int) else 0)
        return cutoff

    def _records(self, client, first: int, end: int, limit: int = 0) -> list:
        """[(record, its stored bytes)] of seq first..end-1."""
        from etcd3.etcdrpc import RangeRequest

        request = RangeRequest(key=self.record_key(first), range_end=self.record_key(end), limit=limit)
        return [(_loaded(kv.value), kv.value) for kv in raw_call(client, "kvstub", "Range", request).kvs]


def _loaded(raw: bytes):
    """A stored record parsed, or None when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def send(store, client, request, changes: Sequence[tuple[str, str]], trail: Optional[Trail] = None):
    """Send a transaction with its audit record (when the store keeps a trail, or in `trail`);
    the response as the transaction alone would have it (the record's operations taken off its
    lists). A transaction that failed only because the head moved is sent again on the new head;
    one whose record key is taken (the head is behind the records) is a TrailDamaged."""
    trail = trail or store.trail
    if trail is None or not changes:
        return raw_call(client, "kvstub", "Txn", request)
    import grpc
    from etcd3.etcdrpc import TxnRequest

    for _ in range(HEAD_RETRIES):
        try:
            head, policy = trail.read_state(client)
            full = TxnRequest()
            full.CopyFrom(request)
            seq, hash_ = trail.attach(client, full, head, changes, policy)
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
            if trail.anchors is not None:
                trail.anchors.saw(response.header.cluster_id, trail.prefix, seq, hash_)
            return response
        now, taken = response.responses[-2].response_range.kvs, response.responses[-1].response_range.kvs
        if (now[0].mod_revision if now else 0) != head.mod_revision:
            continue  # another writer moved the head: again, on the new one
        if taken:
            raise TrailDamaged(f"the audit trail under {trail.root} is damaged: its head says it ends at record "
                               f"{head.seq}{'' if head.mod_revision else ' (the head is missing)'}, but record "
                               f"{seq} exists (a record is never overwritten); nothing was written",
                               hint=REPAIR_HINT)
        del response.responses[len(request.failure):]  # the change's own guards failed
        return response
    raise ConflictError(f"the audit trail under {trail.root} kept moving ({HEAD_RETRIES} tries); nothing was written")


def at_revisions(store, prefix: str, low: int, high: int) -> dict:
    """{revision: record} of the records written between two revisions (one filtered read)."""
    from etcd3.etcdrpc import RangeRequest

    base = root(prefix) + "records/"
    request = RangeRequest(key=key_bytes(base), range_end=prefix_range_end(base), min_mod_revision=low,
                           max_mod_revision=high)
    found = {}
    for kv in store.run(lambda client: raw_call(client, "kvstub", "Range", request)).kvs:
        record = _loaded(kv.value)
        if record_problem(record) is None:  # a damaged record names nobody
            found[kv.mod_revision] = record
    return found


def record_only(store, changes: Sequence[tuple[str, str]]) -> int:
    """A record of changes made elsewhere (the controller's users): its revision."""
    from etcd3.etcdrpc import TxnRequest

    response = store.run(lambda client: send(store, client, TxnRequest(), changes), write=True)
    return response.header.revision


# -- reading and verifying --------------------------------------------------------------------------


class Entry(NamedTuple):
    record: dict  # as stored; a damaged one: {"seq": from its key, "damaged": what is wrong}
    revision: int  # the record's (its change's) revision
    raw: bytes


class State(NamedTuple):
    """The trail as read at one revision."""
    head: Optional[Head]  # None: damaged (head_problem says how)
    head_problem: Optional[str]
    entries: list  # [Entry], oldest first
    policy: Policy
    cluster_id: int


def entries(store, prefix: str) -> State:
    """The head, every record kept (oldest first) and the policy, read at one revision."""
    base = root(prefix)
    snap = snapshot(store, [base + "records/"], [base + "head", base + "policy"])
    head_kv, policy_kv = snap.rows.get(base + "head"), snap.rows.get(base + "policy")
    head, problem = (Head(), None) if head_kv is None else _parse_head(head_kv.value, head_kv.mod_revision)
    rows = sorted((kv for key, kv in snap.rows.items() if key.startswith(base + "records/")), key=lambda kv: kv.key)
    found = []
    for kv in rows:
        record = _loaded(kv.value)
        damaged = "not JSON" if record is None and kv.value else record_problem(record)
        if damaged:
            tail = kv.key.rsplit("/", 1)[1]
            record = {"seq": int(tail) if tail.isdigit() else 0, "damaged": damaged}
        found.append(Entry(record, kv.mod_revision, kv.value))
    return State(head, problem, found, _policy(policy_kv.value if policy_kv is not None else None),
                 getattr(store, "cluster_id", 0))


def verify(head: Optional[Head], found: Sequence[Entry], head_problem: Optional[str] = None) -> Optional[str]:
    """None when the chain inside etcd is whole; else what broke it, naming the first record
    concerned. (What an anchor outside etcd adds: check_anchor.)"""
    if head is None:
        return f"the head is damaged ({head_problem})"
    expected_seq, expected_prev = head.first, head.anchor
    for entry in found:
        seq = int(entry.record.get("seq", 0))
        if entry.record.get("damaged"):
            return f"record {seq} is damaged ({entry.record['damaged']})"
        if seq != expected_seq:
            return (f"record {expected_seq} was deleted" if seq > expected_seq
                    else f"record {seq} is out of place")
        if entry.record.get("prev") != expected_prev:
            return f"record {seq - 1 if seq > head.first else seq} was edited or deleted (record {seq} " \
                   "does not follow it)"
        expected_seq, expected_prev = seq + 1, digest(entry.raw)
    if expected_seq - 1 != head.seq:
        return f"record {expected_seq} was deleted" if expected_seq <= head.seq else \
            f"records after {head.seq} were added outside deisctl (the head is behind them)"
    if head.seq and expected_prev != head.hash:
        return f"record {head.seq} was edited"
    return None


def check_anchor(head: Optional[Head], found: Sequence[Entry], seq: int, hash_: str, whose: str) -> Optional[str]:
    """None when the trail still holds the record an anchor outside etcd names (seq, its hash)
    unchanged; else what was done to it. whose: whose anchor, for the message."""
    last = head.seq if head is not None else max([int(e.record.get("seq", 0)) for e in found] + [0])
    if seq > last:
        return (f"the trail ends at record {last}, but {whose} record {seq}: records were deleted"
                + (" (the whole trail)" if last == 0 else ""))
    kept = {int(entry.record.get("seq", 0)): entry for entry in found}
    if seq in kept:
        if digest(kept[seq].raw) != hash_:
            return f"record {seq} is not the one {whose} (edited or replaced)"
        return None
    if head is not None and seq == head.first - 1:
        return None if head.anchor == hash_ else f"record {seq} (trimmed) is not the one {whose}"
    if head is not None and seq < head.first:
        return None  # trimmed since: the kept records cannot speak for it (the README says so)
    return f"record {seq}, which {whose}, is gone"


def new_head_from_records(found: Sequence[Entry]) -> dict:
    """The head that the records present make, when their own chain is whole: for repair."""
    if not found:
        return {"seq": 0, "hash": "", "first": 1, "anchor": "", "first_time": ""}
    first, last = found[0], found[-1]
    return {"seq": int(last.record["seq"]), "hash": digest(last.raw), "first": int(first.record["seq"]),
            "anchor": str(first.record.get("prev", "")), "first_time": str(first.record.get("time", ""))}


def repair(store, prefix: str, actor: dict, anchors=None) -> tuple[int, int]:
    """Rebuild a missing, damaged or stale head from the records there are, when their own chain
    is whole, and record the repair: (the old head's seq or -1 when it was missing or damaged,
    the new head's seq). Refused when the records themselves are broken or the head is fine."""
    from etcd3.etcdrpc import TxnRequest

    state = entries(store, prefix)
    rebuilt = new_head_from_records(state.entries)
    chain = Head(rebuilt["seq"], rebuilt["hash"], rebuilt["first"], rebuilt["anchor"])
    broken = verify(chain, state.entries)
    if broken:
        raise TrailDamaged(f"the audit records under {root(prefix)} are broken themselves ({broken}): repair "
                           "rebuilds a head only over a whole chain; nothing was written")
    if state.head is not None and verify(state.head, state.entries) is None:
        raise UsageError(f"the audit trail under {root(prefix)} is whole: nothing to repair")
    trail = Trail(prefix, actor, anchors)
    old = -1 if state.head is None or not state.head.mod_revision else state.head.seq
    snap_head = state.head
    request = TxnRequest()
    # Guarded (attach) by the head as it is now (missing, damaged or stale) and no record after the last.
    head_now = store.run(lambda c: raw_call(c, "kvstub", "Range", _range(trail.head_key))).kvs
    fresh = Head(chain.seq, chain.hash, chain.first, chain.anchor, head_now[0].mod_revision if head_now else 0,
                 rebuilt["first_time"])
    if fresh.seq == 0:
        fresh = Head()._replace(mod_revision=fresh.mod_revision)
    what = "missing" if not head_now else ("damaged" if snap_head is None else f"at record {snap_head.seq}")
    seq, hash_ = trail.attach(None, request, fresh, [(root(prefix) + "head", f"repaired (was {what})")],
                              Policy(None, None))
    response = store.run(lambda c: raw_call(c, "kvstub", "Txn", request), write=True, retry_unknown=False)
    if not response.succeeded:
        raise ConflictError(f"the audit trail under {root(prefix)} changed while it was repaired; nothing was "
                            "written", hint="run deisctl audit repair again")
    if anchors is not None:
        anchors.saw(response.header.cluster_id, prefix, seq, hash_)
    return old, seq


def set_policy(store, prefix: str, actor: dict, keep: Optional[int], max_age_days: Optional[float],
               anchors=None) -> Policy:
    """Store the cluster's retention policy, with a record of the change in the same transaction."""
    from etcd3.etcdrpc import TxnRequest

    trail = Trail(prefix, actor, anchors)
    request = TxnRequest()
    put = request.success.add().request_put
    put.key, put.value = trail.policy_key, encode_policy(keep, max_age_days)
    said = f"keep={'all' if keep is None else keep} max_age_days={'none' if max_age_days is None else max_age_days}"
    store.run(lambda c: send(store, c, request, [(root(prefix) + "policy", f"set {said}")], trail), write=True)
    return Policy(keep, max_age_days, True)


def _range(key: bytes):
    from etcd3.etcdrpc import RangeRequest

    return RangeRequest(key=key)
