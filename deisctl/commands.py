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
    "status": "deisctl.cli.platform.status",
    "list": "deisctl.cli.platform.list_",
    "logs": "deisctl.cli.platform.logs",
    "restart": "deisctl.cli.platform.restart",
    "ssh": "deisctl.cli.platform.ssh",
    "backup": "deisctl.cli.backup.backup",
    "restore": "deisctl.cli.backup.restore",
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

# The same operations through every door: each CLI command's deisctl.api.Client method(s) and
# what the deis.deisctl collection offers for it (a module, the lookup), or why a door has none
# (EXCLUDED: ...). tests/unit/test_doors.py fails when a command, a Client method or a module is
# added to one door and not here.
EXCLUDED = "excluded: "
DOORS = {
    "config COMPONENT set": ("set", "deis.deisctl.config"),
    "config COMPONENT get": ("get list", "lookup deis.deisctl.settings"),
    "config COMPONENT rm": ("rm", "deis.deisctl.config"),
    "config COMPONENT edit": ("edit", EXCLUDED + "a document made true is deis.deisctl.config's state: present"),
    "config COMPONENT history": ("history", EXCLUDED + "a key's past is for people and scripts, not a desired state"),
    "config COMPONENT rollback": ("rollback", EXCLUDED + "a playbook states the value it wants (deis.deisctl.config)"),
    "config COMPONENT watch": ("watch", EXCLUDED + "a stream of events has no place in a task"),
    "config export": ("export", "deis.deisctl.info"),
    "config apply": ("apply", "deis.deisctl.config"),
    "config diff": ("diff", "deis.deisctl.config"),  # its check and diff modes
    "config schema": ("schema", EXCLUDED + "the table of known keys is documentation"),
    "registration status": ("registration", "deis.deisctl.info"),
    "registration enable": ("set_registration", "deis.deisctl.registration"),
    "registration disable": ("set_registration", "deis.deisctl.registration"),
    "registration admin-only": ("set_registration", "deis.deisctl.registration"),
    "users list": ("users", "deis.deisctl.user"),  # its state: present|absent looks the user up
    "users revoke-token": ("revoke_token", "deis.deisctl.user"),
    "users promote": ("promote", "deis.deisctl.user"),
    "users demote": ("demote", "deis.deisctl.user"),
    "users create": ("create_user", "deis.deisctl.user"),
    "users set-password": ("set_password", "deis.deisctl.user"),
    "users delete": ("delete_users", "deis.deisctl.user"),
    "check": ("check", "deis.deisctl.info"),
    "audit": ("audit audit_verify audit_policy audit_repair",
              EXCLUDED + "the trail is read and kept by its administrators; every module's write is recorded"),
    "dock": (EXCLUDED + "it attaches a terminal's streams to a command in a container",
             EXCLUDED + "ansible's own docker and command modules run commands"),
    "status": ("status", "deis.deisctl.info"),
    "list": ("status", "deis.deisctl.info"),
    "logs": ("logs", EXCLUDED + "a stream of lines has no place in a task; deis.deisctl.info gives the status"),
    "restart": ("restart", "deis.deisctl.component"),
    "ssh": (EXCLUDED + "it attaches a terminal's streams to a command on a node",
            EXCLUDED + "ansible's own connections run commands on nodes"),
    "backup": ("backup", "deis.deisctl.backup"),
    "backup verify": ("verify_backup", "deis.deisctl.backup"),
    "restore": ("restore", EXCLUDED + "a restore is a recovery a person decides on, with its --dry-run read first"),
    "context list": (EXCLUDED + "the CLI's config file; a Client is given its settings", EXCLUDED + "likewise"),
    "context use": (EXCLUDED + "the CLI's config file", EXCLUDED + "likewise"),
    "context show": (EXCLUDED + "the CLI's config file", EXCLUDED + "likewise"),
}
