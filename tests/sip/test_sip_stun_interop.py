"""
STUN against a real coturn (C{turnserver}, Debian C{coturn}) on loopback:
the binding request goes out of a UDP port that also carries SIP-like
traffic, through L{oso.sip.stunclient}, and the reflexive address comes
back. coturn listens on 127.0.0.1 and 127.0.0.2 (both are loopback on
Linux) with an alternate port, so it has a changed address to report, as
an RFC 3489 server with two addresses does.
"""

import os
import socket
import subprocess

from sip_loopback import freePort, need
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from oso.sip.stun import CHANGED_ADDRESS, SOURCE_ADDRESS, Address, BindingTransaction, decode, looksLikeSTUN
from oso.sip.stunclient import StunDemultiplexer, StunRefresher


def _canBind(host):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, 0))
        except OSError:
            return False
    return True


class _Inner(DatagramProtocol):
    """
    Stands for SIP on the shared port: records the datagrams it is given.
    """

    def __init__(self):
        self.received = []

    def datagramReceived(self, data, address):
        self.received.append((data, address))


class CoturnTests(TestCase):
    timeout = 30

    def setUp(self):
        need("turnserver")
        if not _canBind("127.0.0.2"):
            self.skipTest("127.0.0.2 is not a loopback address here")
        self.stunPort = freePort()
        self.altPort = freePort()
        while self.altPort == self.stunPort:
            self.altPort = freePort()
        folder = self.mktemp()
        os.makedirs(folder)
        self.log = open(os.path.join(folder, "turnserver.log"), "wb")
        self.addCleanup(self.log.close)
        self.process = subprocess.Popen(
            [
                "turnserver",
                "-n",
                "--stun-only",
                "--listening-ip=127.0.0.1",
                "--listening-ip=127.0.0.2",
                f"--listening-port={self.stunPort}",
                f"--alt-listening-port={self.altPort}",
                "--no-cli",
                "--no-tls",
                "--no-dtls",
                "--no-tcp",
                "--fingerprint",
                "--log-file=stdout",
                "--simple-log",
                f"--pidfile={os.path.join(folder, 'turnserver.pid')}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.addCleanup(self._stop)

    def _stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _listen(self):
        inner = _Inner()
        protocol = StunDemultiplexer(inner, ("127.0.0.1", self.stunPort), reactor)
        port = reactor.listenUDP(0, protocol, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return protocol, inner, port.getHost().port

    async def test_publicAddress(self):
        """
        coturn tells the port its own address (no NAT on loopback), with
        XOR-MAPPED-ADDRESS checked against the fingerprint, its source and
        the other address; SIP datagrams on the same port still reach the
        wrapped protocol.
        """
        protocol, inner, port = self._listen()
        result = await protocol.stun.discover()
        self.assertEqual(result.mapped, Address("127.0.0.1", port))
        self.assertTrue(result.response.isRFC5389)
        self.assertTrue(result.response.fingerprint)
        self.assertEqual(result.source, Address("127.0.0.1", self.stunPort))
        self.assertEqual(result.changed, Address("127.0.0.2", self.altPort))
        self.assertEqual(await protocol.stun.publicAddress(), ("127.0.0.1", port))

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"OPTIONS sip:oso@127.0.0.1 SIP/2.0\r\n\r\n", ("127.0.0.1", port))
            for _ in range(100):
                if inner.received:
                    break
                await deferLater(reactor, 0.02)
        self.assertEqual(inner.received[0][0], b"OPTIONS sip:oso@127.0.0.1 SIP/2.0\r\n\r\n")

    async def test_classicRequest(self):
        """
        A request without the magic cookie (RFC 3489) gets an RFC 3489
        response: MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS.
        """
        done = Deferred()

        class Classic(DatagramProtocol):
            def datagramReceived(self, data, address):
                if looksLikeSTUN(data):
                    transaction.receive(decode(data))

        udp = reactor.listenUDP(0, Classic(), interface="127.0.0.1")
        self.addCleanup(udp.stopListening)
        transaction = BindingTransaction(
            reactor,
            lambda data: udp.write(data, ("127.0.0.1", self.stunPort)),
            transactionID=b"\x00\x00\x00\x01" + os.urandom(12),
        )
        transaction.done.chainDeferred(done)
        transaction.start()
        result = await done
        self.assertFalse(result.response.isRFC5389)
        self.assertEqual(result.mapped, Address("127.0.0.1", udp.getHost().port))
        self.assertEqual(result.response.get(SOURCE_ADDRESS), Address("127.0.0.1", self.stunPort))
        self.assertEqual(result.response.get(CHANGED_ADDRESS), Address("127.0.0.2", self.altPort))

    async def test_refresher(self):
        """
        The refresher learns the address at start and tells it once; later
        refreshes with the same answer say nothing new.
        """
        protocol, _, port = self._listen()
        seen = []
        refresher = StunRefresher(protocol.stun, reactor, interval=0.2, changed=seen.append)
        refresher.startService()
        self.addCleanup(refresher.stopService)
        for _ in range(200):
            if seen and refresher.address is not None:
                break
            await deferLater(reactor, 0.02)
        await deferLater(reactor, 0.7)
        self.assertEqual(seen, [("127.0.0.1", port)])
        self.assertEqual(refresher.address, ("127.0.0.1", port))
