"""The past of a key: its value at a revision, and every put and delete etcd still has."""

from __future__ import annotations

import time
from typing import NamedTuple, Optional

import grpc

from deisctl.errors import UnreachableError, UsageError
from deisctl.etcd.errors import CompactedError, failure_kind, map_rpc_error, stream_failure
from deisctl.etcd.kv import KV, key_bytes, kv_from_proto, raw_call
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


def history(store, key: str, quiet: float = 0.4) -> "tuple[list[HistoryEntry], int, Optional[KV]]":
    """Every put and delete of one key that etcd still has, oldest first.

    Returns (entries, compact_revision or 0, current KV or None). The events are replayed
    by a watch that starts at revision 1 (or etcd's compaction point) and is read up to the
    key's current mod_revision; for a key that does not exist now, until etcd has sent
    nothing more for `quiet` seconds (it replays history in rounds of ~100 ms).
    """
    current = store.snapshot([], [key]).rows.get(key)
    timeout = store.settings.command_timeout
    deadline = time.monotonic() + timeout
    start, compacted = 1, 0
    while True:
        client = store.connected()
        entries: list[HistoryEntry] = []
        reader = StreamReader(client, watch_create(key, None, start, False))
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if current is None:
                        return entries, compacted, current
                    raise UnreachableError(f"etcd at {store.where}: history of {key} not complete "
                                           f"within --command-timeout {timeout:g}s")
                item = reader.next(remaining if current is not None else min(remaining, quiet))
                if item is None:
                    if current is None:
                        return entries, compacted, current
                    continue
                if isinstance(item, grpc.RpcError):
                    if failure_kind(item) is not None:  # the member died or lost its leader mid-replay
                        raise UnreachableError(f"etcd at {store.where}: {stream_failure(item)}")
                    raise map_rpc_error(item, store.where)
                if isinstance(item, Exception):
                    raise UnreachableError(f"etcd at {store.where}: {item}")
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
