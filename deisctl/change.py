"""One change of one key: what `set`, `apply`, `diff`, `rollback` and `watch` report."""

from __future__ import annotations

from typing import NamedTuple, Optional


class Change(NamedTuple):
    component: str
    key: str  # relative to the component
    old: Optional[str]  # None: the key did not exist
    new: Optional[str]  # None: the key is (to be) deleted
    full_key: str = ""
    mod_revision: int = 0  # the key's revision when read (0: absent); guards the write
    old_known: bool = True  # False: a write's reply was lost and `old` could not be established

    @property
    def name(self) -> str:
        return f"{self.component}/{self.key}"

    @property
    def action(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed" if self.old != self.new else "unchanged"

    @property
    def changed(self) -> Optional[bool]:
        return self.old != self.new if self.old_known else None
