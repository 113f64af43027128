"""
Tests for L{oso.gserver.history}: the bounded event history behind the
event stream, sans I/O on a call model with virtual phones.
"""

import json

import pytest
from zope.interface.verify import verifyObject

from oso.gserver.history import DEFAULT_SIZE, EventHistory, Gap, namedDevices
from oso.interfaces.observer import IEventObserver
from oso.testing import Exchange


def running(size=DEFAULT_SIZE):
    exchange = Exchange()
    history = EventHistory(size)
    exchange.model.addObserver(history)
    return exchange, history


def call(exchange, caller="100", called="101"):
    """
    One answered and cleared call; the number of events it made.
    """
    before = len(exchange.recorder.events)
    exchange.call(caller, called)
    exchange.phone(called).answer()
    exchange.phone(caller).hangUp()
    return len(exchange.recorder.events) - before


def test_observer():
    assert verifyObject(IEventObserver, EventHistory())


def test_entriesAreTheEventsAsJSON():
    """
    Each entry holds the event's bus sequence number, its JSON type and
    its JSON object as one line of text.
    """
    exchange, history = running()
    call(exchange)
    seqs = [event.seq for event in exchange.recorder.events]
    gap, entries = history.since(0)
    assert gap is None
    assert [entry.seq for entry in entries] == seqs
    assert [entry.type for entry in entries] == [n + "Event" for n in exchange.recorder.names()]
    for entry, event in zip(entries, exchange.recorder.events):
        assert "\n" not in entry.data
        assert json.loads(entry.data)["seq"] == event.seq


def test_sinceGivesWhatFollows():
    exchange, history = running()
    call(exchange)
    last = history.lastSeq
    call(exchange, "102", "103")
    gap, entries = history.since(last)
    assert gap is None
    assert [entry.seq for entry in entries] == list(range(last + 1, history.lastSeq + 1))
    assert history.since(history.lastSeq) == (None, [])


def test_gapWhenEvicted():
    """
    A client further behind than the history holds is told the first id
    it gets and how many events it lost, then gets all that is held.
    """
    exchange, history = running(size=5)
    total = call(exchange) + call(exchange, "102", "103")
    assert len(history) == 5
    gap, entries = history.since(2)
    first = history.lastSeq - 4
    assert gap == Gap(first=first, lost=first - 3)
    assert [entry.seq for entry in entries] == list(range(first, total + 1))
    # The last event no longer held is a gap of one; the next is none.
    assert history.since(first - 2)[0] == Gap(first=first, lost=1)
    assert history.since(first - 1)[0] is None


def test_gapForEventsBeforeTheHistory():
    """
    Events the model published before the history began count as lost.
    """
    exchange = Exchange()
    before = call(exchange)
    history = EventHistory()
    exchange.model.addObserver(history)
    call(exchange, "102", "103")
    gap, entries = history.since(0)
    assert gap == Gap(first=before + 1, lost=before)
    assert entries[0].seq == before + 1


def test_unknownIdFromTheFuture():
    """
    An id the server never gave (it restarted since) is a gap of unknown
    size: everything held follows.
    """
    exchange, history = running()
    count = call(exchange)
    gap, entries = history.since(1000)
    assert gap == Gap(first=1, lost=None)
    assert len(entries) == count
    empty = EventHistory()
    assert empty.since(3) == (Gap(first=1, lost=None), [])
    assert empty.since(0) == (None, [])


def test_subscribers():
    """
    Subscribers get each new entry in order until they unsubscribe; one
    that fails does not stop the others.
    """
    exchange, history = running()
    got = []

    def failing(entry):
        raise RuntimeError("boom")

    history.subscribe(failing)
    history.subscribe(got.append)
    assert history.subscribers == 2
    exchange.call("100", "101")
    assert [entry.seq for entry in got] == [e.seq for e in exchange.recorder.events]
    history.unsubscribe(got.append)
    history.unsubscribe(failing)
    history.unsubscribe(failing)
    assert history.subscribers == 0
    exchange.phone("100").hangUp()
    assert len(got) == 3


def test_devices():
    """
    An event concerns the devices its connection and device fields name;
    a CallCleared concerns every device named in its call.
    """
    exchange, history = running()
    exchange.call("100", "101")
    exchange.phone("101").answer()
    exchange.phone("101").hangUp()
    _, entries = history.since(0)
    byType = {entry.type: entry.devices for entry in entries}
    assert byType["ServiceInitiatedEvent"] == {"100"}
    assert byType["DeliveredEvent"] == {"100", "101"}
    assert byType["CallClearedEvent"] == {"100", "101"}
    cleared = [entry.devices for entry in entries if entry.type == "ConnectionClearedEvent"]
    assert {"101"} in cleared
    exchange.model.setDoNotDisturb("102", True)
    assert history.since(history.lastSeq - 1)[1][0].devices == {"102"}


def test_transferMergesDevices():
    """
    After a transfer, the CallCleared of the resulting call concerns the
    devices of both old calls.
    """
    exchange, history = running()
    first = exchange.call("100", "101")
    exchange.phone("101").answer()
    exchange.phone("100").pressHold(first)
    second = exchange.phone("100").offHook("102")
    exchange.phone("102").answer()
    exchange.model.transferCall(first.id, second.id)
    exchange.phone("101").hangUp()
    _, entries = history.since(0)
    assert [e.devices for e in entries if e.type == "CallClearedEvent"][-1] >= {"101", "102"}
    assert namedDevices(exchange.recorder.events[0]) == {"100"}


def test_atLeastOne():
    with pytest.raises(ValueError):
        EventHistory(0)
