"""The etcd client: one connection to one cluster, through whichever endpoint answers.

Every RPC carries a deadline (--command-timeout); connecting is bounded by --dial-timeout,
with all endpoints dialled at once so that one hung member cannot use up the budget of the
others. The operations live beside this module, one concern a file; Store's methods hand
over to them, so callers need only the Store.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional, Sequence, TypeVar

import etcd3
import grpc
from etcd3 import exceptions as etcd_errors

from deisctl.errors import DeisctlError, UnreachableError
from deisctl.etcd import kv
from deisctl.etcd.endpoints import Dialer, Endpoint, parse_endpoints, probe
from deisctl.etcd.errors import answered, map_rpc_error, probe_failure
from deisctl.settings import Settings

T = TypeVar("T")


class Store:
    """A connection to one etcd cluster, through whichever endpoint answers.

    `via`: an open tunnel to reach the endpoints through (see endpoints.Dialer); `on_close`:
    called once by close(), e.g. to close a tunnel opened for this store alone.
    """

    before_guarded_txn: Optional[Callable[[int, int], None]] = None  # test seam: (index, total)

    def __init__(self, settings: Settings, *, via=None, on_close: Optional[Callable[[], None]] = None):
        self.settings = settings
        self.endpoints = parse_endpoints(settings)
        self.dialer = Dialer(settings, via)
        self._on_close = on_close
        self._client = None
        self._current: Optional[Endpoint] = None
        self._down: dict[str, str] = {}  # endpoint url -> why we gave up on it

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._reset()
        finally:
            on_close, self._on_close = self._on_close, None
            if on_close is not None:
                on_close()

    # -- connecting and failover ------------------------------------------------------

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

        def notify(_future):
            with cond:
                cond.notify_all()

        for ep in candidates:
            channels[ep.url] = self.dialer.channel(ep)
            probes[ep.url] = probe(channels[ep.url], timeout)
            probes[ep.url].add_done_callback(notify)

        chosen = None
        deadline = time.monotonic() + timeout + 0.5  # the probes' own deadline ends the wait first
        with cond:
            while True:
                ready = [ep for ep in candidates if probes[ep.url].done() and answered(probes[ep.url])]
                chosen = ready[0] if ready else None
                remaining = deadline - time.monotonic()
                if chosen or all(p.done() for p in probes.values()) or remaining <= 0:
                    break
                cond.wait(remaining)

        for ep in candidates:
            if chosen is not None and ep.url == chosen.url:
                continue
            pending = probes[ep.url]
            if pending.done() and not answered(pending):
                self._down[ep.url] = self.dialer.failure(ep) or probe_failure(pending, timeout)
            elif chosen is None:
                self._down[ep.url] = f"no answer within --dial-timeout {timeout:g}s"
            pending.cancel()
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
        if self._client is not None:
            self._client.close()
            self._client = None
        self._current = None

    def connected(self):
        """The library client of the endpoint in use, dialling first if there is none."""
        if self._client is None:
            self._dial()
        return self._client

    @property
    def where(self) -> str:
        """URL of the endpoint in use (connected() first)."""
        return self._current.url

    def abandon(self, reason: str) -> str:
        """Drop the endpoint in use after a failure, so that the next dial prefers the others;
        returns its URL."""
        where = self._current.url
        self._reset()
        self._down[where] = reason
        return where

    def retry_all(self) -> None:
        """Forget past failures: a member that was down may be back."""
        self._down.clear()

    def run(self, op: Callable[[object], T], *, idempotent: bool = True) -> T:
        """Run op(client); when the member stops answering, reconnect and retry.

        Reconnecting probes every endpoint again, so a dead member is skipped and a
        live one that only lost its leader is retried after a short pause. A write
        that timed out is retried only if repeating it cannot change the outcome.
        """
        attempts = 0
        while True:
            client = self.connected()
            where = self._current.url
            timeout = self.settings.command_timeout
            try:
                return op(client)
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

    # -- operations (kv.py; the others are imported by the commands that use them) --------

    def get(self, key: str) -> Optional[kv.KV]:
        return kv.get(self, key)

    def get_many(self, keys: Sequence[str]) -> "dict[str, kv.KV]":
        return kv.get_many(self, keys)

    def list_prefix(self, prefix: str) -> "list[kv.KV]":
        return kv.list_prefix(self, prefix)

    def put_many(self, items: Sequence[tuple[str, str]]) -> "list[Optional[kv.KV]]":
        return kv.put_many(self, items)

    def delete_many(self, keys: Sequence[str], *, must_exist: bool) -> "list[kv.KV]":
        return kv.delete_many(self, keys, must_exist=must_exist)

    def snapshot(self, prefixes: Sequence[str], keys: Sequence[str] = ()) -> kv.Snapshot:
        return kv.snapshot(self, prefixes, keys)

    def guarded_write(self, changes: Sequence[tuple[str, Optional[str]]], expected: dict,
                      progress: Optional[Callable[[int, int, int], None]] = None) -> int:
        from deisctl.etcd import txn

        return txn.guarded_write(self, changes, expected, progress)

    def get_at(self, key: str, revision: int) -> Optional[kv.KV]:
        from deisctl.etcd import history

        return history.get_at(self, key, revision)

    def history(self, key: str, quiet: float = 0.4):
        from deisctl.etcd import history

        return history.history(self, key, quiet)

    def watch(self, key: str, range_end: Optional[bytes], start_revision: int, deadline: Optional[float] = None):
        from deisctl.etcd import watch

        return watch.watch(self, key, range_end, start_revision, deadline)

    def on_reconnect(self, endpoint: str, reason: str, resume_revision: int) -> None:
        """Called when a watch stream failed, before reconnecting (the CLI reports it)."""

    def member_statuses(self):
        from deisctl.etcd import status

        return status.member_statuses(self)
