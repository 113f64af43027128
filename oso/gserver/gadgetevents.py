"""
The gadget API's events: which call model events each session's device
monitors cover, and the bounded queue a session's events wait in until its
next GetEvents.

Which events cover a monitored device is what the CSTA device monitors
decide (L{oso.csta.monitors.Monitors}: every event of every call the device
takes part in, learnt from the events themselves, and the device's own
feature and maintenance events).  L{GadgetEvents} runs one L{Monitors} of
its own, with each gadget session standing in for a CSTA link; the monitors
tell a session which of its devices an event covers, and the session queues
the event as JSON (L{oso.gserver.eventjson.eventObject}).
"""

from zope.interface import implementer

from oso.csta import messages as m
from oso.csta.monitors import Monitors
from oso.gserver.eventjson import eventObject
from oso.interfaces.observer import IEventObserver

#: The events a session may hold between two polls, unless configured.
DEFAULT_QUEUE_LIMIT = 1000


class EventQueue:
    """
    A session's events between two polls: at most C{limit} of them, the
    oldest kept; what does not fit is counted, and the next L{take} ends
    with one explicit C{{"type": "EventsLost", "count": n}} entry where the
    lost events would have been.

    @ivar limit: the most events held.
    @ivar lost: how many events did not fit since the last L{take}.
    """

    def __init__(self, limit=DEFAULT_QUEUE_LIMIT):
        self.limit = limit
        self.lost = 0
        self._events = []

    def put(self, entry):
        """
        Queue one event.

        @param entry: the event's JSON object.
        @return: L{True} when it was queued, L{False} when the queue was
            full and it only counts as lost.
        """
        if len(self._events) >= self.limit:
            self.lost += 1
            return False
        self._events.append(entry)
        return True

    def take(self):
        """
        @return: the queued entries, oldest first, with the C{EventsLost}
            entry last when events were lost; the queue is empty afterwards.
        """
        entries, self._events = self._events, []
        if self.lost:
            entries.append({"type": "EventsLost", "count": self.lost})
            self.lost = 0
        return entries


@implementer(IEventObserver)
class GadgetEvents:
    """
    The call model's events for every gadget session: one observer of the
    model for the whole API, feeding a L{Monitors} whose links are the
    sessions.

    A session is a link in the shape L{Monitors} uses: it receives each
    covered event as C{sendEvent(cstaEvent)} while this observer is handing
    the model's event on, and reads that event (as JSON, built once for
    every session) from L{current}.
    """

    def __init__(self, callModel):
        self.callModel = callModel
        self._monitors = Monitors(callModel)
        self._event = None
        self._object = None
        callModel.addObserver(self)

    def close(self):
        """
        Stop observing the call model.
        """
        self.callModel.removeObserver(self)

    def watch(self, session, device):
        """
        Start a device monitor of C{device} for C{session}.

        @return: the monitor's cross reference id.
        @raise oso.callmodel.errors.CSTAError: C{invalidDeviceID} for an
            unknown device.
        """
        response = self._monitors.start(session, m.MonitorStart(monitorObject=device))
        return response.monitorCrossRefID

    def unwatch(self, session, crossRef):
        """
        Stop one of C{session}'s monitors.
        """
        self._monitors.stop(session, m.MonitorStop(monitorCrossRefID=crossRef))

    def current(self):
        """
        @return: the JSON object of the event being delivered.
        """
        if self._object is None:
            self._object = eventObject(self._event)
        return self._object

    def eventReceived(self, event):
        self._event, self._object = event, None
        try:
            self._monitors.eventReceived(event)
        finally:
            self._event = self._object = None

