#!/usr/bin/python
# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: component
short_description: Restart a Deis component's containers and wait for them to come back
description:
  - As deisctl's C(restart) - restarts the container C(deis-NAME) on the nodes that run the
    component (those its heartbeat in etcd names), over SSH, and waits until each runs again and
    its heartbeat is published anew; fails naming the nodes where it did not come back.
  - Each restart is recorded in deisctl's audit trail (the node and the outcome).
version_added: 0.1.0
author: deisctl developers (@deis)
extends_documentation_fragment:
  - deis.deisctl.connection
  - deis.deisctl.connection.node
options:
  name:
    description: The component (C(controller), C(router), ...).
    type: str
    required: true
  state:
    description: C(restarted) restarts it (every run of the task does).
    type: str
    choices: [restarted]
    required: true
  node:
    description: Only on this node. By default every node the component runs on.
    type: str
  rolling:
    description: One node at a time, stopping at the first that does not come back (routers).
    type: bool
    default: false
  wait:
    description: Seconds allowed for each node to come back (deisctl's default 60).
    type: float
notes:
  - Check mode says on which nodes it would restart, restarting nothing.
"""

EXAMPLES = r"""
- name: A rolling restart of the routers
  deis.deisctl.component:
    context: production
    name: router
    state: restarted
    rolling: true
    wait: 120
"""

RETURN = r"""
nodes:
  description: Each node, C(node), C(outcome) (restarted, would-restart, failed, not-run) and C(detail).
  returned: always
  type: list
  elements: dict
rc:
  description: deisctl's exit code on failure (1 did not come back, 3 no node runs it, 4 unreachable, 5 host key refused).
  returned: on failure
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deis.deisctl.plugins.module_utils.deisctl_api import (
    NODE_ARGS, api, argument_spec, client, fail, finish, require_deisctl)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(NODE_ARGS, dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["restarted"], required=True),
            node=dict(type="str"),
            rolling=dict(type="bool", default=False),
            wait=dict(type="float"),
        )),
        supports_check_mode=True,
    )
    require_deisctl(module)
    params, messages = module.params, []
    try:
        deis = client(module, messages, node=True)
        result = deis.restart(params["name"], only_node=params["node"], rolling=params["rolling"],
                              wait=params["wait"], yes=True, dry_run=module.check_mode)
    except api.DeisctlError as error:
        fail(module, error, messages)
    nodes = [row._asdict() for row in result.rows]
    changed = any(row.outcome in ("restarted", "would-restart", "failed") for row in result.rows)
    if result.exit_code:
        module.fail_json(msg=result.error, rc=result.exit_code, changed=changed, nodes=nodes, messages=messages)
    finish(module, messages, changed=changed, nodes=nodes)


if __name__ == "__main__":
    main()
