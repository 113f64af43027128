"""
Tests for L{oso.collector}: the server's garbage collector settings.
"""

import gc

import pytest

from oso.collector import THRESHOLDS, freezeStartup, tuneCollector


@pytest.fixture
def collector():
    """
    Restore the collector's thresholds and unfreeze after a test.
    """
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_tuneSetsThresholds(collector):
    gc.set_threshold(700, 10, 10)
    tuneCollector()
    assert gc.get_threshold() == THRESHOLDS
    # Young collections less often than CPython's default.
    assert THRESHOLDS[0] > 700


def test_freezeStartupHidesLiveObjects(collector):
    kept = [[n] for n in range(1000)]
    before = gc.get_freeze_count()
    assert freezeStartup("started") == "started"
    assert gc.get_freeze_count() >= before + len(kept)
