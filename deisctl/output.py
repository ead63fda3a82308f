"""Renderers: a command builds a result, this module prints it as text, JSON or YAML.

Text is for people and shell substitution; JSON and YAML are stable shapes for
programs. Messages for people (warnings, errors) always go to stderr. Plain
classes rather than dataclasses: this module is on every command's start-up path.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable, Optional

from deisctl.keys import shown


def warn(message: str) -> None:
    note(f"warning: {message}")


def note(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _yaml_dump(data: Any) -> str:
    import yaml  # only when asked for: keeps start-up lean

    class Dumper(yaml.SafeDumper):
        pass

    def str_presenter(dumper, value: str):
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, str_presenter)
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False)


def emit(result: "Result", fmt: str) -> None:
    if fmt == "json":
        import json

        text = json.dumps(result.data(), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "yaml":
        text = _yaml_dump(result.data())
    else:
        text = "".join(line + "\n" for line in result.lines())
    sys.stdout.write(text)
    sys.stdout.flush()


class Result:
    def data(self) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def lines(self) -> Iterable[str]:  # pragma: no cover - interface
        raise NotImplementedError


class Change:
    __slots__ = ("key", "value", "previous")

    def __init__(self, key: str, value: Optional[str], previous: Optional[str]):
        self.key, self.value, self.previous = key, value, previous

    @property
    def changed(self) -> bool:
        return self.value != self.previous


class SetResult(Result):
    def __init__(self, changes: list[Change], show_secrets: bool = False):
        self.changes, self.show_secrets = changes, show_secrets

    def data(self) -> Any:
        return [
            {
                "key": c.key,
                "value": shown(c.key, c.value, self.show_secrets),
                "previous": shown(c.key, c.previous, self.show_secrets),
                "changed": c.changed,
            }
            for c in self.changes
        ]

    def lines(self) -> Iterable[str]:
        for c in self.changes:
            yield f"{c.key}={shown(c.key, c.value, self.show_secrets)}"


class ValuesResult(Result):
    """Values of the keys asked for, in the order asked: raw in text mode."""

    def __init__(self, values: dict[str, bytes]):
        self.values = values

    def data(self) -> Any:
        return {k: v.decode("utf-8", "backslashreplace") for k, v in self.values.items()}

    def lines(self) -> Iterable[str]:  # unused: raw bytes are written by write_raw
        return (v.decode("utf-8", "backslashreplace") for v in self.values.values())

    def write_raw(self) -> None:
        out = sys.stdout
        buffer = getattr(out, "buffer", None)
        for value in self.values.values():
            if buffer is not None:
                out.flush()
                buffer.write(value + b"\n")
                buffer.flush()
            else:
                out.write(value.decode("utf-8", "backslashreplace") + "\n")


class ListingResult(Result):
    """Every key of a component, sorted, relative to the component."""

    def __init__(self, items: dict[str, str], show_secrets: bool = False):
        self.items, self.show_secrets = items, show_secrets

    def data(self) -> Any:
        return {k: shown(k, v, self.show_secrets) for k, v in self.items.items()}

    def lines(self) -> Iterable[str]:
        for key, value in self.data().items():
            yield f"{key}={value}"


class RemovedResult(Result):
    def __init__(self, keys: list[str]):
        self.keys = keys

    def data(self) -> Any:
        return list(self.keys)

    def lines(self) -> Iterable[str]:
        return iter(self.keys)
