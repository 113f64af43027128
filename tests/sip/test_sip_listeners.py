"""
Tests for sending datagrams on a SIP UDP port (L{oso.sip.listeners}): what
goes to the socket and how its errors come out, the same as Twisted's
C{Port.write}.
"""

import socket
from errno import EAGAIN, ECONNREFUSED, EMSGSIZE, ENOBUFS

from twisted.internet import udp
from twisted.internet.error import MessageLengthError
from twisted.internet.protocol import DatagramProtocol
from twisted.trial.unittest import SynchronousTestCase

from oso.sip.listeners import _sendDatagram

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
