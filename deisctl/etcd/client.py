"""The etcd client: one connection to one cluster, through whichever endpoint answers.

Every RPC carries a deadline (--command-timeout) and asks etcd to refuse it at once when the
member has no leader; connecting is bounded by --dial-timeout, with all endpoints dialled at
once so that one hung member cannot use up the budget of the others. A request that fails is
retried within about --dial-timeout + --command-timeout, plus one retry after a timeout. The
operations live beside this module, one concern a file; Store's methods hand over to them, so
callers need only the Store.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional, Sequence, TypeVar

import etcd3
import grpc

from deisctl.errors import AuthError, DeisctlError, UnreachableError
from deisctl.etcd import kv
from deisctl.etcd.endpoints import Dialer, Endpoint, parse_endpoints, probe
from deisctl.etcd.errors import (LOST, NO_LEADER, TIMEOUT, answered, failure_kind, failure_text, map_rpc_error,
                                 probe_failure, token_expired, worth_diagnosing)
from deisctl.settings import Settings

T = TypeVar("T")


class Store:
    """A connection to one etcd cluster, through whichever endpoint answers.

    `via`: an open tunnel to reach the endpoints through (see endpoints.Dialer); `on_close`:
    called once by close(), e.g. to close a tunnel opened for this store alone;
    `before_txn(index, total)`: called before each guarded transaction is sent (a caller that
    wants to see, or provoke, what happens between the transactions of a large apply).
    """

    def __init__(self, settings: Settings, *, via=None, on_close: Optional[Callable[[], None]] = None,
                 before_txn: Optional[Callable[[int, int], None]] = None):
        self.settings = settings
        self.via = via
        self.before_txn = before_txn
        self.endpoints = parse_endpoints(settings)
        self.dialer = Dialer(settings, via)
        self._on_close = on_close
        self._client = None
        self._current: Optional[Endpoint] = None
        self._down: dict[str, str] = {}  # endpoint url -> why we gave up on it
        self._refused: set[str] = set()  # endpoints whose TLS certificate check failed
        self._forbidden: dict[str, AuthError] = {}  # endpoints the bastion refuses to forward to
        self.server_version = ""  # etcd version of the member in use (from the dial probe)
        self.cluster_id = 0  # the etcd cluster's id (from the dial probe): whose trail an anchor is
        # The highest revision a dial probe reported: a write sent after that dial is applied
        # at a higher one (kv.put_many tells its own write from an older one by it).
        self.seen_revision = 0

    @property
    def trail(self):
        """The audit trail that writes are recorded in (deisctl.etcd.audit), None when off."""
        if not self.settings.audit:
            return None
        if getattr(self, "_trail", None) is None:
            from deisctl.etcd.audit import Trail

            anchors = None
            if self.settings.audit_anchors:
                from deisctl.anchors import Anchors

                anchors = Anchors(self.settings.audit_anchors)
            self._trail = Trail(self.settings.prefix, dict(self.settings.actor), anchors)
        return self._trail

    def send_audited(self, client, request, changes):
        """A write transaction sent on client with its audit record when the store keeps a trail
        (deisctl.etcd.audit.send: kv and txn send their writes through here, so that the trail's
        module, which reads with kv, is not imported by it)."""
        from deisctl.etcd import audit

        return audit.send(self, client, request, changes)

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

        failed = []
        for ep in candidates:
            if chosen is not None and ep.url == chosen.url:
                continue
            pending = probes[ep.url]
            if pending.done() and not answered(pending):
                failed.append((ep, pending))
            elif chosen is None:
                self._down[ep.url] = f"no answer within --dial-timeout {timeout:g}s"
            pending.cancel()
            channels[ep.url].close()
        for ep, pending in failed:  # what is there, asked only when nothing else answered
            self._down[ep.url] = self.explain(ep, pending, explore=chosen is None)
        if chosen is None:
            raise self._unreachable()

        answer = probes[chosen.url]
        if answer.exception() is None:
            status = answer.result()
            self.server_version = status.version
            self.cluster_id = status.header.cluster_id
            self.seen_revision = max(self.seen_revision, status.header.revision)
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

    def explain(self, ep: Endpoint, failed, explore: bool = True) -> str:
        """Why ep's probe (a failed future) failed; with explore, ask what answers there when it
        is not etcd v3 (diagnose.py)."""
        timeout = self.settings.dial_timeout
        tunnel = self.dialer.failure(ep)
        if isinstance(tunnel, AuthError):
            self._forbidden[ep.url] = tunnel
            return tunnel.message
        if tunnel is not None:  # "bastion B cannot reach H:P: WHY": the URL already says the rest
            return tunnel.message.split(": ", 1)[-1]
        error = failed.exception()
        details = error.details() or ""
        if ep.secure:
            from deisctl.etcd.tls import handshake_refusal

            refusal = handshake_refusal(details, self.settings, ep.secure)
            if refusal:
                self._refused.add(ep.url)
                return refusal
        reason = probe_failure(failed, timeout)
        if explore and error.code() != grpc.StatusCode.DEADLINE_EXCEEDED and worth_diagnosing(details):
            from deisctl.etcd.diagnose import diagnose

            return diagnose(self.dialer.address(ep), ep.host, ep.secure, timeout) or reason
        return reason

    def _unreachable(self) -> DeisctlError:
        reasons = ", ".join(f"{url} ({why})" for url, why in self._down.items())
        if self._refused & set(self._down):  # a certificate we must not trust: like an SSH host key
            return AuthError(f"cannot connect to etcd securely: {reasons}")
        if self._forbidden:  # the bastion's policy: no retry gets through, its sshd_config must change
            if set(self._down) <= set(self._forbidden):
                return next(iter(self._forbidden.values()))
            return AuthError(f"cannot reach etcd: {reasons}", hint=next(iter(self._forbidden.values())).hint)
        hint = None
        if self.settings.sources.get("endpoints", "default") == "default":  # the newcomer's first error
            hint = ("deisctl used its default endpoint: pass --endpoints URLS before the command, set "
                    "DEISCTL_ENDPOINTS=URLS, or name a context (see 'deisctl context --help')")
        return UnreachableError(f"cannot reach etcd: {reasons}", hint=hint)

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
        self._refused.clear()
        self._forbidden.clear()

    def run(self, op: Callable[[object], T], *, write: bool = False, retry_unknown: bool = True,
            after_unknown: Optional[Callable[[object], T]] = None) -> T:
        """Run op(client); when the member stops answering, reconnect and retry.

        Reconnecting probes the other endpoints (all again once each has failed), so a dead or
        hung member is skipped; a member without a leader refuses at once, and the members are
        retried after a pause (an election) until --dial-timeout + --command-timeout have
        passed. After a timeout there is one retry. `write`: op changes data, so a failure after it was sent
        may or may not have applied it, and says so; `retry_unknown`: repeating it cannot
        change the outcome; `after_unknown(client)`: run instead of op once an attempt's
        outcome is unknown (to find out what happened).
        """
        settings = self.settings
        give_up_at = time.monotonic() + settings.dial_timeout + settings.command_timeout
        attempts = timeouts = pauses = 0
        unknown = False  # an attempt of this write may have been applied
        reauthenticated = False
        while True:
            try:
                client = self.connected()
            except UnreachableError as exc:
                if write and attempts:
                    raise self._outcome(exc.message, unknown) from None
                raise
            where = self._current.url
            try:
                return (after_unknown if unknown and after_unknown is not None else op)(client)
            except grpc.RpcError as exc:
                kind = failure_kind(exc)
                if kind is None and token_expired(exc) and settings.user and not reauthenticated:
                    # etcd's auth token outlived (--auth-token-ttl, 5 min by default) while deisctl
                    # waited (a prompt, a long apply or watch): refused unexecuted, so log in again, once.
                    reauthenticated = True
                    self._reset()
                    continue
                if kind is None:
                    raise map_rpc_error(exc, where) from None
                reason = failure_text(exc, kind, settings.command_timeout)
            attempts += 1
            unknown = unknown or (write and kind in (TIMEOUT, LOST))
            timeouts += kind == TIMEOUT
            self.abandon(reason)  # prefer the other members next
            pause = min(0.2 * (pauses + 1), 1.0) if kind == NO_LEADER else 0
            if (unknown and not retry_unknown) or timeouts > 1 \
                    or (kind == NO_LEADER and time.monotonic() + pause > give_up_at) \
                    or (kind != NO_LEADER and attempts > len(self.endpoints) + 1):
                message = f"etcd at {where}: {reason}"
                raise self._outcome(message, unknown) if write else UnreachableError(message)
            if all(ep.url in self._down for ep in self.endpoints):
                self.retry_all()  # each member failed once: the first to answer gets another try
            if pause:
                pauses += 1
                time.sleep(pause)  # leave time for a leader election

    @staticmethod
    def _outcome(message: str, unknown: bool) -> UnreachableError:
        """The failure of a write, saying whether it may have been applied: not when every
        attempt was refused unexecuted (no leader) or never sent."""
        if unknown:
            return UnreachableError(f"{message}; the write may or may not have been applied",
                                    hint="check with get before retrying")
        return UnreachableError(f"{message}; the write was not applied")

    # -- operations (kv.py; the others are imported by the commands that use them) --------

    def get(self, key: str) -> Optional[kv.KV]:
        return kv.get(self, key)

    def get_many(self, keys: Sequence[str]) -> "dict[str, kv.KV]":
        return kv.get_many(self, keys)

    def list_prefix(self, prefix: str) -> "list[kv.KV]":
        return kv.list_prefix(self, prefix)

    def keys_under(self, prefix: str, serializable: bool = True) -> "list[str]":
        return kv.keys_under(self, prefix, serializable)

    def first_segments(self, prefix: str) -> "list[str]":
        return kv.first_segments(self, prefix)

    def put_many(self, items: Sequence[tuple[str, str]], not_after: Optional[int] = None) -> "kv.Previous":
        return kv.put_many(self, items, not_after)

    def delete_many(self, keys: Sequence[str], *, must_exist: bool) -> "list[kv.KV]":
        return kv.delete_many(self, keys, must_exist=must_exist)

    def snapshot(self, prefixes: Sequence[str], keys: Sequence[str] = ()) -> kv.Snapshot:
        return kv.snapshot(self, prefixes, keys)

    def guarded_write(self, changes: Sequence[tuple[str, Optional[str]]], expected: dict,
                      progress: Optional[Callable[[int, int, int], None]] = None,
                      unchanged_under: Optional[tuple[str, int]] = None, guard_every_batch: bool = True) -> int:
        from deisctl.etcd import txn

        return txn.guarded_write(self, changes, expected, progress, unchanged_under, guard_every_batch)

    def get_at(self, key: str, revision: int) -> Optional[kv.KV]:
        from deisctl.etcd import history

        return history.get_at(self, key, revision)

    def history(self, key: str):
        from deisctl.etcd import history

        return history.history(self, key)

    def watch(self, key: str, range_end: Optional[bytes], start_revision: int, deadline: Optional[float] = None,
              on_reconnect: Optional[Callable[[str, str, int], None]] = None):
        from deisctl.etcd import watch

        return watch.watch(self, key, range_end, start_revision, deadline, on_reconnect)

    def member_statuses(self):
        from deisctl.etcd import status

        return status.member_statuses(self)

    def alarms(self):
        from deisctl.etcd import status

        return status.alarms(self)
