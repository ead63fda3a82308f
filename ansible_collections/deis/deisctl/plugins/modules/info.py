#!/usr/bin/python
# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: info
short_description: Read a Deis cluster's settings, registration and health
description:
  - Read only, and so the same in check mode. The settings of the components (secrets masked),
    the controller's registration mode, and the smoke checks of deisctl's C(check).
version_added: 0.1.0
author: deisctl developers (@deis)
extends_documentation_fragment:
  - deis.deisctl.connection
  - deis.deisctl.connection.node
options:
  components:
    description: The components whose settings to read; all when empty.
    type: list
    elements: str
    default: []
  include_published:
    description: Also the keys components publish about the cluster (C(*/host), C(*/port)).
    type: bool
    default: false
  check:
    description: Run the smoke checks (endpoints, leader, alarms, platform domain, controller heartbeat).
    type: bool
    default: true
  controller:
    description: The checks also SSH to the controller's node and look at its container.
    type: bool
    default: false
  status:
    description:
      - The platform's status, as deisctl's C(status) gives it - each component on each node, its
        heartbeat and its container (over SSH to every node, with the node options).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: What the cluster holds
  deis.deisctl.info:
    context: production
    components: [controller, platform]
  register: deis

- name: Fail the play on an unhealthy cluster
  ansible.builtin.assert:
    that: deis.healthy
"""

RETURN = r"""
settings:
  description: "C({component: {key: value}}), secrets masked."
  returned: success
  type: dict
registration:
  description: C(mode) (Deis 1.6 and later) and C(legacy) (earlier Deis).
  returned: success
  type: dict
checks:
  description: Each check, C(check), C(ok), C(detail).
  returned: when I(check)
  type: list
  elements: dict
healthy:
  description: Every check passed.
  returned: when I(check)
  type: bool
status:
  description:
    - Each component on each node, C(component), C(node), C(ok), C(problem), C(heartbeat), C(container).
    - C(node) is null for a component the cluster has keys of that was found on no node (no heartbeat, no container).
  returned: when I(status)
  type: list
  elements: dict
platform_up:
  description: Every component that should run does (false when none was found at all).
  returned: when I(status)
  type: bool
rc:
  description: deisctl's exit code on failure.
  returned: on failure
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deis.deisctl.plugins.module_utils.deisctl_api import (
    NODE_ARGS, api, argument_spec, client, fail, finish, require_deisctl)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(NODE_ARGS, dict(
            components=dict(type="list", elements="str", default=[]),
            include_published=dict(type="bool", default=False),
            check=dict(type="bool", default=True),
            controller=dict(type="bool", default=False),
            status=dict(type="bool", default=False),
        )),
        supports_check_mode=True,
    )
    require_deisctl(module)
    params, messages = module.params, []
    try:
        deis = client(module, messages, node=True)
        exported = deis.export(params["components"], include_published=params["include_published"])
        registration = deis.registration()
        result = dict(changed=False, settings=exported.document,
                      registration=dict(mode=registration.mode, legacy=registration.legacy))
        if params["check"]:
            checked = deis.check(controller=params["controller"])
            result["checks"] = api.check_rows(checked)  # check -o json's rows
            result["healthy"] = checked.exit_code == 0
        if params["status"]:
            platform = deis.status()
            result["status"] = api.status_rows(platform)  # status -o json's rows
            result["platform_up"] = platform.exit_code == 0
    except api.DeisctlError as error:
        fail(module, error, messages)
    finish(module, messages, **result)


if __name__ == "__main__":
    main()
