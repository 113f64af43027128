"""
Cutting a byte stream (TCP, TLS) into SIP messages by Content-Length
(RFC 3261 18.3), and recognising the CRLF keep-alives of RFC 5626 3.5.1
between messages.
"""

import re

from oso.sip.uri import SIPParseError

#: A keep-alive ping (RFC 5626 3.5.1: a double CRLF): answer with L{PONG}.
PING = b"\r\n\r\n"
#: A keep-alive pong (a single CRLF), the answer to a ping.
PONG = b"\r\n"

_LENGTH_FIELD_RE = re.compile(rb"\r\n(?:content-length|l)[ \t]*:", re.IGNORECASE)
_LENGTH_RE = re.compile(
    rb"\r\n(?:content-length|l)[ \t]*:[ \t]*([0-9]{1,10})[ \t]*(?=\r\n|$)", re.IGNORECASE
)


class StreamFramer:
    """
    Collects the bytes of a stream and hands out whole messages.

    A CRLF between messages is a keep-alive: a double CRLF comes out as
    L{PING}, a single one as L{PONG}. A single CRLF at the very end of the
    bytes received so far is taken for a pong at once (a ping is sent in
    one piece), a lone CR is kept until its LF arrives.

    A message without Content-Length is taken to end with its header (the
    parser then refuses it: a stream requires Content-Length).
    """

    def __init__(self, maxMessageSize=256 * 1024):
        """
        @param maxMessageSize: the largest message accepted, in octets.
        """
        self.maxMessageSize = maxMessageSize
        self._buffer = bytearray()
        self._searched = 0
        self._size = None

    def feed(self, data):
        """
        Take the next bytes of the stream.

        @return: a list of what they completed, in order: each whole
            message as C{bytes} (for L{oso.sip.message.parseMessage} with
            C{datagram=False}), L{PING} or L{PONG}.
        @raise SIPParseError: when the stream cannot be cut any more (a
            Content-Length that is not a number, or two that differ, or a
            message over C{maxMessageSize}); the connection is lost then.
        """
        buffer = self._buffer
        buffer += data
        out = []
        while buffer:
            if self._size is None:
                if buffer[0] == 13:
                    if buffer.startswith(PING):
                        out.append(PING)
                        del buffer[:4]
                    elif buffer.startswith(PONG) and buffer[2:3] != b"\r":
                        out.append(PONG)
                        del buffer[:2]
                    elif len(buffer) < 4 and PING.startswith(buffer):
                        break
                    else:
                        raise SIPParseError("stray CR between messages", reason="Bad Request")
                    continue
                end = buffer.find(PING, self._searched)
                if end < 0:
                    self._searched = max(0, len(buffer) - 3)
                    if len(buffer) > self.maxMessageSize:
                        raise _tooLarge(len(buffer))
                    break
                self._size = end + 4 + self._contentLength(bytes(buffer[:end]))
                self._searched = 0
                if self._size > self.maxMessageSize:
                    raise _tooLarge(self._size)
            if len(buffer) < self._size:
                break
            out.append(bytes(buffer[: self._size]))
            del buffer[: self._size]
            self._size = None
        return out

    def _contentLength(self, head):
        fields = len(_LENGTH_FIELD_RE.findall(head))
        if fields == 0:
            return 0
        lengths = _LENGTH_RE.findall(head)
        if len(lengths) != fields or len(set(lengths)) != 1:
            raise SIPParseError(
                "no usable Content-Length to cut the stream", reason="Bad Content-Length"
            )
        return int(lengths[0])


def _tooLarge(size):
    return SIPParseError(
        f"message of {size} octets or more, over the limit", 513, "Message Too Large"
    )
