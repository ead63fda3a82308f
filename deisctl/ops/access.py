"""How operations reach the cluster: the one etcd client factory (open_store), and the --tunnel
bastion that carries etcd and the SSH connections to the nodes (open_tunnel)."""

from __future__ import annotations


def open_store(inv, via=None, *, ssh=None):
    """A Store for inv.settings, made by inv.stores (default: deisctl.etcd.client.Store).

    `via`: an already open tunnel to share, left open at close. Without one, --tunnel opens a
    tunnel (logged in with `ssh`, see open_tunnel) that the Store closes; a bad endpoint is
    refused before the bastion is dialled."""
    if inv.stores is not None:
        factory = inv.stores
    else:
        from deisctl.etcd.client import Store as factory  # imports gRPC: only for commands that talk to etcd
    if via is not None or not inv.settings.tunnel:
        return factory(inv.settings, via=via)
    from deisctl.etcd.endpoints import parse_endpoints

    parse_endpoints(inv.settings)
    tunnel = open_tunnel(inv, ssh)
    try:
        return factory(inv.settings, via=tunnel, on_close=tunnel.close)
    except BaseException:
        tunnel.close()
        raise


def open_tunnel(inv, ssh=None):
    """The --tunnel bastion, logged in; None without --tunnel. ssh: the login to use (that of the
    SSH flags, for users/dock/check); by default DEISCTL_SSH_* > context > default, for commands
    without SSH flags (config, registration). The tunnel has .close(),
    .local_address(host, port) and .failure(host, port)."""
    if not inv.settings.tunnel:
        return None
    from deisctl.ssh import options as ssh_options
    from deisctl.ssh import paramiko_loader, tunnel  # paramiko: only when a tunnel is asked for

    if ssh is None:
        ssh = ssh_options.bastion_options(inv.env, inv.settings.context_values)
    paramiko_loader.set_debug(inv.stderr if inv.debug else None)
    return tunnel.open_tunnel(inv.settings.tunnel, ssh, note=inv.note, passphrase_prompt=inv.password_prompt())
