"""
Tests for L{oso.gserver.gadgetevents} and the sessions' monitors: which
call model events a gadget session's device monitors queue, with what
C{deviceID}, through which filter, and the bounded queue's explicit
C{EventsLost} entry; sans I/O on a call model with virtual phones.
"""

import json

from twisted.logger import LogLevel, formatEvent, globalLogPublisher
from zope.interface.verify import verifyObject

from oso.gserver.accounts import Principal
from oso.gserver.gadgetevents import EventQueue, GadgetEvents
from oso.gserver.gadgetsessions import GadgetSessions
from oso.interfaces.observer import IEventObserver
from oso.testing import Exchange


def running(queueLimit=1000):
    exchange = Exchange()
    events = GadgetEvents(exchange.model)
    sessions = GadgetSessions(exchange.clock, events, queueLimit=queueLimit)
    return exchange, events, sessions


def answeredCall(exchange, caller="100", called="101"):
    exchange.call(caller, called)
    exchange.phone(called).answer()


def types(entries):
    return [entry["type"] for entry in entries]


def test_observer():
    exchange = Exchange()
    assert verifyObject(IEventObserver, GadgetEvents(exchange.model))


def test_queueKeepsOldestAndCountsLost():
    """
    A full queue keeps its oldest events and counts the rest; the next
    take ends with one EventsLost entry saying how many, then starts
    afresh.
    """
    queue = EventQueue(3)
    results = [queue.put({"type": "DeliveredEvent", "n": n}) for n in range(5)]
    assert results == [True, True, True, False, False]
    entries = queue.take()
    assert [entry.get("n") for entry in entries] == [0, 1, 2, None]
    assert entries[-1] == {"type": "EventsLost", "count": 2}
    assert queue.take() == []
    queue.put({"type": "HeldEvent"})
    assert queue.take() == [{"type": "HeldEvent"}]


def test_deviceMonitorSeesTheOtherPartyOfItsCall():
    """
    ECMA-269 12.2.19 via the CSTA monitors: a monitor of the caller
    reports the called device's Delivered and Established too, each with
    the monitored device as deviceID and the event's own fields from
    eventObject.
    """
    exchange, _, sessions = running()
    session = sessions.open(Principal.forExtension("100"))
    session.monitor("100", None)
    answeredCall(exchange)
    entries = session.queue.take()
    assert types(entries) == [e.name + "Event" for e in exchange.recorder.events]
    assert {entry["deviceID"] for entry in entries} == {"100"}
    delivered = entries[types(entries).index("DeliveredEvent")]
    assert delivered["alertingDevice"] == "101"
    assert delivered["connection"]["deviceID"] == "101"
    json.dumps(entries)


def test_uninvolvedDeviceSeesNothing():
    exchange, _, sessions = running()
    session = sessions.open(Principal.forAdministrator("admin"))
    session.monitor("102", None)
    answeredCall(exchange)
    assert session.queue.take() == []


def test_twoMonitorsOfOneSessionEachQueueTheEvent():
    """
    An event covering two monitored devices is queued once per device,
    each copy naming its device.
    """
    exchange, _, sessions = running()
    session = sessions.open(Principal.forAdministrator("admin"))
    session.monitor("100", None)
    session.monitor("101", None)
    answeredCall(exchange)
    entries = session.queue.take()
    established = [entry for entry in entries if entry["type"] == "EstablishedEvent"]
    assert sorted(entry["deviceID"] for entry in established) == ["100", "101"]
    assert session.monitored() == ["100", "101"]


def test_filterKeepsNamedTypes():
    """
    A monitor's filter names the types it reports; starting the same
    device again changes the filter without a second monitor.
    """
    exchange, _, sessions = running()
    session = sessions.open(Principal.forExtension("101"))
    session.monitor("101", frozenset({"DeliveredEvent"}))
    session.monitor("101", frozenset({"DeliveredEvent", "EstablishedEvent"}))
    answeredCall(exchange)
    assert types(session.queue.take()) == ["DeliveredEvent", "EstablishedEvent"]


def test_deviceEventsReachTheDevicesMonitor():
    exchange, _, sessions = running()
    session = sessions.open(Principal.forExtension("100"))
    session.monitor("100", None)
    exchange.model.setDoNotDisturb("100", True)
    exchange.model.setDoNotDisturb("101", True)
    entries = session.queue.take()
    assert types(entries) == ["DoNotDisturbEvent"]
    assert entries[0]["device"] == "100" and entries[0]["doNotDisturbOn"] is True


def test_unmonitorStops():
    exchange, _, sessions = running()
    session = sessions.open(Principal.forExtension("100"))
    session.monitor("100", None)
    assert session.unmonitor("100") is True
    assert session.unmonitor("100") is False
    answeredCall(exchange)
    assert session.queue.take() == []


def monitoredCall(queueLimit):
    """
    A session of 100 monitoring 100 through an answered and cleared call.

    @return: the session's queued entries, and the log events meanwhile.
    """
    exchange, _, sessions = running(queueLimit=queueLimit)
    session = sessions.open(Principal.forExtension("100"))
    session.monitor("100", None)
    logged = []
    globalLogPublisher.addObserver(logged.append)
    try:
        answeredCall(exchange)
        exchange.phone("100").hangUp()
        return session.poll(), logged
    finally:
        globalLogPublisher.removeObserver(logged.append)


def test_overflowIsExplicitAndLogged():
    """
    A session that does not poll keeps gadgetQueue events, then one
    EventsLost entry with the count of the rest; the overflow is logged
    once when it begins, and the count when the poll hands it on.
    """
    everything, logged = monitoredCall(1000)
    assert len(everything) > 5
    assert "EventsLost" not in types(everything)
    entries, logged = monitoredCall(4)
    assert entries[:4] == everything[:4]
    assert entries[4:] == [{"type": "EventsLost", "count": len(everything) - 4}]
    warnings = [formatEvent(e) for e in logged if e.get("log_level") == LogLevel.warn]
    assert warnings == [
        "gadget session of 100: event queue full (4), counting lost events",
        f"gadget session of 100: {len(everything) - 4} events lost since its last poll",
    ]


def test_closedSessionsMonitorsEnd():
    """
    A session that ends ends its monitors: the events that follow reach
    no queue, and the other session still gets them.
    """
    exchange, _, sessions = running()
    first = sessions.open(Principal.forExtension("100"))
    second = sessions.open(Principal.forExtension("100"))
    first.monitor("100", None)
    second.monitor("100", None)
    sessions.logout(first)
    answeredCall(exchange)
    assert first.queue.take() == []
    assert first.monitored() == []
    assert types(second.queue.take())
