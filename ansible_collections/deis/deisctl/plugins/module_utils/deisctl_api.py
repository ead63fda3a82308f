# Copyright: deisctl developers
# Apache License 2.0 (see the repository's pyproject.toml)
"""What every deis.deisctl module shares: the connection options, the client, secrets kept out
of the output, and failures reported as deisctl reports them (its one line, its exit code)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
import traceback

from ansible.module_utils.basic import missing_required_lib

try:
    from deisctl import api
    from deisctl.api import MASK, shown
except ImportError:
    api = None
    DEISCTL_IMPORT_ERROR = traceback.format_exc()
else:
    DEISCTL_IMPORT_ERROR = None

CONNECTION_ARGS = dict(
    endpoints=dict(type="list", elements="str"),
    prefix=dict(type="str"),
    cacert=dict(type="path"),
    cert=dict(type="path"),
    key=dict(type="path", no_log=False),  # a path, not a secret
    user=dict(type="str"),
    password=dict(type="str", no_log=True),
    context=dict(type="str"),
    config_file=dict(type="path"),
    tunnel=dict(type="str"),
    dial_timeout=dict(type="float"),
    command_timeout=dict(type="float"),
    reason=dict(type="str"),
)

NODE_ARGS = dict(
    host=dict(type="str"),
    ssh_user=dict(type="str"),
    ssh_port=dict(type="int"),
    ssh_key=dict(type="path", no_log=False),  # a path, not a secret
    known_hosts=dict(type="path"),
    strict_host_key_checking=dict(type="str", choices=["yes", "accept-new"]),
    ssh_timeout=dict(type="float"),
    remote_timeout=dict(type="float"),
    runtime=dict(type="str", choices=["docker", "podman", "none"]),
    container=dict(type="str"),
    app_dir=dict(type="path"),
    python=dict(type="str"),
)


def argument_spec(*parts):
    spec = dict(CONNECTION_ARGS)
    for part in parts:
        spec.update(part)
    return spec


def require_deisctl(module):
    if api is None:
        module.fail_json(msg=missing_required_lib("deisctl (its Python API, deisctl.api)"),
                         exception=DEISCTL_IMPORT_ERROR)


def client(module, messages, node=False):
    """A deisctl.api.Client from the module's options only: no DEISCTL_* variable of the
    environment running the module decides which cluster is changed. The rest of that
    environment is passed: HOME for a context's config file and ~, and the variables that
    {env: NAME} values name."""
    params = module.params
    options = dict((name, params[name]) for name in CONNECTION_ARGS if params.get(name) is not None)
    env = dict((name, value) for name, value in os.environ.items() if not name.startswith("DEISCTL_"))
    node_options = None
    if node:
        node_options = api.Node(**dict((name, params[name]) for name in NODE_ARGS if params.get(name) is not None))
    command = "ansible %s" % module._name if module._name.startswith("deis.") else "ansible deis.deisctl." + module._name
    return api.Client(env=env, node=node_options, on_message=messages.append, command=command, **options)


def as_text(value):
    """A value as deisctl writes it (YAML's 8080 as "8080", true as "true"); a {file: PATH} or
    {env: NAME} reference, and None, as they are."""
    if value is None or isinstance(value, (str, dict)):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)


def hide_secrets(module, settings):
    """Tell Ansible the secret values of a settings mapping ({component: {key: value}}), so that
    they are masked wherever they would appear in the module's output, its invocation included;
    other values stay readable. An unquoted number or boolean is a secret all the same: Ansible
    masks it by its text."""
    for keys in (settings or {}).values():
        if not isinstance(keys, dict):
            continue
        for key, value in keys.items():
            text = as_text(value)
            if isinstance(text, str) and shown(str(key), text, False) == MASK and text != MASK:
                module.no_log_values.add(text)
                if not isinstance(value, str):
                    module.no_log_values.add(str(value))  # as Ansible shows it (True, 1.5)


def report(module, messages, result):
    """deisctl's messages for people: its warnings as Ansible warnings, all of them (notes too)
    in the result's `messages`, which Ansible shows with -v."""
    for message in messages:
        if message.startswith("warning: "):
            module.warn(message[len("warning: "):])
    result["messages"] = list(messages)
    return result


def finish(module, messages, **result):
    module.exit_json(**report(module, messages, result))


def fail(module, error, messages, **result):
    """deisctl's failure as Ansible's: its line (without "error: ") and its exit code as rc;
    changed false unless the result says what was written."""
    line = error.render()
    if line.startswith("error: "):
        line = line[len("error: "):]
    result.setdefault("changed", False)
    module.fail_json(msg=line, rc=int(error.exit_code), **report(module, messages, result))


def with_conflict_retries(module, operation, retries, delay):
    """Run operation(); a conflict (someone changed a key between read and write, nothing
    written: exit 6) is retried up to `retries` times, `delay` seconds apart."""
    attempt = 0
    while True:
        try:
            return operation()
        except api.ConflictError:
            if attempt >= retries:
                raise
            attempt += 1
            time.sleep(delay)


def change_rows(changes):
    """Changes as the CLI's JSON has them: key, action, old, new; secrets masked."""
    return api.change_rows(changes)


def listing(changes, side):
    """One side ("before" or "after") of the diff: `component/key: value` lines, secrets masked
    (a masked value that changed says which side it is)."""
    return api.diff_listing(changes, "old" if side == "before" else "new", wanted="wanted")


__all__ = ["api", "argument_spec", "client", "fail", "finish", "hide_secrets", "require_deisctl",
           "with_conflict_retries", "change_rows", "listing", "NODE_ARGS"]
