"""The past of a key: its value at a revision, and every put and delete etcd still has."""

from __future__ import annotations

import time
from typing import NamedTuple, Optional

import grpc

from deisctl.errors import AuthError, UnreachableError, UsageError
from deisctl.etcd.errors import CompactedError, failure_kind, map_rpc_error, stream_failure
from deisctl.etcd.kv import KV, key_bytes, kv_from_proto, prefix_range_end, raw_call
from deisctl.etcd.watch import StreamReader, watch_create


class HistoryEntry(NamedTuple):
    revision: int
    deleted: bool
    value: bytes
    version: int  # 1 on the put that created the key (again)


def get_at(store, key: str, revision: int) -> Optional[KV]:
    """The key as it was at a past revision (None when it did not exist then)."""
    from etcd3.etcdrpc import RangeRequest

    request = RangeRequest(key=key_bytes(key), revision=revision)

    def op(client):
        try:
            return raw_call(client, "kvstub", "Range", request)
        except grpc.RpcError as exc:
            details = exc.details() or ""
            if "compacted" in details:
                raise CompactedError(
                    f"revision {revision} of {key} is no longer available: etcd has compacted it",
                    hint="'history' shows the revisions that remain") from None
            if "future revision" in details:
                raise UsageError(f"revision {revision} does not exist yet") from None
            raise

    response = store.run(op)
    return kv_from_proto(response.kvs[0]) if response.kvs else None


ALL_KEYS = b"\0"  # as key and range_end: every key


def _barrier_watch(store, key: str, revision: int) -> tuple[bytes, bytes, int]:
    """What a barrier watches: (key, range_end, start revision), sure to be sent an event in its
    first round. The key changed last in the key's own folder, from that change on (readable
    by whoever may read the key); with that folder empty, every key from `revision` on."""
    from etcd3.etcdrpc import RangeRequest

    folder = key.rsplit("/", 1)[0] + "/"
    request = RangeRequest(key=key_bytes(folder), range_end=prefix_range_end(folder), revision=revision, limit=1,
                           keys_only=True, sort_order=RangeRequest.DESCEND, sort_target=RangeRequest.MOD)
    latest = store.run(lambda c: raw_call(c, "kvstub", "Range", request)).kvs
    if latest:
        return latest[0].key, b"", latest[0].mod_revision
    return ALL_KEYS, ALL_KEYS, revision


def history(store, key: str) -> "tuple[list[HistoryEntry], int, Optional[KV]]":
    """Every put and delete of one key that etcd still has, oldest first.

    Returns (entries, compact_revision or 0, current KV or None). The events are replayed by
    a watch that starts at revision 1 (or etcd's compaction point). For a key that exists,
    the replay is read up to its current mod_revision. For one that does not, nothing in the
    key's own events says the replay is over, so the same stream carries barriers (see
    _Barriers): the replay is over once one has shown that etcd's replay of this watch sent
    nothing more, however long etcd took. Bounded by --command-timeout either way.
    """
    snapshot = store.snapshot([], [key])
    current = snapshot.rows.get(key)
    if current is None and snapshot.revision <= 1:
        return [], 0, None  # nothing was ever written
    timeout = store.settings.command_timeout
    deadline = time.monotonic() + timeout
    start, compacted = 1, 0
    while True:
        client = store.connected()
        entries: list[HistoryEntry] = []
        reader = StreamReader(client, watch_create(key, None, start, False))
        barriers = None if current is not None else _Barriers(reader, snapshot.revision,
                                                                   *_barrier_watch(store, key, snapshot.revision))
        replay_id = None
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise UnreachableError(f"etcd at {store.where}: history of {key} not complete "
                                           f"within --command-timeout {timeout:g}s")
                item = reader.next(remaining)
                if item is None:
                    continue
                if isinstance(item, grpc.RpcError):
                    if failure_kind(item) is not None:  # the member died or lost its leader mid-replay
                        raise UnreachableError(f"etcd at {store.where}: {stream_failure(item)}")
                    raise map_rpc_error(item, store.where)
                if isinstance(item, Exception):
                    raise UnreachableError(f"etcd at {store.where}: {item}")
                if item.created and replay_id is None:
                    replay_id = item.watch_id  # the first watcher created on this stream
                    if barriers is not None:
                        barriers.next()
                    continue
                if item.watch_id != replay_id:
                    if barriers.answered(item):
                        return entries, compacted, current
                    continue
                if item.compact_revision:
                    break  # restart the replay at the compaction point
                if item.events:
                    if barriers is not None:
                        barriers.replay_sent()
                    for event in item.events:
                        kv = event.kv
                        entries.append(HistoryEntry(kv.mod_revision, event.type == 1, kv.value, kv.version))
                if current is not None and entries and entries[-1].revision >= current.mod_revision:
                    return entries, compacted, current
        finally:
            reader.close()
        compacted = start = item.compact_revision


class _Barriers:
    """Shows that a watch replaying past revisions (the replay) has sent all it will send up
    to a revision read before it started (`revision`).

    etcd replays for watchers that start in the past in sync rounds (every 100 ms): a round
    reads the revisions each such watcher still lacks, up to the current one, sends each what
    concerns it, and a watcher that is sent nothing is caught up. A barrier is a watcher that
    starts at a past revision holding an event of what it watches (_barrier_watch): it is sent
    that event in the first round after its creation, which is also a round of the replay if
    the replay is not caught up.
    Barriers are created one after another, each once the previous one was answered (so each
    falls in a later round; the first may be answered as a new write if the member serving
    the stream had not yet applied `revision`, so it does not count). When a barrier after the
    first is answered and the replay sent nothing since the previous barrier was created,
    the replay sent nothing in that barrier's round: it is caught up. Assumes what etcd 3.4
    to 3.6 do with fewer than 512 watchers catching up at once on the member.
    """

    def __init__(self, reader, revision: int, key: bytes, range_end: bytes, start: int):
        self.reader, self.revision = reader, revision
        self.watched = (key, range_end or None, start)
        self.created = 0  # barriers asked for
        self.current: Optional[int] = None  # the watch id of the barrier waited for
        self.quiet_since_previous = False
        self.quiet_since_current = True

    def next(self) -> None:
        self.created += 1
        self.current = None
        self.quiet_since_previous, self.quiet_since_current = self.quiet_since_current, True
        key, range_end, start = self.watched
        self.reader.create(watch_create(key, range_end, start, False))

    def replay_sent(self) -> None:
        self.quiet_since_previous = self.quiet_since_current = False

    def answered(self, response) -> bool:
        """Whether the replay is over, given this response to a watcher other than the replay."""
        if response.created and self.current is None:
            if response.canceled:  # refused: without barriers the end of the replay cannot be told
                reason = response.cancel_reason or "no reason given"
                error = AuthError if "permission denied" in reason else UnreachableError
                raise error(f"etcd refused the watch that tells when the history's replay is over: {reason}")
            self.current = response.watch_id
            return False
        if response.watch_id != self.current or not (response.events or response.compact_revision):
            return False  # a cancelled barrier's last words, or its cancellation
        self.reader.cancel(response.watch_id)
        # A round that reached `revision` (a member behind it has not sent all of the replay).
        if self.created >= 3 and self.quiet_since_previous and response.header.revision >= self.revision:
            return True
        self.next()
        return False
