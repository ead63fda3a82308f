# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: settings
short_description: Deis settings read from etcd, as deisctl's C(config COMPONENT get) reads them
description:
  - Reads settings of a Deis cluster from etcd (v3) with deisctl's Python API, for templates and
    conditions. C(COMPONENT/KEY) gives the key's value, C(COMPONENT) all the component's keys as a
    mapping.
  - A secret (a key named like one, or a value holding a private key) is masked (C(********))
    unless I(show_secrets).
  - Nothing is read from C(DEISCTL_*) variables. The cluster is I(endpoints) or I(context).
version_added: 0.1.0
author: deisctl developers (@deis)
extends_documentation_fragment:
  - deis.deisctl.connection
options:
  _terms:
    description: C(COMPONENT/KEY) (e.g. C(controller/registrationMode)), or C(COMPONENT).
    required: true
    type: list
    elements: str
  show_secrets:
    description: Give secret values in clear.
    type: bool
    default: false
  default:
    description: What a missing key gives; without it, a missing key fails the lookup.
    type: raw
"""

EXAMPLES = r"""
- name: Registration as the cluster has it
  ansible.builtin.debug:
    msg: "{{ lookup('deis.deisctl.settings', 'controller/registrationMode', context='production') }}"

- name: Every controller setting (secrets masked)
  ansible.builtin.set_fact:
    controller: "{{ lookup('deis.deisctl.settings', 'controller', endpoints=['https://etcd-1:2379']) }}"
"""

RETURN = r"""
_raw:
  description: Each term's value (text), or a mapping of the component's keys to their values.
  type: list
  elements: raw
"""

import os

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.plugins.lookup import LookupBase

try:
    from deisctl import api
except ImportError:
    api = None

CONNECTION = ("endpoints", "prefix", "cacert", "cert", "key", "user", "password", "context", "config_file",
              "tunnel", "dial_timeout", "command_timeout")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if api is None:
            raise AnsibleError("the deis.deisctl.settings lookup needs deisctl (its Python API, deisctl.api) in the "
                               "Python that runs Ansible")
        self.set_options(var_options=variables, direct=kwargs)
        options = dict((name, self.get_option(name)) for name in CONNECTION if self.get_option(name) is not None)
        env = dict((name, value) for name, value in os.environ.items() if not name.startswith("DEISCTL_"))
        show, missing = self.get_option("show_secrets"), "default" in kwargs
        results = []
        try:
            client = api.Client(env=env, audit=False, **options)
            for term in terms:
                component, key = (str(term).split("/", 1) + [""])[:2]
                if not key:
                    listing = client.list(component).items
                    results.append(dict((name, api.shown(name, value, show)) for name, value in listing.items()))
                    continue
                try:
                    raw = client.get(component, [key]).values[key]
                except api.NotFoundError:
                    if not missing:
                        raise
                    results.append(self.get_option("default"))
                    continue
                results.append(api.shown(key, raw.decode("utf-8", "backslashreplace"), show))
        except api.DeisctlError as error:
            line = error.render()
            raise AnsibleLookupError(line[len("error: "):] if line.startswith("error: ") else line)
        return results
