"""The renderer and the Views: results (built by hand) to text, JSON and YAML; pure logic."""

from __future__ import annotations

import io
import json
import os

import pytest

from deisctl.change import Change
from deisctl.invocation import Invocation
from deisctl.ops.check import CheckResult
from deisctl.ops.config import Listing, SetResult, Values
from deisctl.ops.documents import Applied, Compared, Exported
from deisctl.output import config as config_views
from deisctl.output import documents as document_views
from deisctl.output import check as check_views
from deisctl.output import emit, escape, one_line, table
from deisctl.settings import Settings


def run(view, fmt="text", **options) -> str:
    out = io.StringIO()
    emit(Invocation(Settings(output=fmt), io.StringIO(), out, io.StringIO(), {}), view, **options)
    return out.getvalue()


def test_text_is_escaped_json_and_yaml_are_exact():
    listing = Listing({"motd": "hi\nsecretKey=forged\x1b[31m", "secretKey": "s"})
    assert run(config_views.listing(listing, False)) == "motd=hi\\nsecretKey=forged\\x1b[31m\nsecretKey=********\n"
    assert json.loads(run(config_views.listing(listing, False), "json")) == {
        "motd": "hi\nsecretKey=forged\x1b[31m", "secretKey": "********"}
    assert "secretKey: s" in run(config_views.listing(listing, True), "yaml")


def test_values_are_raw_bytes_in_text():
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    emit(Invocation(Settings(), io.StringIO(), out, io.StringIO(), {}), config_views.values(Values({"a": b"\xff\n"})))
    assert out.buffer.getvalue() == b"\xff\n\n"


def test_set_result_masks_secrets():
    result = SetResult([Change("controller", "secretKey", None, "s", "/deis/controller/secretKey")])
    assert run(config_views.set_result(result, False)) == "secretKey=********\n"
    assert json.loads(run(config_views.set_result(result, False), "json")) == [
        {"key": "secretKey", "value": "********", "previous": None, "changed": True}]


def test_applied_lines_and_summary():
    changes = [Change("c", "a", None, "1"), Change("c", "b", "1", "2"), Change("c", "d", "x", None)]
    assert run(document_views.applied(Applied(changes, False), False)).splitlines() == [
        "added    c/a: 1", "changed  c/b: 1 → 2", "removed  c/d: x", "1 added, 1 changed, 1 removed"]
    assert run(document_views.applied(Applied([], True), False)) == "no changes\n"


def test_diff_is_unified_with_masked_secrets():
    result = Compared([Change("c", "secretKey", "old", "new")], 7, "f.yaml", [Change("c", "a", "1", "1")])
    assert run(document_views.compared(result, "/deis", False)).splitlines() == [
        "--- etcd:/deis (revision 7)", "+++ f.yaml", "@@ -1,2 +1,2 @@", " c/a: 1",
        "-c/secretKey: ******** (etcd)", "+c/secretKey: ******** (file)"]


def test_export_is_yaml_with_a_header_or_a_private_file(tmp_path):
    view = document_views.exported(Exported({"c": {"a": "x\ny"}}, False, True))
    assert run(view) == "# deisctl config export: {component: {key: value}}\nc:\n  a: |-\n    x\n    y\n"
    path = tmp_path / "out.yaml"
    assert run(view, path=str(path)) == ""
    assert path.read_text().endswith("    y\n") and (os.stat(path).st_mode & 0o777) == 0o600


@pytest.mark.parametrize("special", ["/dev/null", "fifo"])
def test_export_never_replaces_what_is_not_a_regular_file(tmp_path, special):
    from deisctl.errors import UsageError

    path = special if special.startswith("/") else str(tmp_path / special)
    if special == "fifo":
        os.mkfifo(path)
    with pytest.raises(UsageError, match="not a regular file"):
        run(document_views.exported(Exported({"c": {"a": "1"}}, False, False)), path=path)
    assert not os.path.isfile(path)


def test_check_table():
    view = check_views.checks(CheckResult([("endpoint e", True, "etcd 3.4"), ("setting x", False, "unset")], 1, "x"))
    assert run(view).splitlines() == ["CHECK       OK    DETAIL", "endpoint e  ok    etcd 3.4", "setting x   FAIL  unset"]


def test_helpers():
    assert escape("a\tb") == "a\\tb"
    assert one_line("x" * 70).endswith("…") and one_line(None) == "(none)"
    assert table([("A", "B"), ("long", "x")]) == ["A     B", "long  x"]
