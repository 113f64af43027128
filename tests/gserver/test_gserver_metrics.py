"""
Tests for L{oso.gserver.metrics}: the exposition format, the call
dispositions counted from the call model's events, and C{/metrics} over
the real TLS listener with the real CSTA and CDR components, values
changing with calls on virtual phones and a CSTA client's monitor.
"""

import re
from types import SimpleNamespace

from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from gserverharness import ADMIN_PRINCIPAL, GServerHarness

from oso.callmodel.causes import EventCause
from oso.csta import messages as m
from oso.csta.framing import XMLFramer, frameXML
from oso.csta.xml import Edition, modelCodec
from oso.gserver.accounts import Principal
from oso.gserver.metrics import CallDispositions, Disposition, Family, Metrics, escapeLabel, exposition
from oso.interfaces.gserver import IGServerPart
from oso.interfaces.observer import IEventObserver
from oso.plugins.cdr import cdr
from oso.plugins.csta import csta
from oso.plugins.gserver_metrics import metrics
from oso.sip.registrar import Binding, Registrar
from oso.testing import Exchange

CODEC = modelCodec()

# One line of the text format 0.0.4: a comment, or a sample with optional
# labels (each value a quoted string with \\, \" and \n escapes).
_LINE = re.compile(
    r'# (HELP|TYPE) (\w+) (.*)'
    r'|(\w+)(?:\{((?:\w+="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (-?\d+(?:\.\d+)?)\Z'
)
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """
    A tiny parser of the exposition format: C{{(name, labels): value}}
    and C{{name: type}}; any line it cannot read fails the test.
    """
    samples, types = {}, {}
    assert text.endswith("\n")
    for line in text[:-1].split("\n"):
        found = _LINE.match(line)
        assert found, f"not exposition format: {line!r}"
        if found.group(1) == "TYPE":
            types[found.group(2)] = found.group(3)
        elif found.group(4):
            labels = tuple(_LABEL.findall(found.group(5) or ""))
            samples[(found.group(4), labels)] = float(found.group(6))
    for name, _ in samples:
        assert re.sub("_total$", "_total", name) in types, name
    return samples, types


class FormatTests(SynchronousTestCase):
    def test_escaping(self):
        """
        Label values escape backslash, double quote and line feed.
        """
        self.assertEqual(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd')
        family = Family("x_total", "counter", "Odd\nhelp", [({"l": 'q"\n\\'}, 3), ({}, 4)])
        text = exposition([family]).decode()
        self.assertEqual(
            text,
            '# HELP x_total Odd\\nhelp\n# TYPE x_total counter\nx_total{l="q\\"\\n\\\\"} 3\nx_total 4\n',
        )
        samples, types = parse(text)
        self.assertEqual(types, {"x_total": "counter"})
        self.assertEqual(samples[("x_total", (("l", 'q\\"\\n\\\\'),))], 3)

    def test_part(self):
        self.assertTrue(verifyObject(IGServerPart, metrics))
        self.assertEqual(metrics.path, "metrics")


class DispositionTests(SynchronousTestCase):
    """
    Each ended call counts once, by how it ended.
    """

    def setUp(self):
        self.x = Exchange()
        self.counted = CallDispositions()
        self.x.model.addObserver(self.counted)

    def totals(self):
        return {d.value: n for d, n in self.counted.totals.items() if n}

    def test_observer(self):
        self.assertTrue(verifyObject(IEventObserver, self.counted))

    def test_answered(self):
        self.x.call("100", "101")
        self.x.phone("101").answer()
        self.x.phone("101").hangUp()
        self.assertEqual(self.totals(), {"answered": 1})

    def test_busy(self):
        self.x.call("102", "101")
        self.x.phone("101").answer()
        self.x.call("100", "101")
        self.x.phone("100").hangUp()
        self.assertEqual(self.totals(), {"busy": 1})

    def test_noAnswer(self):
        self.x.call("100", "101")
        self.x.phone("101").reject(cause=EventCause.callNotAnswered)
        self.assertEqual(self.totals(), {})
        self.x.phone("100").hangUp()
        self.assertEqual(self.totals(), {"noanswer": 1})

    def test_failed(self):
        self.x.call("100", "999")
        self.x.phone("100").hangUp()
        self.assertEqual(self.totals(), {"failed": 1})

    def test_abandoned(self):
        self.x.call("100", "101")
        self.x.phone("100").hangUp()
        self.x.phone("102").offHook()
        self.x.phone("102").hangUp()
        self.assertEqual(self.totals(), {"abandoned": 2})

    def test_metricsClose(self):
        """
        Closed metrics count no more calls.
        """
        context = SimpleNamespace(callModel=self.x.model)
        figures = Metrics(context, self.x.clock)
        self.x.call("100", "101")
        self.x.phone("100").hangUp()
        figures.close()
        self.x.call("100", "101")
        self.x.phone("100").hangUp()
        self.assertEqual(figures.dispositions.totals[Disposition.abandoned], 1)

    def test_transferCountsOnce(self):
        """
        A consultation call merged by a transfer is part of the call that
        goes on: one answered call.
        """
        first = self.x.call("100", "101")
        self.x.phone("101").answer()
        self.x.phone("100").pressHold(first)
        second = self.x.phone("100").offHook("102")
        self.x.phone("102").answer()
        self.x.model.transferCall(first.id, second.id)
        self.x.phone("101").hangUp()
        self.assertEqual(self.totals(), {"answered": 1})
        self.assertEqual(self.counted._calls, {})


class CSTAClient(Protocol):
    """
    A CSTA XML client: requests out, every message in.
    """

    def __init__(self):
        self.framer = XMLFramer()
        self.messages = []

    def dataReceived(self, data):
        for _, document in self.framer.feed(data):
            self.messages.append(CODEC.decode(document)[1])

    def send(self, invokeID, request):
        self.transport.write(frameXML(invokeID, CODEC.encode(request, Edition.ED5)))


async def settle(predicate):
    for _ in range(1000):
        if predicate():
            return
        await deferLater(reactor, 0.01, lambda: None)
    raise AssertionError("never settled")


class MetricsTests(TestCase):
    """
    C{/metrics} over TLS, with the real C{csta} and C{cdr} components.
    """

    async def start(self):
        harness = self.harness = GServerHarness(self.mktemp(), parts=[metrics])
        self.addCleanup(harness.close)
        context = harness.context
        cstaService = csta.makeService(
            csta.validateConfig({"listen": ["tcp:0:interface=127.0.0.1"]}, "csta"), context
        )
        cdrService = cdr.makeService(cdr.validateConfig({"record-internal": True}, "cdr"), context)
        context.components.update(csta=cstaService, cdr=cdrService)
        cstaService.startService()
        self.addCleanup(cstaService.stopService)
        await cdrService.startService()
        self.addCleanup(cdrService.stopService)
        self.cstaPort = (await list(cstaService)[0]._waitingForPort).getHost().port
        self.url = await harness.listen()
        self.token = await harness.accounts.issueToken(ADMIN_PRINCIPAL, "prometheus")

    async def scrape(self):
        response = await self.harness.client.get(
            self.url + "/metrics", headers={"Authorization": "Bearer " + self.token}
        )
        self.assertEqual(response.code, 200)
        self.assertEqual(
            response.headers.getRawHeaders("content-type"),
            ["text/plain; version=0.0.4; charset=utf-8"],
        )
        return parse(await response.text())

    async def test_valuesFollowTheServer(self):
        await self.start()
        samples, types = await self.scrape()
        self.assertEqual(
            types,
            {
                "oso_sip_registrations": "gauge",
                "oso_calls_active": "gauge",
                "oso_calls_total": "counter",
                "oso_csta_links": "gauge",
                "oso_csta_events_delivered_total": "counter",
                "oso_csta_events_overflowed_total": "counter",
                "oso_cdr_journal_records": "gauge",
                "oso_cdr_journal_capacity": "gauge",
            },
        )
        for disposition in Disposition:
            self.assertEqual(samples[("oso_calls_total", (("disposition", disposition.value),))], 0)
        self.assertEqual(samples[("oso_cdr_journal_capacity", ())], 1_000_000)
        self.assertEqual(samples[("oso_csta_links", ())], 0)
        self.assertEqual(samples[("oso_sip_registrations", ())], 0)

        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.cstaPort)
        client = await endpoint.connect(Factory.forProtocol(CSTAClient))
        self.addCleanup(client.transport.loseConnection)
        client.send(1, m.MonitorStart(monitorObject="100"))
        await settle(lambda: any(isinstance(x, m.MonitorStartResponse) for x in client.messages))
        self.harness.exchange.store.saveRegistration(
            Binding(aor="100", contact="sip:100@127.0.0.1:5070", expires=3600, updated=0)
        )
        x = self.harness.exchange
        x.call("100", "101")
        samples, _ = await self.scrape()
        self.assertEqual(samples[("oso_calls_active", ())], 1)
        self.assertEqual(samples[("oso_csta_links", ())], 1)
        self.assertEqual(samples[("oso_sip_registrations", ())], 1)
        x.phone("101").answer()
        x.phone("100").hangUp()
        x.call("100", "999")
        x.phone("100").hangUp()
        await settle(lambda: self.harness.context.component("cdr").journal.pending)
        samples, _ = await self.scrape()
        self.assertEqual(samples[("oso_calls_active", ())], 0)
        total = {labels[0][1]: v for (name, labels), v in samples.items() if name == "oso_calls_total"}
        self.assertEqual(total, {"answered": 1, "busy": 0, "noanswer": 0, "failed": 1, "abandoned": 0})
        events = [msg for msg in client.messages if isinstance(msg, m.CSTAEvent)]
        self.assertEqual(samples[("oso_csta_events_delivered_total", ())], len(events))
        self.assertGreater(len(events), 5)
        self.assertEqual(samples[("oso_csta_events_overflowed_total", ())], 0)
        self.assertGreaterEqual(samples[("oso_cdr_journal_records", ())], 1)

    async def test_registrationsFromTheRegistrar(self):
        """
        With the sip component, the bindings are its registrar's live ones;
        without it, the store's unexpired ones.
        """
        await self.start()
        store = self.harness.exchange.store
        for aor, expires in (("100", 3600), ("101", 3600), ("102", -1)):
            store.saveRegistration(
                Binding(aor=aor, contact=f"sip:{aor}@127.0.0.1:5070", expires=expires, updated=0)
            )
        registrar = Registrar(self.harness.clock, store)
        await registrar.start()
        self.addCleanup(registrar.stop)
        # Stored after the registrar loaded: not one of its bindings.
        store.saveRegistration(
            Binding(aor="103", contact="sip:103@127.0.0.1:5070", expires=3600, updated=0)
        )
        samples, _ = await self.scrape()
        self.assertEqual(samples[("oso_sip_registrations", ())], 3)
        self.harness.context.components["sip"] = SimpleNamespace(registrar=registrar)
        samples, _ = await self.scrape()
        self.assertEqual(samples[("oso_sip_registrations", ())], 2)

    async def test_whoMayRead(self):
        """
        Without credentials: 401; an extension's user by session: 403; an
        administrator's session or any bearer token: 200.
        """
        await self.start()
        client, url = self.harness.client, self.url + "/metrics"
        response = await client.get(url)
        self.assertEqual(response.code, 401)
        await response.content()
        user = self.harness.session(Principal.forExtension("100"))
        response = await client.get(url, cookies=user.cookies)
        self.assertEqual(response.code, 403)
        await response.content()
        admin = self.harness.session(ADMIN_PRINCIPAL)
        response = await client.get(url, cookies=admin.cookies)
        self.assertEqual(response.code, 200)
        await response.content()
        token = await self.harness.accounts.issueToken(Principal.forExtension("100"), "mon")
        response = await client.get(url, headers={"Authorization": "Bearer " + token})
        self.assertEqual(response.code, 200)
        await response.content()
        response = await client.get(url, headers={"Authorization": "Bearer nonsense"})
        self.assertEqual(response.code, 401)
        await response.content()
