"""
Tests for the transport rules (L{oso.sip.transport}), the listener
descriptions (L{oso.sip.listeners}) and the user agent core's use of them
(L{oso.sip.useragent}) on a fake clock.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from oso.sip.digest import DigestAuthenticator
from oso.sip.headers import NameAddress
from oso.sip.listeners import ListenSpec, parseListen
from oso.sip.message import Request, Response, parseMessage
from oso.sip.registrar import Registrar
from oso.sip.transaction import makeResponse
from oso.sip.transport import (
    UDP_LIMIT,
    hostReference,
    readMessage,
    responseDestination,
    stampVia,
    viaTransport,
)
from oso.sip.uri import SIPURI
from oso.sip.useragent import UserAgent
from oso.store.memory import MemoryStore


def request(via="SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK1;rport", method="OPTIONS"):
    return (
        f"{method} sip:oso.test SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n"
        "From: <sip:200@oso.test>;tag=a\r\nTo: <sip:200@oso.test>\r\n"
        f"Call-ID: c1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    ).encode()


class StampViaTests(SynchronousTestCase):
    def test_rport(self):
        """
        RFC 3581 4: with rport asked for, the source port fills it in and
        received is added even when the host is the same.
        """
        message = parseMessage(request())
        stampVia(message, ("192.0.2.10", 40000))
        self.assertEqual((message.via.received, message.via.rport), ("192.0.2.10", 40000))

    def test_receivedOnly(self):
        """
        RFC 3261 18.2.1: without rport, received is added only when the
        sent-by host differs from the source address.
        """
        same = parseMessage(request("SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bK1"))
        stampVia(same, ("192.0.2.10", 40000))
        self.assertNotIn("received", same.via.params)
        self.assertNotIn("rport", same.via.params)
        named = parseMessage(request("SIP/2.0/UDP phone.example:5070;branch=z9hG4bK1"))
        stampVia(named, ("192.0.2.10", 40000))
        self.assertEqual((named.via.received, named.via.rport), ("192.0.2.10", None))

    def test_ipv6(self):
        """
        An IPv6 sent-by in brackets is the same host as the bare source.
        """
        message = parseMessage(request("SIP/2.0/UDP [::1]:5070;branch=z9hG4bK1"))
        stampVia(message, ("::1", 5070))
        self.assertNotIn("received", message.via.params)

    def test_written(self):
        """
        The stamped Via is what a response copies.
        """
        message = parseMessage(request())
        stampVia(message, ("198.51.100.7", 4444))
        written = message.serialise()
        self.assertIn(b";received=198.51.100.7", written)
        self.assertIn(b";rport=4444", written)


class ResponseDestinationTests(SynchronousTestCase):
    def destination(self, via, transport="UDP"):
        response = Response(200, headers=[("via", via)])
        return responseDestination(response, transport)

    def test_rport(self):
        """
        received and rport: there (RFC 3581 4).
        """
        self.assertEqual(
            self.destination("SIP/2.0/UDP a.example:5070;branch=z;received=192.0.2.1;rport=9"),
            ("192.0.2.1", 9),
        )

    def test_rportStream(self):
        """
        Over TCP (its connection gone) rport does not count: the sent-by
        port is where the client listens (RFC 3581 4, RFC 3261 18.2.2).
        """
        self.assertEqual(
            self.destination("SIP/2.0/TCP a.example:5070;branch=z;received=192.0.2.1;rport=9",
                             "TCP"),
            ("192.0.2.1", 5070),
        )

    def test_received(self):
        """
        received without rport: that address, the sent-by port (18.2.2).
        """
        self.assertEqual(
            self.destination("SIP/2.0/UDP a.example:5070;branch=z;received=192.0.2.1"),
            ("192.0.2.1", 5070),
        )

    def test_sentBy(self):
        """
        Neither: the sent-by address, its port defaulting per transport.
        """
        self.assertEqual(self.destination("SIP/2.0/UDP 192.0.2.2;branch=z"), ("192.0.2.2", 5060))
        self.assertEqual(
            self.destination("SIP/2.0/TLS [2001:db8::2];branch=z", "TLS"), ("2001:db8::2", 5061)
        )

    def test_maddr(self):
        """
        maddr wins (18.2.2).
        """
        self.assertEqual(
            self.destination("SIP/2.0/UDP 192.0.2.2:5070;branch=z;maddr=239.1.1.1;received=1.2.3.4"),
            ("239.1.1.1", 5070),
        )


class SizeRuleTests(SynchronousTestCase):
    def test_limit(self):
        """
        RFC 3261 18.1.1: a UDP request over 1300 octets goes over TCP;
        other transports keep theirs.
        """
        self.assertEqual(viaTransport(b"x" * UDP_LIMIT, "UDP"), "UDP")
        self.assertEqual(viaTransport(b"x" * (UDP_LIMIT + 1), "UDP"), "TCP")
        self.assertEqual(viaTransport(b"x" * 5000, "TLS"), "TLS")


class ReadMessageTests(SynchronousTestCase):
    def test_request(self):
        """
        A well-formed request comes out stamped.
        """
        arrival = readMessage(request(), ("192.0.2.10", 1), True)
        self.assertEqual((arrival.message.method, arrival.reply), ("OPTIONS", None))
        self.assertEqual(arrival.message.via.rport, 1)
        self.assertIs(arrival.via, arrival.message.via)

    def test_viaOfRequestsOnly(self):
        """
        What arrived names a request's top Via, and no Via for anything
        else.
        """
        response = b"SIP/2.0 200 OK\r\n" + request().split(b"\r\n", 1)[1]
        refused = request().replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
        for data in (response, refused, b"hello"):
            self.assertIsNone(readMessage(data, ("192.0.2.10", 1), True).via, data)
        stream = readMessage(request(), ("192.0.2.10", 1), False)
        self.assertIs(stream.via, stream.message.via)

    def test_malformedRequest(self):
        """
        A malformed request gets a 400 whose reason phrase says what is
        wrong, on one line.
        """
        data = request().replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
        arrival = readMessage(data, ("192.0.2.10", 1), True)
        self.assertIsNone(arrival.message)
        self.assertEqual(arrival.reply.status, 400)
        self.assertIn("CSeq", arrival.reply.reason)
        self.assertEqual(parseMessage(arrival.reply.serialise()).status, 400)
        self.assertIn("CSeq", arrival.problem)

    def test_malformedFieldsAnswered(self):
        """
        A request missing From or Call-ID, or with a malformed top Via, To
        or From, still gets its 400: with a To tag that is the same for a
        retransmission (RFC 3261 8.2.6.2, 8.2.7), or, where To is too
        malformed to take one, with To copied as it came.
        """
        cases = [
            (b"From: <sip:200@oso.test>;tag=a\r\n", b"", "From", b"To: <sip:200@oso.test>;tag="),
            (b"Call-ID: c1\r\n", b"", "Call-ID", b"To: <sip:200@oso.test>;tag="),
            (b"To: <sip:200@oso.test>", b"To: <sip:200@oso.test", "To",
             b"To: <sip:200@oso.test\r\n"),
            (b"From: <sip:200@oso.test>", b"From: sip:200@oso.test>", "From",
             b"To: <sip:200@oso.test>;tag="),
            (b"Via: SIP/2.0/UDP 192.0.2.10:5070;", b"Via: SIP/2.0/UDP ;;", "Via",
             b"To: <sip:200@oso.test>;tag="),
        ]
        for old, new, fault, to in cases:
            data = request().replace(old, new)
            arrival = readMessage(data, ("192.0.2.10", 1), True)
            self.assertIsNone(arrival.message, data)
            self.assertEqual(arrival.reply.status, 400, data)
            self.assertIn(fault, arrival.reply.reason)
            written = arrival.reply.serialise()
            self.assertIn(to, written)
            again = readMessage(data, ("192.0.2.10", 1), True).reply.serialise()
            self.assertEqual(written, again)

    def test_version(self):
        """
        Another SIP version gets 505.
        """
        data = request().replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1)
        self.assertEqual(readMessage(data, ("192.0.2.10", 1), True).reply.status, 505)

    def test_malformedResponse(self):
        """
        A malformed response is dropped, with what was wrong for the log.
        """
        arrival = readMessage(b"SIP/2.0 200 OK\r\nVia: ?\r\n\r\n", ("192.0.2.10", 1), True)
        self.assertEqual((arrival.message, arrival.reply), (None, None))
        self.assertIn("dropped", arrival.problem)

    def test_garbage(self):
        """
        Bytes that are no message at all are dropped unanswered.
        """
        for data in (b"", b"\x00\xff\r\n\r\n", b"hello"):
            arrival = readMessage(data, ("192.0.2.10", 1), True)
            self.assertEqual((arrival.message, arrival.reply), (None, None), data)


class ListenTests(SynchronousTestCase):
    def test_parse(self):
        self.assertEqual(parseListen("udp:5060"), ListenSpec("UDP", 5060))
        self.assertEqual(parseListen("TLS:5061:interface=::1"), ListenSpec("TLS", 5061, "::1"))
        self.assertEqual(
            parseListen("tcp:0:interface=\\:\\:1"), ListenSpec("TCP", 0, "::1")
        )
        for bad in ("udp", "ws:80", "udp:x", "udp:70000", "udp:1:interface=nowhere", "udp:1:a=b"):
            self.assertRaises(ValueError, parseListen, bad)

    def test_endpoint(self):
        """
        TCP and TLS listeners are Twisted endpoint descriptions, colons
        of an IPv6 interface escaped.
        """
        self.assertEqual(ListenSpec("TCP", 5060).endpoint(), "tcp:5060")
        self.assertEqual(
            ListenSpec("TLS", 5061, "::1").endpoint("privateKey=k:certKey=c"),
            "ssl:5061:interface=\\:\\:1:privateKey=k:certKey=c",
        )

    def test_hostReference(self):
        self.assertEqual(hostReference("::1"), "[::1]")
        self.assertEqual(hostReference("[::1]"), "[::1]")
        self.assertEqual(hostReference("127.0.0.1"), "127.0.0.1")
        self.assertEqual(hostReference("oso.test"), "oso.test")


class UserAgentTests(SynchronousTestCase):
    """
    The core on a fake clock, what it sends collected.
    """

    def setUp(self):
        self.clock = Clock()
        self.sent = []
        addresses = {"UDP": ("192.0.2.1", 5060), "TCP": ("192.0.2.1", 5060)}
        self.ua = UserAgent(
            self.clock,
            lambda m, d, t: self.sent.append((m, d, t)),
            addresses.get,
            Registrar(self.clock, MemoryStore()),
            DigestAuthenticator("oso.test", b"k" * 32, self.clock),
            lambda user: None,
        )

    def outgoing(self, size):
        message = Request("MESSAGE", SIPURI("192.0.2.9", user="200"))
        message.headers.add("via", self.ua.via("UDP"))
        for name, value in [("max-forwards", "70"), ("from", NameAddress(SIPURI("oso.test"))),
                            ("to", "<sip:200@oso.test>"), ("call-id", "c"), ("cseq", "1 MESSAGE")]:
            message.headers.add(name, value)
        message.body = b"x" * size
        return message

    def test_largeRequestOverTCP(self):
        """
        A UDP request over 1300 octets goes over TCP, its Via saying so and
        its transaction reliable (no retransmissions).
        """
        transaction = self.ua.request(self.outgoing(1400), ("192.0.2.9", 5060), "UDP")
        ((message, destination, transport),) = self.sent
        self.assertEqual((transport, message.via.transport), ("TCP", "TCP"))
        self.assertTrue(transaction.reliable)
        self.clock.advance(2)
        self.assertEqual(len(self.sent), 1)

    def test_smallRequestOverUDP(self):
        """
        A small one stays on UDP and is retransmitted (Timer E).
        """
        self.ua.request(self.outgoing(10), ("192.0.2.9", 5060), "UDP")
        self.clock.advance(0.6)
        self.assertEqual([t for _, _, t in self.sent], ["UDP", "UDP"])
        self.assertEqual(self.sent[0][0].via.transport, "UDP")

    def test_stopLeavesNoTimer(self):
        """
        Stopping ends the timers of live transactions and of completed
        ones that wait to absorb retransmissions (Timer K of our answered
        MESSAGE, Timer J of an answered OPTIONS): the clock has no call
        left and nothing more is sent.
        """
        self.ua.request(self.outgoing(10), ("192.0.2.9", 5060), "UDP")
        ((message, _, _),) = self.sent
        answer = makeResponse(message, 200, toTag="t")
        self.ua.receive(parseMessage(answer.serialise()), ("192.0.2.9", 5060), "UDP")
        self.ua.receive(parseMessage(request()), ("192.0.2.10", 5070), "UDP")
        sent = len(self.sent)
        self.assertTrue(self.clock.getDelayedCalls())
        self.ua.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(64)
        self.assertEqual(len(self.sent), sent)

    def test_malformedLowerVia(self):
        """
        A response whose lower Via is malformed is dropped, nothing sent,
        nothing raised.
        """
        response = parseMessage(
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa\r\nVia: ?\r\n"
            b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 MESSAGE\r\n"
            b"Content-Length: 0\r\n\r\n"
        )
        self.ua.receive(response, ("192.0.2.10", 5070), "UDP")
        self.assertEqual(self.sent, [])

    def test_applicationParseError(self):
        """
        A request whose field the application reads is malformed gets 400
        naming it through its transaction.
        """

        class Reader:
            methods = {"MESSAGE"}

            def requestReceived(self, request, transaction, source):
                request.headers.getParsed("refer-to")

        self.ua.attach(Reader(), fallback=True)
        data = request(method="MESSAGE").replace(b"Content-Length", b"Refer-To: <\r\nContent-Length")
        self.ua.receive(parseMessage(data), ("192.0.2.10", 5070), "UDP")
        ((response, destination, transport),) = self.sent
        self.assertEqual((response.status, destination), (400, ("192.0.2.10", 5070)))
        self.assertIn("Refer-To", response.reason)

    def test_applicationFailure(self):
        """
        An application that fails on a request: the request gets 500, the
        failure is logged, the next request is taken as usual.
        """

        class Broken:
            methods = {"MESSAGE"}

            def requestReceived(self, request, transaction, source):
                raise RuntimeError("broken")

        self.ua.attach(Broken(), fallback=True)
        self.ua.receive(parseMessage(request(method="MESSAGE")), ("192.0.2.10", 5070), "UDP")
        ((response, destination, transport),) = self.sent
        self.assertEqual(response.status, 500)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        self.ua.receive(parseMessage(request(method="OPTIONS").replace(b"c1", b"c2")),
                        ("192.0.2.10", 5070), "UDP")
        self.assertEqual(self.sent[-1][0].status, 200)


class _Application:
    """
    An application recording what reaches it; it accepts requests from
    one source host (as a trunk accepts its provider's).
    """

    def __init__(self, methods, host=None):
        self.methods = frozenset(methods)
        self.host = host
        self.requests = []
        self.responses = []
        self.failures = []
        self.changes = []

    def accepts(self, request, source):
        return source[1] == self.host

    def requestReceived(self, request, transaction, source):
        self.requests.append(request.method)
        transaction.respond(makeResponse(request, 200, toTag="t"))

    def responseReceived(self, response, transaction):
        self.responses.append((response.status, transaction))

    def transactionFailed(self, transaction, reason):
        self.failures.append(reason)

    def bindingsChanged(self, aor):
        self.changes.append(aor)


class DispatchTests(SynchronousTestCase):
    """
    Several applications on one core: requests by C{accepts}, the
    fallback last; responses and failures to the sender.
    """

    outgoing = UserAgentTests.outgoing

    def setUp(self):
        UserAgentTests.setUp(self)
        self.trunk = _Application({"INVITE", "MESSAGE"}, host="198.51.100.1")
        self.lines = _Application({"INVITE", "MESSAGE", "INFO"})
        self.ua.attach(self.lines, fallback=True)
        self.ua.attach(self.trunk)

    def arrive(self, method, host):
        data = request(via=f"SIP/2.0/UDP {host}:5070;branch=z9hG4bK{len(self.sent)}", method=method)
        self.ua.receive(parseMessage(data), (host, 5070), "UDP")

    def test_requests(self):
        """
        The specific application gets what it accepts even though the
        fallback, attached first, takes the method too; the fallback the
        rest; a method only the fallback takes never asks the others.
        """
        self.arrive("MESSAGE", "198.51.100.1")
        self.arrive("MESSAGE", "192.0.2.10")
        self.arrive("INFO", "198.51.100.1")
        self.assertEqual(self.trunk.requests, ["MESSAGE"])
        self.assertEqual(self.lines.requests, ["MESSAGE", "INFO"])
        self.assertEqual([m.status for m, _, _ in self.sent], [200, 200, 200])

    def test_unclaimed(self):
        """
        Without a fallback, a request no application accepts gets 405 with
        the Allow of every attached application and the core.
        """
        self.ua.detach(self.lines)
        self.arrive("MESSAGE", "192.0.2.10")
        (response,) = [m for m, _, _ in self.sent]
        self.assertEqual(response.status, 405)
        self.assertEqual(", ".join(response.headers.getAll("allow")), "INVITE, MESSAGE, OPTIONS, REGISTER")

    def test_responses(self):
        """
        A response and a timeout reach the application that named itself
        the owner; requests sent without one report to the fallback.
        """
        owned = self.ua.request(self.outgoing(10), ("192.0.2.9", 5060), "UDP", owner=self.trunk)
        plain = self.ua.request(self.outgoing(10), ("192.0.2.9", 5060), "UDP")
        first = self.sent[0][0]
        self.assertIs(owned.request, first)
        self.ua.receive(makeResponse(first, 200, toTag="t"), ("192.0.2.9", 5060), "UDP")
        self.assertEqual([status for status, _ in self.trunk.responses], [200])
        self.assertEqual(self.lines.responses, [])
        self.clock.advance(64)
        self.assertEqual((self.trunk.failures, self.lines.failures), ([], ["timeout"]))
        self.assertEqual(plain.state, "Terminated")

    def test_attachTwice(self):
        """
        One application attaches once; there is one fallback.
        """
        self.assertRaises(ValueError, self.ua.attach, self.trunk)
        self.assertRaises(ValueError, self.ua.attach, _Application({"BYE"}), fallback=True)

    def test_bindings(self):
        """
        Every application hears the registrar's changes.
        """
        self.ua.bindingsChanged("200")
        self.assertEqual((self.trunk.changes, self.lines.changes), (["200"], ["200"]))
