"""Views of `users ...` results: one line per user changed, a table of users."""

from __future__ import annotations

from deisctl.controller import script as words
from deisctl.output import View, table

_TEXT = {
    words.REVOKED: "token revoked",
    words.WOULD_REVOKE: "token would be revoked (dry run)",
    words.NO_TOKEN: "no token",
    words.PROMOTED: "promoted to administrator",
    words.WOULD_PROMOTE: "would be promoted to administrator (dry run)",
    words.ALREADY_ADMIN: "already an administrator",
    words.DEMOTED: "demoted to normal user",
    words.WOULD_DEMOTE: "would be demoted to normal user (dry run)",
    words.NOT_ADMIN: "not an administrator",
    words.CREATED: "created",
    words.WOULD_CREATE: "would be created (dry run)",
    words.PASSWORD_SET: "password set",
    words.WOULD_SET_PASSWORD: "password would be set (dry run)",
    words.DELETED: "deleted",
    words.WOULD_DELETE: "would be deleted (dry run)",
}


def _text(row: dict) -> str:
    text = _TEXT.get(row["result"], row["result"])
    if row.get("admin") and row["result"] in (words.CREATED, words.WOULD_CREATE):
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
