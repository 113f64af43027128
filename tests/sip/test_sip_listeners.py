"""
Tests for sending datagrams on a SIP UDP port (L{oso.sip.listeners}): what
goes to the socket and how its errors come out, the same as Twisted's
C{Port.write}; where responses to a UDP request go.
"""

import socket
from errno import EAGAIN, ECONNREFUSED, EMSGSIZE, ENOBUFS

from twisted.internet import udp
from twisted.internet.error import MessageLengthError
from twisted.internet.protocol import DatagramProtocol
from twisted.trial.unittest import SynchronousTestCase

from oso.sip.listeners import SIPTransports, _ReturnAddress, _sendDatagram
from oso.sip.sent import sentForm
from oso.sip.transaction import makeResponse
from oso.sip.transport import responseDestination

DESTINATION = ("127.0.0.1", 5070)


class _Socket:
    """
    A datagram socket whose C{sendto} records or fails with C{errno}.
    """

    def __init__(self, errno=None):
        self.errno = errno
        self.sent = []

    def sendto(self, data, address):
        if self.errno is not None:
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
        _sendDatagram(_twistedPort(sock), b"SIP/2.0 200 OK\r\n\r\n", DESTINATION)
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
            ours = _outcome(lambda: _sendDatagram(_twistedPort(_Socket(errno)), b"x", DESTINATION))
            twisted = _outcome(lambda: _twistedPort(_Socket(errno)).write(b"x", DESTINATION))
            self.assertEqual((ours, twisted), (outcome, outcome), errno)

    def test_a_datagram_too_long_on_a_real_socket(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            self.assertRaises(
                MessageLengthError,
                _sendDatagram, _twistedPort(sock), b"x" * 70_000, DESTINATION,
            )


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
        self.transports = SIPTransports(None, lambda *args: self.delivered.append(args))
        self.transports._udp[4] = _twistedPort(self.sock)

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
