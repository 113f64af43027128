"""
Tests for L{oso.sip.locator} (RFC 3263 server location, RFC 2782 SRV):
a real C{twisted.names} authoritative server on loopback holds NAPTR, SRV,
A and AAAA records made here, and the locator asks it through the real
C{twisted.names.client.Resolver}.
"""

import random
import socket
from collections import Counter

from dns_loopback import startDNS
from twisted.internet.task import Clock
from twisted.names import client, dns
from twisted.trial.unittest import SynchronousTestCase, TestCase

from oso.sip.locator import Locator, LocatorError, Target, orderSRV

def _srv(priority, weight, port, target, ttl=60):
    return dns.Record_SRV(priority, weight, port, target, ttl=ttl)


def _naptr(order, preference, service, replacement, flags=b"s", ttl=300):
    return dns.Record_NAPTR(order, preference, flags, service, b"", replacement, ttl=ttl)


RECORDS = {
    # NAPTR: TCP before UDP (same order, preference), TLS after; an SCTP
    # record first that this client cannot use.
    b"example.test": [
        _naptr(5, 10, b"SIP+D2S", b"_sip._sctp.example.test"),
        _naptr(10, 20, b"SIP+D2U", b"_sip._udp.example.test"),
        _naptr(10, 10, b"SIP+D2T", b"_sip._tcp.example.test"),
        _naptr(20, 10, b"SIPS+D2T", b"_sips._tcp.example.test"),
    ],
    b"_sip._tcp.example.test": [
        _srv(20, 0, 5080, b"backup.example.test"),
        _srv(10, 60, 5070, b"a.example.test"),
        _srv(10, 20, 5071, b"b.example.test"),
        _srv(10, 20, 5072, b"c.example.test"),
    ],
    b"_sip._udp.example.test": [_srv(10, 0, 5060, b"a.example.test")],
    b"_sips._tcp.example.test": [_srv(10, 0, 5061, b"a.example.test")],
    b"a.example.test": [dns.Record_A("127.0.0.11", ttl=60), dns.Record_AAAA("::1", ttl=60)],
    b"b.example.test": [dns.Record_A("127.0.0.12", ttl=60)],
    b"c.example.test": [dns.Record_A("127.0.0.13", ttl=60)],
    b"backup.example.test": [dns.Record_A("127.0.0.14", ttl=60)],
    # No NAPTR: SRV for UDP only, with a "." target that means no service.
    b"_sip._udp.srvonly.test": [_srv(10, 0, 5090, b"host.srvonly.test"), _srv(5, 0, 5090, b".")],
    b"host.srvonly.test": [dns.Record_A("127.0.0.21", ttl=60)],
    # Neither NAPTR nor SRV.
    b"plain.test": [dns.Record_A("127.0.0.31", ttl=60), dns.Record_AAAA("::2", ttl=60)],
}


class LocatorTests(TestCase):
    timeout = 30

    def setUp(self):
        self.authority, port = startDNS(self, RECORDS)
        self.clock = Clock()
        self.resolver = client.Resolver(servers=[("127.0.0.1", port)], timeout=(2,))
        self.locator = Locator(self.resolver, self.clock, rng=random.Random(7))

    async def test_naptr(self):
        """
        NAPTR picks TCP (order 10 preference 10), then UDP, then TLS; SRV
        orders each by priority (the backup last among the TCP ones); each
        target resolves to A then AAAA.
        """
        targets = await self.locator.locate("example.test")
        tcp = [t for t in targets if t.transport == "TCP"]
        self.assertEqual([t.transport for t in targets[: len(tcp)]], ["TCP"] * len(tcp))
        self.assertEqual(
            sorted((t.host, t.port) for t in tcp[:4]),
            [("127.0.0.11", 5070), ("127.0.0.12", 5071), ("127.0.0.13", 5072), ("::1", 5070)],
        )
        self.assertEqual(tcp[-1], Target("TCP", "127.0.0.14", 5080, "backup.example.test"))
        rest = targets[len(tcp) :]
        self.assertEqual(
            rest,
            [
                Target("UDP", "127.0.0.11", 5060, "a.example.test"),
                Target("UDP", "::1", 5060, "a.example.test"),
                Target("TLS", "127.0.0.11", 5061, "a.example.test"),
                Target("TLS", "::1", 5061, "a.example.test"),
            ],
        )
        self.assertNotIn(("_sip._sctp.example.test", "SRV"), self.authority.queries)

    async def test_sips(self):
        """
        A SIPS URI uses only the SIPS+D2T record.
        """
        targets = await self.locator.locate("example.test", secure=True)
        self.assertEqual({(t.transport, t.port) for t in targets}, {("TLS", 5061)})

    async def test_weights(self):
        """
        Within priority 10 the first target is picked in proportion to the
        weights 60:20:20 (seeded, 600 draws, from the cache after the first).
        """
        first = Counter()
        for _ in range(600):
            targets = await self.locator.locate("example.test", transport="TCP")
            first[targets[0].port] += 1
        self.assertEqual(set(first), {5070, 5071, 5072})
        self.assertTrue(300 < first[5070] < 420, first)
        self.assertTrue(80 < first[5071] < 160, first)
        self.assertTrue(80 < first[5072] < 160, first)
        self.assertEqual(self.authority.queries.count(("_sip._tcp.example.test", "SRV")), 1)

    async def test_srvWithoutNAPTR(self):
        """
        No NAPTR: SRV per transport; the "." target is skipped.
        """
        targets = await self.locator.locate("srvonly.test")
        self.assertEqual(targets, [Target("UDP", "127.0.0.21", 5090, "host.srvonly.test")])
        self.assertIn(("_sip._tcp.srvonly.test", "SRV"), self.authority.queries)

    async def test_addressOnly(self):
        """
        Neither NAPTR nor SRV: A and AAAA, UDP, port 5060.
        """
        targets = await self.locator.locate("plain.test")
        self.assertEqual(
            targets, [Target("UDP", "127.0.0.31", 5060, "plain.test"), Target("UDP", "::2", 5060, "plain.test")]
        )

    async def test_transportWithoutSRV(self):
        """
        A transport parameter and no SRV for it: A/AAAA with its default
        port.
        """
        targets = await self.locator.locate("plain.test", transport="TLS")
        self.assertEqual(targets[0], Target("TLS", "127.0.0.31", 5061, "plain.test"))

    async def test_explicitPort(self):
        """
        RFC 3263 4.2: a port in the URI means A/AAAA only, no NAPTR or SRV.
        """
        targets = await self.locator.locate("plain.test", port=5099)
        self.assertEqual(
            targets, [Target("UDP", "127.0.0.31", 5099, "plain.test"), Target("UDP", "::2", 5099, "plain.test")]
        )
        self.assertEqual(
            {kind for _, kind in self.authority.queries},
            {"A", "AAAA"},
        )

    async def test_numeric(self):
        """
        A numeric address asks DNS nothing.
        """
        self.assertEqual(await self.locator.locate("192.0.2.1"), [Target("UDP", "192.0.2.1", 5060, "192.0.2.1")])
        self.assertEqual(
            await self.locator.locate("[2001:db8::1]", transport="TCP"),
            [Target("TCP", "2001:db8::1", 5060, "2001:db8::1")],
        )
        self.assertEqual(
            await self.locator.locate("192.0.2.1", port=5070, secure=True),
            [Target("TLS", "192.0.2.1", 5070, "192.0.2.1")],
        )
        self.assertEqual(self.authority.queries, [])

    async def test_ttl(self):
        """
        Answers are reused until their TTL runs out on the clock: the SRV
        and A records (60 s) are asked again after 61 s, the NAPTR (300 s)
        not.
        """
        await self.locator.locate("example.test")
        asked = len(self.authority.queries)
        await self.locator.locate("example.test")
        self.assertEqual(len(self.authority.queries), asked)
        self.clock.advance(61)
        await self.locator.locate("example.test")
        again = self.authority.queries[asked:]
        self.assertIn(("_sip._tcp.example.test", "SRV"), again)
        self.assertIn(("a.example.test", "A"), again)
        self.assertNotIn(("example.test", "NAPTR"), again)
        self.clock.advance(300)
        before = len(self.authority.queries)
        await self.locator.locate("example.test")
        self.assertIn(("example.test", "NAPTR"), self.authority.queries[before:])

    async def test_nxdomain(self):
        """
        A name that does not exist: no targets, and the NXDOMAIN answers
        are remembered for the negative TTL.
        """
        with self.assertRaises(LocatorError):
            await self.locator.locate("nothere.test")
        asked = len(self.authority.queries)
        self.assertIn(("nothere.test", "NAPTR"), self.authority.queries)
        with self.assertRaises(LocatorError):
            await self.locator.locate("nothere.test")
        self.assertEqual(len(self.authority.queries), asked)
        self.clock.advance(31)
        with self.assertRaises(LocatorError):
            await self.locator.locate("nothere.test")
        self.assertGreater(len(self.authority.queries), asked)


class TimeoutTests(TestCase):
    timeout = 30

    async def test_silentServer(self):
        """
        A DNS server that never answers: each lookup times out, and the
        locator fails with L{LocatorError}, not with the timeouts; nothing is
        cached.
        """
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        self.addCleanup(silent.close)
        resolver = client.Resolver(servers=[silent.getsockname()], timeout=(0.2,))
        locator = Locator(resolver, Clock(), transports=("UDP",), ipv6=False)
        with self.assertRaises(LocatorError):
            await locator.locate("example.test")
        self.assertEqual(locator._cache._entries, {})


class OrderSRVTests(SynchronousTestCase):
    def test_priorityFirst(self):
        records = [_srv(2, 100, 1, b"x"), _srv(1, 0, 2, b"y"), _srv(3, 5, 3, b"z")]
        self.assertEqual([r.port for r in orderSRV(records, random.Random(1))], [2, 1, 3])

    def test_weights(self):
        """
        RFC 2782: with weights 0, 10, 30 in one priority, the first pick
        is the weight-30 record about three times as often as the weight-10
        one, and the weight-0 one rarely.
        """
        records = [_srv(1, 0, 1, b"z"), _srv(1, 10, 2, b"a"), _srv(1, 30, 3, b"b")]
        rng = random.Random(42)
        first = Counter(orderSRV(records, rng)[0].port for _ in range(4000))
        self.assertTrue(2800 < first[3] < 3150, first)
        self.assertTrue(850 < first[2] < 1100, first)
        self.assertTrue(0 < first[1] < 250, first)

    def test_allKept(self):
        records = [_srv(1, w, p, b"t") for p, w in enumerate([0, 0, 5, 7, 0])]
        for seed in range(50):
            self.assertEqual(sorted(r.port for r in orderSRV(records, random.Random(seed))), list(range(5)))
