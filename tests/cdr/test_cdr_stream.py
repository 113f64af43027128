"""
The TCP stream's sender state (L{oso.cdr.stream.StreamSender}), without
sockets: what goes on a connection, which receiver answers confirm which
records, and what goes again after a reconnect.
"""

import pytest

from oso.cdr.formats import CSVFormat, OpenScapeFormat
from oso.cdr.record import CallRecord, Direction, Disposition
from oso.cdr.stream import StreamProtocolError, StreamSender, frame


def record(recordID):
    return CallRecord(
        recordID=recordID,
        callID=f"c{recordID}",
        endTime=1_340_190_695 + recordID,
        durationSeconds=7,
        subscriber="201",
        externalNumber="0891234",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
    )


FORMAT = OpenScapeFormat()


def test_ackModeFrames():
    """
    Ack mode: each record in a C{CDR <id> <length>} frame holding the
    format's bytes; no header on connecting.
    """
    sender = StreamSender(FORMAT, ackMode=True)
    assert sender.connectionMade(0) == b""
    data = sender.send([record(1), record(2)])
    line = FORMAT.formatRecord(record(1))
    assert data.startswith(b"CDR 1 %d\r\n" % len(line) + line)
    assert data == frame(1, line) + frame(2, FORMAT.formatRecord(record(2)))
    assert sender.resumeAfter == 2


def test_ackIsCumulative():
    """
    C{ACK <id>} confirms every record up to it, split over reads or not;
    an ACK already known confirms nothing new.
    """
    sender = StreamSender(FORMAT, ackMode=True)
    sender.connectionMade(0)
    sender.send([record(i) for i in range(1, 6)])
    assert sender.dataReceived(b"ACK ") is None
    assert sender.dataReceived(b"3\r\n") == 3
    assert sender.sent == [4, 5]
    assert sender.dataReceived(b"ACK 2\r\nACK 3\n") is None
    assert sender.dataReceived(b"ACK 5\r\n") == 5
    assert sender.sent == []


@pytest.mark.parametrize(
    "data", [b"NAK 1\r\n", b"ACK 9\r\n", b"ACK x\r\n", b"A" * 100]
)
def test_badReceiverAnswers(data):
    """
    Anything but an ACK of a record that was sent is a protocol error.
    """
    sender = StreamSender(FORMAT, ackMode=True)
    sender.connectionMade(0)
    sender.send([record(1), record(2)])
    with pytest.raises(StreamProtocolError):
        sender.dataReceived(data)


def test_ackModeResendsUnacknowledged():
    """
    After a lost connection the next one resumes after the last
    acknowledged record, whatever had been sent; a lost connection
    confirms nothing in ack mode, clean or not.
    """
    sender = StreamSender(FORMAT, ackMode=True)
    sender.connectionMade(0)
    sender.send([record(i) for i in range(1, 5)])
    sender.dataReceived(b"ACK 2\r\n")
    assert sender.connectionLost(clean=True) is None
    sender.connectionMade(2)
    assert sender.resumeAfter == 2
    with pytest.raises(ValueError):
        sender.send([record(2)])


def test_noAckHeaderAndIgnoredInput():
    """
    No-ack mode: the format's header starts each connection, the records
    go as the format renders them, and the receiver's bytes are ignored.
    """
    sender = StreamSender(CSVFormat(), ackMode=False)
    assert sender.connectionMade(0) == CSVFormat().header()
    assert sender.send([record(1)]) == CSVFormat().formatRecord(record(1))
    assert sender.dataReceived(b"whatever\r\n") is None


def test_noAckConfirmedByCleanCloseAfterCheckpoint():
    """
    No-ack mode: only a clean end after the sender's own close confirms
    the connection's records.
    """
    sender = StreamSender(FORMAT)
    sender.connectionMade(0)
    sender.send([record(1), record(2)])
    sender.checkpoint()
    with pytest.raises(ValueError):
        sender.send([record(3)])
    assert sender.connectionLost(clean=True) == 2
    assert sender.confirmed == 2


@pytest.mark.parametrize("clean, checkpoint", [(False, True), (True, False), (False, False)])
def test_noAckOtherEndsConfirmNothing(clean, checkpoint):
    """
    A reset, or the receiver closing first, confirms nothing: the next
    connection starts again after the last confirmed record.
    """
    sender = StreamSender(FORMAT)
    sender.connectionMade(0)
    sender.send([record(1), record(2)])
    if checkpoint:
        sender.checkpoint()
    assert sender.connectionLost(clean) is None
    sender.connectionMade(0)
    assert sender.resumeAfter == 0


def test_connectingTakesOtherPathsAcknowledgements():
    """
    Records another path acknowledged meanwhile are not sent again.
    """
    sender = StreamSender(FORMAT)
    sender.connectionMade(0)
    sender.connectionLost(False)
    sender.connectionMade(7)
    assert sender.resumeAfter == 7


def test_window():
    """
    A no-ack connection asks to be closed when it carries a full window of
    unconfirmed records; an ack-mode one never does.
    """
    sender = StreamSender(FORMAT, window=3)
    sender.connectionMade(0)
    sender.send([record(1), record(2)])
    assert not sender.wantsCheckpoint()
    sender.send([record(3)])
    assert sender.wantsCheckpoint()
    acked = StreamSender(FORMAT, ackMode=True, window=3)
    acked.connectionMade(0)
    acked.send([record(i) for i in range(1, 5)])
    assert not acked.wantsCheckpoint()
