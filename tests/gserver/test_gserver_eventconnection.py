"""
Tests for L{oso.gserver.eventstream}'s sans-I/O parts: the Server-Sent
Events one client gets (resume, gap, filter, keepalive, overflow, end).
"""

import pytest
from twisted.internet.task import Clock
from zope.interface import implementer
from zope.interface.verify import verifyObject
from twisted.internet.interfaces import IPushProducer

from ssereader import parse

from oso.gserver.eventstream import KEEPALIVE, EventConnection, parseEventID, sseEvent
from oso.gserver.history import EventHistory
from oso.interfaces.gserver import IPrincipal
from oso.testing import Exchange


@implementer(IPrincipal)
class Principal:
    def __init__(self, name, extension=None):
        self.name = name
        self.extension = extension
        self.administrator = extension is None

    def mayControl(self, device):
        return self.administrator or device == self.extension


ADMIN = Principal("admin")


class Client:
    def __init__(self, exchange, history, principal=ADMIN, limit=100):
        self.chunks = []
        self.finished = []
        self.connection = EventConnection(
            principal, history, exchange.clock, self.chunks.append,
            lambda: self.finished.append(True), heartbeat=10.0, queueLimit=limit,
        )

    def events(self):
        return parse(self.chunks)


def running(size=100):
    exchange = Exchange()
    history = EventHistory(size)
    exchange.model.addObserver(history)
    return exchange, history


def test_producer():
    exchange, history = running()
    assert verifyObject(IPushProducer, Client(exchange, history).connection)


def test_sseFormat():
    """
    An event is its id, event and data lines and a blank line.
    """
    assert sseEvent("DeliveredEvent", '{"a":1}', 7) == b'id: 7\nevent: DeliveredEvent\ndata: {"a":1}\n\n'
    assert sseEvent("gap", "{}") == b"event: gap\ndata: {}\n\n"


def test_parseEventID():
    assert parseEventID(None) is None
    assert parseEventID(b"") is None
    assert parseEventID(b"42") == 42
    for bad in (b"-1", b"4 2", b"x", b"1" * 20, "٣".encode()):
        with pytest.raises(ValueError):
            parseEventID(bad)


def test_liveEvents():
    """
    A new client gets live events only, each with its sequence number as
    its id, its JSON type as its event name and its JSON object as data.
    """
    exchange, history = running()
    exchange.call("100", "101")
    client = Client(exchange, history)
    client.connection.start(None)
    assert client.chunks == []
    exchange.phone("101").answer()
    events = client.events()
    assert [e[1] for e in events] == ["EstablishedEvent"]
    assert events[0][0] == str(exchange.recorder.events[-1].seq)
    assert events[0][2]["answeringDevice"] == "101"


def test_resume():
    """
    A client with a last event id gets every later event from the history
    before the live ones, without a gap.
    """
    exchange, history = running()
    exchange.call("100", "101")
    seen = exchange.recorder.events[0].seq
    client = Client(exchange, history)
    client.connection.start(seen)
    exchange.phone("101").answer()
    ids = [int(e[0]) for e in client.events()]
    assert ids == [event.seq for event in exchange.recorder.events[1:]]


def test_gap():
    """
    When the history no longer holds what the client missed, an explicit
    gap event with the first id it gets and the number lost comes first.
    """
    exchange, history = running(size=2)
    exchange.call("100", "101")
    exchange.phone("101").answer()
    client = Client(exchange, history)
    client.connection.start(1)
    events = client.events()
    last = exchange.recorder.events[-1].seq
    assert events[0] == (None, "gap", {"first": last - 1, "lost": last - 3})
    assert [int(e[0]) for e in events[1:]] == [last - 1, last]


def test_extensionSeesItsOwn():
    """
    An extension's user sees the events concerning its extension only.
    """
    exchange, history = running()
    mine = Client(exchange, history, Principal("102", "102"))
    mine.connection.start(None)
    exchange.call("100", "101")
    exchange.phone("100").hangUp()
    assert mine.chunks == []
    exchange.call("100", "102")
    exchange.phone("102").answer()
    exchange.phone("100").hangUp()
    kinds = [e[1] for e in mine.events()]
    assert "DeliveredEvent" in kinds and kinds[-1] == "CallClearedEvent"
    assert "ServiceInitiatedEvent" not in kinds


def test_keepalive():
    """
    A comment goes out every heartbeat while nothing waits.
    """
    exchange, history = running()
    client = Client(exchange, history)
    client.connection.start(None)
    exchange.clock.advance(10)
    exchange.clock.advance(10)
    assert client.chunks == [KEEPALIVE, KEEPALIVE]
    client.connection.pauseProducing()
    exchange.phone("100").offHook("101")
    client.chunks.clear()
    exchange.clock.advance(10)
    client.connection.resumeProducing()
    assert KEEPALIVE not in client.chunks


def test_overflow():
    """
    A client whose queue reaches the limit gets an overflow event with the
    last id it was sent, then the stream ends once the queue drained; no
    observer is left behind.  Resuming from that id misses nothing.
    """
    exchange, history = running()
    client = Client(exchange, history, limit=2)
    client.connection.start(None)
    client.connection.pauseProducing()
    exchange.call("100", "101")
    assert history.subscribers == 0
    assert client.chunks == [] and client.finished == []
    client.connection.resumeProducing()
    events = client.events()
    assert [e[1] for e in events] == ["ServiceInitiatedEvent", "OriginatedEvent", "overflow"]
    assert events[2][2] == {"lastEventId": int(events[1][0])}
    assert client.finished == [True]
    again = Client(exchange, history)
    again.connection.start(int(events[1][0]))
    assert [e[1] for e in again.events()] == ["DeliveredEvent"]


def test_lost():
    """
    A client that goes away leaves no subscriber and no timer.
    """
    exchange, history = running()
    client = Client(exchange, history)
    client.connection.start(None)
    client.connection.lost()
    assert history.subscribers == 0
    assert exchange.clock.getDelayedCalls() == []
    exchange.call("100", "101")
    assert client.chunks == []


def test_end():
    exchange, history = running()
    client = Client(exchange, history)
    client.connection.start(None)
    client.connection.end()
    assert client.finished == [True]
    assert history.subscribers == 0
