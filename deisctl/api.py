"""deisctl's public Python API: every operation of the CLI, without the CLI.

    from deisctl import api

    client = api.Client(endpoints=["http://127.0.0.1:2379"])
    client.set("controller", {"registrationMode": "admin_only"})
    client.get("controller", ["registrationMode"]).values  # {"registrationMode": b"admin_only"}
    client.apply({"controller": {"workers": "4"}}, dry_run=True).changes

A Client is built from explicit settings only: it reads no process environment, no config file
(unless `context` is named) and no terminal, and prints nothing. Each method runs one operation
of deisctl.ops and returns its result object (the NamedTuples re-exported below); failures are
raised as DeisctlError subclasses, whose `exit_code` is the CLI's exit code and whose `render()`
is the CLI's one `error:` line. Messages for people (warnings, notes) go to `on_message`, or are
kept in `client.messages`.

Questions are callables the caller passes: `confirm(question) -> bool` (a large `apply
--prune`, `revoke_token(all_users=True)`) and `prompt(question, secret=False) -> str` (an SSH key
passphrase). Without them deisctl refuses where the CLI would ask, exactly as the CLI does
without a terminal, and `yes=True` confirms up front.

`shown(key, value)` is a value as deisctl prints it: MASK for a secret (a key named like one, or
a value holding a private key), else the value.

`edit` takes a function of the component's document (or the new document itself) in place of
the CLI's editor, under the same rule: written only if nobody changed the component since it
was read (ConflictError, nothing written).

Not in the API: `dock` and `ssh` (they attach a terminal's streams) and `context` (the CLI's config
file).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional, Sequence, Union

from deisctl.change import Change
from deisctl.errors import (AuthError, ComparisonFailedError, ConflictError, DeisctlError, ExitCode, NotFoundError,
                            PartlyApplied, UnreachableError, UsageError)
from deisctl.invocation import Invocation
from deisctl.keys import MASK
from deisctl.ops.audit import AuditList, AuditVerified, PolicyShown, Repaired
from deisctl.ops.backup import BackupMade, BackupVerified, Restored
from deisctl.ops.check import CheckResult
from deisctl.ops.config import Listing, Removed, SchemaTable, SetResult, Values
from deisctl.ops.documents import Applied, Compared, Exported
from deisctl.ops.edit import Edited
from deisctl.ops.platform import LogStream, RestartResult, Status
from deisctl.ops.registration import Registration
from deisctl.ops.revisions import History, Rolledback, WatchEvent
from deisctl.ops.users import UserChanges, UserList
from deisctl.settings import Settings

__all__ = [
    "Client", "Node", "Settings", "Change",
    "DeisctlError", "UsageError", "NotFoundError", "UnreachableError", "AuthError", "ConflictError",
    "ComparisonFailedError", "PartlyApplied", "ExitCode",
    "SetResult", "Values", "Listing", "Removed", "SchemaTable", "Exported", "Applied", "Compared",
    "History", "Rolledback", "WatchEvent", "Registration", "UserChanges", "UserList", "CheckResult", "Edited",
    "AuditList", "AuditVerified", "PolicyShown", "Repaired", "Status", "LogStream", "RestartResult",
    "BackupMade", "BackupVerified", "Restored",
    "MASK", "shown", "change_rows", "diff_listing", "check_rows", "status_rows",
]


def shown(key: str, value: Optional[str], show_secrets: bool = False) -> Optional[str]:
    """The value as deisctl prints it: MASK when the key is secret or the value holds a private
    key (unless show_secrets), else the value itself."""
    from deisctl import keys

    return keys.shown(key, value, show_secrets)


def change_rows(changes: Sequence[Change]) -> list:
    """Changes as `config apply -o json` lists them: key, action, old, new, secrets masked."""
    from deisctl.output import documents

    return documents.change_rows(changes)


def check_rows(result: CheckResult) -> list:
    """The smoke checks as `check -o json` lists them: [{check, ok, detail}]."""
    from deisctl.output import check

    return check.checks(result).data


def status_rows(result: Status) -> list:
    """The platform's status as `status -o json` lists it: [{component, node, ok, problem, heartbeat, container}]."""
    from deisctl.output import platform

    return platform.status(result).data


def diff_listing(changes: Sequence[Change], side: str, wanted: str = "file") -> str:
    """One side ("old" or "new") of `config diff`'s listing of changes: `component/key: value`
    lines in key order, secrets masked (a changed one says `(etcd)` or `(wanted)`)."""
    from deisctl.output import documents

    return documents.listing(changes, side, wanted)


class Node(NamedTuple):
    """How to reach the controller's node over SSH (users, check with controller=True). None:
    the CLI's default (`host`: the controller's heartbeat key in etcd)."""

    host: Optional[str] = None
    ssh_user: Optional[str] = None
    ssh_port: Optional[int] = None
    ssh_key: Optional[str] = None
    known_hosts: Optional[str] = None
    strict_host_key_checking: Optional[str] = None  # "yes" (default) or "accept-new"
    ssh_timeout: Optional[float] = None
    remote_timeout: Optional[float] = None
    runtime: Optional[str] = None  # "docker" (default), "podman" or "none"
    container: Optional[str] = None
    app_dir: Optional[str] = None
    python: Optional[str] = None


class _Messages:
    """A text stream that hands each line written to it to a callable (the Invocation's stderr)."""

    def __init__(self, sink: Callable[[str], None]):
        self._sink, self._pending = sink, ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._sink(line)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _NoInput:
    """Standard input of a client: nothing to read (documents are passed as paths or mappings)."""

    def read(self, size: int = -1) -> str:
        return ""

    readline = read

    def isatty(self) -> bool:
        return False


Document = Union[str, Mapping[str, Mapping[str, Any]]]  # a settings document's path, or the document


class Client:
    """One etcd cluster (and its controller's node), reached with these settings.

    endpoints: URLs of one cluster (a list, or a comma-separated string); prefix, cacert, cert,
    key, user, password, dial_timeout, command_timeout, tunnel: as the CLI's global options,
    with the same defaults. context: a named context of the config file fills in what is not
    given here (the file: `config_file`, else the CLI's usual place under env's HOME). node: the
    SSH options of the user operations and of check(controller=True). env: the environment that
    DEISCTL_* variables, HOME (for ~) and TERM are read from; empty unless given.

    stores(settings, via=, on_close=) and sessions(host, ssh_options, via=, note=,
    passphrase_prompt=) replace the etcd client and the SSH login (deisctl's own by default).
    reason and command go into the audit record of each write (audit=False: none is written);
    audit_anchors: the file where the heads of the audit trail this client saw are kept (the CLI's
    is $XDG_STATE_HOME/deisctl/audit-anchors.json), none unless given.
    """

    def __init__(self, endpoints: Union[str, Sequence[str], None] = None, *, prefix: Optional[str] = None,
                 cacert: Optional[str] = None, cert: Optional[str] = None, key: Optional[str] = None,
                 user: Optional[str] = None, password: Optional[str] = None, dial_timeout: Optional[float] = None,
                 command_timeout: Optional[float] = None, tunnel: Optional[str] = None, context: Optional[str] = None,
                 config_file: Optional[str] = None, node: Optional[Node] = None, env: Optional[Mapping[str, str]] = None,
                 prompt: Optional[Callable[..., str]] = None, confirm: Optional[Callable[[str], bool]] = None,
                 on_message: Optional[Callable[[str], None]] = None, stores: Optional[Callable] = None,
                 sessions: Optional[Callable] = None, reason: Optional[str] = None, audit: bool = True,
                 command: str = "deisctl.api", audit_anchors: Optional[str] = None):
        from deisctl import settings as settings_mod

        env = dict(env or {})
        if not audit:
            env["DEISCTL_AUDIT"] = "off"
        # The audit trail's anchors outside etcd (deisctl.anchors): a file only when named here.
        env["DEISCTL_AUDIT_ANCHORS"] = audit_anchors or "off"
        if config_file is not None:
            env["DEISCTL_CONFIG"] = config_file
        if user is not None and password is not None:
            user = f"{user}:{password}"
        flags = {
            "endpoints": endpoints if endpoints is None or isinstance(endpoints, str) else ",".join(endpoints),
            "prefix": prefix, "cacert": cacert, "cert": cert, "key": key, "user": user,
            "dial_timeout": dial_timeout, "command_timeout": command_timeout, "tunnel": tunnel, "context": context,
            "reason": reason,
        }
        password_prompt = (lambda question: prompt(question, secret=True)) if prompt else None
        self.settings = settings_mod.build(flags, env, password_prompt=password_prompt,
                                           read_config=context is not None, command=command)
        self.messages: list[str] = []
        self.node = node or Node()
        self.invocation = Invocation(self.settings, _NoInput(), _Messages(self.messages.append),
                                     _Messages(on_message or self.messages.append), env, prompt=prompt,
                                     confirm=confirm, stores=stores, sessions=sessions, door="api")

    def __repr__(self) -> str:
        return f"deisctl.api.Client({self.settings!r})"

    def _node(self):
        """The Node given, over the environment given and the context, resolved and checked as
        the CLI's flags are (deisctl.node.resolve); messages name its fields."""
        from deisctl import node
        from deisctl.ssh.options import FIELDS

        return node.resolve(self.invocation.env, self.settings, [self.node._asdict()], FIELDS)

    # -- config COMPONENT set|get|rm, schema -------------------------------------------------------

    def set(self, component: str, values: Mapping[str, str], *, strict: bool = False, dry_run: bool = False,
            new_component: bool = False, new_key: bool = False, if_revision: Optional[int] = None) -> SetResult:
        """Write every key=value in one transaction (validated first; all or nothing). A component
        neither the schema nor etcd knows needs new_component; a key that looks like a typo of a
        known one needs new_key (as the CLI's --new-component, --new-key)."""
        from deisctl.ops import config

        return config.set_values(self.invocation, component, [f"{k}={v}" for k, v in values.items()],
                                 strict=strict, dry_run=dry_run, new_component=new_component, new_key=new_key,
                                 if_revision=None if if_revision is None else str(if_revision))

    def get(self, component: str, keys: Sequence[str]) -> Values:
        """The raw values (bytes) of keys, read at one revision; a missing key is NotFoundError."""
        from deisctl.ops import config

        return config.get_values(self.invocation, component, keys)

    def list(self, component: str) -> Listing:
        """Every key of the component (relative to it, sorted) and its text."""
        from deisctl.ops import config

        return config.list_component(self.invocation, component)

    def rm(self, component: str, keys: Sequence[str], *, ignore_missing: bool = False,
           dry_run: bool = False) -> Removed:
        """Delete keys in one transaction; a missing key deletes nothing unless ignore_missing."""
        from deisctl.ops import config

        return config.remove(self.invocation, component, keys, ignore_missing=ignore_missing, dry_run=dry_run)

    def schema(self, component: Optional[str] = None) -> SchemaTable:
        """The known keys of one component, or of all."""
        from deisctl.ops import config

        return config.describe_schema(self.invocation, component)

    # -- config export|apply|diff --------------------------------------------------------------------

    def export(self, components: Sequence[str] = (), *, show_secrets: bool = False,
               include_published: bool = False) -> Exported:
        """The settings document of the components (all when none), secrets masked unless asked,
        the keys components publish about this cluster left out unless asked."""
        from deisctl.ops import documents

        return documents.export(self.invocation, components, show_secrets=show_secrets,
                                include_published=include_published)

    def apply(self, document: Document, *, dry_run: bool = False, prune: bool = False, strict: bool = False,
              keep_masked: bool = False, any_file: bool = False, yes: bool = False,
              delete_protected: Sequence[str] = (), base_dir: Optional[str] = None,
              new_component: bool = False, new_key: bool = False, write_published: Sequence[str] = (),
              progress: Optional[Callable[[int, int, int, int], None]] = None) -> Applied:
        """Make etcd match the document (a path, or {component: {key: value}}), writing only the
        keys that differ, each guarded by its revision (see the README: what is atomic). A prune
        that needs confirming asks `confirm`, or is refused unless yes. An apply that stops after
        some of its transactions raises PartlyApplied; its `result` says what landed."""
        from deisctl.ops import documents

        confirm = self.invocation.confirm
        options = documents.DocumentOptions(prune=prune, strict=strict, keep_masked=keep_masked, any_file=any_file,
                                            delete_protected=tuple(delete_protected or ()),
                                            write_published=tuple(write_published or ()),
                                            new_component=new_component, new_key=new_key, base_dir=base_dir)
        return documents.apply(self.invocation, document, options, dry_run=dry_run, yes=yes, progress=progress,
                               confirm_prune=None if confirm is None else (
                                   lambda removals, emptied: confirm(f"Delete these {len(removals)} key(s)?")))

    def diff(self, document: Document, *, prune: bool = False, strict: bool = False, keep_masked: bool = False,
             any_file: bool = False, delete_protected: Sequence[str] = (), base_dir: Optional[str] = None,
             write_published: Sequence[str] = ()) -> Compared:
        """What apply would change (etcd → the document), read at one revision."""
        from deisctl.ops import documents

        return documents.diff(self.invocation, document, documents.DocumentOptions(
            prune=prune, strict=strict, keep_masked=keep_masked, any_file=any_file,
            delete_protected=tuple(delete_protected or ()), write_published=tuple(write_published or ()),
            base_dir=base_dir))

    def edit(self, component: str, change: Union[Callable[[dict], Mapping[str, Any]], Mapping[str, Any]], *,
             show_secrets: bool = False, strict: bool = False, new_component: bool = False,
             new_key: bool = False) -> Edited:
        """`config COMPONENT edit` without an editor: the component read at one revision as
        {key: value} (secrets masked unless show_secrets; a value left masked is kept), `change`
        applied to it (a function returning the new mapping, or the new mapping itself), and what
        differs written guarded by the revision read: a key someone else wrote, created or deleted
        meanwhile is a ConflictError, nothing written. A key left out is deleted."""
        import copy

        from deisctl.ops import edit as ops
        from deisctl.output import dump_yaml

        editing = ops.read_for_edit(self.invocation, component, show_secrets=show_secrets,
                                    new_component=new_component)
        wanted = change(copy.deepcopy(dict(editing.shown))) if callable(change) else change
        if not isinstance(wanted, Mapping):
            raise UsageError(f"edit of {component!r}: the change must give a mapping of keys, got "
                             f"{type(wanted).__name__}")
        text = dump_yaml({component: dict(wanted) or None})
        return ops.apply_edit(self.invocation, editing, text, f"<deisctl.api edit of {component}>", strict=strict,
                              new_key=new_key)

    # -- config COMPONENT history|rollback|watch ---------------------------------------------------

    def history(self, component: str, key: str) -> History:
        from deisctl.ops import revisions

        return revisions.history(self.invocation, component, key)

    def rollback(self, component: str, key: str, to_revision: int) -> Rolledback:
        from deisctl.ops import revisions

        return revisions.rollback(self.invocation, component, key, str(to_revision))

    def watch(self, component: str, key: Optional[str] = None, *, count: Optional[int] = None,
              timeout: Optional[float] = None) -> Iterator[WatchEvent]:
        """Each change from now on (a generator: close it to stop; it resumes on another member
        when one fails)."""
        from deisctl.ops import revisions

        return revisions.watch(self.invocation, component, key, count=None if count is None else str(count),
                               timeout=None if timeout is None else str(timeout))

    # -- registration ---------------------------------------------------------------------------------

    def registration(self) -> Registration:
        from deisctl.ops import registration

        return registration.status(self.invocation)

    def set_registration(self, mode: str, *, dry_run: bool = False) -> Registration:
        """mode: enabled, disabled or admin_only (both keys, one transaction, only if they differ)."""
        from deisctl.ops import registration

        actions = {"enabled": "enable", "disabled": "disable", "admin_only": "admin-only"}
        if mode not in actions:
            raise UsageError(f"invalid registration mode {mode!r}", hint="enabled, disabled or admin_only")
        return registration.set_registration(self.invocation, actions[mode], dry_run=dry_run)

    # -- audit -----------------------------------------------------------------------------------------

    def audit(self, component: Optional[str] = None, *, key: Optional[str] = None, since: Optional[str] = None,
              limit: Optional[int] = None) -> AuditList:
        """The audit records of deisctl's writes, oldest first (as `deisctl audit`)."""
        from deisctl.ops import audit

        return audit.list_records(self.invocation, component, key, since, None if limit is None else str(limit))

    def audit_verify(self, *, expect_head: Optional[str] = None) -> AuditVerified:
        """Whether the audit trail is whole (exit_code 0) or broken (1, `problem` naming the first
        record concerned); checked against the client's audit_anchors file and expect_head
        ("SEQ:HASH", as a verify's `head` gives it) when given."""
        from deisctl.ops import audit

        return audit.verify(self.invocation, expect_head)

    def audit_policy(self, *, keep: Union[int, str, None] = None,
                     max_age_days: Union[float, str, None] = None) -> PolicyShown:
        """The cluster's retention policy of the trail; with keep and/or max_age_days (a number, or
        "all" / "none" for no limit), set it."""
        from deisctl.ops import audit

        return audit.policy(self.invocation, None if keep is None else str(keep),
                            None if max_age_days is None else str(max_age_days))

    def audit_repair(self) -> Repaired:
        """Rebuild a missing or damaged head of the trail from its records (their chain whole)."""
        from deisctl.ops import audit

        return audit.repair(self.invocation)

    # -- backup and restore ----------------------------------------------------------------------------

    def backup(self, path: str, *, controller: bool = False, passphrase: Optional[str] = None) -> BackupMade:
        """The archive at path: the keyspace under the prefix at one revision, the audit trail, and
        with controller the controller's data (over the node options); secrets encrypted with
        passphrase when given."""
        from deisctl.ops import backup

        return backup.backup(self.invocation, path, controller=controller, node=self._node(),
                             passphrase=passphrase)

    def verify_backup(self, path: str, *, passphrase: Optional[str] = None) -> BackupVerified:
        """exit_code 0 when the archive is whole (and decrypts with passphrase), else 1 and `problem`."""
        from deisctl.ops import backup

        return backup.verify(self.invocation, path, passphrase)

    def restore(self, path: str, *, dry_run: bool = False, only: Sequence[str] = (), include_published: bool = False,
                passphrase: Optional[str] = None, not_after: Optional[int] = None) -> Restored:
        """What the archive holds written back (see the CLI's restore): pass a dry run's read_at
        as not_after to write only if nothing changed since it was shown."""
        from deisctl.ops import backup

        return backup.restore(self.invocation, path, dry_run=dry_run, only=only, include_published=include_published,
                              node=self._node(), passphrase=passphrase, not_after=not_after)

    # -- users, check -----------------------------------------------------------------------------------

    def revoke_token(self, users: Sequence[str] = (), *, all_users: bool = False, yes: bool = False,
                     dry_run: bool = False) -> UserChanges:
        from deisctl.ops import users as ops

        return ops.revoke_token(self.invocation, users, self._node(), all_users=all_users, yes=yes,
                                dry_run=dry_run)

    def promote(self, users: Sequence[str], *, dry_run: bool = False) -> UserChanges:
        from deisctl.ops import users as ops

        return ops.promote(self.invocation, users, self._node(), dry_run=dry_run)

    def demote(self, users: Sequence[str], *, dry_run: bool = False, force: bool = False) -> UserChanges:
        from deisctl.ops import users as ops

        return ops.demote(self.invocation, users, self._node(), dry_run=dry_run, force=force)

    def create_user(self, user: str, password: str, *, admin: bool = False, email: Optional[str] = None,
                    dry_run: bool = False) -> UserChanges:
        """A new controller user; the password goes to the controller on the SSH channel's stdin."""
        from deisctl.ops import users as ops

        return ops.create_user(self.invocation, user, self._node(), password=password, admin=admin, email=email,
                               dry_run=dry_run)

    def set_password(self, user: str, password: str, *, revoke_token: bool = False,
                     dry_run: bool = False) -> UserChanges:
        from deisctl.ops import users as ops

        return ops.set_password(self.invocation, user, self._node(), password=password,
                                revoke_token=revoke_token, dry_run=dry_run)

    def delete_users(self, users: Sequence[str], *, yes: bool = False, dry_run: bool = False) -> UserChanges:
        """Without yes, the client's confirm= is asked (none: refused), as the CLI asks on a terminal."""
        from deisctl.ops import users as ops

        return ops.delete_users(self.invocation, users, self._node(), yes=yes, dry_run=dry_run)

    def users(self) -> UserList:
        from deisctl.ops import users as ops

        return ops.list_users(self.invocation, self._node())

    # -- the platform: status, logs, restart (the node options of `node`; nodes from the heartbeats) ----

    def status(self, components: Sequence[str] = ()) -> Status:
        """Every component (or those named) on its nodes: heartbeat and container; exit_code 0
        when every component that should run does, 1 when one is down."""
        from deisctl.ops import platform

        return platform.status(self.invocation, self._node(), components)

    def logs(self, component: str, *, only_node: Optional[str] = None, follow: bool = False,
             since: Optional[str] = None, tail: Optional[int] = None) -> LogStream:
        """The container's log on each of its nodes: .nodes, and .events, a generator of LogLine
        (node, stream, text) and NodeEnded (node, problem) events; close it to stop following."""
        from deisctl.ops import platform

        return platform.logs(self.invocation, self._node(), component, only=only_node, follow=follow,
                             since=since, tail=None if tail is None else str(tail))

    def restart(self, component: str, *, only_node: Optional[str] = None, rolling: bool = False,
                wait: Optional[float] = None, yes: bool = False, dry_run: bool = False) -> RestartResult:
        """Restart deis-COMPONENT on its nodes and wait for it and its heartbeat; without yes, the
        client's confirm= is asked (none: refused), as the CLI asks on a terminal."""
        from deisctl.ops import platform

        return platform.restart(self.invocation, self._node(), component, only=only_node, rolling=rolling,
                                wait=None if wait is None else str(wait), yes=yes, dry_run=dry_run)

    def check(self, *, controller: bool = False, status: bool = False) -> CheckResult:
        """The smoke checks (with status: a row per component and node, as status() gives them);
        the result's exit_code is the CLI's (0, 1, or 4 when no endpoint answered)."""
        from deisctl.ops import check

        return check.check(self.invocation, controller=controller, status=status, node=self._node())
