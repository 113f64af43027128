"""
Tests for sending datagrams on a SIP UDP port (L{oso.sip.datagrams},
L{oso.sip.listeners}): what goes to the socket and how its errors come
out, the same as Twisted's C{Port.write}; responses waiting for the end of
the reactor's turn; where responses to a UDP request go.
"""

import socket
from errno import EAGAIN, ECONNREFUSED, EMSGSIZE, ENOBUFS

from twisted.internet import reactor, udp
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.error import MessageLengthError
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import Clock
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial.unittest import SynchronousTestCase, TestCase

from oso.sip.datagrams import BATCH_SIZE, LONGEST_WAITING, ResponseBatch, sendDatagram
from oso.sip.listeners import ListenSpec, SIPTransports, _ReturnAddress
from oso.sip.sent import sentForm
from oso.sip.transaction import makeResponse
from oso.sip.transport import readMessage, responseDestination

DESTINATION = ("127.0.0.1", 5070)


class _Socket:
    """
    A datagram socket whose C{sendto} records or fails with C{errno}.
    """

    def __init__(self, errno=None, failing=None):
        """
        @param failing: the one address C{sendto} fails for, or C{None}
            for every address.
        """
        self.errno = errno
        self.failing = failing
        self.sent = []

    def sendto(self, data, address):
        if self.errno is not None and self.failing in (None, address):
            raise OSError(self.errno, "failed")
        self.sent.append((data, address))
        return len(data)


def _twistedPort(sock):
    """
    @return: a Twisted UDP port (not listening) whose socket is C{sock}.
    """
    port = udp.Port(0, DatagramProtocol())
    port.socket = sock
    return port


def _outcome(send):
    """
    @return: C{None} when C{send()} returned, else the type and errno of
        what it raised.
    """
    try:
        send()
    except Exception as error:
        return type(error), getattr(error, "errno", None)
    return None


class SendDatagramTests(SynchronousTestCase):
    def test_sends_the_bytes_to_the_address(self):
        sock = _Socket()
        sendDatagram(_twistedPort(sock), b"SIP/2.0 200 OK\r\n\r\n", DESTINATION)
        self.assertEqual(sock.sent, [(b"SIP/2.0 200 OK\r\n\r\n", DESTINATION)])

    def test_errors_as_port_write_makes_them(self):
        """
        A refusal is ignored, a datagram too long is
        L{MessageLengthError}, a full buffer and the rest are the
        C{OSError}: each as C{Port.write} does.
        """
        expected = {
            ECONNREFUSED: None,
            EMSGSIZE: (MessageLengthError, None),
            EAGAIN: (BlockingIOError, EAGAIN),
            ENOBUFS: (OSError, ENOBUFS),
        }
        for errno, outcome in expected.items():
            ours = _outcome(lambda: sendDatagram(_twistedPort(_Socket(errno)), b"x", DESTINATION))
            twisted = _outcome(lambda: _twistedPort(_Socket(errno)).write(b"x", DESTINATION))
            self.assertEqual((ours, twisted), (outcome, outcome), errno)

    def test_a_datagram_too_long_on_a_real_socket(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            self.assertRaises(
                MessageLengthError,
                sendDatagram, _twistedPort(sock), b"x" * 70_000, DESTINATION,
            )


class ResponseBatchTests(SynchronousTestCase):
    """
    A UDP port's responses wait for the end of the reactor's turn, or
    until L{BATCH_SIZE} wait, and go out in order; what goes at once
    (requests, a response too long to wait) goes after them.
    """

    def setUp(self):
        self.sock = _Socket()
        self.clock = Clock()
        self.batch = ResponseBatch(_twistedPort(self.sock), self.clock)

    def test_responses_wait_for_the_end_of_the_turn(self):
        sent = [(b"SIP/2.0 200 OK %d" % n, ("127.0.0.1", 5070 + n)) for n in range(3)]
        for data, address in sent:
            self.batch.add(data, address)
        self.assertEqual(self.sock.sent, [])
        self.clock.advance(0)
        self.assertEqual(self.sock.sent, sent)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_a_full_batch_goes_at_once(self):
        sent = [(b"%d" % n, DESTINATION) for n in range(BATCH_SIZE + 1)]
        for data, address in sent:
            self.batch.add(data, address)
        self.assertEqual(self.sock.sent, sent[:BATCH_SIZE])
        self.clock.advance(0)
        self.assertEqual(self.sock.sent, sent)

    def test_at_once_after_the_waiting_ones(self):
        """
        A datagram sent at once (a request) goes after the responses
        waiting, and its error is raised to the sender.
        """
        self.batch.add(b"response", DESTINATION)
        self.batch.now(b"request", DESTINATION)
        self.assertEqual(self.sock.sent, [(b"response", DESTINATION), (b"request", DESTINATION)])
        self.sock.errno = ENOBUFS
        self.assertEqual(
            _outcome(lambda: self.batch.now(b"request", DESTINATION)), (OSError, ENOBUFS)
        )

    def test_a_response_too_long_to_wait(self):
        """
        It goes at once, after the waiting ones, and the sender sees its
        L{MessageLengthError}.
        """
        elsewhere = ("127.0.0.1", 5080)
        self.sock.errno, self.sock.failing = EMSGSIZE, elsewhere
        self.batch.add(b"first", DESTINATION)
        self.assertRaises(
            MessageLengthError, self.batch.add, b"x" * (LONGEST_WAITING + 1), elsewhere
        )
        self.assertEqual(self.sock.sent, [(b"first", DESTINATION)])

    def test_a_response_that_cannot_go_is_logged_and_dropped(self):
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        elsewhere = ("127.0.0.1", 5080)
        self.sock.errno, self.sock.failing = EAGAIN, elsewhere
        for address in (DESTINATION, elsewhere, DESTINATION):
            self.batch.add(b"r", address)
        self.clock.advance(0)
        self.assertEqual(self.sock.sent, [(b"r", DESTINATION), (b"r", DESTINATION)])
        (event,) = [e for e in events if e.get("log_namespace") == "oso.sip.datagrams"]
        self.assertEqual((event["log_level"], event["address"]), (LogLevel.info, elsewhere))

    def test_a_refusal_is_not_logged(self):
        """
        An ICMP refusal of an earlier datagram, which C{Port.write} ignores
        too.
        """
        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        self.sock.errno = ECONNREFUSED
        self.batch.add(b"r", DESTINATION)
        self.clock.advance(0)
        self.assertEqual([e for e in events if e.get("log_namespace") == "oso.sip.datagrams"], [])

    def test_close_sends_what_waits(self):
        self.batch.add(b"last", DESTINATION)
        self.batch.close()
        self.assertEqual(self.sock.sent, [(b"last", DESTINATION)])
        self.assertEqual(self.clock.getDelayedCalls(), [])


class _Catcher(DatagramProtocol):
    def __init__(self):
        self.arrived = Deferred()
        self.source = None

    def datagramReceived(self, data, address):
        self.source = address
        self.arrived.callback(data)


class ResponseOnRealSocketTests(TestCase):
    """
    On a real UDP listener, a response goes out at the end of the turn,
    and one still waiting when the transports stop goes out before the
    port closes.
    """

    timeout = 15

    async def _sendResponse(self, stopAtOnce):
        catcher = _Catcher()
        peer = reactor.listenUDP(0, catcher, interface="127.0.0.1")
        self.addCleanup(peer.stopListening)
        transports = SIPTransports(reactor, lambda *args: None)
        transports.listen(ListenSpec("UDP", 0, "127.0.0.1"))
        source = ("127.0.0.1", peer.getHost().port)
        request = readMessage(_request("192.0.2.1:5060;branch=z9hG4bK1;rport"), source, True)
        response = makeResponse(request.message, 200, toTag="b1")
        stopped = None
        transports.send(response, source, "UDP")
        if stopAtOnce:
            # Started at once: the port closes before the turn ends.
            stopped = ensureDeferred(transports.stop())
        else:
            self.addCleanup(transports.stop)
        data = await catcher.arrived
        if stopped is not None:
            await stopped
        self.assertEqual(data, response.serialise())

    def test_at_the_end_of_the_turn(self):
        return ensureDeferred(self._sendResponse(stopAtOnce=False))

    def test_before_the_port_closes(self):
        return ensureDeferred(self._sendResponse(stopAtOnce=True))


class SeveralPortsTests(TestCase):
    """
    With several UDP ports of one family, the responses to a request go
    out on the port it came on (RFC 3581 4: from the address and port the
    client sent to), whether they go back to its source or where its Via
    says.
    """

    timeout = 15

    def setUp(self):
        self.transports = SIPTransports(
            reactor,
            lambda message, source, transport: self.transports.send(
                makeResponse(message, 200, toTag="b1"), source, transport
            ),
        )
        self.ports = [
            self.transports.listen(ListenSpec("UDP", 0, "127.0.0.1"))[1] for _ in range(3)
        ]
        self.addCleanup(self.transports.stop)

    async def _answeredFrom(self, index, rport):
        catcher = _Catcher()
        client = reactor.listenUDP(0, catcher, interface="127.0.0.1")
        self.addCleanup(client.stopListening)
        here = client.getHost().port
        via = f"127.0.0.1:{here};branch=z9hG4bK1" + (";rport" if rport else "")
        client.write(_request(via), ("127.0.0.1", self.ports[index]))
        data = await catcher.arrived
        self.assertTrue(data.startswith(b"SIP/2.0 200 "))
        return catcher.source[1]

    def test_each_port_answers_from_itself(self):
        async def run():
            for index in (2, 0, 1):
                for rport in (True, False):
                    answered = await self._answeredFrom(index, rport)
                    self.assertEqual(answered, self.ports[index], (index, rport))

        return ensureDeferred(run())


class LargeDatagramTests(TestCase):
    """
    RFC 3261 18.1.1: a UDP message up to the largest datagram is read
    whole (Twisted's port reads at most 8,192 octets unless told more).
    """

    timeout = 15

    async def _receive(self, size):
        delivered = Deferred()
        transports = SIPTransports(reactor, lambda *args: delivered.callback(args))
        host, port = transports.listen(ListenSpec("UDP", 0, "127.0.0.1"))
        self.addCleanup(transports.stop)
        head = _request("127.0.0.1:5070;branch=z9hG4bK1").replace(
            b"Content-Length: 0\r\n\r\n", b""
        )
        body = b"x" * (size - len(head) - len(b"Content-Length: 00000\r\n\r\n"))
        data = head + b"Content-Length: %05d\r\n\r\n" % len(body) + body
        self.assertEqual(len(data), size)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(data, (host, port))
            message, source, transport = await delivered
        self.assertEqual((message.body, transport), (body, "UDP"))

    def test_larger_than_twisteds_default(self):
        return ensureDeferred(self._receive(20_000))

    def test_the_largest_datagram(self):
        return ensureDeferred(self._receive(65_507))


def _request(via, method="OPTIONS"):
    return (
        f"{method} sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP {via}\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:alice@a.example>;tag=a1\r\n"
        "To: <sip:bob@b.example>\r\nCall-ID: c1@a.example\r\n"
        f"CSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    ).encode()


class ReturnAddressTests(SynchronousTestCase):
    """
    RFC 3261 18.2.2 and RFC 3581 4: a UDP request whose responses go back
    to its source is delivered with that source as a L{_ReturnAddress},
    and its responses (as built and in their sent form) go there without
    their Via being read again; every response goes where its Via says.
    """

    #: Top Via, source, and whether the responses go back to the source.
    CASES = [
        ("192.0.2.1:5060;branch=z9hG4bK1;rport", ("192.0.2.1", 40000), True),
        ("192.0.2.1:5060;branch=z9hG4bK1", ("192.0.2.1", 5060), True),
        ("192.0.2.1;branch=z9hG4bK1", ("192.0.2.1", 5060), True),
        ("a.example:5062;branch=z9hG4bK1", ("192.0.2.1", 5062), True),
        ("192.0.2.1:5060;branch=z9hG4bK1", ("192.0.2.1", 40000), False),
        ("192.0.2.1:5060;branch=z9hG4bK1", ("192.0.2.7", 5060), True),
        ("192.0.2.1:5060;branch=z9hG4bK1", ("192.0.2.7", 40000), False),
        ("192.0.2.1:5060;branch=z9hG4bK1;rport;maddr=192.0.2.9", ("192.0.2.1", 40000), False),
        ("a.example;branch=z9hG4bK1;rport", ("192.0.2.1", 5060), True),
    ]

    def setUp(self):
        self.delivered = []
        self.sock = _Socket()
        self.clock = Clock()
        self.transports = SIPTransports(self.clock, lambda *args: self.delivered.append(args))
        self.transports._udp[4] = ResponseBatch(_twistedPort(self.sock), self.clock)

    def test_responses_go_where_the_via_says(self):
        for via, source, back in self.CASES:
            del self.delivered[:], self.sock.sent[:]
            self.transports.arrived(_request(via), "UDP", source, None)
            (message, delivered, transport), = self.delivered
            self.assertEqual((delivered, type(delivered) is _ReturnAddress), (source, back), via)
            response = makeResponse(message, 200, toTag="b1")
            expected = responseDestination(response, "UDP")
            self.assertEqual(expected == source, back, via)
            sent = sentForm(makeResponse(message, 404, toTag="b1"))
            for answer in (response, sent, sent):
                self.transports.send(answer, delivered, transport)
            self.clock.advance(0)
            self.assertEqual(
                self.sock.sent,
                [(answer.serialise(), expected) for answer in (response, sent, sent)],
                via,
            )

    def test_ack_and_responses_are_delivered_with_their_source(self):
        """
        An ACK gets no response and a response is sent none: their source
        is the plain address.
        """
        source = ("192.0.2.1", 5060)
        self.transports.arrived(_request(self.CASES[1][0], "ACK"), "UDP", source, None)
        answer = makeResponse(self.delivered[0][0], 200, toTag="b1").serialise()
        self.transports.arrived(answer, "UDP", source, None)
        self.assertEqual([type(args[1]) for args in self.delivered], [tuple, tuple])
