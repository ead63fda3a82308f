"""SSH to the nodes and the bastion, one concern a module:

- paramiko_loader: paramiko imported on first use, kept quiet; debug logging on request
- options: SSHOptions, their defaults and checks, and the one precedence rule of every
  node option (flag > DEISCTL_<NAME> > context > default)
- known_hosts: known_hosts files and the host-key policy
- connect: dial, handshake, verify the host key, log in
- session: an authenticated connection; run a command and collect its output
- stream: a command with local streams attached (`deisctl dock`)
- tunnel: the `--tunnel` bastion: forwarded ports for etcd, channels to the nodes

Nothing here imports paramiko at module level: `deisctl config ...` must start without it.
Every failure is a DeisctlError of deisctl.errors: cannot connect 4, host key or login refused 5,
remote failure 1.
"""
