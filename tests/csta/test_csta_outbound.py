"""
Tests for L{oso.csta.outbound}: frames keep their order whether written at
once or held while the transport is full.
"""

from oso.csta.outbound import OutboundQueue


def test_writesAtOnceWhileFlowing():
    written = []
    queue = OutboundQueue(written.append)
    queue.push(b"a")
    queue.push(b"b")
    assert written == [b"a", b"b"]
    assert len(queue) == 0


def test_holdsWhilePausedThenResumesInOrder():
    written = []
    queue = OutboundQueue(written.append)
    queue.pause()
    queue.push(b"a")
    queue.push(b"b")
    assert written == [] and len(queue) == 2
    queue.resume()
    queue.push(b"c")
    assert written == [b"a", b"b", b"c"]


def test_transportFullAgainDuringResume():
    """
    A transport that pauses its producer from within a write stops the
    flush there; the rest waits, in order, for the next resume.
    """
    written = []
    queue = OutboundQueue(lambda frame: (written.append(frame), queue.pause()))
    queue.pause()
    for frame in (b"a", b"b", b"c"):
        queue.push(frame)
    queue.resume()
    assert written == [b"a"] and len(queue) == 2
    queue.resume()
    queue.resume()
    assert written == [b"a", b"b", b"c"]


def test_clear():
    queue = OutboundQueue(lambda frame: None)
    queue.pause()
    queue.push(b"a")
    queue.clear()
    assert len(queue) == 0
