"""Global options, resolved once per invocation: flag > DEISCTL_* environment > context > default.

Click reads the flags; this module applies the environment, the context and the defaults, and
checks the values, so that a bad option fails before any I/O. Nothing here reads the process's
state: the environment and the password prompt are handed in.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple, Optional

from deisctl.errors import UsageError
from deisctl.keys import SEGMENT_RE, Layout

DEFAULT_ENDPOINTS = "http://127.0.0.1:2379"
DEFAULT_PREFIX = "/deis"
DEFAULT_DIAL_TIMEOUT = 2.0
DEFAULT_COMMAND_TIMEOUT = 5.0
OUTPUT_FORMATS = ("text", "json", "yaml")


class Settings(NamedTuple):
    """Resolved global options (immutable; a NamedTuple: it is on every command's start-up path)."""

    endpoints: tuple = (DEFAULT_ENDPOINTS,)
    prefix: str = DEFAULT_PREFIX
    cacert: Optional[str] = None
    cert: Optional[str] = None
    key: Optional[str] = None
    user: Optional[str] = None
    password: Optional[str] = None
    dial_timeout: float = DEFAULT_DIAL_TIMEOUT
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    output: str = "text"
    debug: bool = False
    tunnel: Optional[str] = None  # SSH bastion [USER@]HOST[:PORT]; endpoints are resolved on its side
    context: Optional[str] = None  # named context from the config file
    context_values: Mapping = {}  # that context's settings (deisctl.contexts.value reads them)
    sources: Mapping = {}  # option -> "flag or environment" | "context NAME" | "default"
    audit: bool = True  # a record of each write in its transaction (deisctl.etcd.audit); DEISCTL_AUDIT=off
    # The file of the audit trail's anchors outside etcd (deisctl.anchors); None: none kept.
    # DEISCTL_AUDIT_ANCHORS=FILE or off; by default $XDG_STATE_HOME/deisctl/audit-anchors.json.
    audit_anchors: Optional[str] = None
    actor: Mapping = {}  # who writes, for the records: user, host, etcd_user, command, reason

    def __repr__(self) -> str:
        return f"Settings(endpoints={self.endpoints!r}, prefix={self.prefix!r}, user={self.user!r}, " \
               f"password={'***' if self.password else None}, context={self.context!r})"

    @property
    def layout(self) -> Layout:
        return Layout(self.prefix)


def normalize_prefix(prefix: str) -> str:
    stripped = prefix.rstrip("/")
    if not prefix.startswith("/") or not stripped:
        raise UsageError(f"invalid --prefix {prefix!r}", hint="an absolute key path such as /deis")
    for segment in stripped[1:].split("/"):
        if segment in ("", ".", "..") or not SEGMENT_RE.match(segment):
            raise UsageError(f"invalid --prefix {prefix!r}: bad segment {segment!r}")
    return stripped


def split_endpoints(value: str) -> list[str]:
    endpoints = [part.strip() for part in value.split(",") if part.strip()]
    if not endpoints:
        raise UsageError("--endpoints is empty")
    return endpoints


def positive_seconds(name: str, value) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise UsageError(f"{name} must be a positive number of seconds, got {value!r}")
    return seconds


def split_user(value: str, env: Mapping[str, str], prompt: Optional[Callable[[str], str]]
               ) -> tuple[str, Optional[str]]:
    """`NAME[:PASSWORD]`; without a password use DEISCTL_PASSWORD, else ask (prompt: None when there
    is no terminal to ask on)."""
    name, sep, password = value.partition(":")
    if not name:
        raise UsageError("--user needs a user name")
    if sep:
        return name, password
    if env.get("DEISCTL_PASSWORD"):
        return name, env["DEISCTL_PASSWORD"]
    if prompt is not None:
        return name, prompt(f"etcd password for {name}: ")
    raise UsageError(
        f"no password for etcd user {name!r}",
        hint="set DEISCTL_PASSWORD (or use --user NAME:PASSWORD, visible to other local users in ps)",
    )


# Global options and their environment variables (DEISCTL_<NAME>).
OPTIONS = ("endpoints", "prefix", "cacert", "cert", "key", "user", "dial_timeout", "command_timeout", "output",
           "tunnel", "context", "reason")
AUDIT_OFF = ("off", "0", "false", "no")
AUDIT_ON = ("on", "1", "true", "yes")


def env_name(name: str) -> str:
    """The environment variable of an option: DEISCTL_<NAME>."""
    return "DEISCTL_" + name.upper()


def given(value: Any) -> bool:
    """The one rule of what counts as set, for flags, DEISCTL_* variables and context values
    alike: None and "" are unset (`DEISCTL_PREFIX= deisctl ...` does not mean an empty prefix)."""
    return value is not None and value != ""


def first_given(*values: Any) -> Any:
    """The first value that is given (flag > environment > context, in that order), else None."""
    for value in values:
        if given(value):
            return value
    return None


def flag_or_env(name: str, flags: Mapping[str, Optional[str]], env: Mapping[str, str]) -> Optional[str]:
    """The flag's value, else DEISCTL_<NAME>; None when neither is given."""
    return first_given(flags.get(name), env.get(env_name(name)))


def debug_enabled(flag: Optional[bool], env: Mapping[str, str]) -> bool:
    """--debug (before the command) or DEISCTL_DEBUG: the one source of debug, for the settings
    and for the boundary's tracebacks alike."""
    return bool(flag) or given(env.get("DEISCTL_DEBUG"))


def build(flags: Mapping[str, Optional[str]], env: Mapping[str, str], *, output: Optional[str] = None,
          lenient_context: bool = False, password_prompt: Optional[Callable[[str], str]] = None,
          read_config: bool = True, command: str = "") -> Settings:
    """Resolve every global option: flag > DEISCTL_* environment > context > default.

    `output` is a command's own -o, which wins over the global one; `password_prompt` asks for
    the etcd password (None: nobody to ask); `read_config`: the config file's contexts may fill
    in values (deisctl.api reads it only when a context is named)."""
    from deisctl import contexts  # reads the config file (and imports YAML) only if it exists

    if flags.get("prefix") == "":  # not "unset": an empty root would be the whole keyspace
        raise UsageError("invalid --prefix ''", hint="an absolute key path such as /deis")
    picked = {name: flag_or_env(name, flags, env) for name in OPTIONS}
    if read_config:
        context, values = contexts.resolve(picked["context"], env, lenient=lenient_context)
    else:
        context, values = None, {}
    sources = {}
    for name in OPTIONS:
        if name in ("output", "context", "reason"):
            continue
        if picked[name] is not None:
            sources[name] = "flag or environment"
        elif given(values.get(name)):
            picked[name], sources[name] = values[name], f"context {context}"
        else:
            sources[name] = "default"
    cert, key = picked["cert"], picked["key"]
    if bool(cert) != bool(key):
        raise UsageError("--cert and --key go together (client certificate and its key)")
    user = password = None
    if picked["user"]:
        user, password = split_user(picked["user"], env, password_prompt)
    chosen = output or picked["output"] or "text"
    if chosen.lower() not in OUTPUT_FORMATS:
        raise UsageError(f"unknown output format {chosen!r}", hint="text, json or yaml")
    return Settings(
        endpoints=tuple(split_endpoints(picked["endpoints"] or DEFAULT_ENDPOINTS)),
        prefix=normalize_prefix(DEFAULT_PREFIX if picked["prefix"] is None else picked["prefix"]),
        cacert=picked["cacert"], cert=cert, key=key, user=user, password=password,
        dial_timeout=positive_seconds(
            "--dial-timeout", DEFAULT_DIAL_TIMEOUT if picked["dial_timeout"] is None else picked["dial_timeout"]),
        command_timeout=positive_seconds(
            "--command-timeout",
            DEFAULT_COMMAND_TIMEOUT if picked["command_timeout"] is None else picked["command_timeout"]),
        output=chosen.lower(),
        debug=debug_enabled(flags.get("debug"), env),
        tunnel=picked["tunnel"] or None,
        context=context or None,
        context_values=values,
        sources=sources,
        audit=_audit_enabled(env),
        audit_anchors=_audit_anchors(env),
        actor=actor(env, user, command, picked["reason"]),
    )


def _audit_enabled(env: Mapping[str, str]) -> bool:
    value = env.get("DEISCTL_AUDIT", "")
    if not given(value) or value.lower() in AUDIT_ON:
        return True
    if value.lower() in AUDIT_OFF:
        return False
    raise UsageError(f"invalid DEISCTL_AUDIT {value!r}", hint="off turns the audit records off; on (the default)")


def _audit_anchors(env: Mapping[str, str]) -> Optional[str]:
    """Where this machine keeps the audit trail's anchors (DEISCTL_AUDIT_ANCHORS: a file, or off).
    Retention is not the environment's to decide: it is the cluster's (`deisctl audit policy`)."""
    value = env.get("DEISCTL_AUDIT_ANCHORS", "")
    if given(value) and value.lower() in AUDIT_OFF:
        return None
    if given(value):
        from deisctl.localfiles import expand_user

        return expand_user(value, env)
    from deisctl.anchors import default_path

    return default_path(env)


def actor(env: Mapping[str, str], etcd_user: Optional[str], command: str, reason: Optional[str]) -> dict:
    """Who writes, for the audit records: the local user (LOGNAME/USER, else the account), the
    etcd user, the command (without values), the reason (the host is the trail's to add, when
    a record is written)."""
    user = env.get("LOGNAME") or env.get("USER")
    if not user:
        import os
        import pwd

        try:
            user = pwd.getpwuid(os.getuid()).pw_name
        except KeyError:
            user = str(os.getuid())
    return {"user": user, "etcd_user": etcd_user, "command": command, "reason": reason or None}
