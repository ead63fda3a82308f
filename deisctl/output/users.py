"""Views of `users ...` results: one line per user changed, a table of users."""

from __future__ import annotations

from deisctl.output import View, table

_TEXT = {
    "revoked": "token revoked",
    "would-revoke": "token would be revoked (dry run)",
    "no-token": "no token",
    "promoted": "promoted to administrator",
    "would-promote": "would be promoted to administrator (dry run)",
    "already-admin": "already an administrator",
    "demoted": "demoted to normal user",
    "would-demote": "would be demoted to normal user (dry run)",
    "not-admin": "not an administrator",
    "created": "created",
    "would-create": "would be created (dry run)",
    "password-set": "password set",
    "would-set-password": "password would be set (dry run)",
    "deleted": "deleted",
    "would-delete": "would be deleted (dry run)",
}


def _text(row: dict) -> str:
    text = _TEXT.get(row["result"], row["result"])
    if row.get("admin") and row["result"] in ("created", "would-create"):
        text += " (administrator)"
    if row.get("token_revoked"):
        text += "; API token revoked"
    return text


def changes(result) -> View:
    """`USER: what happened` lines; JSON: {changed, dry_run, users: [{user, result, changed}]}."""
    rows = result.users
    data = {"changed": result.changed, "dry_run": result.dry_run, "users": rows}
    return View(data, lambda: (f"{r['user']}: {_text(r)}" for r in rows))


def listing(result) -> View:
    """USERNAME ADMIN TOKEN JOINED; JSON: the controller's rows as they are."""
    rows = result.users

    def lines():
        return table([("USERNAME", "ADMIN", "TOKEN", "JOINED")] + [
            (r["username"], "yes" if r["admin"] else "no", "yes" if r["has_token"] else "no",
             (r["date_joined"] or "-")[:19].replace("T", " ")) for r in rows])

    return View(rows, lines)
