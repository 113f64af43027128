"""
Tests for L{oso.gserver.eventstream} over the real TLS listener: the
event stream read incrementally with treq, resume with Last-Event-ID, the
gap event, who sees what, overflow of a client that stops reading, and
the clean-up when a client goes away.
"""

from twisted.internet import reactor
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from gserverharness import ADMIN_PRINCIPAL, GServerHarness
from ssereader import SSEReader

from oso.gserver.accounts import Principal
from oso.gserver.eventstream import EventStream
from oso.gserver.settings import GServerSettings
from oso.interfaces.gserver import IGServerPart


@implementer(IGServerPart)
class EventsPart:
    """
    The stream alone at C{/events} (the REST API mounts it at
    C{/api/v1/events}).
    """

    name = "events-test"
    path = "events"

    def __init__(self, queueLimit=1000):
        self.queueLimit = queueLimit
        self.stream = None

    def resource(self, site):
        self.stream = EventStream(site, heartbeat=5.0, queueLimit=self.queueLimit)
        return self.stream


async def settle(predicate, seconds=10):
    """
    Let the reactor run until C{predicate()} holds.
    """
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return
        await deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("never settled")


class EventStreamTests(TestCase):
    def setUp(self):
        self.part = EventsPart()
        self.harness = GServerHarness(
            self.mktemp(), parts=[self.part], settings=GServerSettings(eventHistory=4)
        )
        self.addCleanup(self.harness.close)
        self.exchange = self.harness.exchange

    async def open(self, principal=ADMIN_PRINCIPAL, headers=None, query=""):
        """
        Open the stream as C{principal} with a bearer token.

        @return: the response and its L{SSEReader}.
        """
        self.url = self.url if hasattr(self, "url") else await self.harness.listen()
        token = await self.harness.accounts.issueToken(principal, "test")
        response = await self.harness.client.get(
            self.url + "/events" + query,
            headers={"Authorization": "Bearer " + token, **(headers or {})},
        )
        reader = SSEReader()
        response.deliverBody(reader)
        self.addCleanup(lambda: reader.closed)
        self.addCleanup(reader.disconnect)
        return response, reader

    async def test_streamAndResume(self):
        """
        Events arrive as they happen, with the bus sequence number as id;
        a client that reconnects with Last-Event-ID gets the events it
        missed from the history before the live ones.
        """
        response, reader = await self.open()
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"), ["text/event-stream; charset=utf-8"]
        )
        self.exchange.call("100", "101")
        events = await reader.until(lambda found: len(found) == 3)
        self.assertEqual(
            [e[1] for e in events], ["ServiceInitiatedEvent", "OriginatedEvent", "DeliveredEvent"]
        )
        self.assertEqual([int(e[0]) for e in events], [e.seq for e in self.exchange.recorder.events])
        self.assertEqual(events[2][2]["alertingDevice"], "101")
        reader.disconnect()
        await reader.closed
        self.exchange.phone("101").answer()
        _, again = await self.open(headers={"Last-Event-ID": events[1][0]})
        resumed = await again.until(lambda found: len(found) == 2)
        self.assertEqual([e[1] for e in resumed], ["DeliveredEvent", "EstablishedEvent"])
        self.exchange.phone("100").hangUp()
        live = await again.until(lambda found: found[-1][1] == "CallClearedEvent")
        self.assertEqual([int(e[0]) for e in live], [e.seq for e in self.exchange.recorder.events[2:]])

    async def test_gap(self):
        """
        A client further behind than the history (4 events here) gets an
        explicit gap event first: the first id it gets and how many it
        lost.  The query argument lastEventId works as the header does.
        """
        self.url = await self.harness.listen()
        self.exchange.call("100", "101")
        self.exchange.phone("101").answer()
        self.exchange.phone("100").hangUp()
        last = self.exchange.recorder.events[-1].seq
        _, reader = await self.open(query="?lastEventId=1")
        events = await reader.until(lambda found: len(found) == 5)
        self.assertEqual(events[0], (None, "gap", {"first": last - 3, "lost": last - 5}))
        self.assertEqual([int(e[0]) for e in events[1:]], list(range(last - 3, last + 1)))

    async def test_keepalive(self):
        """
        A keepalive comment goes out every heartbeat of the site clock.
        """
        _, reader = await self.open()
        await settle(lambda: self.part.stream.connections)
        self.harness.clock.advance(5)
        events = await reader.until(lambda found: found)
        self.assertEqual(events, [(None, "comment", "keepalive")])

    async def test_extensionUser(self):
        """
        An extension's user sees the events of its own extension only.
        """
        _, reader = await self.open(Principal.forExtension("102"))
        await settle(lambda: self.part.stream.connections)
        self.exchange.call("100", "101")
        self.exchange.phone("100").hangUp()
        self.exchange.call("103", "102")
        events = await reader.until(lambda found: found and found[-1][1] == "DeliveredEvent")
        self.assertEqual([e[1] for e in events], ["OriginatedEvent", "DeliveredEvent"])
        self.assertEqual({e[2]["calledDevice"] for e in events}, {"102"})

    async def test_refused(self):
        """
        Without a session or token: 401; a malformed Last-Event-ID: 400.
        """
        url = await self.harness.listen()
        response = await self.harness.client.get(url + "/events")
        self.assertEqual(response.code, 401)
        self.assertEqual(response.headers.getRawHeaders("www-authenticate"), ["Bearer"])
        await response.content()
        self.url = url
        response, reader = await self.open(headers={"Last-Event-ID": "12ab"})
        self.assertEqual(response.code, 400)
        await reader.closed

    async def test_disconnectCleansUp(self):
        """
        A client that goes away leaves no connection, no subscriber of the
        history and no keepalive timer behind.
        """
        _, reader = await self.open()
        await settle(lambda: self.part.stream.connections)
        self.assertEqual(self.part.stream.history.subscribers, 1)
        reader.disconnect()
        await settle(lambda: not self.part.stream.connections)
        self.assertEqual(self.part.stream.history.subscribers, 0)
        self.assertEqual(self.harness.clock.getDelayedCalls(), [])

    async def test_head(self):
        """
        HEAD answers the stream's content type and ends: no stream.
        """
        url = await self.harness.listen()
        response = await self.harness.client.head(url + "/events")
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"), ["text/event-stream; charset=utf-8"]
        )
        self.assertEqual(self.part.stream.connections, set())

    async def test_close(self):
        """
        Closing the stream (the server stops) ends every client's stream
        and stops observing the call model.
        """
        _, reader = await self.open()
        await settle(lambda: self.part.stream.connections)
        self.part.stream.close()
        await reader.closed
        self.exchange.call("100", "101")
        self.assertEqual(self.part.stream.history.lastSeq, 0)
        await settle(lambda: not self.part.stream.connections)


class OverflowTests(TestCase):
    async def test_slowClientOverflows(self):
        """
        A client that stops reading does not grow the server's memory: once
        its queue is full the stream ends with an overflow event naming the
        last event it was sent, and it resumes from there with
        Last-Event-ID, missing nothing.
        """
        part = EventsPart(queueLimit=50)
        harness = GServerHarness(self.mktemp(), parts=[part], users=("100",))
        self.addCleanup(harness.close)
        url = await harness.listen()
        token = await harness.accounts.issueToken(ADMIN_PRINCIPAL, "test")
        auth = {"Authorization": "Bearer " + token}
        response = await harness.client.get(url + "/events", headers=auth)
        reader = SSEReader()
        response.deliverBody(reader)
        await settle(lambda: part.stream.connections)
        reader.transport.pauseProducing()
        model = harness.exchange.model
        toggles = 0
        while part.stream.history.subscribers and toggles < 400_000:
            for _ in range(500):
                toggles += 1
                model.setDoNotDisturb("100", toggles % 2 == 1)
            await deferLater(reactor, 0.01, lambda: None)
        self.assertEqual(part.stream.history.subscribers, 0)
        reader.transport.resumeProducing()
        await reader.closed
        events = reader.events()
        self.assertEqual(events[-1][1], "overflow")
        lastID = events[-1][2]["lastEventId"]
        ids = [int(e[0]) for e in events[:-1]]
        self.assertEqual(ids, list(range(1, lastID + 1)))
        response = await harness.client.get(
            url + "/events", headers={**auth, "Last-Event-ID": str(lastID)}
        )
        again = SSEReader()
        response.deliverBody(again)
        resumed = await again.until(lambda found: found)
        self.assertEqual(int(resumed[0][0]), lastID + 1)
        again.disconnect()
        await again.closed
