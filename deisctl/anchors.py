"""Anchors of the audit trail outside etcd: the newest head (record number and hash) this machine
saw of each cluster's trail, kept in a local file, so that `audit verify` can tell a trail that was
cut back, rewritten or deleted from the one this machine wrote to or verified.

The file (JSON, mode 0600, written atomically) maps "<etcd cluster id>:<prefix>" to {seq, hash,
time}. An anchor only moves forward: a head with a lower number than the one kept (the trail cut
back behind this machine's back) leaves the kept one as it is, for verify to report. Keeping it is
best-effort: a file that cannot be read or written costs the check, never the write it follows.
"""

from __future__ import annotations

import os
from typing import NamedTuple, Optional


class Anchor(NamedTuple):
    seq: int
    hash: str
    time: str = ""


class Anchors:
    """The anchors file at path."""

    def __init__(self, path: str):
        self.path = path

    def _load(self) -> dict:
        import json  # here, not at the top: settings name this file on every command, few read it

        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, cluster_id: int, prefix: str) -> Optional[Anchor]:
        entry = self._load().get(f"{cluster_id:x}:{prefix}")
        if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int) \
                or not isinstance(entry.get("hash"), str):
            return None
        return Anchor(entry["seq"], entry["hash"], str(entry.get("time", "")))

    def saw(self, cluster_id: int, prefix: str, seq: int, hash_: str) -> None:
        """Keep this head as the anchor, unless the one kept is newer."""
        import datetime
        import json

        from deisctl.localfiles import Unwritable, write_atomic

        if not cluster_id or seq <= 0:
            return
        data = self._load()
        name = f"{cluster_id:x}:{prefix}"
        kept = data.get(name)
        if isinstance(kept, dict) and isinstance(kept.get("seq"), int) and kept["seq"] >= seq:
            return
        data[name] = {"seq": seq, "hash": hash_,
                      "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        try:
            os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
            write_atomic(self.path, json.dumps(data, sort_keys=True, indent=1) + "\n", private=True)
        except (OSError, Unwritable):
            pass  # best-effort (the module's docstring)


def default_path(env) -> str:
    """$XDG_STATE_HOME/deisctl/audit-anchors.json (~/.local/state/... without it)."""
    from deisctl.localfiles import expand_user

    state = env.get("XDG_STATE_HOME") or expand_user("~/.local/state", env)
    return os.path.join(state, "deisctl", "audit-anchors.json")
