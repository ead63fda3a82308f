"""Global options, resolved once per invocation: flag > environment > default.

Typer reads each flag and its DEISCTL_<NAME> variable; this module applies the
defaults and checks the values, so that a bad option fails before any I/O.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping, Optional

from deisctl.errors import UsageError
from deisctl.keys import SEGMENT_RE

DEFAULT_ENDPOINTS = "http://127.0.0.1:2379"
DEFAULT_PREFIX = "/deis"
DEFAULT_DIAL_TIMEOUT = 2.0
DEFAULT_COMMAND_TIMEOUT = 5.0
OUTPUT_FORMATS = ("text", "json", "yaml")


class Settings:
    """Resolved global options. A plain class: it is on every command's start-up path."""

    def __init__(self, *, endpoints: Optional[list[str]] = None, prefix: str = DEFAULT_PREFIX,
                 cacert: Optional[str] = None, cert: Optional[str] = None, key: Optional[str] = None,
                 user: Optional[str] = None, password: Optional[str] = None,
                 dial_timeout: float = DEFAULT_DIAL_TIMEOUT, command_timeout: float = DEFAULT_COMMAND_TIMEOUT,
                 output: str = "text", debug: bool = False, tunnel: Optional[str] = None,
                 context: Optional[str] = None):
        self.endpoints = endpoints or [DEFAULT_ENDPOINTS]
        self.prefix = prefix
        self.cacert, self.cert, self.key = cacert, cert, key
        self.user, self.password = user, password
        self.dial_timeout, self.command_timeout = dial_timeout, command_timeout
        self.output, self.debug = output, debug
        self.tunnel = tunnel  # SSH bastion HOST[:PORT]; endpoints are resolved on its side
        self.context = context  # named context from the config file
        self.context_values: dict = {}  # that context's settings (deisctl.contexts.value reads them)
        self.sources: dict = {}  # option -> "flag or environment" | "context NAME" | "default"
        self.env: Mapping[str, str] = {}  # the invocation's environment (DEISCTL_SSH_* for --tunnel)

    def __repr__(self) -> str:
        shown = {k: ("***" if k == "password" and v else v) for k, v in vars(self).items()}
        return f"Settings({shown})"

    def component_prefix(self, component: str) -> str:
        return f"{self.prefix}/{component}/"


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


def split_user(value: str, env: dict) -> tuple[str, Optional[str]]:
    """`NAME[:PASSWORD]`; without a password use DEISCTL_PASSWORD, else prompt on a terminal."""
    name, sep, password = value.partition(":")
    if not name:
        raise UsageError("--user needs a user name")
    if sep:
        return name, password
    if env.get("DEISCTL_PASSWORD"):
        return name, env["DEISCTL_PASSWORD"]
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return name, getpass.getpass(f"etcd password for {name}: ")
    raise UsageError(
        f"no password for etcd user {name!r}",
        hint="use --user NAME:PASSWORD or set DEISCTL_PASSWORD",
    )


# Global options and their environment variables (DEISCTL_<NAME>).
OPTIONS = ("endpoints", "prefix", "cacert", "cert", "key", "user", "dial_timeout", "command_timeout", "output",
           "tunnel", "context")


def flag_or_env(name: str, flags: Mapping[str, Optional[str]], env: Mapping[str, str]) -> Optional[str]:
    """The flag's value, else DEISCTL_<NAME>; None when neither is set (an empty value counts as unset)."""
    value = flags.get(name)
    if value is None or value == "":
        value = env.get(f"DEISCTL_{name.upper()}")
    return value if value not in (None, "") else None


def build(flags: Mapping[str, Optional[str]], env: Mapping[str, str], *, output: Optional[str] = None,
          lenient_context: bool = False) -> Settings:
    """Resolve every global option: flag > DEISCTL_* environment > context > default.

    `output` is a command's own -o, which wins over the global one."""
    from deisctl import contexts  # reads the config file (and imports YAML) only if it exists

    given = {name: flag_or_env(name, flags, env) for name in OPTIONS}
    context, values = contexts.resolve(given["context"], env, lenient=lenient_context)
    sources = {}
    for name in OPTIONS:
        if name in ("output", "context"):
            continue
        if given[name] is not None:
            sources[name] = "flag or environment"
        elif name in values:
            given[name], sources[name] = values[name], f"context {context}"
        else:
            sources[name] = "default"
    debug = bool(flags.get("debug")) or bool(env.get("DEISCTL_DEBUG"))
    settings = Settings(debug=debug, tunnel=given["tunnel"] or None, context=context or None)
    settings.env = env
    settings.context_values, settings.sources = values, sources
    settings.endpoints = split_endpoints(given["endpoints"] or DEFAULT_ENDPOINTS)
    settings.prefix = normalize_prefix(DEFAULT_PREFIX if given["prefix"] is None else given["prefix"])
    settings.cacert, settings.cert, settings.key = given["cacert"], given["cert"], given["key"]
    if bool(settings.cert) != bool(settings.key):
        raise UsageError("--cert and --key go together (client certificate and its key)")
    if given["user"]:
        settings.user, settings.password = split_user(given["user"], env)
    settings.dial_timeout = positive_seconds(
        "--dial-timeout", DEFAULT_DIAL_TIMEOUT if given["dial_timeout"] is None else given["dial_timeout"])
    settings.command_timeout = positive_seconds(
        "--command-timeout", DEFAULT_COMMAND_TIMEOUT if given["command_timeout"] is None else given["command_timeout"])
    chosen = output or given["output"] or "text"
    settings.output = chosen.lower()
    if settings.output not in OUTPUT_FORMATS:
        raise UsageError(f"unknown output format {chosen!r}", hint="text, json or yaml")
    return settings
