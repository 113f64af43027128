"""
Reading a Server-Sent Events stream in tests: a parser of the stream's
text and a body protocol that reads a streamed response incrementally.
"""

import json

from twisted.internet import reactor
from twisted.internet.defer import Deferred, succeed
from twisted.internet.protocol import Protocol


def parse(chunks):
    """
    The events of a stream as C{(id, event, data)} (C{id} L{None} when it
    has none, C{data} decoded from JSON), comments as
    C{(None, "comment", text)}.

    @param chunks: the stream's bytes, as a list of chunks.
    """
    found = []
    for block in b"".join(chunks).decode().split("\n\n")[:-1]:
        if block.startswith(":"):
            found.append((None, "comment", block[1:].strip()))
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        found.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
    return found


class SSEReader(Protocol):
    """
    The body of a streamed response, as it arrives.

    @ivar chunks: the bytes received.
    @ivar closed: fires when the body ends (or the connection is lost).
    """

    def __init__(self):
        self.chunks = []
        self.closed = Deferred()
        self._waiting = []

    def events(self):
        return parse(self.chunks)

    def dataReceived(self, data):
        self.chunks.append(data)
        for predicate, waiter in list(self._waiting):
            if predicate(self.events()):
                self._waiting.remove((predicate, waiter))
                waiter.callback(self.events())

    def connectionLost(self, reason):
        self.closed.callback(None)

    def until(self, predicate, timeout=10):
        """
        @return: a L{Deferred} firing with the events once
            C{predicate(events)} holds, failing after C{timeout} seconds.
        """
        if predicate(self.events()):
            return succeed(self.events())
        waiter = Deferred()
        self._waiting.append((predicate, waiter))
        return waiter.addTimeout(timeout, reactor)

    def disconnect(self):
        """
        Drop the connection, as a client that goes away.
        """
        self.transport.stopProducing()
