"""
Watching the call model.
"""

from zope.interface import Interface


class IEventObserver(Interface):
    """
    Receives every call model event, in order.

    An observer must return quickly: it queues work of its own rather than
    blocking.  An exception it raises is logged by the event bus and never
    reaches the call model or the other observers.
    """

    def eventReceived(event):
        """
        One event of the call model.

        @param event: an event from L{oso.callmodel.events}; its C{seq} is one
            more than the previous event's.
        """
