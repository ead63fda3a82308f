"""Known Deis components and keys: their meaning and a validator for each.

An unknown key of a known component is still written (Deis images read keys this
table may not list), but with a warning and a did-you-mean suggestion; --strict
makes that an error. Unknown components are not checked.
"""

from __future__ import annotations

import base64
import difflib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from deisctl.commands import NEW_KEY
from deisctl.errors import UsageError
from deisctl.keys import holds_private_key, is_secret

Validator = Callable[[str], Optional[str]]  # returns an error message, or None when valid


def described(text: str):
    """Attach what a validator accepts, in words (`deisctl config schema` shows it)."""
    def mark(check: Validator) -> Validator:
        check.accepts = text  # type: ignore[attr-defined]
        return check

    return mark


def one_of(*allowed: str, note: str = "") -> Validator:
    @described("|".join(allowed))
    def check(value: str) -> Optional[str]:
        if value in allowed:
            return None
        msg = f"must be one of {', '.join(allowed)}"
        return f"{msg}; {note}" if note else msg

    check.allowed = allowed  # type: ignore[attr-defined]
    return check


def allowed_values(spec: "KeySpec") -> tuple:
    """The values a key accepts when they are a fixed list (enumerations, booleans), else ()."""
    return getattr(spec.validate, "allowed", ())


@described("a positive integer")
def positive_int(value: str) -> Optional[str]:
    if re.fullmatch(r"[0-9]+", value) and int(value) > 0:
        return None
    return "must be a positive integer"


@described("a TCP port (1-65535)")
def port_number(value: str) -> Optional[str]:
    if re.fullmatch(r"[0-9]+", value) and 0 < int(value) < 65536:
        return None
    return "must be a TCP port number (1-65535)"


_LABEL_RE = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


@described("a DNS name")
def dns_name(value: str) -> Optional[str]:
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    if len(name) <= 253 and len(labels) >= 2 and all(_LABEL_RE.match(label) for label in labels):
        return None
    return "must be a DNS name such as example.com"


@described("an IP address or host name")
def host_address(value: str) -> Optional[str]:
    try:
        ipaddress.ip_address(value)
        return None
    except ValueError:
        pass
    name = value[:-1] if value.endswith(".") else value
    if all(_LABEL_RE.match(label) for label in name.split(".")):
        return None
    return "must be an IP address or a host name"


def pem(marker: str) -> Validator:
    @described(f"a PEM {marker.lower()} file")
    def check(value: str) -> Optional[str]:
        if marker == "PRIVATE KEY":
            found = holds_private_key(value)
        else:
            found = f"-----BEGIN {marker}" in value
            if found and holds_private_key(value):
                # A combined cert+key file would store the key under a name that is not secret.
                return f"the file holds a PRIVATE KEY besides the {marker.lower()}: give the key its own file"
        if found:
            return None
        return f"file content is not a PEM {marker.lower()} (no '-----BEGIN {marker}' line)"

    return check


CONTROLLER_BOOL = one_of(
    "0",
    "1",
    "True",
    "False",
    note="the controller renders this value into Python source, so 'true'/'false' would crash it",
)


@dataclass(frozen=True)
class KeySpec:
    description: str
    validate: Optional[Validator] = None
    # "base64": the value given is a local path whose content is stored base64-encoded;
    # "raw": the value given is a local path whose content is stored as is.
    file: Optional[str] = None
    deis: str = "all"  # the Deis versions whose components read the key
    published: bool = False  # written by the component itself (heartbeat, generated secret)

    @property
    def accepts(self) -> str:
        return getattr(self.validate, "accepts", "any text")


@dataclass(frozen=True)
class ComponentSpec:
    description: str
    keys: dict[str, KeySpec] = field(default_factory=dict)
    # Runs on every node, each publishing its own heartbeat under hosts/<HOST>/ (Deis's routers),
    # where the others publish host and port once.
    per_node: bool = False


def _image() -> KeySpec:
    return KeySpec("Docker image used for the component's unit (e.g. myaccount/myimage:latest)")


_LDAP = {
    "auth/ldap/endpoint": KeySpec("LDAP server URL (ldap:// or ldaps://)"),
    "auth/ldap/bind/dn": KeySpec("DN the controller binds with to search LDAP"),
    "auth/ldap/bind/password": KeySpec("password for the LDAP bind DN"),
    "auth/ldap/user/basedn": KeySpec("base DN for user searches"),
    "auth/ldap/user/filter": KeySpec("attribute that holds the username (e.g. uid)"),
    "auth/ldap/group/basedn": KeySpec("base DN for group searches"),
    "auth/ldap/group/filter": KeySpec("filter for group searches"),
    "auth/ldap/group/type": KeySpec("LDAP group type"),
}

COMPONENTS: dict[str, ComponentSpec] = {
    "controller": ComponentSpec(
        "the Deis API server (Django)",
        {
            "registrationEnabled": KeySpec("allow new users to register (legacy switch; see 'deisctl registration')",
                                           CONTROLLER_BOOL, deis="< 1.6"),
            "registrationMode": KeySpec(
                "who may register new users (see 'deisctl registration')",
                one_of("enabled", "disabled", "admin_only"), deis=">= 1.6",
            ),
            "webEnabled": KeySpec("serve the controller's web UI", CONTROLLER_BOOL),
            "workers": KeySpec("number of gunicorn worker processes", positive_int),
            "unitHostname": KeySpec(
                "how application container hostnames are set",
                one_of("default", "application", "server"),
            ),
            "host": KeySpec("address of the node running the controller (heartbeat, set by the controller)",
                            host_address, published=True),
            "port": KeySpec("port of the controller service (set by the controller)", port_number, published=True),
            "protocol": KeySpec("protocol of the controller service", one_of("http", "https")),
            "secretKey": KeySpec("Django SECRET_KEY (set by the controller)", published=True),
            "builderKey": KeySpec("key the builder authenticates to the controller with", published=True),
            "image": _image(),
            **_LDAP,
        },
    ),
    "platform": ComponentSpec(
        "cluster-wide settings",
        {
            "domain": KeySpec("the cluster's base domain for applications", dns_name),
            "sshPrivateKey": KeySpec(
                "private SSH key the platform uses to reach its nodes (a local path; stored base64)",
                pem("PRIVATE KEY"),
                file="base64",
            ),
            "enablePlacementOptions": KeySpec(
                "schedule units with placement metadata", one_of("true", "false")
            ),
            "version": KeySpec("platform version tag of the Deis components"),
        },
    ),
    "router": ComponentSpec(
        "the nginx front router",
        {
            "sslCert": KeySpec("platform TLS certificate (a local path; stored as is)", pem("CERTIFICATE"), file="raw"),
            "sslKey": KeySpec("platform TLS private key (a local path; stored as is)", pem("PRIVATE KEY"), file="raw"),
            "sslDhparam": KeySpec("Diffie-Hellman parameters (a local path; stored as is)", pem("DH PARAMETERS"), file="raw"),
            "bodySize": KeySpec("nginx client_max_body_size (e.g. 1m)"),
            "enforceHTTPS": KeySpec("redirect HTTP to HTTPS", one_of("true", "false")),
            "workerProcesses": KeySpec("nginx worker processes"),
            "maxWorkerConnections": KeySpec("nginx worker_connections", positive_int),
            "image": _image(),
        },
        per_node=True,
    ),
    **{
        name: ComponentSpec(desc, {
            "image": _image(),
            "host": KeySpec(f"host of the {name} (set by it)", host_address, published=True),
            "port": KeySpec(f"port of the {name} (set by it)", port_number, published=True),
        })
        for name, desc in {
            "builder": "the git push receiver and build runner",
            "registry": "the Docker image registry",
            "database": "the controller's PostgreSQL database",
            "logger": "the log aggregator",
            "cache": "the controller's cache",
        }.items()
    },
}


@dataclass
class Checked:
    """A value ready to be stored, with the warnings checking it produced."""

    key: str
    value: str
    warnings: list[str]


def suggest(component: str, key: str) -> Optional[str]:
    spec = COMPONENTS.get(component)
    if spec is None:
        return None
    matches = difflib.get_close_matches(key, list(spec.keys), n=1, cutoff=0.6)
    if not matches:
        lowered = {k.lower(): k for k in spec.keys}
        return lowered.get(key.lower())
    return matches[0]


def key_spec(component: str, key: str) -> Optional[KeySpec]:
    spec = COMPONENTS.get(component)
    return spec.keys.get(key) if spec else None


def publishes_heartbeat(component: str) -> bool:
    """The component publishes where it runs while it runs (its host key, or one per node): when
    none is there, it is not running."""
    spec = COMPONENTS.get(component)
    return bool(spec and (spec.per_node or (spec.keys.get("host") and spec.keys["host"].published)))


def read_file(path: str, key: str) -> bytes:
    """A local file (path already expanded) for a file-valued key: a regular file (a FIFO or
    /dev/zero would hang or never end), read up to what etcd accepts in one request."""
    from deisctl.limits import MAX_VALUE_BYTES, too_large
    from deisctl.localfiles import Unreadable, read_bounded

    try:
        data = read_bounded(path, MAX_VALUE_BYTES)
    except Unreadable as exc:
        reason = str(exc)
        if reason == "not a regular file":
            raise UsageError(f"{key}: {path!r} is not a regular file") from None
        raise UsageError(f"{key}: cannot read file {path!r}: {reason}") from None
    if len(data) > MAX_VALUE_BYTES:
        raise UsageError(f"{key}: file {path!r} is too large",
                         hint=too_large(key, os.path.getsize(path)))
    if not data.strip():
        raise UsageError(f"{key}: file {path!r} is empty")
    return data


def check(component: str, key: str, value: str, *, strict: bool, env: Mapping[str, str] = {}) -> Checked:
    """Validate one pair against the schema and resolve file-valued keys (the value is a path;
    ~ is env's HOME)."""
    checked = _check(component, key, value, strict=strict, env=env)
    check_size(f"{component}/{key}", checked.value)
    return checked


def check_size(name: str, value: str) -> None:
    """Refuse, before sending, a value etcd would refuse in any request."""
    from deisctl.limits import MAX_VALUE_BYTES, too_large

    if len(value) * 4 > MAX_VALUE_BYTES and len(value.encode("utf-8")) > MAX_VALUE_BYTES:  # cheap test first
        raise UsageError(too_large(name, len(value.encode("utf-8"))))


def _check(component: str, key: str, value: str, *, strict: bool, env: Mapping[str, str]) -> Checked:
    warnings: list[str] = []
    spec = key_spec(component, key)
    if spec is None:
        if component in COMPONENTS:
            close = suggest(component, key)
            msg = f"{component}/{key} is not a known {component} setting"
            if close:
                msg += f"; did you mean {close!r}?"
            if strict:
                from deisctl.typos import near_miss

                typo = near_miss(key, COMPONENTS[component].keys)  # then the write needs --new-key too
                raise UsageError(msg, hint=f"drop --strict and rerun with {NEW_KEY} to write it anyway" if typo
                                 else "drop --strict to write it anyway")
            warnings.append(msg)
        return Checked(key, value, warnings)

    if spec.file:
        from deisctl.localfiles import expand_user

        data = read_file(expand_user(value, env), f"{component}/{key}")
        text = data.decode("utf-8", errors="replace")
        if spec.validate and (problem := spec.validate(text)):
            raise UsageError(f"{component}/{key}: {problem}")
        if spec.file == "base64":
            stored = base64.b64encode(data).decode("ascii")
        else:
            try:
                stored = data.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{component}/{key}: file {value!r} is not UTF-8 text") from None
        return Checked(key, stored, warnings)

    if spec.validate and (problem := spec.validate(value)):
        shown_value = "" if is_secret(key) else f" {value[:60]!r}"
        raise UsageError(f"invalid value{shown_value} for {component}/{key}: {problem}")
    return Checked(key, value, warnings)


def closest_component(component: str) -> Optional[str]:
    """The known component whose name is closest (a did-you-mean for typos)."""
    matches = difflib.get_close_matches(component, list(COMPONENTS), n=1)
    return matches[0] if matches else None


PUBLISHED_NAMES = ("host", "port")  # heartbeat keys every component publishes while it runs


def published(component: str, key: str) -> bool:
    """Written by the component itself about itself (*/host, */port, generated secrets such as
    controller/secretKey): it belongs to the cluster the component runs in."""
    spec = key_spec(component, key)
    return key in PUBLISHED_NAMES or bool(spec and spec.published)


def protected(component: str, key: str) -> bool:
    """Keys `apply --prune` keeps unless named: what components publish themselves (*/host, */port,
    generated secrets such as controller/secretKey) and every secret."""
    return published(component, key) or is_secret(key)
