#!/usr/bin/python
# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: registration
short_description: Open or close user registration on a Deis controller
description:
  - Sets the controller's registration mode through both keys that Deis reads,
    C(controller/registrationMode) (Deis 1.6 and later) and C(controller/registrationEnabled)
    (earlier Deis), in one etcd transaction, and only when they differ (deisctl's
    C(registration enable|disable|admin-only)).
version_added: 0.1.0
author: deisctl developers (@deis)
extends_documentation_fragment:
  - deis.deisctl.connection
options:
  mode:
    description: C(enabled) lets anyone register; C(disabled) nobody; C(admin_only) administrators only.
    type: str
    required: true
    choices: [enabled, disabled, admin_only]
notes:
  - Check mode writes nothing and reports whether a key would change; diff mode shows both keys before and after.
"""

EXAMPLES = r"""
- name: Only administrators may create users
  deis.deisctl.registration:
    context: production
    mode: admin_only
"""

RETURN = r"""
mode:
  description: The mode Deis 1.6 and later apply after the change (as stored, or its default C(enabled)).
  returned: success
  type: str
  sample: admin_only
legacy:
  description: What Deis before 1.6 applies, C(enabled) or C(disabled).
  returned: success
  type: str
rc:
  description: deisctl's exit code on failure.
  returned: on failure
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deis.deisctl.plugins.module_utils.deisctl_api import (
    api, argument_spec, client, fail, finish, require_deisctl)


def _keys(state):
    return "registrationEnabled: %s\nregistrationMode: %s\n" % (state.legacy_value, state.mode_value)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(dict(mode=dict(type="str", required=True,
                                                   choices=["enabled", "disabled", "admin_only"]))),
        supports_check_mode=True,
    )
    require_deisctl(module)
    messages = []
    try:
        deis = client(module, messages)
        before = deis.registration()
        after = deis.set_registration(module.params["mode"], dry_run=module.check_mode)
    except api.DeisctlError as error:
        fail(module, error, messages)
    result = dict(changed=bool(after.changed), mode=module.params["mode"], legacy=after.legacy)
    if module._diff:
        result["diff"] = dict(before=_keys(before), after=_keys(after))
    finish(module, messages, **result)


if __name__ == "__main__":
    main()
