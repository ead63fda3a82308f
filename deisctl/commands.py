"""The names of deisctl's commands and where each is defined: the one table the Click tree is
built from (deisctl/cli/ loads each lazily from here), and the one that says which words can
never be component names (`deisctl config NAME` is the command NAME) or are the verbs of
`deisctl config COMPONENT VERB`. No Click here: keys.py and the operations read it too."""

from __future__ import annotations

ROOT = {
    "config": "deisctl.cli.config.config_group",
    "registration": "deisctl.cli.registration.registration_group",
    "check": "deisctl.cli.check.check",
    "context": "deisctl.cli.context.context_group",
    "users": "deisctl.cli.users.users_group",
    "dock": "deisctl.cli.dock.dock",
    "audit": "deisctl.cli.audit.audit",
}

# `deisctl config NAME`: these are commands, so no component may be named so.
CONFIG = {
    "export": "deisctl.cli.declarative.export",
    "apply": "deisctl.cli.declarative.apply",
    "diff": "deisctl.cli.declarative.diff",
    "schema": "deisctl.cli.config.schema",
}

# `deisctl config COMPONENT VERB`.
COMPONENT = {
    "set": "deisctl.cli.config.set_",
    "get": "deisctl.cli.config.get",
    "rm": "deisctl.cli.config.rm",
    "edit": "deisctl.cli.edit.edit",
    "history": "deisctl.cli.revisions.history",
    "rollback": "deisctl.cli.revisions.rollback",
    "watch": "deisctl.cli.revisions.watch",
}

# The flags that make a write deliberate where deisctl would refuse it as a likely typo (set,
# apply, edit): named here, below every module whose messages mention them.
NEW_COMPONENT = "--new-component"  # writes to a component neither the schema nor etcd has
NEW_KEY = "--new-key"  # writes a key that looks like a typo of a known one
