"""Views of `config export|apply|diff`: the exported document, change lines, the diff."""

from __future__ import annotations

from typing import Iterable

from deisctl.keys import MASK, shown
from deisctl.output import View, dump_yaml, one_line



# -- export ------------------------------------------------------------------------------------

def exported(result) -> View:
    """The document: YAML with a header saying what is masked (text), or the bare document
    (-o json|yaml); `config export` is exact, so the text is not escaped."""
    def document() -> str:
        header = "# deisctl config export: {component: {key: value}}\n"
        if result.masked:
            header += (f"# secrets are masked ({MASK}): 'config apply' refuses them unless --keep-masked;\n"
                       "# export with --show-secrets for a file that restores them\n")
        return dump_yaml(result.document, header=header)

    return View(result.document, lambda: [], document=document, private=result.secret)


def export_note(result, path: str) -> str:
    """What was written, for stderr."""
    return (f"exported {result.count} keys of {len(result.document)} components to {path}"
            + (" (secrets masked)" if result.masked else ""))


# -- apply and diff ------------------------------------------------------------------------------

def change_rows(changes, show_secrets: bool = False) -> list:
    """Changes as apply's JSON lists them: key, action, old, new (secrets masked)."""
    return [_change_data(change, show_secrets) for change in changes]


def listing(changes, side: str, wanted: str = "file") -> str:
    """One side ("old" or "new") of the diffed listing of changes, in key order, secrets masked."""
    ordered = sorted(changes, key=lambda c: (c.component, c.key))
    lines = [line for change in ordered for line in _listing(change, side, False, wanted)]
    return "\n".join(lines) + ("\n" if lines else "")


def _change_data(change, show_secrets: bool) -> dict:
    return {"key": change.name, "action": change.action,
            "old": shown(change.key, change.old, show_secrets), "new": shown(change.key, change.new, show_secrets)}


def change_line(change, show_secrets: bool) -> str:
    old = one_line(shown(change.key, change.old, show_secrets))
    new = one_line(shown(change.key, change.new, show_secrets))
    if change.action == "added":
        return f"added    {change.name}: {new}"
    if change.action == "removed":
        return f"removed  {change.name}: {old}"
    if old == new:  # masked, or equal when shortened
        return f"changed  {change.name}"
    return f"changed  {change.name}: {old} → {new}"


def summary(changes: list) -> str:
    if not changes:
        return "no changes"
    counts = {a: sum(1 for c in changes if c.action == a) for a in ("added", "changed", "removed")}
    return ", ".join(f"{n} {a}" for a, n in counts.items() if n)


def applied(result, show_secrets: bool) -> View:
    """`added/changed/removed KEY: old → new` lines and a summary; JSON {changed, changes[, dry_run]}."""
    changes, dry_run = result.changes, result.dry_run
    data = {"changed": bool(changes), "changes": [_change_data(c, show_secrets) for c in changes]}
    if result.held:
        data["kept"] = [_change_data(c, show_secrets) for c in result.held]
    if result.not_written:  # stopped part way: what landed is in changes, the rest here
        data["partial"] = True
        data["not_written"] = [_change_data(c, show_secrets) for c in result.not_written]
    if dry_run:
        data["dry_run"] = True
    if result.revision:
        data["revision"] = result.revision  # etcd's revision after the apply's last transaction

    def lines() -> Iterable[str]:
        for change in changes:
            yield change_line(change, show_secrets)
        for change in result.held:
            yield (f"kept     {change.name}: {one_line(shown(change.key, change.old, show_secrets))} (published by "
                   f"the component; the document says {one_line(shown(change.key, change.new, show_secrets))})")
        if result.not_written:
            yield (f"{summary(changes)} written; {len(result.not_written)} changes NOT written (the apply stopped: "
                   "see the error)")
            return
        yield summary(changes) + (" (dry run: nothing written)" if dry_run and changes else "")

    return View(data, lines)


def compared(result, prefix: str, show_secrets: bool) -> View:
    """Text: a unified diff (etcd → file) that diff tools and `patch` read; JSON/YAML: as apply's."""
    changes = result.changes
    data = {"changed": bool(changes), "changes": [_change_data(c, show_secrets) for c in changes]}
    if result.held:
        data["kept"] = [_change_data(c, show_secrets) for c in result.held]
    return View(data, lambda: unified_diff(result, prefix, show_secrets))


def _listing(change, side: str, show_secrets: bool, wanted: str = "file") -> list[str]:
    """One key as lines of the diffed listing: `component/key: value`, a multi-line value as a
    `|` block indented by two spaces (YAML's way). A masked value that changed is told apart
    (`(etcd)`, or `wanted` for the new side)."""
    value = change.old if side == "old" else change.new
    if value is None:
        return []
    text = shown(change.key, value, show_secrets)
    if text == MASK and change.old != change.new:
        text = f"{MASK} ({'etcd' if side == 'old' else wanted})"
    if "\n" not in text:
        return [f"{change.name}: {text}"]
    return [f"{change.name}: |"] + [f"  {line}" for line in text.split("\n")]


def unified_diff(result, prefix: str, show_secrets: bool) -> Iterable[str]:
    """etcd's keys (those the document names, and with --prune those it would delete) against the
    document, as `component/key: value` listings in key order, diffed with 3 lines of context."""
    import difflib

    if not result.changes:
        return []
    keys = sorted(result.changes + list(result.unchanged), key=lambda c: (c.component, c.key))
    left = [line for change in keys for line in _listing(change, "old", show_secrets)]
    right = [line for change in keys for line in _listing(change, "new", show_secrets)]
    return difflib.unified_diff(left, right, fromfile=f"etcd:{prefix} (revision {result.revision})",
                                tofile=result.source, lineterm="")


# -- edit ------------------------------------------------------------------------------------

EDIT_HEADER_END = "# ---"  # the last line of the header edit writes (taken off before a reopen)


def edit_document(editing, command: str, error: str = "", body: str = "") -> str:
    """The text the editor shows: a header saying what saving does (and, after a failed save,
    what was wrong), then body: the component as `config export` writes it, or what the user
    saved the last time."""
    header = [f"# {command}: {editing.component} as read at etcd revision {editing.revision}.",
              f"# Save and quit to write what you changed, only if nobody changed {editing.component} since",
              "# (else nothing is written). A key you delete is removed; a value left as "
              f"{MASK} is kept as it is.",
              "# Quit without saving, or empty the file, to write nothing."]
    if error:
        header.insert(0, f"# ERROR: {' '.join(error.split())}")
        header.insert(1, "# Fix it and save to try again; quit without changing anything to give up.")
    return "\n".join(header + [EDIT_HEADER_END, ""]) + (body or dump_yaml(editing.document))


def edited(result, prefix: str, show_secrets: bool) -> View:
    """Text: the unified diff of what was written (etcd at the revision read → the file) and a
    summary; JSON/YAML: {changed, changes, revision, read_at}."""
    data = {"changed": bool(result.changes), "changes": change_rows(result.changes, show_secrets),
            "read_at": result.read_at}
    if result.revision:
        data["revision"] = result.revision
    if result.not_written:
        data["partial"] = True
        data["not_written"] = change_rows(result.not_written, show_secrets)

    def lines() -> Iterable[str]:
        if not result.changes and not result.not_written:
            yield "no changes: nothing written"
            return
        yield from unified_diff(result.compared, prefix, show_secrets)
        if result.not_written:
            yield (f"{summary(result.changes)} written; {len(result.not_written)} changes NOT written (the edit "
                   "stopped: see the error)")
        else:
            yield f"{summary(result.changes)} (written at revision {result.revision})"

    return View(data, lines)
