"""What a write whose reply was lost did, told from its keys as they are now (no server)."""

from __future__ import annotations

import pytest

from deisctl.etcd.kv import REDO, UNKNOWN, Previous, lost_reply_verdict

FLOOR = 100  # the revision a dial probe saw before the write was sent


@pytest.mark.parametrize("revision, rows, values, verdict", [
    # Nothing written since the floor: the write never got in.
    (100, [(b"old", 90)], [b"new"], REDO),
    # A key untouched since the floor: the transaction (which changes all its keys) did not apply.
    (105, [(b"new", 103), (b"x", 99)], [b"new", b"y"], REDO),
    # Every key holds its value, all at one revision above the floor: applied there.
    (103, [(b"new", 103)], [b"new"], 103),
    (104, [(b"1", 102), (b"2", 102)], [b"1", b"2"], 102),
    # Someone else wrote after us (or instead of us): what our write replaced cannot be told.
    (104, [(b"other", 104)], [b"new"], UNKNOWN),
    (104, [(b"1", 102), (b"2", 104)], [b"1", b"2"], UNKNOWN),
    # Keys absent now (never written, or deleted since): unknown, unless nothing changed at all.
    (104, [None], [b"new"], UNKNOWN),
    (100, [None], [b"new"], REDO),
])
def test_lost_reply_verdict(revision, rows, values, verdict):
    assert lost_reply_verdict(FLOOR, revision, rows, values) == verdict


def test_previous_values_say_whether_they_are_known():
    known = Previous([None, None])
    assert known.known and known == [None, None]
    unknown = Previous([None])
    unknown.known = False
    assert not unknown.known and Previous([]).known  # per instance, not per class
