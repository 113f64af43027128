"""
Tests for L{oso.csta.monitors}: call monitors, filters, stopping, links
that close, and a client that falls behind.
"""

from zope.interface.verify import verifyObject

from cstadesk import Desk

from oso.callmodel.errors import UniversalFailure
from oso.callmodel.ids import ConnectionID as C
from oso.csta import messages as m
from oso.csta.asn1 import monitor
from oso.csta.eventmap import REPORTED, cstaEvent
from oso.csta.monitors import Monitors
from oso.interfaces.observer import IEventObserver

NOW = m.AutoOriginate.doNotPrompt


def test_observer():
    desk = Desk()
    assert verifyObject(IEventObserver, desk.monitors)


def test_callMonitorFollowsTransfer():
    """
    A call monitor reports every event of its call, follows it when a
    transfer merges the consultation call into it, and ends with it.
    """
    desk = Desk()
    first = desk.request(m.MakeCall(callingDevice="100", calledDirectoryNumber="101", autoOriginate=NOW)).callingDevice
    watch = desk.monitor(first)
    desk.phone("101").answer()
    second = desk.request(m.ConsultationCall(existingCall=first, consultedDevice="102")).initiatedCall
    desk.phone("102").answer()
    desk.request(m.TransferCall(heldCall=first, activeCall=second))
    desk.phone("102").hangUp()
    assert desk.seen(watch) == [
        ("Established", "101@1"), ("Held", "100@1"), ("Transfered", "100@1"),
        ("ConnectionCleared", "102@1"), ("ConnectionCleared", "101@1"), ("CallCleared", "call 1"),
    ]
    assert desk.monitors.monitorsOf(desk.link) == []


def test_filter():
    """
    The filter names the events not to report: they are not sent; the
    response echoes it.
    """
    desk = Desk()
    unwanted = m.MonitorFilter(callControl=frozenset({"serviceInitiated", "originated"}))
    response = desk.request(m.MonitorStart(monitorObject="100", requestedMonitorFilter=unwanted))
    assert response.actualMonitorFilter == unwanted
    desk.request(m.MakeCall(callingDevice="100", calledDirectoryNumber="101", autoOriginate=NOW))
    assert desk.seen(response.monitorCrossRefID) == [("Delivered", "101@1")]


def test_changeFilter():
    desk = Desk()
    watch = desk.monitor("101")
    quiet = m.MonitorFilter(logicalDeviceFeature=frozenset({"doNotDisturb"}))
    response = desk.request(m.ChangeMonitorFilter(monitorCrossRefID=watch, requestedMonitorFilter=quiet))
    assert response == m.ChangeMonitorFilterResponse(actualMonitorFilter=quiet)
    desk.request(m.SetDoNotDisturb(device="101", doNotDisturbOn=True))
    assert desk.seen(watch) == []
    desk.request(m.ChangeMonitorFilter(monitorCrossRefID=watch, requestedMonitorFilter=m.MonitorFilter()))
    desk.request(m.SetDoNotDisturb(device="101", doNotDisturbOn=False))
    assert desk.seen(watch) == [("DoNotDisturb", "101")]


def test_stop():
    desk = Desk()
    watch = desk.monitor("100")
    assert desk.request(m.MonitorStop(monitorCrossRefID=watch)) == m.MonitorStopResponse()
    desk.phone("100").offHook("101")
    assert desk.seen(watch) == []
    assert desk.request(m.MonitorStop(monitorCrossRefID=watch)) == UniversalFailure("operation", "invalidCrossRefID")


def test_anotherLinksMonitor():
    """
    A link can neither stop nor change another link's monitor.
    """
    first = Desk()
    other = Desk(sharing=first, xml=True)
    watch = first.monitor("100")
    refused = UniversalFailure("operation", "invalidCrossRefID")
    assert other.request(m.MonitorStop(monitorCrossRefID=watch)) == refused
    quiet = m.ChangeMonitorFilter(monitorCrossRefID=watch, requestedMonitorFilter=m.MonitorFilter())
    assert other.request(quiet) == refused
    own = other.monitor("100")
    first.phone("100").offHook("101")
    assert first.seen(watch) == other.seen(own) == [("ServiceInitiated", "100@1"), ("Originated", "100@1"), ("Delivered", "101@1")]


def test_closedLinkEndsItsMonitors():
    desk = Desk()
    desk.monitor("100")
    desk.monitor("101")
    desk.link.close()
    assert desk.monitors.monitorsOf(desk.link) == []
    desk.phone("100").offHook("101")
    assert desk.sent == []


def test_serviceStopEndsEverything():
    desk = Desk()
    desk.monitor("100")
    desk.monitors.stopService()
    desk.phone("100").offHook("101")
    desk.collect()
    assert desk.events == []


def test_overflow():
    """
    A client whose backlog reaches the limit gets every event up to then,
    then a SystemStatus messagesLost and a MonitorStop for each monitor,
    and nothing more; once it caught up it may monitor again.
    """
    backlog = [0]
    desk = Desk(backlog=lambda: backlog[0], eventLimit=3)
    first, second = desk.monitor("100"), desk.monitor("101")
    sent = []
    original = desk.link.invoke

    def counting(argument):
        sent.append(argument)
        backlog[0] += 1
        original(argument)

    desk.link.invoke = counting
    desk.request(m.MakeCall(callingDevice="100", calledDirectoryNumber="101", autoOriginate=NOW))
    desk.phone("101").answer()
    desk.collect()
    kinds = [type(e).__name__ for e in desk.events]
    assert kinds == [
        "ServiceInitiatedEvent", "OriginatedEvent", "DeliveredEvent",
        "SystemStatus", "MonitorStop", "MonitorStop",
    ]
    assert desk.events[3].systemStatus == m.SystemStatusValue.messagesLost
    assert [e.monitorCrossRefID for e in desk.events[4:]] == [first, second]
    assert desk.monitors.monitorsOf(desk.link) == []
    backlog[0] = 0
    again = desk.monitor("100")
    desk.phone("100").hangUp()
    assert desk.seen(again)[0] == ("ConnectionCleared", "100@1")


def test_reportedBitsAreFilterBits():
    """
    Every event oso reports has its bit in ECMA-285's filter bit strings,
    so a filter can name it in either encoding.
    """
    bitStrings = {
        "callControl": monitor.CallControlEvents,
        "logicalDeviceFeature": monitor.LogicalDeviceFeatureEvents,
        "maintenance": monitor.DeviceMaintenanceEvents,
    }
    assert set(REPORTED) == set(bitStrings)
    for category, bits in REPORTED.items():
        named = {name for name, _ in bitStrings[category].namedValues.items()}
        assert bits <= named, category


def test_unknownCallMonitored():
    desk = Desk()
    answer = desk.request(m.MonitorStart(monitorObject=C("42", "100")))
    assert answer == UniversalFailure("operation", "invalidCallID")


def test_cstaEventForEveryModelEvent():
    """
    Every call model event type has its CSTA event.
    """
    from oso.callmodel.events import EVENT_TYPES

    assert len({type(cstaEvent(cls(**_sample(cls)), "1")) for cls in EVENT_TYPES.values()}) == len(EVENT_TYPES)


def _sample(cls):
    connection = C("1", "100")
    values = {}
    for name in cls.__dataclass_fields__:
        if name in ("connection", "primaryOldCall", "secondaryOldCall"):
            values[name] = connection
        elif name == "clearedCall":
            values[name] = "1"
    return values
