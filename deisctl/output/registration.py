"""Views of `deisctl registration`."""

from __future__ import annotations

from deisctl.output import View


def registration(result) -> View:
    data = {"mode": result.mode, "legacy": result.legacy, "consistent": result.consistent,
            "keys": {"registrationEnabled": result.legacy_value, "registrationMode": result.mode_value}}
    if result.changed is not None:
        data["changed"] = result.changed
        if result.dry_run:
            data["dry_run"] = True

    def lines():
        def shown(value):
            return "(unset)" if value is None else value

        if result.changed is not None:
            keys = f"(registrationEnabled={result.legacy_value}, registrationMode={result.mode_value})"
            if not result.changed:
                yield f"registration: already {result.mode} {keys}"
            elif result.dry_run:
                yield f"registration: would be {result.mode} {keys} (dry run: nothing written)"
            else:
                yield f"registration: {result.mode} {keys}"
            return
        yield f"Deis < 1.6:  registration {result.legacy:<10} (controller/registrationEnabled={shown(result.legacy_value)})"
        yield f"Deis >= 1.6: registration {result.mode:<10} (controller/registrationMode={shown(result.mode_value)})"
        if not result.consistent:
            open_on = ">= 1.6" if result.mode == "enabled" else "< 1.6"
            yield f"CONTRADICTION: Deis {open_on} keeps registration OPEN"

    return View(data, lines)
