"""Views of `status`, `restart` and the lines of `logs`."""

from __future__ import annotations

from deisctl.output import View, escape, table


def _heartbeat(row) -> str:
    beat = row.heartbeat
    if beat is None:
        return "missing" if row.publishes else "-"
    where = f"{beat.node}:{beat.port}" if beat.port else beat.node
    if not beat.lease:
        return f"{where} (no lease)"
    return f"{where} ({beat.left}s left)" if beat.left is not None else f"{where} (expired)"


def status(result) -> View:
    """COMPONENT NODE HEARTBEAT CONTAINER SINCE RESTARTS IMAGE, and a PROBLEM column when a row is
    down; JSON: [{component, node, ok, problem, heartbeat, container}]."""
    rows = result.rows
    data = [{"component": row.component, "node": row.node, "ok": row.ok, "problem": row.problem,
             "heartbeat": None if row.heartbeat is None else {
                 "port": row.heartbeat.port, "ttl_left": row.heartbeat.left, "lease": row.heartbeat.lease or None,
                 "revision": row.heartbeat.revision},
             "container": None if row.container is None else row.container._asdict()} for row in rows]

    def lines():
        if not rows:
            return []  # the error line says that nothing was found
        head = ("COMPONENT", "NODE", "HEARTBEAT", "CONTAINER", "SINCE", "RESTARTS", "IMAGE", "PROBLEM")
        body = [(row.component, row.node or "-", _heartbeat(row),
                 row.container.state if row.container else "-" if row.node is None else "?", row.container.since if row.container else "",
                 str(row.container.restarts) if row.container else "", row.container.image if row.container else "",
                 row.problem or "") for row in rows]
        if all(row.ok for row in rows):
            head, body = head[:-1], [line[:-1] for line in body]
        return table([head] + body)

    return View(data, lines)


_OUTCOME = {"restarted": "restarted", "would-restart": "would be restarted (dry run)", "failed": "did not come back",
            "not-run": "not restarted"}


def restarted(result) -> View:
    """`NODE: restarted (detail)` lines; JSON {component, dry_run, ok, nodes: [{node, outcome, detail}]}."""
    data = {"component": result.component, "dry_run": result.dry_run, "ok": result.exit_code == 0,
            "nodes": [row._asdict() for row in result.rows]}
    return View(data, lambda: [f"{row.node}: {_OUTCOME.get(row.outcome, row.outcome)}"
                               + (f" ({row.detail})" if row.detail else "") for row in result.rows])


def log_line(event, prefixed: bool) -> str:
    """One line of a container's log as shown: escaped (a node's bytes never drive the terminal),
    prefixed with its node when several are read."""
    return (f"{event.node}: " if prefixed else "") + escape(event.text)
