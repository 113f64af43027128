"""
Messages as they were sent: what a finished transaction keeps of the
response or ACK it may have to send again (RFC 3261 17.1.1.2, 17.2.1,
17.2.2).

Once a transaction can no longer reach its transaction user, all it does
is send the same bytes again (a final response for a retransmitted
request or on Timer G, the ACK for a retransmitted non-2xx) until its
timer ends it; under load tens of thousands of such transactions wait
(Timer J: 32 s over UDP). Kept parsed, each message is a few dozen objects
the cyclic collector walks on every pass; kept as sent, it is one object
holding the bytes. It is still a L{Request} or L{Response} for whoever
sends it: C{serialise()} gives the bytes, the top Via (where a response
over UDP goes, RFC 3261 18.2.2) is parsed from its text on each use, and
the other fields from the bytes, again on each use, without keeping them.
"""

from oso.sip.headers import parseVia
from oso.sip.message import Request, Response, parseMessage, writeResponse


class _Sent:
    """
    What both sent forms share (the concrete classes hold the slots).
    """

    __slots__ = ()

    def serialise(self):
        """
        @return: the bytes that were sent.
        """
        return self._data

    @property
    def headers(self):
        """
        The fields, parsed from the bytes on each use (and not kept).
        """
        return parseMessage(self._data).headers

    @property
    def body(self):
        return self._data.partition(b"\r\n\r\n")[2]

    @property
    def via(self):
        return parseVia(self._via)


class SentRequest(_Sent, Request):
    """
    A request as sent (the ACK for a non-2xx, RFC 3261 17.1.1.3).
    """

    __slots__ = ("_data", "_via")

    @property
    def uri(self):
        return parseMessage(self._data).uri


class SentResponse(_Sent, Response):
    """
    A response as sent.
    """

    __slots__ = ("_data", "_via")


def sentForm(message):
    """
    @param message: a L{Request} or L{Response} about to be sent.
    @return: its sent form: a L{SentRequest} or L{SentResponse} (the
        message itself when it is one already).
    """
    if isinstance(message, _Sent):
        return message
    if isinstance(message, Response):
        sent = SentResponse.__new__(SentResponse)
        sent.status = message.status
        sent.reason = message.reason
    else:
        sent = SentRequest.__new__(SentRequest)
        sent.method = message.method
    sent._via = message.headers.get("via")
    sent._data = message.serialise()
    return sent


def writtenResponse(request, status, reason, keys, tag, fields):
    """
    The response L{oso.sip.message.writeResponse} writes, in its sent
    form: the bytes are all there ever is of it.
    """
    sent = SentResponse.__new__(SentResponse)
    sent.status = status
    sent.reason = reason
    sent._via, sent._data = writeResponse(request, status, reason, keys, tag, fields)
    return sent
