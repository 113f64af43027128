"""
The TCP stream of call data records (L{oso.cdr.streamclient}) against real
receivers on loopback: Twisted servers in the test that drop the connection
in the middle of the stream.  Nothing is lost; in ack mode nothing is
doubled either.
"""

import re
import shutil
import tempfile

from twisted.application.service import MultiService
from twisted.internet import reactor
from twisted.internet.defer import Deferred, ensureDeferred, gatherResults
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.python.filepath import FilePath
from twisted.trial.unittest import TestCase

from oso.cdr.formats import OpenScapeFormat
from oso.cdr.journal import Journal
from oso.cdr.record import CallRecord, Direction, Disposition
from oso.cdr.streamclient import StreamClient
from oso.plugins.cdr import cdr
from oso.service import ServerContext
from oso.testing import Exchange

FORMAT = OpenScapeFormat()

_FRAME = re.compile(rb"CDR (\d+) (\d+)\r\n")


def makeRecord(i):
    return CallRecord(
        callID=f"call-{i}",
        endTime=1_340_190_695 + i,
        ringSeconds=2,
        durationSeconds=7 + i,
        line="201",
        subscriber="100",
        externalNumber=f"0891234{i:04d}",
        direction=Direction.outgoing,
        disposition=Disposition.answered,
    )


async def waitFor(condition, seconds=20):
    """
    Wait (on the real reactor) until C{condition()} holds.
    """
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        d = Deferred()
        reactor.callLater(0.02, d.callback, None)
        await d
    raise AssertionError("condition never held")


class PlainReceiver(Protocol):
    """
    A billing receiver that never answers.  Its first connection resets
    after C{dropAfter} bytes; later ones read to the end and close when the
    sender closes.
    """

    def connectionMade(self):
        self.factory.connections += 1
        self.first = self.factory.connections == 1
        self.data = b""

    def dataReceived(self, data):
        self.data += data
        if self.first and len(self.data) >= self.factory.dropAfter:
            self.factory.dropped += self.data
            self.transport.abortConnection()

    def connectionLost(self, reason):
        if not self.first:
            self.factory.received += self.data


class AckReceiver(Protocol):
    """
    A receiver of the ack protocol as doc/cdr.md asks for one: it stores
    each record, acknowledges it, and drops a record whose id it already
    holds (ids only grow).  On its first connection it stops after storing
    C{dropAfter} records: it acknowledges them, closes, and ignores what
    follows; on its second it stores three, then resets: the reset
    discards its last ACKs, so those records come again.
    """

    def connectionMade(self):
        self.factory.connections += 1
        self.number = self.factory.connections
        self.buffer = b""
        self.storedHere = 0
        self.done = False

    def dataReceived(self, data):
        self.buffer += data
        while not self.done:
            match = _FRAME.match(self.buffer)
            if match is None:
                return
            end = match.end() + int(match.group(2))
            if len(self.buffer) < end:
                return
            recordID = int(match.group(1))
            self.factory.firstOnConnection.setdefault(self.number, recordID)
            body, self.buffer = self.buffer[match.end() : end], self.buffer[end:]
            if self.number == 2 and self.storedHere == 3:
                # Got it, never stored or acknowledged: reset.
                self.done = True
                self.transport.abortConnection()
                return
            self.factory.seen.append(recordID)
            if self.factory.stored and recordID <= self.factory.stored[-1][0]:
                self.factory.doubled.append(recordID)
                self.transport.write(b"ACK %d\r\n" % recordID)
                continue
            self.factory.stored.append((recordID, body))
            self.storedHere += 1
            self.transport.write(b"ACK %d\r\n" % recordID)
            if self.number == 1 and self.storedHere == self.factory.dropAfter:
                self.done = True
                self.transport.loseConnection()


class StreamTests(TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)

    async def receiver(self, protocol, dropAfter):
        factory = Factory.forProtocol(protocol)
        factory.connections = 0
        factory.dropAfter = dropAfter
        factory.dropped = factory.received = b""
        factory.stored = []
        factory.firstOnConnection = {}
        factory.seen, factory.doubled = [], []
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        return factory, port.getHost().port

    async def stream(self, port, **options):
        self.journal = Journal(self.directory, reactor)
        await self.journal.open()
        self.addCleanup(self.journal.close)
        client = StreamClient(
            reactor,
            self.journal,
            FORMAT,
            f"tcp:host=127.0.0.1:port={port}",
            retryPolicy=lambda attempt: 0.05,
            **options,
        )
        client.startService()
        self.addCleanup(client.stopService)
        return client

    async def write(self, client, first, last):
        written = []
        for i in range(first, last + 1):
            record = await self.journal.append(makeRecord(i))
            client.recordWritten(record)
            written.append(record)
        return written

    def test_noAckNothingLost(self):
        """
        No-ack mode: the receiver resets the first connection in the middle
        of the stream; after the reconnect every record arrives (the ones
        of the reset connection again), and once the receiver has closed
        after the sender's close, the journal holds nothing unacknowledged.
        """

        async def go():
            factory, port = await self.receiver(PlainReceiver, dropAfter=700)
            client = await self.stream(port, checkpointSeconds=0.3)
            written = await self.write(client, 1, 20)
            await waitFor(lambda: factory.connections >= 2)
            written += await self.write(client, 21, 40)
            await waitFor(lambda: self.journal.pending == 0)
            lines = factory.received.split(b"\r\n")[:-1]
            expected = [FORMAT.formatRecord(r)[:-2] for r in written]
            self.assertEqual(lines, expected)
            self.assertTrue(factory.dropped)
            self.assertTrue(factory.received.startswith(factory.dropped[:60]))

        return ensureDeferred(go())

    def test_ackNothingLostNothingDoubled(self):
        """
        Ack mode: the receiver closes its first connection in the middle of
        the stream right after acknowledging, and resets its second one
        (losing its last ACKs).  Every record is stored exactly once, in
        order; a connection after a clean close starts with the record
        after the last acknowledged one; what comes twice is only what the
        reset connection carried; the journal ends empty.
        """

        async def go():
            factory, port = await self.receiver(AckReceiver, dropAfter=5)
            client = await self.stream(port, ackMode=True)
            written = await self.write(client, 1, 30)
            await waitFor(lambda: len(factory.stored) == 30 and self.journal.pending == 0)
            self.assertEqual(
                factory.stored, [(r.recordID, FORMAT.formatRecord(r)) for r in written]
            )
            self.assertGreaterEqual(factory.connections, 3)
            self.assertEqual(factory.firstOnConnection[1], 1)
            self.assertEqual(factory.firstOnConnection[2], 6)
            self.assertLessEqual(set(factory.doubled), {6, 7, 8, 9})

        return ensureDeferred(go())

    def test_receiverAbsentThenPresent(self):
        """
        Records written while no receiver listens wait in the journal and
        arrive when it comes: the client retries with its backoff.
        """

        async def go():
            factory, port = await self.receiver(AckReceiver, dropAfter=10**6)
            probe = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
                Factory.forProtocol(Protocol)
            )
            absent = probe.getHost().port
            await probe.stopListening()
            client = await self.stream(absent, ackMode=True)
            await self.write(client, 1, 3)
            await waitFor(lambda: client.protocol is None)
            factoryAgain = Factory.forProtocol(AckReceiver)
            factoryAgain.__dict__.update(factory.__dict__)
            later = await TCP4ServerEndpoint(
                reactor, absent, interface="127.0.0.1"
            ).listen(factoryAgain)
            self.addCleanup(later.stopListening)
            await waitFor(lambda: self.journal.pending == 0)
            self.assertEqual([i for i, _ in factoryAgain.stored], [1, 2, 3])

        return ensureDeferred(go())


class ComponentStreamTests(TestCase):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory)
        self.x = Exchange()
        self.context = ServerContext(
            reactor, self.x.model, self.x.store, FilePath(self.directory), None,
            MultiService(),
        )

    def test_componentStreamsWrittenRecords(self):
        """
        The cdr component with C{stream} and C{stream-ack}: each record the
        component writes reaches the receiver in the configured format and
        is acknowledged in the journal.
        """

        async def go():
            stored = []

            class Store(AckReceiver):
                def connectionMade(self):
                    super().connectionMade()
                    self.number = 0

            factory = Factory.forProtocol(Store)
            factory.connections = 0
            factory.dropAfter = 0
            factory.stored = stored
            factory.firstOnConnection = {}
            factory.seen, factory.doubled = [], []
            port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(
                factory
            )
            self.addCleanup(port.stopListening)
            section = {
                "stream": f"tcp:host=127.0.0.1:port={port.getHost().port}",
                "stream-ack": True,
                "format": "hipath-fixed",
            }
            service = cdr.makeService(cdr.validateConfig(section, "cdr"), self.context)
            await service.startService()
            self.addCleanup(service.stopService)
            written = await gatherResults([service.write(makeRecord(i)) for i in range(3)])
            await waitFor(lambda: len(stored) == 3 and service.journal.pending == 0)
            fixed = service.recordFormat()
            self.assertEqual(stored, [(r.recordID, fixed.formatRecord(r)) for r in written])
            self.assertEqual(len(stored[0][1]), 111)

        return ensureDeferred(go())

    def test_settings(self):
        """
        The stream is off by default; a bad endpoint, ack flag or
        checkpoint is refused naming the key.
        """
        from oso.config import ConfigError

        self.assertIsNone(cdr.validateConfig({}, "cdr").stream.connect)
        settings = cdr.validateConfig(
            {"stream": "tcp:host=127.0.0.1:port=9000", "stream-checkpoint": 2}, "cdr"
        ).stream
        self.assertEqual((settings.ackMode, settings.checkpointSeconds), (False, 2.0))
        for key, value in [
            ("stream", "tcp:port=9"),
            ("stream", "carrier-pigeon:1"),
            ("stream", 9000),
            ("stream-ack", "yes"),
            ("stream-checkpoint", 0),
        ]:
            with self.assertRaises(ConfigError) as caught:
                cdr.validateConfig({key: value}, "cdr")
            self.assertIn(f"cdr.{key}", str(caught.exception))
