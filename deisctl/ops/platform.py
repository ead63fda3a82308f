"""`status`, `logs`, `restart` and `ssh`: the platform's components on their nodes, without fleet.

Where each component runs is what Deis put in etcd: its heartbeat, `<prefix>/<component>/host`
and `port` (routers, registries and store gateways: `<prefix>/<component>/hosts/<HOST>/host` and
`port`), published with a lease by the component while it runs; and the context's `nodes`, for
the components that publish none. What runs there is asked of the node's container runtime over
SSH (the container `deis-<component>`), every node at once, each within the SSH timeouts: a node
that does not answer is one row that says so, never a wait for the others.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, NamedTuple, Optional, Sequence

from deisctl import keys as keyspec
from deisctl.errors import DeisctlError, ExitCode, NotFoundError, UsageError, declares_outcome, first_few
from deisctl.node import NodeOptions
from deisctl.ops.access import open_store
from deisctl.ops.reach import Reach
from deisctl.ssh import options as ssh_options

CONTAINER_PREFIX = "deis-"  # deis-<component>: how Deis named its containers
# Lists the deis-* containers and inspects them, in one remote command; the runtime is its
# positional parameter (never part of the shell code).
_INSPECT = ('ids=$("$1" ps -aq --filter name=^deis-) || exit; if [ -z "$ids" ]; then echo "[]"; '
            'else exec "$1" inspect $ids; fi')
ANY_COMPONENT = "*"  # the row of a node that did not answer, when no component is known to run there
DEFAULT_WAIT = 60.0  # seconds restart waits for the container and its heartbeat to come back


class Heartbeat(NamedTuple):
    component: str
    node: str  # the host it publishes
    port: Optional[str]
    left: Optional[int]  # seconds its lease has left; None: published without a lease (kept for good)
    revision: int  # the revision its host key was written at (a new one: published anew)
    lease: int
    key: str = ""  # its host key: where a host that is not one came from


class Container(NamedTuple):
    state: str  # running, exited, restarting, created, ... or "missing"
    since: str  # when it started (running) or finished (else), as the runtime says
    restarts: int
    image: str
    exit_code: int = 0


class StatusRow(NamedTuple):
    component: str
    node: Optional[str]  # None: found on no node (no heartbeat, no container on the nodes asked)
    heartbeat: Optional[Heartbeat]  # None: none published from that node
    container: Optional[Container]  # None: not asked (the node did not answer, or --runtime none)
    problem: Optional[str]  # why the row is down (None: up)
    publishes: bool  # the component publishes a heartbeat (a missing one is a problem)

    @property
    def ok(self) -> bool:
        return self.problem is None


@declares_outcome
class Status(NamedTuple):
    rows: list  # [StatusRow], by component then node
    exit_code: int  # 0 every component that should run does, 1 one is down
    error: Optional[str]


def _published_components(component: str) -> bool:
    from deisctl import schema

    return schema.publishes_heartbeat(component)


def _components_under_prefix(inv, store) -> list[str]:
    from deisctl.etcd.kv import first_segments

    return first_segments(store, inv.settings.layout.prefix + "/")


def heartbeats(inv, store, components: Sequence[str] = ()) -> list[Heartbeat]:
    """The heartbeats in etcd (of the components named, else of every component under the prefix)."""
    from deisctl.etcd import leases

    layout = inv.settings.layout
    names = list(components) or _components_under_prefix(inv, store)
    rows = {}
    for name in names:
        snap = store.snapshot([layout.key(name, "hosts/")], [layout.key(name, "host"), layout.key(name, "port")])
        rows.update(snap.rows)
    found = []
    base = layout.prefix + "/"
    for key, kv in sorted(rows.items()):
        parts = key[len(base):].split("/")
        if parts[-1] != "host" or len(parts) not in (2, 4) or (len(parts) == 4 and parts[1] != "hosts"):
            continue
        port = rows.get(key[:-len("host")] + "port")
        found.append((key, parts[0], kv, port))
    left = leases.time_left(store, [kv.lease for _, _, kv, _ in found if kv.lease])
    return [Heartbeat(component, kv.text.strip(), port.text.strip() if port else None,
                      left.get(kv.lease) if kv.lease else None, kv.mod_revision, kv.lease, key)
            for key, component, kv, port in found]


class NotAsked(NamedTuple):
    """A node never asked: what names it is not a host (written into etcd or the context by
    someone), so deisctl neither resolves nor connects to it."""
    problem: str


def _refused_hosts(beats, hosts) -> dict:
    """{host: NotAsked} for each of hosts that is not a host name or address, naming where it came from."""
    where = {beat.node: beat.key for beat in beats}
    refused = {}
    for host in hosts:
        try:
            ssh_options.check_host(host, where.get(host, "the context's nodes"))
        except UsageError as exc:
            refused[host] = NotAsked(f"not asked: {exc.message}")
    return refused


def _valid_hosts(beats, hosts) -> list:
    """hosts, each a host name or address, else UsageError naming where it came from."""
    for refused in _refused_hosts(beats, hosts).values():
        raise UsageError(refused.problem.removeprefix("not asked: "))
    return hosts


def _containers(reach: Reach, node: NodeOptions, host: str) -> dict:
    """{component: Container} of the deis-* containers on host, in one SSH session."""
    session = reach.connect(host)
    done = session.run(["sh", "-c", _INSPECT, "deisctl", node.runtime],
                       timeout=node.remote_timeout or node.ssh.timeout)
    if done.status != 0:
        raise DeisctlError(f"{node.runtime} ps failed: {done.last_error_line()}")
    containers = containers_of(done.stdout)
    if containers is None:
        raise DeisctlError(f"{node.runtime} inspect gave no JSON")
    return containers


def _count(value) -> int:
    """A count or exit code the node gave, 0 when it is not a number."""
    try:
        return int(value or 0)
    except (TypeError, ValueError, OverflowError):
        return 0


def containers_of(output: bytes) -> Optional[dict]:
    """{component: Container} from `docker inspect` of the deis-* containers (None: not JSON). What
    a node says is taken as text: a field of another type counts as missing, never as a crash."""
    try:
        found = json.loads(output.decode("utf-8", "replace") or "[]")
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return None
    containers = {}
    for item in found if isinstance(found, list) else []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("Name", "")).lstrip("/")
        if not name.startswith(CONTAINER_PREFIX):
            continue
        state = item.get("State") if isinstance(item.get("State"), dict) else {}
        status = str(state.get("Status", "unknown"))
        since = str(state.get("StartedAt" if status == "running" else "FinishedAt", ""))[:19].replace("T", " ")
        config = item.get("Config") if isinstance(item.get("Config"), dict) else {}
        containers[name[len(CONTAINER_PREFIX):]] = Container(status, since, _count(item.get("RestartCount")),
                                                             str(config.get("Image", "")),
                                                             _count(state.get("ExitCode")))
    return containers


def _nodes_of_context(inv) -> tuple:
    from deisctl import contexts

    return tuple(contexts.value(inv.settings, "nodes", ()) or ())


def status(inv, node: NodeOptions, components: Sequence[str] = ()) -> Status:
    """One row per component and node: its heartbeat and its container there. Exit 0 when every
    component that should run does (its container runs; its heartbeat is published, for those
    that publish one), 1 when one does not (a node that does not answer counts as down)."""
    for component in components:
        keyspec.validate_component(component)
    with Reach(inv, node) as reach:
        reach.open()
        with open_store(inv, via=reach.tunnel) as store:
            names = list(components) or _components_under_prefix(inv, store)
            beats = heartbeats(inv, store, names)
        # What should run: the components named, else those the cluster has keys of and that
        # publish a heartbeat while they run (an expired lease takes the heartbeat away: the
        # component must not vanish from the table with it).
        expected = list(components) or [name for name in names if _published_components(name)]
        hosts = sorted({beat.node for beat in beats} | set(_nodes_of_context(inv)))
        answers: dict = _refused_hosts(beats, hosts)
        hosts = [host for host in hosts if host not in answers]
        if node.runtime != "none" and hosts:
            with ThreadPoolExecutor(max_workers=min(16, len(hosts))) as pool:
                futures = {host: pool.submit(_containers, reach, node, host) for host in hosts}
                for host, future in futures.items():
                    try:
                        answers[host] = future.result()
                    except DeisctlError as exc:
                        answers[host] = exc
    rows = _rows(beats, answers, components, node.runtime)
    asked = [host for host, answer in answers.items() if isinstance(answer, dict)]
    for component in sorted(set(expected) - {row.component for row in rows}):
        where = f" and no {CONTAINER_PREFIX}{component} container on {first_few(asked)}" if asked else ""
        rows.append(StatusRow(component, None, None, None, f"no heartbeat in etcd{where}", True))
    rows.sort(key=lambda row: (row.component, row.node or ""))
    if not rows:
        layout = inv.settings.layout
        return Status(rows, int(ExitCode.FAILED), f"no component found: no heartbeat under {layout.prefix}/ and no "
                                                  f"{CONTAINER_PREFIX}* container on the context's nodes")
    down = [row.component if row.node is None else f"{row.component} on {row.node}" for row in rows if not row.ok]
    if down:
        return Status(rows, int(ExitCode.FAILED), f"down: {first_few(down)}")
    return Status(rows, int(ExitCode.OK), None)


def _rows(beats, answers: dict, components: Sequence[str], runtime: str) -> list:
    pairs = {(beat.component, beat.node): beat for beat in beats}
    for host, found in answers.items():
        if isinstance(found, dict):
            for component in found:
                if not components or component in components:
                    pairs.setdefault((component, host), None)
    publishing = {beat.component for beat in beats}
    rows = []
    for (component, host), beat in sorted(pairs.items()):
        answer = answers.get(host)
        publishes = component in publishing or _published_components(component)
        container = answer.get(component, Container("missing", "", 0, "")) if isinstance(answer, dict) else None
        problem = None
        if isinstance(answer, NotAsked):
            problem = answer.problem
        elif isinstance(answer, DeisctlError):
            problem = f"node does not answer: {answer.message}"
        elif container is not None and container.state != "running":
            problem = f"container {CONTAINER_PREFIX}{component} is {container.state}"
        elif beat is None and publishes:
            problem = "no heartbeat published"
        elif beat is not None and beat.lease and beat.left is None:
            problem = "heartbeat expired"
        rows.append(StatusRow(component, host, beat, container, problem, publishes))
    for host, answer in sorted(answers.items()):  # a node that did not answer, and that no row names yet
        if isinstance(answer, (DeisctlError, NotAsked)) and not any(row.node == host for row in rows):
            problem = answer.problem if isinstance(answer, NotAsked) else f"node does not answer: {answer.message}"
            rows.append(StatusRow(ANY_COMPONENT, host, None, None, problem, False))
    if runtime == "none":  # nothing to ask of a container runtime: the heartbeats say it all
        rows = [row._replace(container=None) for row in rows]
    return rows


# -- logs -----------------------------------------------------------------------------------------

class LogLine(NamedTuple):
    node: str
    stream: str  # "stdout" or "stderr": the container's own
    text: str  # one line, without its newline (bytes that are not UTF-8 replaced)


class NodeEnded(NamedTuple):
    node: str
    problem: Optional[str]  # None: the log ended (not following); else why the node's stream stopped


def _nodes_for(inv, node: NodeOptions, component: str, only: Optional[str]) -> list:
    if only:
        return [ssh_options.check_host(only, inv.name_of("only_node", flag="--node"))]
    with Reach(inv, node) as reach:
        reach.open()
        with open_store(inv, via=reach.tunnel) as store:
            beats = heartbeats(inv, store, [component])
    hosts = _valid_hosts(beats, sorted({beat.node for beat in beats}) or list(_nodes_of_context(inv)))
    if not hosts:
        layout = inv.settings.layout
        raise NotFoundError(f"no node runs the {component}: no heartbeat under {layout.component(component)} and "
                            "no nodes in the context", hint=f"pass {inv.option('only_node', 'HOST', flag='--node')}, or list the nodes in the context "
                                                            "(nodes: [...])")
    return hosts


class LogStream(NamedTuple):
    nodes: list  # the hosts read from
    events: Iterator  # LogLine and NodeEnded events (a generator: close it to stop)


def logs(inv, node: NodeOptions, component: str, *, only: Optional[str] = None, follow: bool = False,
         since: Optional[str] = None, tail: Optional[str] = None) -> LogStream:
    """The container's log on each of its nodes, as it comes: LogLine events (stdout and stderr
    kept apart), and a NodeEnded for each node when its log ends or its stream stops (a node that
    disappears is one event; the others go on). A generator: close it to stop (Ctrl-C)."""
    keyspec.validate_component(component)
    if tail is not None and not tail.isdigit():
        raise UsageError(f"{inv.name_of('tail')} takes a number of lines, got {tail!r}")
    if node.runtime == "none":
        raise UsageError(f"logs reads a container's log: {node.naming.setting('runtime', 'none')} has none", hint="use deisctl ssh NODE -- "
                                                                                       "journalctl ...")
    hosts = _nodes_for(inv, node, component, only)
    argv = [node.runtime, "logs", *(["--follow"] if follow else []), *(["--since", since] if since else []),
            *(["--tail", tail] if tail is not None else []), "--", CONTAINER_PREFIX + component]
    return LogStream(hosts, _log_events(inv, node, hosts, argv))


def _log_events(inv, node: NodeOptions, hosts: list, argv: list) -> Iterator:
    events: queue.Queue = queue.Queue()
    reach = Reach(inv, node)
    stop = threading.Event()

    def read(host: str) -> None:
        problem = None
        try:
            session = reach.connect(host)
            from deisctl.ssh.stream import lines

            for stream, text in lines(session, argv, stop):
                events.put(LogLine(host, stream, text))
        except DeisctlError as exc:
            problem = exc.message
        events.put(NodeEnded(host, problem))

    try:
        reach.open()
        threads = [threading.Thread(target=read, args=(host,), daemon=True) for host in hosts]
        for thread in threads:
            thread.start()
        running = len(threads)
        while running:
            event = events.get()
            if isinstance(event, NodeEnded):
                running -= 1
            yield event
    finally:
        stop.set()
        reach.close()


# -- restart --------------------------------------------------------------------------------------

class Restarted(NamedTuple):
    node: str
    outcome: str  # restarted, would-restart, failed, not-run (a rolling restart stopped before it)
    detail: str


@declares_outcome
class RestartResult(NamedTuple):
    component: str
    rows: list  # [Restarted], in the order done
    dry_run: bool
    exit_code: int
    error: Optional[str]


def restart(inv, node: NodeOptions, component: str, *, only: Optional[str] = None, rolling: bool = False,
            wait: Optional[str] = None, yes: bool = False, dry_run: bool = False) -> RestartResult:
    """Restart deis-COMPONENT on its nodes (all at once, or one at a time with rolling, stopping at
    the first that does not come back) and wait until each runs again and its heartbeat is
    published anew (for a component that publishes one). Asks first (inv.confirm) unless yes or
    dry_run; refused with nobody to ask. Each restart leaves an audit record (the node, the
    outcome)."""
    keyspec.validate_component(component)
    seconds = DEFAULT_WAIT if wait is None else _seconds(wait, inv.name_of("wait"))
    if node.runtime == "none":
        raise UsageError(f"restart restarts a container: {node.naming.setting('runtime', 'none')} has none")
    hosts = _nodes_for(inv, node, component, only)
    asking = not (yes or dry_run)
    if asking and inv.confirm is None:
        raise UsageError(f"restarting {CONTAINER_PREFIX}{component} on {first_few(hosts)}: confirm with "
                         f"{inv.option('yes')} (no terminal to ask on)", hint=f"pass {inv.option('yes')}")
    if asking and not inv.confirm(f"Restart {CONTAINER_PREFIX}{component} on {first_few(hosts)}"
                                  f"{' one node at a time' if rolling else ''}?"):
        raise UsageError("not confirmed; nothing was restarted")
    rows: list = []
    with Reach(inv, node) as reach:
        reach.open()
        if dry_run:
            rows = [Restarted(host, "would-restart", "") for host in hosts]
            return RestartResult(component, rows, True, int(ExitCode.OK), None)
        groups = [[host] for host in hosts] if rolling else [hosts]
        for index, group in enumerate(groups):
            with ThreadPoolExecutor(max_workers=len(group)) as pool:
                done = list(pool.map(lambda host: _restart_one(inv, reach, node, component, host, seconds), group))
            rows += done
            for row in done:
                _record(inv, reach, component, row)
            if any(row.outcome != "restarted" for row in done) and rolling:
                rows += [Restarted(host, "not-run", "a node before it did not come back") for g in groups[index + 1:]
                         for host in g]
                break
    failed = [row.node for row in rows if row.outcome == "failed"]
    if failed:
        return RestartResult(component, rows, False, int(ExitCode.FAILED),
                             f"{CONTAINER_PREFIX}{component} did not come back on {first_few(failed)}"
                             + (": the rolling restart stopped there" if rolling else ""))
    return RestartResult(component, rows, False, int(ExitCode.OK), None)


def _seconds(text: str, option: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise UsageError(f"{option} takes a positive number of seconds, got {text!r}")
    return value


def _restart_one(inv, reach: Reach, node: NodeOptions, component: str, host: str, seconds: float) -> Restarted:
    """Restart on one node, then wait for the container to run (started anew) and its heartbeat
    to be published anew."""
    deadline = time.monotonic() + seconds
    name = CONTAINER_PREFIX + component
    try:
        with open_store(inv, via=reach.tunnel) as store:
            before = {beat.node: beat for beat in heartbeats(inv, store, [component])}.get(host)
        session = reach.connect(host)
        started = _started_at(session, node, name)
        done = session.run([node.runtime, "restart", "--", name], timeout=max(1.0, deadline - time.monotonic()))
        if done.status != 0:
            return Restarted(host, "failed", f"{node.runtime} restart failed: {done.last_error_line()}")
        while True:  # the container running again, started after the restart
            state, now = _state(session, node, name)
            if state == "running" and now != started:
                break
            if time.monotonic() > deadline:
                return Restarted(host, "failed", f"the container is {state} {seconds:g}s after the restart")
            time.sleep(0.5)
        publishes = before is not None or _published_components(component)
        while publishes:  # its heartbeat published anew (a new lease, or written again)
            with open_store(inv, via=reach.tunnel) as store:
                beat = {beat.node: beat for beat in heartbeats(inv, store, [component])}.get(host)
            if beat is not None and (before is None or beat.revision > before.revision or beat.lease != before.lease):
                break
            if time.monotonic() > deadline:
                state, _ = _state(session, node, name)
                return Restarted(host, "failed", f"the container is {state}, but its heartbeat was not published "
                                                 f"anew within {seconds:g}s")
            time.sleep(0.5)
        return Restarted(host, "restarted", "running, heartbeat published anew" if publishes else "running")
    except DeisctlError as exc:
        return Restarted(host, "failed", exc.message)


def _state(session, node: NodeOptions, name: str) -> tuple[str, str]:
    done = session.run([node.runtime, "inspect", "--format", "{{.State.Status}} {{.State.StartedAt}}", "--", name],
                       timeout=node.ssh.timeout)
    if done.status != 0:
        raise DeisctlError(f"{node.runtime} inspect failed: {done.last_error_line()}")
    state, _, started = done.stdout.decode("utf-8", "replace").strip().partition(" ")
    return state, started


def _started_at(session, node: NodeOptions, name: str) -> str:
    return _state(session, node, name)[1]


def _record(inv, reach: Reach, component: str, row: Restarted) -> None:
    """The restart's audit record: who, why (the reason), which node, the outcome."""
    if not inv.settings.audit:
        return
    try:
        reach.record([(inv.settings.layout.key(component, f"restart/{row.node}"), row.outcome)])
    except DeisctlError as exc:
        inv.warn(f"the restart on {row.node} ({row.outcome}) has no audit record: {exc.message}")


# -- ssh -------------------------------------------------------------------------------------------

@declares_outcome
class SSHResult(NamedTuple):
    host: str
    exit_code: int  # the remote command's (or shell's) exit status


LOGIN_SHELL = ("sh", "-c", 'exec "${SHELL:-/bin/sh}" -l')  # no CMD: the user's login shell on the node


def ssh(inv, node: NodeOptions, target: str, command: Sequence[str]) -> SSHResult:
    """CMD (default: a login shell) on the node of a component (its heartbeat; the first node when
    several publish one) or on the host named, with deisctl's host-key policy and node options;
    streams attached, a pty on a terminal. dock is the way into the container."""
    from deisctl.ssh.stream import stream

    with Reach(inv, node) as reach:
        reach.open()
        host = None
        if keyspec.COMPONENT_RE.match(target) and "." not in target:
            with open_store(inv, via=reach.tunnel) as store:
                beats = heartbeats(inv, store, [target])
            if beats:
                host = _valid_hosts(beats, [beats[0].node])[0]
        host = host or ssh_options.check_host(target, "HOST")
        session = reach.connect(host)
        status = stream(session, list(command or LOGIN_SHELL), stdin=inv.stdin, stdout=inv.stdout, stderr=inv.stderr,
                        pty=inv.pty, timeout=node.remote_timeout, term=inv.env.get("TERM") or "xterm")
    return SSHResult(host, status)
