"""The one YAML dumper: `-o yaml`, `config export`, the editor's document, and the config file
when `context use` has to rewrite it. Below every layer (contexts.py uses it too); yaml is
imported only when something is dumped (start-up stays lean)."""

from __future__ import annotations

from typing import Any


def dump_yaml(data: Any, header: str = "") -> str:
    """The one YAML dumper (-o yaml and `config export`): block style for multi-line text when YAML
    can keep it exact, keys in the order given, no line folding."""
    import yaml

    base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(base):  # type: ignore[misc, valid-type]
        pass

    def text(dumper, value: str):
        exact = "\n" in value and not any(line != line.rstrip() for line in value.split("\n"))
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if exact else None)

    Dumper.add_representer(str, text)
    return header + yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True,
                              default_flow_style=False, width=1 << 20)
