"""Commands built only when they are used, so that every run does not pay for Typer's
introspection of commands it does not call (`config get` is the one that must stay fast).

A LazyGroup lists its lazy commands by name with a one-line help (enough for `--help` and
completion) and builds the real Click command, from a Typer app in the named module, the
first time it is resolved. Click runs whatever command `make_context` hands back, so the
real command parses the arguments, runs, and prints its own help.
"""

from __future__ import annotations

import importlib

import typer
from typer.core import TyperCommand, TyperGroup

# group -> command name -> ("module:typer_app", one-line help)
TABLE: dict[str, dict[str, tuple[str, str]]] = {
    "root": {
        "check": ("deisctl.cli.check:check_app", "Smoke checks for CI and operators (exit 0 ok, 1 failed, 4 etcd unreachable)."),
        "context": ("deisctl.cli.context:context_app", "Named cluster contexts from the config file."),
        "users": ("deisctl.cli.users:users_app",
                  "Manage the controller's users inside its container, over SSH: revoke API tokens, "
                  "promote and demote administrators, list."),
        "dock": ("deisctl.cli.dock:dock_app", "Run a command (default sh) inside a component's container on its node."),
    },
    "config": {
        "export": ("deisctl.cli.declarative:export_app", "Print the settings as a YAML or JSON document."),
        "apply": ("deisctl.cli.declarative:apply_app", "Make etcd match a settings document (guarded, idempotent)."),
        "diff": ("deisctl.cli.declarative:diff_app", "Show what 'apply' would change (exit 0 same, 1 different)."),
    },
    "component": {
        "history": ("deisctl.cli.revisions:history_app", "Previous values of a key with their etcd revisions."),
        "rollback": ("deisctl.cli.revisions:rollback_app", "Restore the value a key had at a revision."),
        "watch": ("deisctl.cli.revisions:watch_app", "Print each change of the component's keys as it happens."),
    },
}


class LazyCommand(TyperCommand):
    def __init__(self, name: str, target: str, short_help: str):
        super().__init__(name, help=short_help, short_help=short_help, add_help_option=False)
        self._target, self._real = target, None

    def real(self):
        if self._real is None:
            module, _, attr = self._target.partition(":")
            command = typer.main.get_command(getattr(importlib.import_module(module), attr))
            command.name = self.name
            self._real = command
        return self._real

    def make_context(self, info_name, args, parent=None, **extra):
        return self.real().make_context(info_name, args, parent=parent, **extra)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help

    def get_help(self, ctx) -> str:
        return self.real().get_help(ctx)

    def to_info_dict(self, ctx) -> dict:
        return self.real().to_info_dict(ctx)


class LazyGroup(TyperGroup):
    """A TyperGroup that adds the lazy commands of TABLE[lazy_table] (unless already defined)."""

    lazy_table = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (target, short_help) in TABLE.get(self.lazy_table, {}).items():
            if name not in self.commands:
                self.add_command(LazyCommand(name, target, short_help), name)
