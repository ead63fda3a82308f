#!/usr/bin/python
# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: user
short_description: A Deis controller user's administrator flag and API token
description:
  - Changes a user of the Deis controller from inside its container over SSH, as deisctl's
    C(users promote|demote|revoke-token) do (the operations page's C(docker exec ... manage.py
    shell)), with one SSH connection and one Django transaction per change, committed only when
    deisctl confirms it.
  - The node is C(host), else the controller's heartbeat key in etcd; its host key is verified
    against I(known_hosts) (deisctl's policy).
version_added: 0.1.0
author: deisctl developers (@deis)
extends_documentation_fragment:
  - deis.deisctl.connection
  - deis.deisctl.connection.node
options:
  name:
    description: The username.
    type: str
    required: true
  admin:
    description: C(true) makes the user an administrator (is_superuser and is_staff), C(false) a normal user.
    type: bool
  force:
    description: With I(admin=false), demote even the last active administrator.
    type: bool
    default: false
  token:
    description: C(revoked) deletes the user's API token (changed only when the user had one).
    type: str
    choices: [revoked]
notes:
  - Check mode connects and reports what would change, changing nothing.
"""

EXAMPLES = r"""
- name: Bob's token was leaked
  deis.deisctl.user:
    context: production
    name: bob
    token: revoked
    known_hosts: ~/.ssh/known_hosts_deis

- name: John administers the platform
  deis.deisctl.user:
    context: production
    name: john
    admin: true
"""

RETURN = r"""
results:
  description: deisctl's rows for each change asked for (C(user), C(result), C(changed)).
  returned: success
  type: list
  elements: dict
  sample: [{"user": "bob", "result": "revoked", "changed": true}]
rc:
  description: deisctl's exit code on failure (3 no such user, 4 node unreachable, 5 host key refused).
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
            admin=dict(type="bool"),
            force=dict(type="bool", default=False),
            token=dict(type="str", choices=["revoked"]),
        )),
        required_one_of=[("admin", "token")],
        supports_check_mode=True,
    )
    require_deisctl(module)
    params, messages, rows = module.params, [], []
    try:
        deis = client(module, messages, node=True)
        dry_run = module.check_mode
        if params["admin"] is True:
            rows += deis.promote([params["name"]], dry_run=dry_run).users
        elif params["admin"] is False:
            rows += deis.demote([params["name"]], dry_run=dry_run, force=params["force"]).users
        if params["token"] == "revoked":
            rows += deis.revoke_token([params["name"]], dry_run=dry_run).users
    except api.DeisctlError as error:
        # What a first change did is kept when a second one fails.
        fail(module, error, messages, changed=any(row["changed"] for row in rows), results=rows)
    would = any(row["result"].startswith("would-") for row in rows)
    finish(module, messages, changed=any(row["changed"] for row in rows) or would, results=rows)


if __name__ == "__main__":
    main()
