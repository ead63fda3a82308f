"""Settings documents and change plans: pure logic, no etcd (documents from text or mappings,
snapshots built by hand)."""

from __future__ import annotations

import pytest

from deisctl import document, plan
from deisctl.errors import UsageError
from deisctl.etcd.kv import KV, Snapshot
from deisctl.keys import MASK, Layout

LAYOUT = Layout("/deis")


def snapshot(**values: str) -> Snapshot:
    """A snapshot holding /deis/<component>/<key> = value, given as component__key=value."""
    rows = {}
    for index, (name, value) in enumerate(values.items(), start=1):
        full = "/deis/" + name.replace("__", "/", 1).replace("__", "/")
        rows[full] = KV(full, value.encode(), index, index, 1)
    return Snapshot(len(rows) + 1, rows)


def doc(data: dict, **options) -> document.Document:
    return document.from_mapping(data, source="test", base_dir="/nonexistent", **options)


def test_a_document_from_text_and_from_a_mapping_are_the_same():
    text = document.build(document.parse_document("controller:\n  workers: 4\n", "t"), "t", "/", env={},
                          strict=False, keep_masked=False, any_file=False)
    mapping = doc({"controller": {"workers": 4}})
    assert [(e.component, e.key, e.value) for e in text.entries()] == [("controller", "workers", "4")]
    assert [(e.component, e.key, e.value) for e in mapping.entries()] == [("controller", "workers", "4")]


def test_every_invalid_entry_is_named_and_nothing_is_accepted():
    with pytest.raises(UsageError) as caught:
        doc({"controller": {"workers": "many", "registrationMode": "sometimes"}, "Bad": {"a": "1"}})
    message = caught.value.message
    assert "3 invalid entries, nothing was written" in message
    assert "controller/workers" in message and "controller/registrationMode" in message


def test_a_long_list_of_problems_is_cut_after_five():
    with pytest.raises(UsageError) as caught:
        doc({"controller": {f"bad key {i}": "x" for i in range(12)}})
    assert caught.value.message.endswith("and 7 more")


def test_masked_values_are_refused_unless_kept():
    with pytest.raises(UsageError, match="masked"):
        doc({"controller": {"secretKey": MASK}})
    kept = doc({"controller": {"secretKey": MASK}}, keep_masked=True)
    assert [e.masked for e in kept.entries()] == [True]


def test_plan_adds_changes_and_leaves_equal_keys():
    planned = plan.plan(doc({"controller": {"workers": "4", "webEnabled": "True", "unitHostname": "server"}}),
                        snapshot(controller__workers="2", controller__webEnabled="True"), LAYOUT, prune=False)
    assert [(c.key, c.action, c.mod_revision) for c in planned.changes] == [("unitHostname", "added", 0),
                                                                           ("workers", "changed", 1)]
    assert [c.key for c in planned.unchanged] == ["webEnabled"]


def test_prune_removes_unnamed_keys_and_keeps_published_and_secret_ones():
    snap = snapshot(controller__workers="2", controller__stale="x", controller__host="10.0.0.1",
                    controller__secretKey="s", router__other="y")
    planned = plan.plan(doc({"controller": {"workers": "2"}}), snap, LAYOUT, prune=True)
    assert [(c.key, c.action) for c in planned.changes] == [("stale", "removed")]
    assert sorted(c.key for c in planned.kept) == ["host", "secretKey"]
    named = plan.plan(doc({"controller": {"workers": "2"}}), snap, LAYOUT, prune=True,
                      delete_protected=["controller/host"])
    assert sorted(c.key for c in named.changes) == ["host", "stale"]


def test_emptied_components_are_named():
    snap = snapshot(myapp__a="1", other__b="2")
    planned = plan.plan(doc({"myapp": {}}), snap, LAYOUT, prune=True)
    assert planned.emptied(snap, LAYOUT) == ["myapp"]
    assert [c.key for c in planned.removals()] == ["a"]


def test_export_masks_secrets_and_leaves_out_what_apply_could_not_write_back():
    rows = list(snapshot(controller__secretKey="s", controller__workers="4", controller__empty="").rows.values())
    rows.append(KV("/deis/loose", b"x", 9, 9, 1))
    exported, warnings, masked = plan.export_document(rows, LAYOUT, None, show_secrets=False)
    assert exported == {"controller": {"secretKey": MASK, "workers": "4"}} and masked is True
    assert len(warnings) == 1 and "left out 2 key(s)" in warnings[0]
