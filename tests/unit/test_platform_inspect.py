"""What a node's `docker inspect` says, read as text: a hostile or broken node's answer is rows or
"no JSON", never a crash of `status`."""

from __future__ import annotations

import json

import pytest

from deisctl.ops.platform import Container, containers_of


def inspect(*items) -> bytes:
    return json.dumps(list(items)).encode()


def test_a_running_container_and_an_exited_one():
    found = containers_of(inspect(
        {"Name": "/deis-controller", "RestartCount": 2, "Config": {"Image": "deis/controller:v1.13.4"},
         "State": {"Status": "running", "StartedAt": "2026-12-06T10:02:11.123Z", "ExitCode": 0}},
        {"Name": "/deis-router", "State": {"Status": "exited", "FinishedAt": "2026-12-06T10:31:05Z", "ExitCode": 137}},
        {"Name": "/not-ours", "State": {"Status": "running"}}))
    assert found == {"controller": Container("running", "2026-12-06 10:02:11", 2, "deis/controller:v1.13.4", 0),
                     "router": Container("exited", "2026-12-06 10:31:05", 0, "", 137)}


@pytest.mark.parametrize("item", [
    {"Name": "/deis-x", "RestartCount": "many", "State": {"ExitCode": [1]}},
    {"Name": "/deis-x", "RestartCount": 1e400, "State": "running", "Config": ["image"]},
    {"Name": "/deis-x", "RestartCount": None, "State": {"Status": None, "StartedAt": 5}},
])
def test_fields_of_another_type_count_as_missing(item):
    found = containers_of(json.dumps([item]).encode().replace(b"Infinity", b"1e400"))
    assert set(found) == {"x"} and found["x"].restarts == 0 and found["x"].exit_code == 0


@pytest.mark.parametrize("output", [b"not json", b"[" * 100000 + b"]" * 100000, b"\xff\xfe"])
def test_what_is_not_json_is_said_so(output):
    assert containers_of(output) is None


@pytest.mark.parametrize("output", [b"", b"{}", b"[1, \"x\", null]", b"{\"Name\": \"/deis-x\"}"])
def test_json_of_another_shape_is_no_container(output):
    assert containers_of(output) == {}
