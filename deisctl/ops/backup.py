"""`backup -f FILE`, `backup verify FILE`, `restore FILE`: the platform's data in one verified
archive (deisctl.backup), restorable into another cluster.

What a backup holds: every key under the prefix at one revision (read in pages: any size), the
audit trail's keys, and with controller=True the controller's users, tokens and what they own,
dumped by the controller itself over the node path `users` uses (every controller generation,
every database Deis used). A restore shows what it would change (the rules of `config diff`,
secrets masked) before it writes, writes guarded by the revision it read, leaves out the keys a
component publishes about its own node (heartbeats, with their leases) unless asked, loads the
controller's data in one transaction on the controller, and puts the old cluster's audit trail
beside the new one's, never into its chain.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

from deisctl import __version__
from deisctl import keys as keyspec
from deisctl.change import Change
from deisctl.controller import script as words
from deisctl.errors import ExitCode, PartlyApplied, UsageError, declares_outcome
from deisctl.node import NodeOptions
from deisctl.ops.access import open_store

IMPORTED_ROOT = "/deisctl-audit-imported"  # the audit trails of the clusters restored from, each under its id


class BackupMade(NamedTuple):
    path: str
    revision: int
    counts: dict  # section -> entries
    encrypted: bool
    cluster: str  # the etcd cluster's id (hex)


@declares_outcome
class BackupVerified(NamedTuple):
    path: str
    manifest: dict
    counts: dict  # section -> entries read
    decrypted: Optional[bool]  # True: every encrypted value decrypted; None: nothing was encrypted; False: not tried
    problem: Optional[str]  # the first damaged part; None: whole

    @property
    def exit_code(self) -> int:
        return int(ExitCode.FAILED if self.problem else ExitCode.OK)

    @property
    def error(self) -> Optional[str]:
        return self.problem


class Restored(NamedTuple):
    changes: list  # [Change] of the keys written (a dry run: that would be), by key
    read_at: int  # the revision the cluster was read at (a dry run's: the guard of the restore that follows)
    left_out: int  # heartbeat keys (a component's host/port, keys with leases) not restored (include_published does)
    revision: int  # etcd's revision after the last write (0: nothing written)
    audit_imported: int  # audit keys of the old cluster put under IMPORTED_ROOT
    controller: Optional[dict]  # the controller's reply (created, updated counts), None: not restored
    dry_run: bool
    sections: tuple


def _classify(layout, key: str, value: bytes, lease: int) -> dict:
    """What restore needs to know of a key: a heartbeat (the `host`/`port` a component publishes
    about its own node, or any key that lived by a lease: they would point another cluster at the
    old nodes), lived by a lease, secret (masked by deisctl)."""
    from deisctl import schema

    relative = key[len(layout.prefix) + 1:]
    _component, _, rest = relative.partition("/")
    heartbeat = bool(lease) or (bool(rest) and rest.rsplit("/", 1)[-1] in schema.PUBLISHED_NAMES)
    text = value.decode("utf-8", "replace")
    return {"published": heartbeat, "lease": bool(lease),
            "secret": keyspec.is_secret(relative) or keyspec.holds_private_key(text)}


def archive_path(inv, path: str, writing: bool) -> str:
    """The archive's path, ~ expanded. `-` is refused rather than taken for a file of that name:
    an archive is a file (written atomically, read by seeking), never a stream on stdin/stdout."""
    from deisctl.localfiles import expand_user

    if path == "-":
        stream = "standard output" if writing else "standard input"
        raise UsageError(f"an archive is a file, not {stream}: name it (./- for a file named '-')"
                         + ("; nothing was written" if writing else ""))
    return expand_user(path, inv.env)


def backup(inv, path: str, *, node: NodeOptions, controller: bool = False, passphrase: Optional[str] = None,
           progress: Optional[Callable[[int], None]] = None) -> BackupMade:
    """Write the archive at path (atomically; never over what is not a regular file; mode 0600)."""
    import base64
    import datetime
    import json

    from deisctl import backup as archive
    from deisctl.etcd import audit
    from deisctl.etcd.kv import key_bytes, pages, prefix_range_end
    from deisctl.localfiles import Unwritable, atomic_file

    target = archive_path(inv, path, writing=True)
    layout = inv.settings.layout
    sealer = archive.Sealer(passphrase) if passphrase else None
    dump = None
    if controller:
        from deisctl.ops import users

        dump = users.ask(inv, node, {"action": words.DUMP})
    counts: dict = {}
    try:
        with open_store(inv) as store, atomic_file(target, private=True) as handle:
            writer = archive.Writer(handle)
            try:
                statuses = store.member_statuses()
                revision, done = 0, 0
                with writer.section("keys") as section:
                    base = layout.prefix + "/"
                    for revision, page in pages(store, key_bytes(base), prefix_range_end(base), revision):
                        for kv in page:
                            facts = _classify(layout, kv.key, kv.value, kv.lease)
                            entry = dict(archive.encode_key(kv.key), **facts)
                            if sealer is not None and facts["secret"]:
                                entry["ve"] = sealer.seal(kv.value, kv.key.encode("utf-8", "surrogateescape"))
                            else:
                                entry["v"] = base64.b64encode(kv.value).decode("ascii")
                            section.line(entry)
                        done += len(page)
                        if progress:
                            progress(done)
                counts["keys"] = section.count
                with writer.section("audit") as section:
                    trail = audit.root(layout.prefix)
                    for _, page in pages(store, key_bytes(trail), prefix_range_end(trail), revision):
                        for kv in page:
                            section.line(dict(archive.encode_key(kv.key), v=base64.b64encode(kv.value).decode("ascii")))
                counts["audit"] = section.count
                if dump is not None:
                    with writer.section("controller") as section:
                        data = json.dumps(dump["objects"], sort_keys=True).encode("utf-8")
                        if sealer is not None:
                            data = json.dumps({"sealed": sealer.seal(data, b"controller")}).encode("utf-8")
                        section.write(data)
                        section.count = len(dump["objects"])
                    counts["controller"] = len(dump["objects"])
                cluster = f"{getattr(store, 'cluster_id', 0):x}"
                writer.finish({
                    "deisctl": __version__, "time": datetime.datetime.now(datetime.timezone.utc).isoformat(
                        timespec="seconds"), "cluster": cluster, "revision": revision, "prefix": layout.prefix,
                    "members": [{"endpoint": s.endpoint, "version": s.version} for s in statuses if s.ok],
                    "controller": {key: dump[key] for key in ("python", "django", "rest_framework") if key in dump}
                    if dump else None,
                    "encryption": sealer.description if sealer else None})
            except BaseException:
                writer.abandon()
                raise
    except Unwritable as exc:
        raise UsageError(f"cannot write {path}: {exc}; nothing was written") from None
    return BackupMade(target, revision, counts, sealer is not None, cluster)


def verify(inv, path: str, passphrase: Optional[str] = None) -> BackupVerified:
    """Structure, every section's checksum and count, and every encrypted value decrypted (with
    the passphrase): the first damaged part named."""
    from deisctl import backup as archive

    target = archive_path(inv, path, writing=False)
    counts: dict = {}
    try:
        reader = archive.Reader(target)
    except archive.BackupDamaged as exc:
        return BackupVerified(target, {}, counts, None, exc.message)
    decrypted: Optional[bool] = None if not reader.encryption else bool(passphrase)
    try:
        sealer = reader.sealer(passphrase) if passphrase and reader.encryption else None
        for name in reader.sections:
            if name == "controller":
                objects = reader.controller(sealer) if sealer or not reader.encryption else None
                if objects is None:
                    list(reader.raw("controller"))  # its checksum, at least
                counts[name] = reader.sections[name].get("count")
                continue
            count = 0
            for entry in reader.entries(name):
                if "ve" in entry and sealer is not None:
                    reader.value(entry, sealer)
                elif "v" in entry:
                    reader.value(entry, None)
                count += 1
            counts[name] = count
    except (archive.BackupDamaged, archive.WrongPassphrase) as exc:
        return BackupVerified(target, reader.manifest, counts, decrypted, exc.message)
    finally:
        reader.close()
    return BackupVerified(target, reader.manifest, counts, decrypted, None)


def restore(inv, path: str, *, node: NodeOptions, dry_run: bool = False, only: Sequence[str] = (),
            include_published: bool = False, passphrase: Optional[str] = None, not_after: Optional[int] = None) -> Restored:
    """What the archive holds written back: the keys that differ (guarded by the revision read,
    or not_after: the revision a dry run showed the changes at; someone else wrote meanwhile:
    ConflictError, nothing written), the old audit trail beside the new one's, the controller's
    data in one transaction there. A restore that stops part way is a PartlyApplied whose result
    says what landed."""
    from deisctl import backup as archive
    from deisctl.etcd import audit
    from deisctl.etcd.kv import snapshot

    target = archive_path(inv, path, writing=False)
    reader = archive.Reader(target)
    unknown = [name for name in only if name not in archive.SECTIONS]
    if unknown:
        raise UsageError(f"unknown section {unknown[0]!r}", hint="keys, audit or controller")
    sections = tuple(name for name in (only or archive.SECTIONS) if name in reader.sections)
    missing = [name for name in only if name not in reader.sections]
    if missing:
        raise UsageError(f"{path} holds no {missing[0]} section (it holds {', '.join(reader.sections)})")
    sealer = reader.sealer(passphrase) if reader.encryption else None
    if reader.manifest.get("prefix") != inv.settings.layout.prefix:
        theirs = reader.manifest.get("prefix")
        where = " before the command: deisctl --prefix ... restore ..." if inv.door == "cli" else ""  # a global option
        raise UsageError(f"{path} is a backup of the prefix {theirs!r}, not {inv.settings.layout.prefix!r}",
                         hint=f"pass {inv.option('prefix', theirs)}{where}")
    layout = inv.settings.layout
    changes, writes, expected, left_out, revision, imported, controller = [], [], {}, 0, 0, 0, None
    try:
        with open_store(inv) as store:
            now = snapshot(store, [layout.prefix + "/"]) if "keys" in sections else None
            if "keys" in sections:
                for entry in reader.entries("keys"):
                    if entry.get("published") and not include_published:
                        left_out += 1
                        continue
                    key, value = archive.decode_key(entry), reader.value(entry, sealer)
                    current = now.rows.get(key)
                    if current is not None and current.value == value:
                        continue
                    component, _, relative = key[len(layout.prefix) + 1:].partition("/")
                    changes.append(Change(component, relative,
                                          None if current is None else current.value.decode("utf-8", "backslashreplace"),
                                          value.decode("utf-8", "backslashreplace"), key,
                                          0 if current is None else current.mod_revision))
                    writes.append((key, value))
                    expected[key] = 0 if current is None else current.mod_revision
            read_at = now.revision if now is not None else 0
            if writes and not dry_run:  # first: a conflict here leaves everything as it was
                guard = read_at if not_after is None else min(not_after, read_at)
                try:
                    revision = store.guarded_write(writes, expected, unchanged_under=(layout.prefix + "/", guard),
                                                   guard_every_batch=False)
                except PartlyApplied as stopped:
                    landed = set(stopped.written)
                    stopped.result = Restored([c for c in changes if c.full_key in landed], read_at, left_out, 0,
                                              0, None, False, sections)
                    raise
            if "audit" in sections:
                imported = _import_trail(store, reader, audit, dry_run)
            if "controller" in sections:
                controller = _restore_controller(inv, node, reader, sealer, dry_run)
    finally:
        reader.close()
    return Restored(sorted(changes, key=lambda c: c.full_key), read_at, left_out, revision, imported, controller,
                    dry_run, sections)


def _import_trail(store, reader, audit, dry_run: bool) -> int:
    """The old cluster's audit keys, put as they were under IMPORTED_ROOT/<its cluster id><its
    trail's place>: readable, never part of this cluster's chain. Created only where absent (a
    second restore of the same archive finds them there, the same)."""
    import base64

    from etcd3.etcdrpc import Compare, PutRequest, RequestOp, TxnRequest

    from deisctl.backup import decode_key
    from deisctl.etcd.kv import raw_call

    base = f"{IMPORTED_ROOT}/{reader.manifest.get('cluster') or 'unknown'}"
    entries = [(base + decode_key(entry), base64.b64decode(entry["v"])) for entry in reader.entries("audit")]
    if dry_run or not entries:
        return len(entries)
    from deisctl.etcd.kv import key_bytes

    done = 0
    for start in range(0, len(entries), 100):
        chunk = entries[start:start + 100]
        request = TxnRequest(
            compare=[Compare(key=key_bytes(k), target=Compare.CREATE, result=Compare.EQUAL, create_revision=0)
                     for k, _ in chunk],
            success=[RequestOp(request_put=PutRequest(key=key_bytes(k), value=v)) for k, v in chunk])
        if store.run(lambda c: raw_call(c, "kvstub", "Txn", request), write=True, retry_unknown=False).succeeded:
            done += len(chunk)
    return done


def _restore_controller(inv, node: NodeOptions, reader, sealer, dry_run: bool) -> dict:
    from deisctl.ops import users

    objects = reader.controller(sealer)
    if not isinstance(objects, list):
        from deisctl.backup import BackupDamaged

        raise BackupDamaged(f"{reader.path}: the controller section is not a list of objects")
    reply = users.ask(inv, node, {"action": words.LOAD, "objects": objects, "dry_run": dry_run})
    if not dry_run and inv.settings.audit:  # the load, in the trail as the keys' writes are
        from deisctl.etcd import audit

        with open_store(inv) as store:
            audit.record_only(store, [(inv.settings.layout.key("controller", "restore"),
                                       f"loaded {reply.get('created', 0)} created, {reply.get('updated', 0)} updated")])
    return {key: reply.get(key, 0) for key in ("created", "updated")}
