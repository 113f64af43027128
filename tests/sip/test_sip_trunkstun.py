"""
Tests for L{oso.sip.trunkstun} and the datagram taps of
L{oso.sip.listeners.SIPTransports}: STUN on the sip component's own UDP
socket, on real loopback sockets, against a STUN responder written here
that maps the socket to another address (as a NAT does), so the address
learnt is visibly the STUN answer's and not the socket's.
"""

import socket
from types import SimpleNamespace

from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from oso.sip.listeners import ListenSpec, SIPTransports
from oso.sip.stun import (
    BINDING_REQUEST,
    BINDING_RESPONSE,
    XOR_MAPPED_ADDRESS,
    Address,
    Attribute,
    Message,
    decode,
    encode,
)
from oso.sip.trunkstun import TrunkStun, stunFor

PUBLIC = Address("203.0.113.9", 41000)


class NATResponder(DatagramProtocol):
    """
    Answers binding requests with L{PUBLIC} as the mapped address,
    counting them.
    """

    def __init__(self):
        self.requests = []

    def datagramReceived(self, data, address):
        request = decode(data)
        assert request.messageType == BINDING_REQUEST
        self.requests.append(address)
        response = Message(BINDING_RESPONSE, request.transactionID,
                           (Attribute(XOR_MAPPED_ADDRESS, PUBLIC),))
        self.transport.write(encode(response), address)


class TrunkStunTests(TestCase):
    timeout = 20

    def setUp(self):
        self.delivered = []
        self.transports = SIPTransports(reactor, lambda *args: self.delivered.append(args))
        self.host, self.port = self.transports.listen(ListenSpec("UDP", 0, "127.0.0.1"))
        self.addCleanup(self.transports.stop)
        self.responder = NATResponder()
        udp = reactor.listenUDP(0, self.responder, interface="127.0.0.1")
        self.addCleanup(udp.stopListening)
        self.server = ("127.0.0.1", udp.getHost().port)

    async def test_public_address_from_the_sip_socket(self):
        """
        The binding request leaves from the SIP port, its answer is taken
        off that port before SIP (nothing delivered), C{changed} hears the
        mapped address once, and C{currentAddress} gives it; SIP datagrams
        still reach SIP; stopping removes the tap.
        """
        changed = Deferred()
        stun = stunFor(
            SimpleNamespace(transports=self.transports),
            self.server, reactor, 60, changed.callback,
        )
        self.assertIsNone(stun.currentAddress())
        stun.startService()
        self.assertEqual(await changed, ("203.0.113.9", 41000))
        self.assertEqual(stun.currentAddress(), ("203.0.113.9", 41000))
        self.assertEqual(self.responder.requests, [("127.0.0.1", self.port)])
        self.assertEqual(self.delivered, [])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.sendto(
                b"OPTIONS sip:oso@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
                b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:oso@127.0.0.1>\r\nCall-ID: c\r\n"
                b"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                ("127.0.0.1", self.port),
            )
            for _ in range(100):
                if self.delivered:
                    break
                await deferLater(reactor, 0.02)
        self.assertEqual(self.delivered[0][0].method, "OPTIONS")
        self.assertEqual(len(self.transports.datagramTaps), 1)
        stun.stopService()
        self.assertEqual(self.transports.datagramTaps, [])

    def test_no_udp_port(self):
        """
        Without a SIP UDP port of the server's family, starting fails
        saying so.
        """
        stun = TrunkStun(self.transports, ("::1", 3478), reactor, 60, lambda address: None)
        self.assertRaises(ValueError, stun.startService)
        self.assertEqual(self.transports.datagramTaps, [])
