"""`check`: smoke checks for CI and operators, with exit codes to branch on.

0 every check passed · 1 a check failed · 4 no etcd endpoint answered, or none has a leader
(lost quorum: what every other command exits 4 for). The table is still printed: the result
carries the rows, the exit code and the one-line error.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from deisctl.controller import script as words
from deisctl.errors import DeisctlError, ExitCode, UnreachableError, declares_outcome
from deisctl.node import NodeOptions

REQUIRED_SETTINGS = ("platform/domain",)
HEARTBEAT_KEYS = ("controller/host", "controller/port")  # published by the controller while it runs

Row = tuple  # (check name, ok, detail)
LEADER_CHECK = "cluster leader"
OUTAGE = "cannot reach etcd: "  # cluster_checks' second value when the cluster answered but a read did not
NO_QUORUM = "no member has a leader: the cluster has lost its quorum"


@declares_outcome
class CheckResult(NamedTuple):
    rows: list  # [Row], in the order checked
    exit_code: int  # 0 all passed, 1 a check failed, 4 no etcd endpoint answered
    error: Optional[str]  # the one-line message for stderr, None when every check passed


def check(inv, node: NodeOptions, *, controller: bool = False, status: bool = False) -> CheckResult:
    """Every etcd check; with controller, also SSH to the controller's node and its container;
    with status, a row per component and node of `deisctl status`. With --tunnel, one bastion
    connection carries etcd and the controller's node, logged in with check's own SSH options
    (node.ssh: its flags > DEISCTL_SSH_* > context), as users and dock do."""
    from deisctl.ops.access import open_store

    with open_store(inv, ssh=node.ssh if inv.settings.tunnel else None) as store:
        rows, reachable = cluster_checks(inv, store)
        if controller and reachable is True:
            rows += controller_checks(inv, node, store.via)
    if status and reachable is True:
        rows += status_checks(inv, node)
    if isinstance(reachable, str):  # the outage a read met
        return CheckResult(rows, int(ExitCode.UNREACHABLE), reachable)
    if not reachable:
        error = "cannot reach etcd: no endpoint answered (" + "; ".join(
            f"{name.split(' ', 1)[1]}: {detail.removeprefix('unreachable: ')}" for name, _, detail in rows) + ")"
        return CheckResult(rows, int(ExitCode.UNREACHABLE), error)
    if (LEADER_CHECK, False, NO_QUORUM) in rows:  # the same outage as every other command's exit 4
        return CheckResult(rows, int(ExitCode.UNREACHABLE), f"cannot reach etcd: {NO_QUORUM}")
    failed = [name for name, ok, _ in rows if not ok]
    if failed:
        return CheckResult(rows, int(ExitCode.FAILED), f"{len(failed)} check(s) failed: {', '.join(failed)}")
    return CheckResult(rows, int(ExitCode.OK), None)


def _member(member_id: int) -> str:
    return f"{member_id:x}"


def cluster_checks(inv, store) -> tuple[list[Row], object]:
    """(rows, reachable): each endpoint, the leader, the required settings, the controller's
    heartbeat; reachable is False when no endpoint answered, and the outage's `cannot reach
    etcd: ...` line when they answered but a read timed out (a quorum just lost). store: the
    open etcd client."""
    rows: list[Row] = []
    statuses = store.member_statuses()
    for status in statuses:
        if not status.ok:
            rows.append((f"endpoint {status.endpoint}", False, f"unreachable: {status.detail}"))
            continue
        leader = f"leader {_member(status.leader)}" if status.leader else "no leader"
        rows.append((f"endpoint {status.endpoint}", bool(status.leader),
                     f"etcd {status.version}, member {_member(status.member_id)}, {leader}"))
    answering = [s for s in statuses if s.ok]
    if not answering:
        return rows, False
    leaders = {s.leader for s in answering}
    has_leader = len(leaders) == 1 and 0 not in leaders
    if has_leader:
        term = max(s.raft_term for s in answering)
        rows.append((LEADER_CHECK, True, f"member {_member(leaders.pop())} (raft term {term})"))
    elif leaders == {0}:
        rows.append((LEADER_CHECK, False, NO_QUORUM))
    else:
        seen = ", ".join(f"{s.endpoint}: {_member(s.leader) if s.leader else 'none'}" for s in answering)
        rows.append((LEADER_CHECK, False, f"the members do not agree on a leader ({seen})"))

    if has_leader:
        rows.append(_alarm_row(store))
    layout = inv.settings.layout
    keys = {name: layout.key(*name.split("/", 1)) for name in REQUIRED_SETTINGS + HEARTBEAT_KEYS}
    found, problem = {}, None
    if not has_leader:
        problem = "not read: the cluster has no leader"
    else:
        try:
            found = store.snapshot([], list(keys.values())).rows
        except UnreachableError as exc:
            # The members still named a leader a moment ago (they learn of a lost quorum only
            # after an election timeout), but the read got no answer: the outage every other
            # command exits 4 for, not a failed check.
            problem = f"cannot read: {exc.message}"
            rows += _setting_rows(keys, found, problem)
            rows.append(("controller heartbeat", False, problem))
            return rows, OUTAGE + exc.message.removeprefix("cannot reach etcd: ")
        except DeisctlError as exc:
            problem = f"cannot read: {exc.message}"
    rows += _setting_rows(keys, found, problem)
    if problem:
        rows.append(("controller heartbeat", False, problem))
    else:
        missing = [keys[k] for k in HEARTBEAT_KEYS if keys[k] not in found]
        if missing:
            rows.append(("controller heartbeat", False,
                         f"{', '.join(missing)} not found: the controller is not running or not publishing"))
        else:
            host, port = (found[keys[k]].text for k in HEARTBEAT_KEYS)
            rows.append(("controller heartbeat", True, f"{host}:{port}"))
    return rows, True


def _alarm_row(store) -> Row:
    """A raised alarm (NOSPACE, CORRUPT) makes etcd refuse every write while reads still work:
    a check that only reads would pass."""
    from deisctl.etcd.status import ALARM_MEANINGS

    try:
        raised = store.alarms()
    except DeisctlError as exc:
        return ("cluster alarms", False, f"cannot read: {exc.message}")
    if not raised:
        return ("cluster alarms", True, "none")
    return ("cluster alarms", False, "; ".join(
        f"{name} on member {_member(member)}: {ALARM_MEANINGS.get(name, 'etcd refuses writes')}"
        for member, name in raised))


def _setting_rows(keys: dict, found: dict, problem: Optional[str]) -> list[Row]:
    from deisctl import schema

    rows: list[Row] = []
    for name in REQUIRED_SETTINGS:
        if problem:
            rows.append((f"setting {name}", False, problem))
            continue
        component, key = name.split("/", 1)
        kv = found.get(keys[name])
        if kv is None:
            rows.append((f"setting {name}", False, f"{keys[name]} is not set (deisctl config {component} set {key}=...)"))
            continue
        try:
            schema.check(component, key, kv.text, strict=False)
            rows.append((f"setting {name}", True, kv.text))
        except DeisctlError as exc:
            rows.append((f"setting {name}", False, exc.message))
    return rows


def controller_checks(inv, node: NodeOptions, tunnel=None) -> list[Row]:
    """SSH to the controller's node (--host, else its heartbeat key) and its container's state."""
    from deisctl.ops.reach import Reach, is_missing_container, missing_container

    with Reach(inv, node, tunnel) as reach:
        try:
            host = reach.host_of("controller")
            session = reach.connect(host)
        except DeisctlError as exc:
            return [("controller ssh", False, exc.message)]
        rows: list[Row] = [("controller ssh", True, f"{node.ssh.user}@{host}:{node.ssh.port}")]
        if node.runtime == "none":
            rows.append(("controller container", True, f"{node.naming.setting('runtime', 'none')}: the controller runs on the node"))
            return rows + [_software_row(session, node, host)]
        name = f"controller container {node.container}"
        try:
            done = session.run([node.runtime, "inspect", "--format", "{{.State.Status}}", node.container],
                               timeout=node.remote_timeout or node.ssh.timeout)
        except DeisctlError as exc:
            return rows + [(name, False, exc.message)]
        state = done.stdout.decode("utf-8", "replace").strip()
        if done.status != 0 and is_missing_container(done.last_error_line()):
            rows.append((name, False, missing_container(session, node).render().removeprefix("error: ")))
        elif done.status != 0:
            rows.append((name, False, f"{node.runtime} inspect failed: {done.last_error_line()}"))
        else:
            rows.append((name, state == "running", f"{state} ({node.runtime} on {host})"))
        if rows[-1][1]:
            rows.append(_software_row(session, node, host))
    return rows


def status_checks(inv, node: NodeOptions) -> list[Row]:
    """`deisctl status` as check rows: `status COMPONENT on NODE`, up or its problem."""
    from deisctl.ops import platform

    result = platform.status(inv, node)
    if not result.rows:
        return [("status", False, result.error)]
    rows: list[Row] = []
    for row in result.rows:
        name = f"status {row.component}" + (f" on {row.node}" if row.node else "")
        if not row.ok:
            rows.append((name, False, row.problem))
            continue
        seen = [f"container {row.container.state}"] if row.container else []
        if row.heartbeat is not None:
            beat = row.heartbeat
            seen.append(f"heartbeat {beat.node}:{beat.port}" if beat.port else f"heartbeat {beat.node}")
        rows.append((name, True, ", ".join(seen) or "up"))
    return rows


def _software_row(session, node, host: str) -> Row:
    """The controller's Python, Django and DRF, asked of its own Django (the script's version)."""
    from deisctl.ops.users import converse

    try:
        found = converse(session, node, {"action": words.VERSION}, host)
    except DeisctlError as exc:
        return ("controller software", False, exc.message)
    validators = "" if found.get("password_validators") else "; no password validators"
    return ("controller software", True, f"Python {found.get('python')}, Django {found.get('django')}, "
                                         f"Django REST framework {found.get('rest_framework')}{validators}")
