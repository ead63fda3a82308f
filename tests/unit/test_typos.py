"""Did-you-mean and the near-miss rule that refuses likely typos."""

from __future__ import annotations

import pytest

from deisctl.typos import closest, did_you_mean, near_miss

KNOWN = ["registrationMode", "registrationEnabled", "workers", "webEnabled", "item1", "item2"]


@pytest.mark.parametrize("name, meant", [
    ("registrationmode", "registrationMode"),  # case
    ("workerz", "workers"),  # substitution
    ("worker", "workers"),  # deletion
    ("workerss", "workers"),  # insertion
    ("wokrers", "workers"),  # transposition
    ("webEnabeld", "webEnabled"),
])
def test_near_misses(name, meant):
    assert near_miss(name, KNOWN) == meant


@pytest.mark.parametrize("name", ["workers", "registrationBanner", "item3", "item10", "abc", "unitHostname"])
def test_not_near_misses(name):
    assert near_miss(name, KNOWN) is None  # known, far, the next of a numbered series, or short


def test_the_first_candidate_given_wins():
    assert near_miss("controllr", ["controller", "controler"]) == "controller"


def test_suggestions():
    assert closest("registrationEnable", KNOWN) == "registrationEnabled"
    assert did_you_mean("wrkers", KNOWN) == "; did you mean 'workers'?"
    assert did_you_mean("zzzz", KNOWN) == ""
