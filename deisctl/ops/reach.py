"""Getting to a node: what one command opens to reach it (the bastion tunnel, etcd for the
node's address, the SSH session), closed together, from the node options its door resolved
(deisctl.node). Nothing here imports paramiko; the ssh modules do when something is dialled.
"""

from __future__ import annotations

from deisctl.errors import DeisctlError, NotFoundError, first_few
from deisctl.node import NodeOptions
from deisctl.ssh import options as ssh_options


def missing_container(session, node: NodeOptions) -> NotFoundError:
    """The container the command ran in does not exist on the node: said so, with the name meant
    when one of the node's running containers is close (`deis-controler`), else what runs there."""
    from deisctl.typos import closest

    names: list[str] = []
    try:
        listed = session.run([node.runtime, "ps", "--format", "{{.Names}}"], timeout=node.ssh.timeout)
        if listed.status == 0:
            names = listed.stdout.decode("utf-8", "replace").split()
    except DeisctlError:
        pass  # the refusal is the news; the list only helps
    meant = closest(node.container, names)
    message = f"{session.label}: no container named {node.container!r}"
    if meant:
        return NotFoundError(f"{message}; did you mean {meant!r}?", hint=node.naming.give("container", meant))
    return NotFoundError(message, hint=f"running there: {first_few(names)}" if names else
                         f"no container is running there ({node.runtime} ps)")


def is_missing_container(text: str) -> bool:
    """docker's `No such container: X` (inspect: `No such object: X`), podman's `no such container`."""
    text = text.lower()
    return "no such container" in text or "no such object" in text


class Reach:
    """What one command opens to get to a node: the bastion tunnel (with --tunnel), etcd for the
    node's address when --host is absent, and the SSH session to the node. Closed together,
    except a tunnel handed in, which its opener closes."""

    def __init__(self, inv, node: NodeOptions, tunnel=None):
        self.inv, self.node = inv, node
        self.tunnel, self._own_tunnel = tunnel, tunnel is None
        self._sessions: list = []

    def __enter__(self) -> "Reach":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions = []
        if self.tunnel is not None and self._own_tunnel:
            self.tunnel.close()
        self.tunnel = None

    def _open_tunnel(self):
        from deisctl.ops.access import open_tunnel

        if self.tunnel is None:
            self.tunnel = open_tunnel(self.inv, self.node.ssh)
        return self.tunnel

    def open(self) -> "Reach":
        """Open the bastion tunnel now (with --tunnel), before threads share the Reach."""
        self._open_tunnel()
        return self

    def record(self, changes) -> int:
        """An audit record of changes made on a node (deisctl.etcd.audit), through the same tunnel."""
        from deisctl.etcd import audit
        from deisctl.ops.access import open_store

        with open_store(self.inv, via=self._open_tunnel()) as store:
            return audit.record_only(store, changes)

    def host_of(self, component: str) -> str:
        """--host, else (for the controller) the context's controller_host, else the component's
        heartbeat key <prefix>/<component>/host in etcd."""
        if self.node.host:
            return ssh_options.check_host(self.node.host, self.node.naming.of("host"))
        if component == "controller" and self.node.controller_host:
            return ssh_options.check_host(self.node.controller_host, "the context's controller_host")
        from deisctl.ops.access import open_store  # gRPC: only when etcd is needed

        key = self.inv.settings.layout.key(component, "host")
        with open_store(self.inv, via=self._open_tunnel()) as store:
            found = store.get(key)
        if found is None or not found.text.strip():
            raise NotFoundError(f"no address for the {component}: {key} is not set in etcd "
                                "(the heartbeat key expires when the component stops)",
                                hint=f"{self.node.ssh.naming.give('host', 'HOST')} or set DEISCTL_HOST")
        return ssh_options.check_host(found.text, key)

    def connect(self, host: str):
        """An SSH session to host (through the bastion with --tunnel), closed with the Reach."""
        from deisctl.ssh import paramiko_loader

        if self.inv.sessions is not None:
            connect = self.inv.sessions
        else:
            from deisctl.ssh.connect import connect
        paramiko_loader.set_debug(self.inv.stderr if self.inv.debug else None)
        tunnel = self._open_tunnel()
        session = connect(host, self.node.ssh, via=tunnel.session if tunnel else None, note=self.inv.note,
                          passphrase_prompt=self.inv.password_prompt())
        self._sessions.append(session)
        return session
