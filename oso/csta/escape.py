"""
Private CSTA operations that components add: the ECMA-269 Escape service.

A third party adds a CTI feature of its own by naming an operation and
registering a handler for it; a client invokes it with an Escape request
whose private data is the operation's name, a newline, and the operation's
own payload (any octets; empty when it takes none).  The handler's answer
(octets) comes back as the private data of the Escape response, in either
encoding.  oso's own operations use names without a dot; a third party
should prefix its names with its own (C{acme.announce}).
"""

from twisted.internet.defer import maybeDeferred

from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.csta import messages as m

UNKNOWN_OPERATION = UniversalFailure("operation", "serviceNotSupported")
MALFORMED = UniversalFailure("operation", "invalidParameterValue")


def escapeRequest(name, payload=b""):
    """
    The Escape request that invokes private operation C{name}.
    """
    return m.EscapeService(privateData=name.encode("ascii") + b"\n" + payload)


class EscapeOperations:
    """
    Private operation name -> handler C{(link, payload) -> bytes}, or a
    L{Deferred} firing with them; a handler refuses with L{CSTAError}.
    """

    def __init__(self):
        self._handlers = {}

    def register(self, name, handler):
        """
        Serve private operation C{name}.

        @raise ValueError: for a name taken already or not printable ASCII.
        """
        if not name or not name.isascii() or not name.isprintable() or " " in name:
            raise ValueError(f"private operation name {name!r}: printable ASCII, no spaces")
        if name in self._handlers:
            raise ValueError(f"private operation {name} is already served")
        self._handlers[name] = handler

    def unregister(self, name):
        self._handlers.pop(name, None)

    def names(self):
        """
        @return: the operation names served, sorted.
        """
        return sorted(self._handlers)

    def serve(self, link, request):
        """
        The Escape service's handler: run the named operation.
        """
        name, newline, payload = request.privateData.partition(b"\n")
        if not newline:
            raise CSTAError(MALFORMED, "escape private data has no operation name line")
        handler = self._handlers.get(name.decode("ascii", "replace"))
        if handler is None:
            raise CSTAError(UNKNOWN_OPERATION, f"no private operation {name!r}")
        return maybeDeferred(handler, link, payload).addCallback(
            lambda answer: m.EscapeServiceResponse(privateData=(answer,) if answer else ())
        )
