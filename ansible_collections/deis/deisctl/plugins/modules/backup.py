#!/usr/bin/python
# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: backup
short_description: Back up a Deis cluster into one verified archive, or verify an archive
description:
  - As deisctl's C(backup -f FILE) - every key under the prefix at one revision, the audit trail,
    and with I(controller) the controller's users, tokens and apps, dumped by the controller over
    SSH - into one ZIP archive with a manifest (counts and sha256 of each section), written
    atomically with mode 0600 on the host that runs the module.
  - With I(state=verified), as C(backup verify FILE) - structure, checksums, counts and, with a
    passphrase, decryption; fails naming the first damaged part.
  - Restoring is left to a person (C(deisctl restore FILE), its C(--dry-run) read first).
version_added: 0.1.0
author: deisctl developers (@deis)
extends_documentation_fragment:
  - deis.deisctl.connection
  - deis.deisctl.connection.node
options:
  path:
    description: The archive (on the host that runs the module).
    type: path
    required: true
  state:
    description: C(present) writes a new archive (every run of the task does); C(verified) checks one.
    type: str
    choices: [present, verified]
    default: present
  controller:
    description: Also the controller's data (C(state=present)).
    type: bool
    default: false
  passphrase:
    description:
      - Encrypts the secret values and the controller's data (C(state=present)); decrypts them to
        verify (C(state=verified)). From a vault variable, say.
    type: str
notes:
  - Check mode writes nothing; C(state=verified) reads the archive all the same.
"""

EXAMPLES = r"""
- name: The nightly backup
  deis.deisctl.backup:
    context: production
    path: "/backups/deis-{{ ansible_date_time.date }}.zip"
    controller: true
    passphrase: "{{ vault_backup_passphrase }}"

- name: The archive is whole
  deis.deisctl.backup:
    path: "/backups/deis-{{ ansible_date_time.date }}.zip"
    state: verified
    passphrase: "{{ vault_backup_passphrase }}"
"""

RETURN = r"""
counts:
  description: Entries per section (keys, audit, controller).
  returned: success
  type: dict
revision:
  description: The etcd revision the keys were read at.
  returned: with I(state=present), not in check mode
  type: int
rc:
  description: deisctl's exit code on failure (1 damaged archive, 2 usage, 4 unreachable).
  returned: on failure
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deis.deisctl.plugins.module_utils.deisctl_api import (
    NODE_ARGS, api, argument_spec, client, fail, finish, require_deisctl)


def run(module, deis):
    """The result of the task (a damaged archive fails it)."""
    params = module.params
    if params["state"] == "verified":
        checked = deis.verify_backup(params["path"], passphrase=params["passphrase"])
        if checked.problem:
            module.fail_json(msg=checked.problem, rc=checked.exit_code, changed=False, counts=checked.counts)
        return dict(changed=False, counts=checked.counts)
    if module.check_mode:
        return dict(changed=True, counts={})
    made = deis.backup(params["path"], controller=params["controller"], passphrase=params["passphrase"])
    return dict(changed=True, counts=made.counts, revision=made.revision)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(NODE_ARGS, dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "verified"], default="present"),
            controller=dict(type="bool", default=False),
            passphrase=dict(type="str", no_log=True),
        )),
        supports_check_mode=True,
    )
    require_deisctl(module)
    messages = []
    try:
        result = run(module, client(module, messages, node=module.params["controller"]))
    except api.DeisctlError as error:
        fail(module, error, messages)
    finish(module, messages, **result)


if __name__ == "__main__":
    main()
