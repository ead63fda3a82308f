# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)
"""Runs deis.deisctl.backup with the play's and task's names for deisctl's audit record."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.deis.deisctl.plugins.plugin_utils.audited import AuditedAction


class ActionModule(AuditedAction):
    pass
