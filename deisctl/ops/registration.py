"""`deisctl registration status|enable|disable|admin-only`: who may register, on every Deis version.

Deis < 1.6 reads controller/registrationEnabled (a Python boolean rendered into its settings);
Deis >= 1.6 reads only controller/registrationMode (enabled|disabled|admin_only). Setting one of
them alone changes nothing on the other versions, so these commands write both, atomically.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

from deisctl.ops.access import open_store

LEGACY, MODE = "registrationEnabled", "registrationMode"
# command -> (registrationEnabled, registrationMode)
ACTIONS = {"enable": ("1", "enabled"), "disable": ("0", "disabled"), "admin-only": ("0", "admin_only")}
_OPEN, _CLOSED = ("1", "True"), ("0", "False")


class Registration(NamedTuple):
    legacy_value: Optional[str]  # controller/registrationEnabled as stored (None: not set)
    mode_value: Optional[str]  # controller/registrationMode as stored (None: not set)
    changed: Optional[bool] = None  # for enable/disable/admin-only: whether a key was written
    dry_run: bool = False

    @property
    def legacy(self) -> str:
        """What Deis < 1.6 does: registration 'enabled' or 'disabled' (unset: enabled, its default)."""
        return "disabled" if self.legacy_value in _CLOSED else "enabled"

    @property
    def mode(self) -> str:
        """What Deis >= 1.6 does (unset: enabled, its default)."""
        return self.mode_value or "enabled"

    @property
    def consistent(self) -> bool:
        return (self.legacy == "enabled") == (self.mode == "enabled")


def contradiction(legacy_value: Optional[str], mode_value: Optional[str]) -> Optional[str]:
    """A warning when the two keys disagree, naming the command that does what was meant."""
    state = Registration(legacy_value, mode_value)
    if state.consistent:
        return None
    if state.mode == "enabled":
        return (f"controller/{LEGACY}={legacy_value} closes registration on Deis < 1.6 only: Deis >= 1.6 reads "
                f"controller/{MODE} ({mode_value or 'unset: enabled'}) and keeps registration OPEN; "
                "'deisctl registration disable' (or admin-only) sets both")
    return (f"controller/{MODE}={state.mode} closes registration on Deis >= 1.6 only: Deis < 1.6 reads "
            f"controller/{LEGACY} ({legacy_value or 'unset: True'}) and keeps registration OPEN; "
            f"'deisctl registration {'disable' if state.mode == 'disabled' else 'admin-only'}' sets both")


def warn_if_contradicting(inv, component: str, values: dict, stored_mode: Optional[str]) -> None:
    """The seed's own command, `set registrationEnabled=0`, does nothing on Deis >= 1.6 when
    registrationMode says otherwise: when `values` (about to be written to component) set
    registrationEnabled without registrationMode, warn against the stored mode, naming the
    command that sets both (config set and config apply)."""
    if component != "controller" or values.get(LEGACY) is None or MODE in values:
        return
    message = contradiction(values[LEGACY], stored_mode)
    if message:
        inv.warn(message)


def status(inv) -> Registration:
    layout = inv.settings.layout
    keys = [layout.key("controller", LEGACY), layout.key("controller", MODE)]
    with open_store(inv) as store:
        found = store.get_many(keys)
    legacy, mode = (found[k].text if k in found else None for k in keys)
    return Registration(legacy, mode)


def set_registration(inv, action: str, *, dry_run: bool = False) -> Registration:
    """Write both keys in one transaction (only when they differ)."""
    legacy, mode = ACTIONS[action]
    layout = inv.settings.layout
    keys = [layout.key("controller", LEGACY), layout.key("controller", MODE)]
    with open_store(inv) as store:
        found = store.get_many(keys)
        before = [found[k].text if k in found else None for k in keys]
        changed = before != [legacy, mode]
        if changed and not dry_run:
            store.put_many(list(zip(keys, (legacy, mode))))
    return Registration(legacy, mode, changed, dry_run)
