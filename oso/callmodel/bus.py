"""
The one ordered event bus of the call model.
"""

from collections import deque

from twisted.logger import Logger
from zope.interface.verify import verifyObject

from oso.interfaces import IEventObserver


class EventBus:
    """
    Stamps each event with the next sequence number and the time, and hands
    it to every observer in order.

    An event published while observers are still receiving an earlier one
    (an observer that calls a service, say) waits until the earlier one has
    reached every observer, so every observer sees one global order.  An
    observer's exception is logged and goes no further.

    @ivar seq: the sequence number of the last event published.
    """

    log = Logger()

    def __init__(self, clock):
        self._clock = clock
        self._observers = []
        self._queue = deque()
        self._delivering = False
        self.seq = 0

    def addObserver(self, observer):
        verifyObject(IEventObserver, observer)
        self._observers.append(observer)

    def removeObserver(self, observer):
        if observer in self._observers:
            self._observers.remove(observer)

    def publish(self, eventType, **fields):
        """
        Make the event C{eventType(**fields)}, stamped, and deliver it
        (now, or after the event being delivered).  (Made stamped, not
        stamped after: a frozen event costs as much again to copy.)

        @return: the stamped event.
        """
        event = eventType(seq=self.seq + 1, time=self._clock.seconds(), **fields)
        self.seq = event.seq
        self._queue.append(event)
        if not self._delivering:
            self._drain()
        return event

    def _drain(self):
        self._delivering = True
        try:
            while self._queue:
                event = self._queue.popleft()
                for observer in list(self._observers):
                    try:
                        observer.eventReceived(event)
                    except Exception:
                        self.log.failure(
                            "event observer {observer!r} failed on {event}",
                            observer=observer,
                            event=event.name,
                        )
        finally:
            self._delivering = False
