"""Per-member status (deisctl check): every endpoint probed at once, each answering for itself."""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

import grpc

from deisctl.etcd.endpoints import probe
from deisctl.etcd.errors import answered, map_rpc_error


class MemberStatus(NamedTuple):
    endpoint: str
    ok: bool
    detail: str = ""  # why it failed
    version: str = ""
    member_id: int = 0
    leader: int = 0
    raft_term: int = 0


def member_statuses(store) -> list[MemberStatus]:
    """Status of every endpoint, probed at once: each must connect within --dial-timeout, then
    answer within --command-timeout; a failure says which of the two limits expired."""
    dial, command = store.settings.dial_timeout, store.settings.command_timeout
    dialer = store.dialer
    started = time.monotonic()
    changed = threading.Condition()
    channels, futures, connected, watchers = {}, {}, {}, {}

    def poke(*_):
        with changed:
            changed.notify_all()

    for ep in store.endpoints:
        channels[ep.url] = dialer.channel(ep)

        def on_state(state, url=ep.url):
            if state == grpc.ChannelConnectivity.READY:
                connected.setdefault(url, time.monotonic())
            poke()

        watchers[ep.url] = on_state
        channels[ep.url].channel.subscribe(on_state, try_to_connect=True)
        futures[ep.url] = probe(channels[ep.url], dial + command)
        futures[ep.url].add_done_callback(poke)

    late = {}  # url -> the limit that expired
    with changed:
        while True:
            now = time.monotonic()
            for url, future in futures.items():
                if future.done() or url in late:
                    continue
                if url not in connected and now >= started + dial:
                    late[url] = f"no answer within --dial-timeout {dial:g}s"
                elif url in connected and now >= connected[url] + command:
                    late[url] = f"connected, but no answer within --command-timeout {command:g}s"
                if url in late:
                    future.cancel()
            if all(f.done() or url in late for url, f in futures.items()):
                break
            changed.wait(0.05)

    results = []
    for ep in store.endpoints:
        future = futures[ep.url]
        try:
            if ep.url in late:
                results.append(MemberStatus(ep.url, False, late[ep.url]))
                continue
            if future.exception() is None:
                status = future.result()
                results.append(MemberStatus(ep.url, True, "", status.version, status.header.member_id,
                                            status.leader, status.raftTerm))
            elif answered(future):
                results.append(MemberStatus(ep.url, False, map_rpc_error(future.exception(), ep.url).message))
            else:
                results.append(MemberStatus(ep.url, False, store.explain(ep, future)))
        finally:
            channels[ep.url].channel.unsubscribe(watchers[ep.url])
            channels[ep.url].close()
    return results


ALARM_NAMES = {1: "NOSPACE", 2: "CORRUPT"}  # etcd's AlarmType (CORRUPT: etcd >= 3.3)
ALARM_MEANINGS = {"NOSPACE": "the space quota is exhausted: etcd refuses every write until it is compacted, "
                             "defragmented and the alarm disarmed",
                  "CORRUPT": "a member's data differs from the others': etcd refuses writes"}


def alarms(store) -> list[tuple[int, str]]:
    """The cluster's raised alarms: (member id, NOSPACE | CORRUPT | the number)."""
    from etcd3.etcdrpc import AlarmRequest

    from deisctl.etcd.kv import raw_call

    request = AlarmRequest(action=AlarmRequest.GET, memberID=0, alarm=0)
    response = store.run(lambda c: raw_call(c, "maintenancestub", "Alarm", request))
    return [(alarm.memberID, ALARM_NAMES.get(alarm.alarm, str(alarm.alarm))) for alarm in response.alarms]
