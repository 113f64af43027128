"""
Lossless event delivery over real TCP: thousands of events to a client
that reads and to one that stops reading.  The reader gets every event;
the one that stopped gets every event up to an explicit overflow notice
(SystemStatus messagesLost, then a MonitorStop per monitor), and the
server, the call model and the other link never wait for it.
"""

import socket
from collections import Counter

from twisted.internet import defer, protocol, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, TCP4ServerEndpoint
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from oso.csta import messages as m
from oso.csta.callcontrol import CallControl
from oso.csta.framing import XMLFramer, frameXML
from oso.csta.monitors import Monitors
from oso.csta.protocol import CSTAFactory
from oso.csta.xml import Edition, modelCodec
from oso.testing import Exchange

CODEC = modelCodec()
CALLS = 300
BATCH = 20
LIMIT = 300


class Client(protocol.Protocol):
    """
    An XML client (the faster codec to decode thousands of events with)
    that monitors 100 and 101 and keeps what it is sent.
    """

    def __init__(self):
        self.framer = XMLFramer()
        self.messages = []
        self.events = Counter()
        self.started = defer.Deferred()

    def connectionMade(self):
        for invokeID, device in ((1, "100"), (2, "101")):
            request = m.MonitorStart(monitorObject=device)
            self.transport.write(frameXML(invokeID, CODEC.encode(request, Edition.ED5)))

    def dataReceived(self, data):
        for invokeID, document in self.framer.feed(data):
            _, message = CODEC.decode(document)
            self.messages.append(message)
            if isinstance(message, m.CSTAEvent):
                self.events[message.monitorCrossRefID] += 1
        if self.started and len(self.results()) == 2:
            started, self.started = self.started, None
            started.callback(self)

    def results(self):
        return [r for r in self.messages if isinstance(r, m.MonitorStartResponse)]

    def invokes(self):
        """
        What the server sent of its own: events, SystemStatus, MonitorStop.
        """
        return [r for r in self.messages if not isinstance(r, m.MonitorStartResponse)]


def eventsOf(invokes, crossRef):
    """
    C{(event name, cause)} of each event for monitor C{crossRef}.
    """
    return [
        (type(e).__name__, e.cause)
        for e in invokes
        if isinstance(e, m.CSTAEvent) and e.monitorCrossRefID == crossRef
    ]


def covered(events, device):
    """
    C{(event name, cause)} of the model's events that a monitor of
    C{device} reports in these calls from 100 to 101: 100 sees all but
    101's ConnectionCleared (it comes after 100 left the call), 101 all but
    100's ServiceInitiated and Originated (they come before 101 joins).
    """
    skipped = {
        "100": lambda e: e.name == "ConnectionCleared" and e.connection.deviceID == "101",
        "101": lambda e: e.name in ("ServiceInitiated", "Originated"),
    }[device]
    return [(e.name + "Event", e.cause) for e in events if not skipped(e)]


class LosslessTests(TestCase):
    timeout = 120

    async def _drive(self):
        exchange = Exchange()
        factory = CSTAFactory(reactor, exchange.model, eventLimit=LIMIT)
        CallControl(exchange.model).register(factory.services)
        monitors = Monitors(exchange.model)
        monitors.register(factory.services)
        monitors.startService()
        self.addCleanup(monitors.stopService)
        port = await TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(factory)
        self.addCleanup(port.stopListening)
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)

        fast = Client()
        await endpoint.connect(protocol.Factory.forProtocol(lambda: fast))
        slow = Client()
        # The slow client has a small receive window, set before it
        # connects so the kernel holds little for it, and stops reading.
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port.getHost().port))
        raw.setblocking(False)
        reactor.adoptStreamConnection(raw.fileno(), socket.AF_INET, protocol.Factory.forProtocol(lambda: slow))
        raw.close()
        self.addCleanup(fast.transport.loseConnection)
        self.addCleanup(slow.transport.loseConnection)
        await fast.started
        await slow.started
        # Small kernel buffers at the server's end too, as a congested
        # path gives: the backlog then builds in oso, where it is bounded.
        [serverSide] = [p for p in factory.links if p.transport.getPeer().port == slow.transport.getHost().port]
        serverSide.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        slow.transport.pauseProducing()

        expected = 0
        for done in range(0, CALLS, BATCH):
            for _ in range(BATCH):
                exchange.phone("100").offHook("101")
                exchange.phone("101").answer()
                exchange.phone("101").pressHold()
                exchange.phone("101").pressRetrieve()
                exchange.phone("100").hangUp()
            expected = len(covered(exchange.recorder.events, "100"))
            # The reader reads as fast as it can; the model never waits.
            while fast.events["1"] < expected:
                await deferLater(reactor, 0.001, lambda: None)
        slow.transport.resumeProducing()
        while not any(isinstance(a, m.MonitorStop) for a in slow.invokes()[-2:]):
            await deferLater(reactor, 0.01, lambda: None)
        await deferLater(reactor, 0.1, lambda: None)
        return exchange, fast, slow, expected

    @defer.inlineCallbacks
    def test_fastGetsAllSlowGetsPrefixThenNotice(self):
        exchange, fast, slow, expected = yield defer.ensureDeferred(self._drive())
        model = {device: covered(exchange.recorder.events, device) for device in ("100", "101")}
        self.assertGreater(len(model["100"]) + len(model["101"]), 3000)
        self.assertEqual(eventsOf(fast.invokes(), "1"), model["100"])
        self.assertEqual(eventsOf(fast.invokes(), "2"), model["101"])

        invokes = slow.invokes()
        notice = next(i for i, a in enumerate(invokes) if isinstance(a, m.SystemStatus) and a.systemStatus is m.SystemStatusValue.messagesLost)
        self.assertEqual(
            [type(a).__name__ for a in invokes[notice:]], ["SystemStatus", "MonitorStop", "MonitorStop"]
        )
        self.assertEqual({a.monitorCrossRefID for a in invokes[notice + 1:]}, {"3", "4"})
        for crossRef, device in (("3", "100"), ("4", "101")):
            got = eventsOf(invokes[:notice], crossRef)
            self.assertGreater(len(got), 0)
            self.assertLess(len(got), len(model[device]))
            self.assertEqual(got, model[device][: len(got)])
