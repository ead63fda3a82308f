# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)
"""The options of every module that reaches etcd (deisctl's global options)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  endpoints:
    description:
      - etcd client URLs of one cluster, as deisctl's C(--endpoints).
      - Nothing is read from C(DEISCTL_*) variables; without I(endpoints) or I(context), deisctl's
        default C(http://127.0.0.1:2379).
    type: list
    elements: str
  prefix:
    description: The root of the Deis keys in etcd (deisctl's default C(/deis)).
    type: str
  cacert:
    description: CA certificate that verifies the etcd servers (https endpoints).
    type: path
  cert:
    description: Client certificate for etcd.
    type: path
  key:
    description: Private key of I(cert).
    type: path
  user:
    description: etcd user name (needs https endpoints).
    type: str
  password:
    description: Password of I(user).
    type: str
  context:
    description:
      - A context of deisctl's config file (C(~/.config/deisctl/config.yaml) of the user running
        the module, or I(config_file)) filling in what is not given here.
    type: str
  config_file:
    description: deisctl's config file, for I(context).
    type: path
  tunnel:
    description: C(USER@BASTION[:PORT]) to reach etcd through an SSH bastion.
    type: str
  dial_timeout:
    description: Seconds to connect to etcd (deisctl's default 2).
    type: float
  command_timeout:
    description: Seconds for each etcd request (deisctl's default 5).
    type: float
  reason:
    description:
      - Why, for the audit record deisctl writes with each change (the record's command says
        which module wrote it).
      - By default the play's and the task's names, as the collection's action plugin passes them.
    type: str
requirements:
  - deisctl (its Python API, C(deisctl.api)) in the Python that runs the module
"""

    NODE = r"""
options:
  host:
    description: The controller's node; by default read from the controller's heartbeat key in etcd.
    type: str
  ssh_user:
    description: SSH user on the node (deisctl's default C(core)).
    type: str
  ssh_port:
    description: SSH port of the node (default 22).
    type: int
  ssh_key:
    description: Private key file for SSH.
    type: path
  known_hosts:
    description: known_hosts file that verifies the node's host key.
    type: path
  strict_host_key_checking:
    description: C(yes) refuses unknown host keys; C(accept-new) records a new one.
    type: str
    choices: ["yes", accept-new]
  ssh_timeout:
    description: Seconds for each SSH step (deisctl's default 10).
    type: float
  remote_timeout:
    description: Seconds for the controller's Django process (deisctl's default 120).
    type: float
  runtime:
    description: How the controller runs on the node.
    type: str
    choices: [docker, podman, none]
  container:
    description: The controller's container (deisctl's default C(deis-controller)).
    type: str
  app_dir:
    description: Directory of the controller's C(manage.py).
    type: path
  python:
    description: Python on the node or in the container (default C(python)).
    type: str
"""
