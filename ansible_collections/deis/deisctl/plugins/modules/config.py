#!/usr/bin/python
# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: config
short_description: Make a Deis cluster's settings in etcd match a settings document
description:
  - The settings of one or more components (C(/deis/COMPONENT/KEY) in etcd), made to match
    I(settings) or the document I(src), writing only the keys that differ, each guarded by the
    revision it was read at (deisctl's C(config apply)); or the named keys deleted
    (I(state=absent), deisctl's C(config COMPONENT rm)).
  - Secret values are masked in every return value and in the diff, and kept out of the
    module's output at any verbosity; other values stay readable.
  - Uses deisctl's Python API; no deisctl command is run.
version_added: 0.1.0
author: deisctl developers (@deis)
extends_documentation_fragment:
  - deis.deisctl.connection
options:
  settings:
    description:
      - "The settings document as a mapping, C({component: {key: value}}); values are strings
        (numbers and booleans are written as text), or the references C({file: PATH}) and
        C({env: NAME}) (a variable of the environment the module runs in), resolved as deisctl
        resolves them."
      - With I(state=absent), the keys to delete (their values are ignored).
      - One of I(settings) and I(src) is required.
    type: dict
  src:
    description: A settings document file (YAML or JSON), as C(deisctl config apply -f) reads it.
    type: path
  state:
    description: C(present) writes the settings; C(absent) deletes the keys named in I(settings).
    type: str
    choices: [present, absent]
    default: present
  prune:
    description:
      - Also delete the keys of the listed components that the document omits. Keys a component
        publishes about this cluster (such as C(*/host), C(*/port)) and secrets are kept, as by
        the CLI, unless named in I(write_published) or I(delete_protected).
    type: bool
    default: false
  delete_protected:
    description: C(COMPONENT/KEY) of secrets that I(prune) may delete.
    type: list
    elements: str
    default: []
  write_published:
    description: C(COMPONENT/KEY) of published keys the document may change or delete.
    type: list
    elements: str
    default: []
  keep_masked:
    description: Accept masked secrets (C(********)) in the document and keep etcd's value for them.
    type: bool
    default: false
  new_component:
    description: Allow components that neither the schema nor etcd knows (deisctl's C(--new-component)).
    type: bool
    default: false
  new_key:
    description: Allow keys that look like typos of known ones (deisctl's C(--new-key)).
    type: bool
    default: false
  strict:
    description: Refuse keys that the schema does not know.
    type: bool
    default: false
  conflict_retries:
    description:
      - How many times to try again when someone changed a key between the read and the write
        (deisctl's exit 6; nothing was written). The document is compared afresh each time.
    type: int
    default: 3
  conflict_delay:
    description: Seconds between those tries.
    type: float
    default: 1.0
notes:
  - Check mode writes nothing and reports what would change; diff mode returns C(before) and
    C(after) listings of the keys that change, one C(component/key) and its value a line, secrets masked.
  - A change of several keys is written in one etcd transaction when it fits in one; a larger one
    that stops part way fails with C(rc=8), C(changed=true), and says exactly what was written
    (C(changes)) and what was not (C(not_written)). Running it again converges.
"""

EXAMPLES = r"""
- name: Close registration and size the controller
  deis.deisctl.config:
    endpoints: ["https://etcd-1.example.com:2379"]
    cacert: /etc/deis/etcd-ca.pem
    settings:
      controller:
        registrationMode: admin_only
        workers: 4
      platform:
        domain: apps.example.com

- name: The settings kept in git, with keys it omits deleted
  deis.deisctl.config:
    context: production
    src: deis-settings.yaml
    prune: true

- name: A secret from the environment of the Ansible controller (never printed)
  deis.deisctl.config:
    context: production
    settings:
      builder:
        secretKey: {env: BUILDER_SECRET}

- name: Remove a key
  deis.deisctl.config:
    context: production
    state: absent
    settings:
      controller:
        oldSetting: ""
"""

RETURN = r"""
changes:
  description: Each key changed (or that would be, in check mode); secrets masked.
  returned: always
  type: list
  elements: dict
  sample: [{"key": "controller/workers", "action": "changed", "old": "2", "new": "4"}]
kept:
  description: Published keys the document would change but that were kept (see I(write_published)).
  returned: when any
  type: list
  elements: dict
not_written:
  description: After a stop part way (C(rc=8)), the changes that were not written.
  returned: on a partial apply
  type: list
  elements: dict
revision:
  description: etcd's revision after the write; 0 when nothing was written.
  returned: with I(state=present)
  type: int
rc:
  description: deisctl's exit code on failure (2 usage, 3 not found, 4 unreachable, 5 auth, 6 conflict, 8 partly applied).
  returned: on failure
  type: int
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.deis.deisctl.plugins.module_utils.deisctl_api import (
    api, argument_spec, change_rows, client, fail, finish, hide_secrets, listing, require_deisctl,
    with_conflict_retries)


def _settings(settings):
    """{component: {key: value}} as deisctl.api takes a document: the values as they are, so that
    every door accepts the same types (text, integers, booleans, file and env references) and
    refuses the same (a float: its text would not be kept exactly)."""
    document = {}
    for component, keys in settings.items():
        if not isinstance(keys, dict):
            return None
        document[str(component)] = dict((str(key), value) for key, value in keys.items())
    return document


def present(module, deis):
    params = module.params
    document = params["src"] if params["src"] else _settings(params["settings"])
    if document is None:
        module.fail_json(msg="settings must map each component to a mapping of keys", rc=2, changed=False)

    def run():
        return deis.apply(document, dry_run=module.check_mode, prune=params["prune"], strict=params["strict"],
                          keep_masked=params["keep_masked"], yes=True,
                          delete_protected=params["delete_protected"], new_component=params["new_component"],
                          new_key=params["new_key"], write_published=params["write_published"])

    applied = with_conflict_retries(module, run, params["conflict_retries"], params["conflict_delay"])
    result = dict(changed=bool(applied.changes), changes=change_rows(applied.changes), revision=applied.revision)
    if applied.held:
        result["kept"] = change_rows(applied.held)
    if module._diff:
        result["diff"] = dict(before=listing(applied.changes, "before"), after=listing(applied.changes, "after"),
                              before_header="etcd", after_header=params["src"] or "settings")
    return result


def absent(module, deis):
    settings = module.params["settings"]
    if not settings:
        module.fail_json(msg="state=absent needs settings naming the keys to delete", rc=2, changed=False)
    changes = []
    for component, keys in settings.items():
        if not isinstance(keys, dict):
            module.fail_json(msg="settings must map each component to a mapping of keys", rc=2, changed=False)
        names = [str(key) for key in keys]
        # One guarded transaction of the keys there are (none: nothing to do, nothing recorded);
        # the values it deleted come back with it, for the result and the diff.
        removed = deis.rm(str(component), names, ignore_missing=True, dry_run=module.check_mode)
        changes += [api.Change(str(component), name, removed.previous[name], None) for name in removed.keys]
    result = dict(changed=bool(changes), changes=change_rows(changes))
    if module._diff:
        result["diff"] = dict(before=listing(changes, "before"), after=listing(changes, "after"),
                              before_header="etcd", after_header="absent")
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(dict(
            settings=dict(type="dict"),
            src=dict(type="path"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            prune=dict(type="bool", default=False),
            delete_protected=dict(type="list", elements="str", default=[]),
            write_published=dict(type="list", elements="str", default=[]),
            keep_masked=dict(type="bool", default=False),
            new_component=dict(type="bool", default=False),
            new_key=dict(type="bool", default=False),
            strict=dict(type="bool", default=False),
            conflict_retries=dict(type="int", default=3),
            conflict_delay=dict(type="float", default=1.0),
        )),
        required_one_of=[("settings", "src")],
        mutually_exclusive=[("settings", "src")],
        required_if=[("state", "absent", ("settings",))],
        supports_check_mode=True,
    )
    require_deisctl(module)
    hide_secrets(module, module.params["settings"])
    messages = []
    try:
        deis = client(module, messages)
        result = (present if module.params["state"] == "present" else absent)(module, deis)
    except api.PartlyApplied as stopped:
        landed = getattr(stopped, "result", None)
        extra = {}
        if landed is not None:
            extra = dict(changed=bool(landed.changes), changes=change_rows(landed.changes),
                         not_written=change_rows(landed.not_written))
        fail(module, stopped, messages, **extra)
    except api.DeisctlError as error:
        fail(module, error, messages)
    finish(module, messages, **result)


if __name__ == "__main__":
    main()
