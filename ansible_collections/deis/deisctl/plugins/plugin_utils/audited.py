# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)
"""The action of every deis.deisctl module: runs the module itself, with the play's and the
task's names as the `reason` of deisctl's audit record unless the task gives one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase


class AuditedAction(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(AuditedAction, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if not args.get("reason"):
            play = task_vars.get("ansible_play_name") or "(unnamed play)"
            args["reason"] = "ansible play %r, task %r" % (play, self._task.get_name())
        module = getattr(self._task, "resolved_action", None) or self._task.action  # its FQCN (2.11+)
        result.update(self._execute_module(module_name=module,
                                           module_args=args, task_vars=task_vars))
        return result
