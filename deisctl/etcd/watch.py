"""Watching keys: a watch stream read on a thread, and the watch loop that finds a dead or hung
member, reconnects through another one and resumes at the next revision, so that nothing is
missed or repeated."""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, NamedTuple, Optional

import grpc

from deisctl.errors import UnreachableError
from deisctl.etcd.errors import CompactedError, map_rpc_error, stream_failure
from deisctl.etcd.kv import HAS_LEADER, KV, key_bytes, kv_from_proto

# Failures of the member serving the stream: reconnect elsewhere instead of giving up.
_STREAM_FAILURES = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL,
                    grpc.StatusCode.UNKNOWN)

# A hung member (stopped, or cut off without a reset) keeps its TCP connection open and says
# nothing: after QUIET seconds of silence the stream asks for progress, which etcd >= 3.4
# answers at once; no answer within --command-timeout means the member is gone.
QUIET = 1.0


def answers_progress(version: str) -> bool:
    """etcd >= 3.4 answers a WatchRequest.progress_request; older ones ignore it."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (3, 4)


def watch_create(key, range_end: Optional[bytes], start_revision: int, prev_kv: bool):
    from etcd3.etcdrpc import WatchCreateRequest

    create = WatchCreateRequest(key=key_bytes(key) if isinstance(key, str) else key, start_revision=start_revision,
                                prev_kv=prev_kv)
    if range_end is not None:
        create.range_end = range_end
    return create


class StreamReader:
    """Reads a gRPC watch stream on a daemon thread, so that the caller waits with a timeout
    and Ctrl-C stays responsive."""

    def __init__(self, client, create):
        from etcd3.etcdrpc import WatchRequest, WatchStub

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
        metadata = tuple(client.metadata or ()) + HAS_LEADER
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

    def create(self, create) -> None:
        """Another watcher on the same stream (its `created` response comes in order)."""
        from etcd3.etcdrpc import WatchRequest

        self._requests.put(WatchRequest(create_request=create))

    def cancel(self, watch_id: int) -> None:
        from etcd3.etcdrpc import WatchCancelRequest, WatchRequest

        self._requests.put(WatchRequest(cancel_request=WatchCancelRequest(watch_id=watch_id)))

    def ask_progress(self) -> None:
        from etcd3.etcdrpc import WatchProgressRequest, WatchRequest

        self._requests.put(WatchRequest(progress_request=WatchProgressRequest()))

    def next(self, timeout: float):
        """The next response or exception object; None when the timeout passed first."""
        try:
            return self.responses.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    def close(self) -> None:
        self._call.cancel()  # first: ends the stream and the pump thread
        self._requests.put(None)  # then lets gRPC's request-iterator thread finish
        # No thread may still be inside gRPC when the channel closes or the interpreter exits.
        self._thread.join(timeout=2)


class Event(NamedTuple):
    """One change of a key, in deisctl's terms (no protobuf past this module)."""

    key: bytes
    old: Optional[KV]  # the value before (None: created, or etcd no longer had it)
    new: Optional[KV]  # None: deleted
    revision: int


def _event(proto) -> Event:
    old = kv_from_proto(proto.prev_kv) if proto.HasField("prev_kv") else None
    new = None if proto.type == 1 else kv_from_proto(proto.kv)  # 1: DELETE
    return Event(proto.kv.key, old, new, proto.kv.mod_revision)


def watch(store, key: str, range_end: Optional[bytes], start_revision: int, deadline: Optional[float] = None,
          on_reconnect: Optional[Callable[[str, str, int], None]] = None):
    """Yield lists of Events (one list per etcd response) from start_revision on, until the
    deadline (time.monotonic()).

    When the member serving the stream fails, hangs (a progress request unanswered within
    --command-timeout, etcd >= 3.4) or loses its leader, reconnect through another endpoint
    and resume at the revision after the last one delivered: no event is lost or repeated.
    Compaction of revisions not yet delivered is an error. on_reconnect(endpoint, reason,
    resume revision) is told of each reconnection.
    """
    settings = store.settings
    next_revision = start_revision
    while True:
        reconnect_until = time.monotonic() + settings.dial_timeout + settings.command_timeout
        while True:
            try:
                client = store.connected()
                break
            except UnreachableError:
                if time.monotonic() >= reconnect_until:
                    raise
                store.retry_all()  # a member that was down may be back
                time.sleep(0.2)
        reader = StreamReader(client, watch_create(key, range_end, next_revision, True))
        heartbeat = answers_progress(store.server_version)
        heard, asked = time.monotonic(), None  # last response; when progress was asked for
        failure = None
        try:
            while failure is None:
                now = time.monotonic()
                wait = 0.5 if deadline is None else min(deadline - now, 0.5)
                if wait <= 0:
                    return
                if heartbeat:
                    due = heard + QUIET if asked is None else asked + settings.command_timeout
                    if now >= due and asked is None:
                        reader.ask_progress()
                        asked = now
                        continue
                    if now >= due:
                        failure = ("the member stopped answering (no reply to a progress request within "
                                   f"--command-timeout {settings.command_timeout:g}s)")
                        break
                    wait = min(wait, due - now)
                item = reader.next(wait)
                if item is None:
                    continue
                heard, asked = time.monotonic(), None
                if isinstance(item, grpc.RpcError):
                    if item.code() not in _STREAM_FAILURES:
                        raise map_rpc_error(item, store.where)
                    failure = stream_failure(item)
                elif isinstance(item, ConnectionError):
                    failure = "the member ended the watch stream"
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
                    yield [_event(event) for event in item.events]
        finally:
            reader.close()
        where = store.abandon(failure)  # prefer the other members for the next stream
        if on_reconnect is not None:
            on_reconnect(where, failure, next_revision)
        time.sleep(0.1)
