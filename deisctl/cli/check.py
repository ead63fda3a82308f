"""`deisctl check`: smoke checks for CI and operators, with exit codes to branch on.

0 every check passed · 1 a check failed · 4 no etcd endpoint answered.
"""

from __future__ import annotations

from typing import Optional

import click

from deisctl import output
from deisctl.cli.groups import DeisctlCommand
from deisctl.cli.node_options import node_options
from deisctl.cli.options import output_option, invocation, state_of

REQUIRED_SETTINGS = ("platform/domain",)
HEARTBEAT_KEYS = ("controller/host", "controller/port")  # published by the controller while it runs


class CheckResult(output.Result):
    def __init__(self, rows: list[tuple[str, bool, str]]):
        self.rows = rows

    def data(self):
        return [{"check": name, "ok": ok, "detail": detail} for name, ok, detail in self.rows]

    def lines(self):
        width = max([len(name) for name, _, _ in self.rows] + [5])
        yield f"{'CHECK':<{width}}  {'OK':<4}  DETAIL"
        for name, ok, detail in self.rows:
            yield f"{name:<{width}}  {'ok' if ok else 'FAIL':<4}  {detail}".rstrip()

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.rows)


def _member(member_id: int) -> str:
    return f"{member_id:x}"


def run_checks(settings) -> tuple[list[tuple[str, bool, str]], bool]:
    """(rows, reachable): every check's (name, ok, detail); reachable is False when no endpoint answered."""
    from deisctl import schema
    from deisctl.errors import DeisctlError
    from deisctl.store import Store

    rows: list[tuple[str, bool, str]] = []
    with Store(settings) as store:
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
            rows.append(("cluster leader", True, f"member {_member(leaders.pop())} (raft term {term})"))
        elif leaders == {0}:
            rows.append(("cluster leader", False, "no member has a leader: the cluster has lost its quorum"))
        else:
            seen = ", ".join(f"{s.endpoint}: {_member(s.leader) if s.leader else 'none'}" for s in answering)
            rows.append(("cluster leader", False, f"the members do not agree on a leader ({seen})"))

        keys = {name: settings.prefix + "/" + name for name in REQUIRED_SETTINGS + HEARTBEAT_KEYS}
        found, problem = {}, None
        if not has_leader:
            problem = "not read: the cluster has no leader"
        else:
            try:
                found = store.snapshot([], list(keys.values())).rows
            except DeisctlError as exc:
                problem = f"cannot read: {exc.message}"
        for name in REQUIRED_SETTINGS:
            if problem:
                rows.append((f"setting {name}", False, problem))
                continue
            kv = found.get(keys[name])
            if kv is None:
                rows.append((f"setting {name}", False,
                             f"{keys[name]} is not set (deisctl config {name.split('/')[0]} set "
                             f"{name.split('/', 1)[1]}=...)"))
                continue
            component, key = name.split("/", 1)
            try:
                schema.check(component, key, kv.text, strict=False)
                rows.append((f"setting {name}", True, kv.text))
            except DeisctlError as exc:
                rows.append((f"setting {name}", False, exc.message))
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


def controller_checks(ctx: click.Context, settings, node_values: dict) -> list[tuple[str, bool, str]]:
    """SSH to the controller's node (--host, else its heartbeat key) and its container's state."""
    from deisctl.cli.node_options import Reach, resolve
    from deisctl.errors import DeisctlError

    node = resolve(ctx, node_values, settings)  # bad options: a usage error, before any connection
    with Reach(settings, node) as reach:
        try:
            host = reach.host_of("controller")
            session = reach.connect(host)
        except DeisctlError as exc:
            return [("controller ssh", False, exc.message)]
        rows = [("controller ssh", True, f"{node.ssh.user}@{host}:{node.ssh.port}")]
        if node.runtime == "none":
            return rows + [("controller container", True, "--runtime none: the controller runs on the node")]
        name = f"controller container {node.container}"
        try:
            done = session.run([node.runtime, "inspect", "--format", "{{.State.Status}}", node.container],
                               timeout=node.remote_timeout or node.ssh.timeout)
        except DeisctlError as exc:
            return rows + [(name, False, exc.message)]
        state = done.stdout.decode("utf-8", "replace").strip()
        if done.status != 0:
            rows.append((name, False, f"{node.runtime} inspect failed: {done.last_error_line()}"))
        else:
            rows.append((name, state == "running", f"{state} ({node.runtime} on {host})"))
    return rows


@click.command("check", cls=DeisctlCommand)
@click.option("--controller", is_flag=True, help="Also SSH to the controller's node and check that its container runs.")
@node_options(django=True)
@output_option
@click.pass_context
def check(ctx: click.Context, controller: bool, fmt: Optional[str], **node_values) -> None:
    """Smoke checks: each endpoint answers (version, leader), the cluster has a leader, the
    required settings (platform/domain) are set and valid, the controller's heartbeat is there;
    with --controller, SSH to the controller's node works and its container is running.

    Text: a table; JSON/YAML: a list of {check, ok, detail}. Exit status: 0 every check
    passed, 1 a check failed, 4 no etcd endpoint answered.
    """
    from deisctl.errors import ExitCode, UnreachableError

    settings = invocation(ctx, fmt).settings
    rows, reachable = run_checks(settings)
    if controller and reachable:
        rows += controller_checks(ctx, settings, node_values)
    result = CheckResult(rows)
    output.emit(result, settings.output)
    if not reachable:
        raise UnreachableError("cannot reach etcd: no endpoint answered (" + "; ".join(
            f"{name.split(' ', 1)[1]}: {detail.removeprefix('unreachable: ')}" for name, _, detail in rows) + ")")
    if not result.passed:
        failed = [name for name, ok, _ in rows if not ok]
        return _Outcome(int(ExitCode.FAILED), f"{len(failed)} check(s) failed: {', '.join(failed)}")


class _Outcome:  # transitional: this module moves to deisctl.ops
    def __init__(self, exit_code, error=None):
        self.exit_code, self.error = exit_code, error
