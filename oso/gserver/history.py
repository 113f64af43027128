"""
The bounded history of call model events behind the G-Server's event
stream: the last few thousand events, each as the JSON the stream sends,
so that a client that reconnects with the id of the last event it got
(C{Last-Event-ID}) gets every event it missed, or is told plainly how many
are gone when the gap is larger than the history.

The history is one observer of the call model for every stream client:
each event is turned into JSON once, and the devices it concerns are found
once, whatever the number of clients.  Sequence numbers are the event
bus's C{seq} (one more for each event), so a gap is simple arithmetic.
"""

import json
from collections import deque
from dataclasses import dataclass

from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel import events as e
from oso.callmodel.ids import ConnectionID
from oso.gserver.eventjson import eventObject
from oso.interfaces.observer import IEventObserver

#: Events kept when the configuration says nothing.
DEFAULT_SIZE = 10000

#: Fields holding a device number that are not named C{...Device}.
_DEVICE_FIELDS = frozenset({"device", "addedParty", "newDestination", "queue"})


@dataclass(frozen=True, slots=True)
class Entry:
    """
    One event as the stream sends it.

    @ivar seq: the event's sequence number, the stream's event id.
    @ivar type: its JSON C{type} (C{"DeliveredEvent"}, ...).
    @ivar data: its JSON object as text, on one line.
    @ivar devices: the device numbers it concerns (see L{devicesOf}).
    """

    seq: int
    type: str
    data: str
    devices: frozenset


@dataclass(frozen=True, slots=True)
class Gap:
    """
    Events a client asked for that the history no longer holds.

    @ivar first: the id of the first event it gets (the oldest held, or
        the next to come when nothing is held).
    @ivar lost: how many events it missed for good, or L{None} when its
        id is one the server never gave (it restarted since): then it
        cannot be told.
    """

    first: int
    lost: int | None


def _named(value):
    """
    The device numbers in the connection ids of one field's value.
    """
    if isinstance(value, ConnectionID):
        yield value.deviceID
    elif isinstance(value, tuple):
        for item in value:
            yield from _named(item)


def namedDevices(event):
    """
    The devices an event names: in its connections (subject, old calls,
    transferred or conferenced connections) and in its device fields
    (C{callingDevice}, C{alertingDevice}, C{device}, C{queue}, ...).

    @param event: an L{oso.callmodel.events.Event}.
    @rtype: L{set} of L{str}
    """
    devices = set()
    for name in event.__dataclass_fields__:
        value = getattr(event, name)
        if isinstance(value, str):
            if value and (name.endswith("Device") or name in _DEVICE_FIELDS):
                devices.add(value)
        else:
            devices.update(_named(value))
    return devices


@implementer(IEventObserver)
class EventHistory:
    """
    The last C{size} events of the call model, and the live ones for
    whoever subscribed.

    An event concerns the devices it names (L{namedDevices}); a
    C{CallCleared}, which names none, concerns every device named in the
    call's earlier events, so an extension's user sees its calls end.

    @ivar size: the most events kept.
    @ivar lastSeq: the sequence number of the last event received, C{0}
        before the first.
    """

    log = Logger()

    def __init__(self, size=DEFAULT_SIZE):
        if size < 1:
            raise ValueError(f"an event history holds at least one event, not {size}")
        self.size = size
        self.lastSeq = 0
        self._entries = deque(maxlen=size)
        # The sequence number of the newest event not held (evicted, or
        # from before the history began).
        self._forgotten = None
        self._callDevices = {}
        self._subscribers = []

    def __len__(self):
        return len(self._entries)

    @property
    def subscribers(self):
        """
        How many live subscribers there are.
        """
        return len(self._subscribers)

    def subscribe(self, callback):
        """
        Call C{callback(entry)} with each new L{Entry}, in order.
        """
        self._subscribers.append(callback)

    def unsubscribe(self, callback):
        """
        Stop calling C{callback}; nothing happens if it is not subscribed.
        """
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    def eventReceived(self, event):
        if self._forgotten is None:
            self._forgotten = event.seq - 1
        entry = self._entry(event)
        if len(self._entries) == self.size:
            self._forgotten = self._entries[0].seq
        self._entries.append(entry)
        self.lastSeq = event.seq
        for callback in list(self._subscribers):
            try:
                callback(entry)
            except Exception:
                self.log.failure("event stream subscriber {s!r} failed", s=callback)

    def _entry(self, event):
        devices = namedDevices(event)
        if isinstance(event, e.CallCleared):
            devices |= self._callDevices.pop(event.callID, set())
        elif isinstance(event, (e.Transferred, e.Conferenced)):
            pairs = (
                event.transferredConnections
                if isinstance(event, e.Transferred)
                else event.conferenceConnections
            )
            calls = {c.callID for c in (event.primaryOldCall, event.secondaryOldCall) if c}
            calls |= {new.callID for _, new in pairs}
            for callID in calls:
                devices |= self._callDevices.pop(callID, set())
            for _, new in pairs:
                self._callDevices.setdefault(new.callID, set()).update(devices)
        elif isinstance(event, e.CallEvent) and event.connection is not None:
            self._callDevices.setdefault(event.callID, set()).update(devices)
        body = eventObject(event)
        return Entry(
            seq=event.seq,
            type=body["type"],
            data=json.dumps(body, separators=(",", ":")),
            devices=frozenset(devices),
        )

    def since(self, lastID):
        """
        What a client that got every event up to C{lastID} has missed.

        @param lastID: the id of the last event the client got.
        @type lastID: L{int}
        @return: C{(gap, entries)}: a L{Gap} when some of those events
            are gone (or L{None}), and the L{Entry}s after C{lastID} that
            the history holds, oldest first.
        """
        first = self._entries[0].seq if self._entries else self.lastSeq + 1
        if lastID > self.lastSeq:
            return Gap(first=first, lost=None), list(self._entries)
        forgotten = self._forgotten or 0
        if lastID < forgotten:
            return Gap(first=first, lost=forgotten - lastID), list(self._entries)
        skip = len(self._entries) - (self.lastSeq - lastID)
        return None, list(self._entries)[skip:]
