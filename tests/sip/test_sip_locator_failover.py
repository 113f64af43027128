"""
Failover between located servers (RFC 3263 4.3) on real sockets: a
C{twisted.names} server on loopback says the trunk's domain has two SRV
targets; the first (priority 10) is a UDP socket that never answers, the
second (priority 20) is SIPp answering OPTIONS. An OPTIONS request sent
with oso's client transactions (L{oso.sip.transactions.TransactionLayer})
times out at the first (Timer F) and is answered 200 by the second.
"""

import os
import socket
import subprocess

from dns_loopback import startDNS
from sip_loopback import freePort, need
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import Clock, deferLater
from twisted.names import client, dns
from twisted.trial.unittest import TestCase

from oso.sip.headers import Via
from oso.sip.locator import Locator, Target, tryInTurn
from oso.sip.message import Request
from oso.sip.transaction import TimerConfig, newBranch
from oso.sip.transactions import TransactionLayer
from oso.sip.transport import readMessage
from oso.sip.uri import parseURI

OPTIONS_UAS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="answer one OPTIONS">
  <recv request="OPTIONS"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""


class _Link(DatagramProtocol):
    """
    Our UDP socket: what arrives goes to the transaction layer.
    """

    def __init__(self):
        self.layer = None

    def datagramReceived(self, data, address):
        arrival = readMessage(data, address[:2], True)
        if arrival.message is not None:
            self.layer.receive(arrival.message, address[:2], "UDP")


class FailoverTests(TestCase):
    timeout = 60

    async def test_secondTarget(self):
        need("sipp")
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        self.addCleanup(silent.close)
        silentPort = silent.getsockname()[1]
        sippPort = freePort()
        _, dnsPort = startDNS(
            self,
            {
                b"_sip._udp.trunk.test": [
                    dns.Record_SRV(10, 0, silentPort, b"primary.trunk.test", ttl=60),
                    dns.Record_SRV(20, 0, sippPort, b"backup.trunk.test", ttl=60),
                ],
                b"primary.trunk.test": [dns.Record_A("127.0.0.1", ttl=60)],
                b"backup.trunk.test": [dns.Record_A("127.0.0.1", ttl=60)],
            },
        )

        folder = os.path.abspath(self.mktemp())
        os.makedirs(folder)
        scenario = os.path.join(folder, "options_uas.xml")
        with open(scenario, "w") as f:
            f.write(OPTIONS_UAS)
        sipp = subprocess.Popen(
            ["sipp", "-sf", scenario, "-i", "127.0.0.1", "-p", str(sippPort), "-t", "u1", "-m", "1", "-nostdin",
             "-timeout", "30"],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def stopSIPp():
            if sipp.poll() is None:
                sipp.kill()
            sipp.wait()

        self.addCleanup(stopSIPp)

        resolver = client.Resolver(servers=[("127.0.0.1", dnsPort)], timeout=(2,))
        locator = Locator(resolver, Clock(), transports=("UDP",), ipv6=False)
        targets = await locator.locate("trunk.test")
        self.assertEqual(
            targets,
            [
                Target("UDP", "127.0.0.1", silentPort, "primary.trunk.test"),
                Target("UDP", "127.0.0.1", sippPort, "backup.trunk.test"),
            ],
        )

        link = _Link()
        udp = reactor.listenUDP(0, link, interface="127.0.0.1")
        self.addCleanup(udp.stopListening)
        localPort = udp.getHost().port
        outcomes = {}

        def send(message, destination, transport):
            udp.write(message.serialise(), destination)

        def delivered(response, transaction):
            if response.status >= 200:
                outcomes.pop(transaction).callback(response)

        def failed(transaction, reason):
            outcomes.pop(transaction).callback(None)

        # T1 of 50 ms: Timer F (64*T1) gives up on the silent target in 3.2 s;
        # T4 of 50 ms: Timer K ends the answered transaction at once.
        layer = TransactionLayer(reactor, send, None, delivered, failed, TimerConfig(t1=0.05, t4=0.05))
        link.layer = layer
        tried = []

        async def attempt(target):
            tried.append(target.port)
            request = Request(
                "OPTIONS",
                parseURI("sip:trunk.test"),
                [
                    ("Via", str(Via("UDP", "127.0.0.1", localPort, {"branch": newBranch(), "rport": None}))),
                    ("Max-Forwards", "70"),
                    ("From", "<sip:oso@127.0.0.1>;tag=f1"),
                    ("To", "<sip:trunk.test>"),
                    ("Call-ID", f"failover-{len(tried)}"),
                    ("CSeq", f"{len(tried)} OPTIONS"),
                    ("Content-Length", "0"),
                ],
            )
            done = Deferred()
            transaction = layer.request(request, (target.host, target.port), "UDP")
            outcomes[transaction] = done
            return await done

        target, response = await tryInTurn(targets, attempt)
        self.assertEqual(tried, [silentPort, sippPort])
        self.assertEqual(target.port, sippPort)
        self.assertEqual(response.status, 200)
        for _ in range(200):
            if sipp.poll() is not None and not layer.transactions:
                break
            await deferLater(reactor, 0.05)
        self.assertEqual(sipp.returncode, 0)
        self.assertEqual(layer.transactions, [])
