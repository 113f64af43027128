"""
Call model events as CSTA event messages, and the filter bit that names
each.

The call model's events already carry ECMA-269's parameters under
ECMA-269's names; what differs per event is the name of its subject
connection (C{establishedConnection}, C{droppedConnection}, ...) and the
parameters CSTA makes mandatory where the model may know nothing
(C{lastRedirectionDevice} is then C{notKnown}); a calling device the
model does not present (L{oso.callmodel.events.RESTRICTED}, CLIR) is
ECMA-269's C{restricted}.
"""

from dataclasses import MISSING, fields
from typing import get_args

from oso.callmodel import events as e
from oso.callmodel.ids import ConnectionID
from oso.csta import messages as m

#: call model event type -> (CSTA event class, the name of its subject
#: connection parameter, the MonitorFilter category, the filter bit).
_MAP = {
    e.ServiceInitiated: (m.ServiceInitiatedEvent, "initiatedConnection", "callControl", "serviceInitiated"),
    e.Originated: (m.OriginatedEvent, "originatedConnection", "callControl", "originated"),
    e.Delivered: (m.DeliveredEvent, "connection", "callControl", "delivered"),
    e.Established: (m.EstablishedEvent, "establishedConnection", "callControl", "established"),
    e.Held: (m.HeldEvent, "heldConnection", "callControl", "held"),
    e.Retrieved: (m.RetrievedEvent, "retrievedConnection", "callControl", "retrieved"),
    e.ConnectionCleared: (m.ConnectionClearedEvent, "droppedConnection", "callControl", "connectionCleared"),
    e.CallCleared: (m.CallClearedEvent, None, "callControl", "callCleared"),
    e.Transferred: (m.TransferedEvent, None, "callControl", "transferred"),
    e.Conferenced: (m.ConferencedEvent, None, "callControl", "conferenced"),
    e.Diverted: (m.DivertedEvent, "connection", "callControl", "diverted"),
    e.Failed: (m.FailedEvent, "failedConnection", "callControl", "failed"),
    e.Queued: (m.QueuedEvent, "queuedConnection", "callControl", "queued"),
    e.NetworkReached: (m.NetworkReachedEvent, "outboundConnection", "callControl", "networkReached"),
    e.DigitsDialed: (m.DigitsDialedEvent, "dialingConnection", "callControl", "digitsDialed"),
    e.Forwarding: (m.ForwardingEvent, None, "logicalDeviceFeature", "forwarding"),
    e.DoNotDisturb: (m.DoNotDisturbEvent, None, "logicalDeviceFeature", "doNotDisturb"),
    e.BackInService: (m.BackInServiceEvent, None, "maintenance", "backInService"),
    e.OutOfService: (m.OutOfServiceEvent, None, "maintenance", "outOfService"),
}

#: Every filter bit oso reports, by MonitorFilter category.
REPORTED = {}
for _, _, _category, _bit in _MAP.values():
    REPORTED.setdefault(_category, set()).add(_bit)
REPORTED = {category: frozenset(bits) for category, bits in REPORTED.items()}

_FIELDS = {cls: {f.name for f in fields(cls)} for cls, *_ in _MAP.values()}


def _types(annotation):
    return get_args(annotation) or (annotation,)


_REQUIRED_DEVICES = {
    cls: [
        f.name
        for f in fields(cls)
        if f.default is MISSING and f.default_factory is MISSING and m.DeviceIDStatus in _types(f.type)
    ]
    for cls, *_ in _MAP.values()
}
_OPTIONAL = {
    cls: {f.name for f in fields(cls) if f.default is not MISSING or f.default_factory is not MISSING}
    for cls, *_ in _MAP.values()
}
_MODEL_ONLY = {"seq", "time", "connection"}
_NOT_KNOWN = m.DeviceIDStatus.notKnown


def filterBit(event):
    """
    @return: C{(category, bit)}: where C{event} sits in a C{MonitorFilter}.
    """
    _, _, category, bit = _MAP[type(event)]
    return category, bit


def isFiltered(event, monitorFilter):
    """
    Whether C{monitorFilter} (the events I{not} to report) excludes C{event}.
    """
    if monitorFilter is None:
        return False
    category, bit = filterBit(event)
    return bit in getattr(monitorFilter, category)


def _entries(pairs):
    return tuple(
        m.ConnectionListEntry(oldConnection=old, newConnection=new, endpoint=new.deviceID)
        for old, new in pairs
    )


def cstaEvent(event, monitorCrossRefID):
    """
    The CSTA event message reporting call model C{event} to one monitor.

    A device parameter the model left empty is C{notKnown} where CSTA
    requires it; an optional parameter the model left empty is absent.

    @param event: an L{oso.callmodel.events.Event}.
    @param monitorCrossRefID: the monitor's cross reference id.
    """
    cls, subject, _, _ = _MAP[type(event)]
    values = {
        name: getattr(event, name)
        for name in _FIELDS[cls]
        if name not in _MODEL_ONLY and hasattr(event, name)
    }
    values["monitorCrossRefID"] = monitorCrossRefID
    if subject is not None:
        values[subject] = event.connection
    if isinstance(event, e.CallCleared):
        values["clearedCall"] = ConnectionID(event.clearedCall, None)
    elif isinstance(event, e.Transferred):
        values["transferredConnections"] = _entries(event.transferredConnections)
    elif isinstance(event, e.Conferenced):
        values["conferenceConnections"] = _entries(event.conferenceConnections)
    if values.get("callingDevice") is e.RESTRICTED:
        values["callingDevice"] = m.DeviceIDStatus.restricted
    for name in _REQUIRED_DEVICES[cls]:
        if values.get(name) in ("", None):
            values[name] = _NOT_KNOWN
    optional = _OPTIONAL[cls]
    return cls(**{k: v for k, v in values.items() if k not in optional or v not in ("", None)})

