"""
Streaming call data records to a billing receiver over TCP, sans-I/O: what
to send on a connection, and when records count as delivered.

HiPath 3000 connected to a billing computer and wrote each record as it
happened.  A plain receiver never answers, so TCP alone cannot tell the
sender which records it has; L{StreamSender} knows two ways to find out:

  - B{ack mode}: each record goes in a frame C{CDR <id> <length>\\r\\n}
    followed by the record's bytes in the configured format; the receiver
    answers C{ACK <id>\\r\\n} once it holds every record up to C{<id>}
    (cumulative).  Only acknowledged records are delivered.
  - B{no-ack mode}: the records' bytes as the format renders them (the
    format's header first on each connection).  Records count as delivered
    only when the connection they went on ends cleanly after the sender
    closed its side: the sender half-closes (FIN) after a quiet spell or a
    full window, and a receiver that has read the stream to its end closes
    its side too.  Any other end (a reset, the receiver closing first, no
    answer to the FIN) delivers nothing of that connection; its records go
    again on the next one.

Either way a record not known to be delivered is sent again after a
reconnect, so a receiver may see a record twice (at least once); ids
strictly increase, so an ack-mode receiver that drops ids it already holds
gets every record exactly once.  doc/cdr.md has the whole story.
"""

import re
from bisect import bisect_left

#: The most records sent on one no-ack connection before it is closed to
#: have them confirmed.
DEFAULT_WINDOW = 1000

_ACK = re.compile(rb"ACK ([0-9]{1,19})\r?\n\Z")

#: The longest line a receiver may send (an ACK with a long id and CR LF).
_MAX_LINE = 64


class StreamProtocolError(Exception):
    """
    The receiver sent something the ack protocol does not allow.
    """


def frame(recordID, data):
    """
    One record in ack mode: the header line and the record's bytes.
    """
    return b"CDR %d %d\r\n" % (recordID, len(data)) + data


class StreamSender:
    """
    The state of the stream on one connection after another.

    The adapter reads the journal after L{resumeAfter}, passes the records
    to L{send} and writes what it returns; it passes what the receiver sends
    to L{dataReceived} and the end of each connection to L{connectionLost},
    and acknowledges in the journal every id they return.

    @ivar ackMode: whether the receiver acknowledges records.
    @ivar confirmed: the highest record id known delivered (or acknowledged
        by another path before this connection started).
    @ivar sent: the record ids sent on the current connection and not yet
        confirmed, in order.
    @ivar closing: whether the sender has half-closed the current
        connection to have its records confirmed (no-ack mode).
    """

    def __init__(self, recordFormat, ackMode=False, window=DEFAULT_WINDOW):
        """
        @param recordFormat: the L{oso.interfaces.ICDRFormat} records are
            rendered in.
        @param ackMode: whether the receiver acknowledges records.
        @param window: the most unconfirmed records a no-ack connection
            carries before L{wantsCheckpoint} says to close it.
        """
        self.format = recordFormat
        self.ackMode = ackMode
        self.window = window
        self.confirmed = 0
        self.sent = []
        self.connected = False
        self.closing = False
        self._buffer = b""

    @property
    def resumeAfter(self):
        """
        The record id after which the journal is read next: the last one
        sent on this connection, else the last one confirmed.
        """
        return self.sent[-1] if self.sent else self.confirmed

    def connectionMade(self, acknowledged):
        """
        A connection is up.

        @param acknowledged: the journal's acknowledgement mark now (other
            paths may have moved it).
        @return: the bytes to send first (the format's header in no-ack
            mode).
        """
        self.confirmed = max(self.confirmed, acknowledged)
        self.sent = []
        self.connected = True
        self.closing = False
        self._buffer = b""
        return b"" if self.ackMode else self.format.header()

    def send(self, records):
        """
        Records read from the journal, in order, to go out now.

        @param records: L{oso.cdr.record.CallRecord}s with ids above
            L{resumeAfter}.
        @return: their bytes.
        """
        if not self.connected or self.closing:
            raise ValueError("records sent without an open connection")
        out = []
        for record in records:
            if record.recordID <= self.resumeAfter:
                raise ValueError(f"record {record.recordID} out of order")
            data = self.format.formatRecord(record)
            out.append(frame(record.recordID, data) if self.ackMode else data)
            self.sent.append(record.recordID)
        return b"".join(out)

    def wantsCheckpoint(self):
        """
        Whether a no-ack connection carries a full window of unconfirmed
        records and should be closed to confirm them.
        """
        return not self.ackMode and len(self.sent) >= self.window

    def checkpoint(self):
        """
        The sender half-closes the connection (no-ack mode) to have its
        records confirmed; nothing more is sent on it.
        """
        self.closing = True

    def dataReceived(self, data):
        """
        Bytes from the receiver.

        @return: the new confirmed record id, or L{None} when nothing new
            is confirmed.
        @raise StreamProtocolError: for anything but C{ACK <id>} lines in
            ack mode, or an id that was not sent.
        """
        if not self.ackMode:
            return None
        self._buffer += data
        upTo = None
        while b"\n" in self._buffer:
            line, _, self._buffer = self._buffer.partition(b"\n")
            match = _ACK.match(line + b"\n")
            if match is None:
                raise StreamProtocolError(f"not an ACK line: {line[:_MAX_LINE]!r}")
            recordID = int(match.group(1))
            if recordID <= self.confirmed:
                continue
            index = bisect_left(self.sent, recordID)
            if index == len(self.sent) or self.sent[index] != recordID:
                raise StreamProtocolError(f"ACK {recordID}: no such record was sent")
            del self.sent[: index + 1]
            self.confirmed = upTo = recordID
        if len(self._buffer) > _MAX_LINE:
            raise StreamProtocolError(f"line too long: {self._buffer[:_MAX_LINE]!r}")
        return upTo

    def connectionLost(self, clean):
        """
        The connection is gone.

        @param clean: whether it ended cleanly after L{checkpoint}: the
            sender's FIN answered by the receiver's, no reset.
        @return: the new confirmed record id (no-ack mode, clean end), or
            L{None}: the unconfirmed records go again on the next
            connection.
        """
        upTo = None
        if clean and self.closing and not self.ackMode and self.sent:
            self.confirmed = upTo = self.sent[-1]
        self.sent = []
        self.connected = False
        self.closing = False
        return upTo
