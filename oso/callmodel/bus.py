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
        #: Replaced, never changed in place: an observer added or removed
        #: while an event is being delivered does not change who receives
        #: it, and no copy is made per event.
        self._observers = []
        self._queue = deque()
        self._delivering = False
        self.seq = 0

    def addObserver(self, observer):
        verifyObject(IEventObserver, observer)
        self._observers = self._observers + [observer]

    def removeObserver(self, observer):
        if observer in self._observers:
            observers = list(self._observers)
            observers.remove(observer)
            self._observers = observers

    def publish(self, eventType, **fields):
        """
        Make the event C{eventType(**fields)}, stamped, and deliver it
        (now, or after the event being delivered).  (Made stamped, not
        stamped after: a frozen event costs as much again to copy.)

        @return: the stamped event.
        """
        seq = self.seq + 1
        event = eventType(seq=seq, time=self._clock.seconds(), **fields)
        self.seq = seq
        if self._delivering:
            self._queue.append(event)
        else:
            self._drain(event)
        return event

    def _drain(self, event):
        """
        Deliver C{event}, then whatever was published meanwhile.
        """
        self._delivering = True
        queue = self._queue
        try:
            while True:
                for observer in self._observers:
                    try:
                        observer.eventReceived(event)
                    except Exception:
                        self.log.failure(
                            "event observer {observer!r} failed on {event}",
                            observer=observer,
                            event=event.name,
                        )
                if not queue:
                    break
                event = queue.popleft()
        finally:
            self._delivering = False
