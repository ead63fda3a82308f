"""Settings documents: reading and validating what `config apply` / `config diff` are given.

A document is a mapping ``{component: {key: value}}``; nested keys are slash paths
(``auth/ldap/bind/dn``). Every scalar is taken as the exact text written: ``workers: 4``
stores ``4`` and ``registrationEnabled: False`` stores ``False`` (YAML's booleans and
numbers are not interpreted, so what is stored is what the file says).

File-valued keys (``platform/sshPrivateKey``, ``router/sslCert``, ``router/sslKey``,
``router/sslDhparam``): a plain string is the *stored content* (what ``export`` writes:
the PEM text for the router keys, its base64 for ``sshPrivateKey``); to load a local file
as ``config set`` does, write ``{file: PATH}`` (``~`` expanded, relative to the document).

``export`` masks secrets as ``********`` unless ``--show-secrets``; ``apply`` and ``diff``
refuse a masked value (it would overwrite the secret with asterisks) unless
``--keep-masked``, which leaves those keys as they are in etcd.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any, Iterable, Mapping, Optional

from deisctl import keys as keyspec
from deisctl import schema
from deisctl.errors import UsageError, first_few
from deisctl.keys import MASK, require_utf8
from deisctl.limits import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_DEPTH, MAX_VALUE_BYTES, too_large
from deisctl.localfiles import Unreadable, expand_user, read_bounded

# -- reading a document ---------------------------------------------------------------


def _load_yaml(text: str, source: str):
    """YAML with every scalar as the text written (no bool/int/null guessing), duplicate keys
    refused. libyaml composes the node tree (fast); the walk below builds plain values."""
    import yaml

    class Loader(getattr(yaml, "CBaseLoader", yaml.BaseLoader)):  # type: ignore[misc]
        def resolve(self, kind, value, implicit):  # tags are not used: skip resolving each node
            return ""

    loader = Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None
    scalar, mapping = yaml.ScalarNode, yaml.MappingNode
    seen: set = set()

    def build(node, depth=0):
        # An alias is the anchored node object met again: refused, so that a few hundred bytes
        # cannot expand into gigabytes (a "billion laughs" document).
        if id(node) in seen:
            raise UsageError(f"{source}, line {node.start_mark.line + 1}: YAML aliases (*name) are not allowed "
                             "in settings documents")
        seen.add(id(node))
        if isinstance(node, scalar):
            return node.value
        if depth > MAX_DOCUMENT_DEPTH:
            raise UsageError(f"{source}: nested too deeply")
        if isinstance(node, mapping):
            result = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, scalar):
                    raise UsageError(f"{source}, line {key_node.start_mark.line + 1}: keys must be plain text")
                key = key_node.value
                if key in result:
                    raise UsageError(f"{source}, line {key_node.start_mark.line + 1}: duplicate key {key!r}")
                result[key] = build(value_node, depth + 1)
            return result
        return [build(item, depth + 1) for item in node.value]

    return build(node)


def _from_json(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _from_json(v, f"{where}/{k}" if where else k) for k, v in value.items()}
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None or isinstance(value, (str, list)):
        return value
    raise UsageError(f"{where}: write the value as a JSON string (e.g. \"{value}\") so that its exact text is stored")


def parse_document(text: str, source: str) -> dict:
    """The document's raw mapping (JSON or YAML; scalars as text)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        import json

        def no_duplicates(pairs):
            seen = {}
            for k, v in pairs:
                if k in seen:
                    raise UsageError(f"{source}: duplicate key {k!r}")
                seen[k] = v
            return seen

        try:
            return _from_json(json.loads(text, object_pairs_hook=no_duplicates), "")
        except json.JSONDecodeError:
            pass  # YAML flow style, perhaps: let the YAML parser say what is wrong
    import yaml

    try:
        data = _load_yaml(text, source)
    except yaml.MarkedYAMLError as exc:  # position and reason only: never the file's content
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UsageError(f"{source} is not valid YAML or JSON{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{source} is not valid YAML or JSON: {type(exc).__name__}") from None
    return data


class Entry:
    """One key of the document, checked and resolved to the text to store."""

    __slots__ = ("component", "key", "value", "masked")

    def __init__(self, component: str, key: str, value: Optional[str], masked: bool = False):
        self.component, self.key, self.value, self.masked = component, key, value, masked


class Document:
    """A validated document: components (in file order) and their entries."""

    def __init__(self, source: str):
        self.source = source
        self.components: dict[str, dict[str, Entry]] = {}
        self.warnings: list[str] = []

    def entries(self) -> Iterable[Entry]:
        for entries in self.components.values():
            yield from entries.values()


def content_of_file_key(component: str, key: str, spec, value: str) -> str:
    """A plain string for a file-valued key is the stored content: check it as such."""
    name = f"{component}/{key}"
    hint = f"to read a local file instead, write {key}: {{file: PATH}}"
    if spec.file == "base64":
        try:
            decoded = base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise UsageError(f"{name}: not base64 (the stored form of this key); {hint}") from None
        if spec.validate and (problem := spec.validate(decoded)):
            raise UsageError(f"{name}: the base64 content decodes to something else: {problem}; {hint}")
        return value
    if spec.validate and (problem := spec.validate(value)):
        raise UsageError(f"{name}: {problem}; {hint}")
    return value


def _local_file(name: str, given: str, base_dir: str, any_file: bool, env: Mapping[str, str]) -> str:
    """{file: PATH} relative to the document's folder, and inside it unless any_file: a document
    from a pull request must not make apply read (and upload) ~/.ssh/id_ed25519 or /etc/..."""
    expanded = expand_user(given, env)
    path = os.path.join(base_dir, expanded)
    if any_file:
        return path
    folder = os.path.realpath(base_dir)
    real = os.path.realpath(path)
    if os.path.isabs(expanded) or os.path.commonpath([folder, real]) != folder:
        raise UsageError(f"{name}: {{file: {given}}} is outside the document's folder {folder}",
                         hint="move the file next to the document, or pass --allow-any-file")
    return path


def _text_of_file(name: str, given: str, path: str) -> str:
    """{file: PATH} of a plain key: the file's UTF-8 text without its final newlines (as
    `$(cat PATH)` gives), a regular file of at most what etcd takes in one value."""
    try:
        data = read_bounded(path, MAX_VALUE_BYTES)
    except Unreadable as exc:
        raise UsageError(f"{name}: cannot read {{file: {given}}}: {exc}") from None
    if len(data) > MAX_VALUE_BYTES:
        raise UsageError(too_large(name, os.path.getsize(path)))
    try:
        return data.decode("utf-8").rstrip("\n")
    except UnicodeDecodeError:
        raise UsageError(f"{name}: {{file: {given}}} is not UTF-8 text") from None


def _check_entry(component: str, key: str, raw: Any, doc: Document, base_dir: str, strict: bool,
                 keep_masked: bool, any_file: bool, env: Mapping[str, str]) -> Entry:
    require_utf8(key, "a key")
    keyspec.validate_key(key)
    name = f"{component}/{key}"
    spec = schema.key_spec(component, key)
    if isinstance(raw, dict):
        if len(raw) != 1 or next(iter(raw)) not in ("file", "env") or not isinstance(next(iter(raw.values())), str):
            raise UsageError(f"{name}: a value is a string, {{file: PATH}} or {{env: NAME}}; write nested keys as "
                             f"slash paths ({key}/sub/key: value)")
        ((kind, given),) = raw.items()
        if kind == "file":
            path = _local_file(name, given, base_dir, any_file, env)
            if spec is not None and spec.file:  # the file as this key stores it (as `config set` reads it)
                checked = schema.check(component, key, path, strict=strict, env=env)
                doc.warnings.extend(checked.warnings)
                return Entry(component, key, checked.value)
            raw = _text_of_file(name, given, path)
        else:
            raw = env.get(given)
            if raw is None:
                raise UsageError(f"{name}: {{env: {given}}}: the environment variable {given} is not set")
    if isinstance(raw, list):
        raise UsageError(f"{name}: values are strings, not lists")
    if raw is None:
        raise UsageError(f"{name}: no value", hint="omit the key; with --prune, that deletes it")
    value = require_utf8(str(raw), f"the value of {name}")
    if value == "":
        raise UsageError(f"{name}: empty value", hint="omit the key; with --prune, that deletes it")
    if value == MASK:  # a masked export: any key (a value holding a private key is masked too)
        if keep_masked:
            return Entry(component, key, None, masked=True)
        raise UsageError(f"{name} is masked ({MASK}): applying it would overwrite the secret with asterisks",
                         hint="export with --show-secrets, drop the key, or pass --keep-masked to leave it as it is")
    if spec is not None and spec.file:
        schema.check_size(name, value)
        return Entry(component, key, content_of_file_key(component, key, spec, value))
    checked = schema.check(component, key, value, strict=strict)
    doc.warnings.extend(checked.warnings)
    return Entry(component, key, checked.value)


def _read_document(path: str, stdin, env: Mapping[str, str]) -> tuple[str, str, str]:
    """(text, source name, folder for {file:} paths): a regular file or stdin, at most
    MAX_DOCUMENT_BYTES, UTF-8."""
    if path == "-":
        source, base_dir = "standard input", os.getcwd()
        reader = getattr(stdin, "buffer", stdin)
        data = reader.read(MAX_DOCUMENT_BYTES + 1)
    else:
        source = path
        expanded = expand_user(path, env)
        base_dir = os.path.dirname(os.path.abspath(expanded))
        try:
            data = read_bounded(expanded, MAX_DOCUMENT_BYTES)
        except Unreadable as exc:
            raise UsageError(f"cannot read {path}: {exc}") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise UsageError(f"{source} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    if isinstance(data, str):  # a text stream without a byte buffer
        return require_utf8(data, source), source, base_dir
    try:
        return data.decode("utf-8"), source, base_dir
    except UnicodeDecodeError:
        raise UsageError(f"{source} is not UTF-8 text") from None


def read_text(path: str, env: Mapping[str, str] = {}) -> str:
    """A document file's text, with load's checks (a regular file, at most MAX_DOCUMENT_BYTES,
    UTF-8), not parsed: what `config edit` reads back from the editor."""
    return _read_document(path, None, env)[0]


def load(path: str, *, stdin=None, env: Mapping[str, str] = {}, strict: bool = False, keep_masked: bool = False,
         any_file: bool = False) -> Document:
    """Read and validate a whole document (`-`: from stdin): any invalid entry is a UsageError
    naming them all. any_file: {file: PATH} may point outside the document's folder."""
    text, source, base_dir = _read_document(path, stdin, env)
    return build(parse_document(text, source), source, base_dir, env=env, strict=strict, keep_masked=keep_masked,
                 any_file=any_file)


def from_mapping(data: Mapping, *, source: str, base_dir: str, env: Mapping[str, str] = {}, strict: bool = False,
                 keep_masked: bool = False, any_file: bool = False) -> Document:
    """A document given as a mapping (deisctl.api, the Ansible collection): the same rules as a
    file's; scalars are stored as their text (True as True), {file: PATH} is relative to base_dir."""
    return build(_from_json(data, ""), source, base_dir, env=env, strict=strict, keep_masked=keep_masked,
                 any_file=any_file)


def build(data: Any, source: str, base_dir: str, *, env: Mapping[str, str], strict: bool, keep_masked: bool,
          any_file: bool) -> Document:
    """Validate a whole parsed document: any invalid entry is a UsageError naming them all."""
    if not isinstance(data, dict) or not data:
        raise UsageError(f"{source}: expected a mapping of component to settings, like "
                         "'controller: {registrationMode: admin_only}'")
    doc = Document(source)
    problems: list[str] = []
    for component, settings in data.items():
        try:
            keyspec.validate_component(component)
        except UsageError as exc:
            problems.append(exc.message)
            continue
        if settings in ("", None):
            settings = {}
        if not isinstance(settings, dict):
            problems.append(f"{component}: expected a mapping of key to value")
            continue
        entries = doc.components.setdefault(component, {})
        for key, raw in settings.items():
            try:
                entries[key] = _check_entry(component, key, raw, doc, base_dir, strict, keep_masked, any_file, env)
            except UsageError as exc:
                message = exc.message if exc.message.startswith(component) else f"{component}/{key}: {exc.message}"
                problems.append(message + (f" ({exc.hint})" if exc.hint else ""))
    if problems:
        noun = "entry" if len(problems) == 1 else "entries"
        raise UsageError(f"{source}: {len(problems)} invalid {noun}, nothing was written: {first_few(problems, '; ')}")
    return doc
