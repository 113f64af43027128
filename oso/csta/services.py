"""
The CSTA services other parts of oso supply to every link.

The link answers the system services itself; call control, monitors, CDR
transmission and a third party's private escape operations are handlers
registered here, by request type, by whichever component provides them.
A handler sees the request as a message of L{oso.csta.messages}, never its
encoding, so one handler serves BER and XML links alike.
"""

from twisted.internet.defer import maybeDeferred
from twisted.logger import Logger

from oso.callmodel.errors import CSTAError, UniversalFailure

log = Logger()

GENERIC_FAILURE = UniversalFailure("operation", "generic")


class ServiceRegistry:
    """
    Request type -> the handler that answers it.

    A handler is called as C{handler(link, request)} and returns the
    response message, or a L{Deferred} firing with it.  It refuses by
    raising (or failing with) L{CSTAError}, whose universal failure goes
    back to the client.  C{link} is the L{oso.csta.link.CSTALink} the
    request came on: a handler that starts something lasting (a monitor, a
    CDR transmission) sends its later events with C{link.sendEvent} and
    ends it in a C{link.whenClosed} callback.
    """

    def __init__(self):
        self._handlers = {}

    def register(self, requestType, handler):
        """
        Serve C{requestType} with C{handler} on every link.

        @raise ValueError: when another handler already serves it.
        """
        if requestType in self._handlers:
            raise ValueError(f"CSTA {requestType.__name__} is already served")
        self._handlers[requestType] = handler

    def unregister(self, requestType):
        """
        Stop serving C{requestType} (its component stopped).
        """
        self._handlers.pop(requestType, None)

    def handlerFor(self, requestType):
        """
        @return: the handler of C{requestType}, or L{None}.
        """
        return self._handlers.get(requestType)

    def serve(self, link, request):
        """
        Answer C{request} with its registered handler.

        @return: a L{Deferred} firing with the response message, or with
            the L{UniversalFailure} refusing it; never failing.
        """
        handler = self._handlers[type(request)]
        return maybeDeferred(handler, link, request).addErrback(_refusal, request)


def _refusal(failure, request):
    if failure.check(CSTAError):
        return failure.value.failure
    log.failure(
        "CSTA {service} handler failed", failure, service=type(request).__name__
    )
    return GENERIC_FAILURE
