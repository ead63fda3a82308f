"""Views of `backup`, `backup verify` and `restore`."""

from __future__ import annotations

from deisctl.output import View
from deisctl.output.documents import change_line, change_rows, summary


def made(result) -> View:
    counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
    data = {"path": result.path, "revision": result.revision, "counts": result.counts,
            "encrypted": result.encrypted, "cluster": result.cluster}
    secrets = "secrets encrypted" if result.encrypted else "secrets in clear: keep it safe, or use --encrypt"
    return View(data, lambda: [f"backed up {counts} at revision {result.revision} to {result.path} ({secrets})"])


def verified(result) -> View:
    manifest = result.manifest
    data = {"ok": result.problem is None, "path": result.path, "problem": result.problem, "counts": result.counts,
            "decrypted": result.decrypted, "revision": manifest.get("revision"), "time": manifest.get("time"),
            "cluster": manifest.get("cluster"), "deisctl": manifest.get("deisctl")}

    def lines():
        if result.problem is not None:
            return []
        counts = ", ".join(f"{count} {name}" for name, count in result.counts.items())
        decrypted = {True: "; every encrypted value decrypts", False: "; encrypted values not decrypted (no "
                     "passphrase given)", None: ""}[result.decrypted]
        return [f"backup whole: {counts}, cluster {manifest.get('cluster')} at revision {manifest.get('revision')} "
                f"({manifest.get('time')}, deisctl {manifest.get('deisctl')}){decrypted}"]

    return View(data, lines)


def restored(result, show_secrets: bool = False) -> View:
    """The keys' changes as `config diff` shows them (secrets masked), what was left out, the
    audit trail imported and the controller's objects; JSON likewise."""
    data = {"dry_run": result.dry_run, "changed": bool(result.changes), "changes": change_rows(result.changes),
            "left_out_published": result.left_out, "audit_imported": result.audit_imported,
            "controller": result.controller, "read_at": result.read_at,
            **({"revision": result.revision} if result.revision else {})}

    def lines():
        for change in result.changes:
            yield change_line(change, show_secrets)
        tail = " (dry run: nothing written)" if result.dry_run else ""
        if "keys" in result.sections:
            yield summary(result.changes) + tail
        if result.left_out:
            yield (f"left out {result.left_out} heartbeat key(s) (what components publish about their own nodes): "
                   "--include-published restores them")
        if "audit" in result.sections:
            yield f"the old cluster's audit trail: {result.audit_imported} key(s){tail}"
        if result.controller is not None:
            yield (f"controller: {result.controller.get('created', 0)} object(s) created, "
                   f"{result.controller.get('updated', 0)} updated{tail}")

    return View(data, lines)
