#!/usr/bin/python
# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: user
short_description: A Deis controller user, its password, administrator flag and API token
description:
  - Changes a user of the Deis controller from inside its container over SSH, as deisctl's
    C(users create|set-password|delete|promote|demote|revoke-token) do (the operations page's
    C(docker exec ... manage.py shell)), with one SSH connection and one Django transaction per
    change, committed only when deisctl confirms it. Works on every controller Deis shipped
    (Python 2.7, Django 1.6) and on today's Django.
  - The password travels to the controller on the SSH channel's standard input, never in a
    command line, and appears in no output or audit record.
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
  state:
    description:
      - C(present) creates the user when it does not exist (I(password) needed then); C(absent)
        deletes it when it exists (never the last active administrator, nor a user who owns apps).
      - Unset, the user must exist, and only I(admin), I(token) and I(password) apply.
    type: str
    choices: [present, absent]
  password:
    description:
      - The user's password, checked by the controller's own password validators where its Django
        has them; from a vault variable, say.
      - Used to create the user; an existing user's password is set only with I(update_password=always)
        (a password cannot be compared without sending it, so that reports changed on every run).
    type: str
  update_password:
    description: C(always) sets I(password) on an existing user; C(on_create) only when it is created.
    type: str
    choices: [always, on_create]
    default: on_create
  email:
    description: The e-mail address of a user created here.
    type: str
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

- name: Carol has an account
  deis.deisctl.user:
    context: production
    name: carol
    state: present
    password: "{{ vault_carol_password }}"
    email: carol@example.com

- name: Dave left
  deis.deisctl.user:
    context: production
    name: dave
    state: absent

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
            state=dict(type="str", choices=["present", "absent"]),
            password=dict(type="str", no_log=True),
            update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
            email=dict(type="str"),
            admin=dict(type="bool"),
            force=dict(type="bool", default=False),
            token=dict(type="str", choices=["revoked"]),
        )),
        required_one_of=[("state", "admin", "token", "password")],
        mutually_exclusive=[("state", "force")],
        supports_check_mode=True,
    )
    require_deisctl(module)
    params, messages, rows = module.params, [], []
    name, dry_run = params["name"], module.check_mode
    try:
        deis = client(module, messages, node=True)
        created = False
        if params["state"] is not None:
            exists = name in [row["username"] for row in deis.users().users]
            if params["state"] == "absent":
                if exists:
                    rows += deis.delete_users([name], yes=True, dry_run=dry_run).users
                finish(module, messages, changed=bool(rows), results=rows)
            if not exists:
                if not params["password"]:
                    module.fail_json(msg="state=present creates %s: a password is needed" % name, rc=2, changed=False)
                rows += deis.create_user(name, params["password"], admin=bool(params["admin"]), email=params["email"],
                                         dry_run=dry_run).users
                created = True
        if params["password"] and not created and (params["state"] is None or params["update_password"] == "always"):
            rows += deis.set_password(name, params["password"], dry_run=dry_run).users
        if params["admin"] is True and not created:
            rows += deis.promote([name], dry_run=dry_run).users
        elif params["admin"] is False and not created:
            rows += deis.demote([name], dry_run=dry_run, force=params["force"]).users
        if params["token"] == "revoked" and not (created and dry_run):  # a new Deis user gets a token at once
            rows += deis.revoke_token([name], dry_run=dry_run).users
    except api.DeisctlError as error:
        # What a first change did is kept when a second one fails.
        fail(module, error, messages, changed=any(row["changed"] for row in rows), results=rows)
    would = any(row["result"].startswith("would-") for row in rows)
    finish(module, messages, changed=any(row["changed"] for row in rows) or would, results=rows)


if __name__ == "__main__":
    main()
