"""
The sip-trunk port with its media relay on the in-memory SIP network
(L{test_sip_trunk_calls}'s exchange): the relay's sockets on a UDP
reactor of the test that records what they send, on the exchange's
clock, and a STUN server played by the test.  A call to the provider
waits for the STUN answers and its INVITE names the mapped addresses
(RFC 3605 a=rtcp for an RTCP mapping that is not RTP + 1); the phone
gets the relay's own address; a mapping that changes during the call is
offered to the provider in a re-INVITE with the next session version;
the sockets close with the call.
"""

from twisted.internet.address import IPv4Address

from oso.media.anchor import MediaRelays, RelaySettings
from oso.media.sdpanchor import streamTargets
from oso.media.udp import PortRange
from oso.sip.sdp import parseSDP
from oso.sip.stun import (
    BINDING_RESPONSE, XOR_MAPPED_ADDRESS, Address, Attribute, Message, decode, encode, looksLikeSTUN,
)

from sip_lines_harness import sdp
from test_sip_trunk_calls import TrunkExchange, lastRequest

STUN = ("192.0.2.30", 3478)


class _Port:
    def __init__(self, reactor, port, protocol, interface):
        self.reactor, self.port, self.protocol, self.interface = reactor, port, protocol, interface
        self.sent = []
        self.open = True
        protocol.makeConnection(self)

    def write(self, data, address):
        self.sent.append((data, address))

    def getHost(self):
        return IPv4Address("UDP", self.interface, self.port)

    def stopListening(self):
        self.open = False
        self.reactor.ports.remove(self)


class UDPReactor:
    """
    C{listenUDP} in memory on a L{Clock}: every port taken is listed, its
    datagrams recorded.
    """

    def __init__(self, clock):
        self.clock = clock
        self.ports = []

    def callLater(self, *arguments, **kw):
        return self.clock.callLater(*arguments, **kw)

    def seconds(self):
        return self.clock.seconds()

    def listenUDP(self, port, protocol, interface=""):
        listening = _Port(self, port, protocol, interface)
        self.ports.append(listening)
        return listening


def answerStun(reactor, host):
    """
    Answer the binding requests the relay's sockets sent: RTP sockets
    (even) are mapped to C{host}:50000, RTCP ones to C{host}:50007.

    @return: how many were answered.
    """
    answered = 0
    for port in list(reactor.ports):
        requests = [data for data, address in port.sent if address == STUN and looksLikeSTUN(data)]
        port.sent = [s for s in port.sent if s[1] != STUN]
        for data in requests:
            mapped = Address(host, 50007 if port.port % 2 else 50000)
            response = Message(BINDING_RESPONSE, decode(data).transactionID,
                               (Attribute(XOR_MAPPED_ADDRESS, mapped),))
            port.protocol.datagramReceived(encode(response), STUN)
            answered += 1
    return answered


def relayedExchange():
    exchange = TrunkExchange()
    reactor = UDPReactor(exchange.clock)
    exchange.trunk.media = MediaRelays(
        reactor, RelaySettings(PortRange(20000, 20999), STUN, stunInterval=60, stunWait=2))
    exchange.phone("100").media = sdp("10.0.0.100", 7000)
    return exchange, reactor


def test_outgoing_call_waits_for_stun_and_names_the_public_address():
    exchange, reactor = relayedExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    assert exchange.provider.methods().count("INVITE") == 0
    assert len(reactor.ports) == 4
    assert answerStun(reactor, "203.0.113.5") == 2
    exchange.run()
    offer = lastRequest(exchange.provider, "INVITE").body
    assert streamTargets(parseSDP(offer)) == [(("203.0.113.5", 50000), ("203.0.113.5", 50007))]
    assert b"a=rtcp:50007 IN IP4 203.0.113.5\r\n" in offer
    assert b"10.0.0.100" not in offer
    exchange.provider.answer()
    exchange.run()
    # The phone is sent to the relay's phone-facing pair on oso's address.
    [media] = exchange.phone("100").remoteMedia.values()
    [(rtp, rtcp)] = streamTargets(parseSDP(media))
    assert rtp[0] == "127.0.0.1" and rtcp == (rtp[0], rtp[1] + 1)
    assert rtp[1] in [p.port for p in reactor.ports]

    # The NAT maps the sockets elsewhere: the provider hears of it.
    version = parseSDP(offer).origin.sessionVersion
    exchange.clock.advance(60)
    assert answerStun(reactor, "203.0.113.9") == 2
    exchange.run(1)
    reoffer = lastRequest(exchange.provider, "INVITE")
    assert reoffer.toAddress.tag is not None
    description = parseSDP(reoffer.body)
    assert streamTargets(description)[0][0] == ("203.0.113.9", 50000)
    assert description.origin.sessionVersion == version + 1
    assert exchange.provider.methods().count("INVITE") == 2

    exchange.phone("100").hangUp()
    exchange.run()
    assert lastRequest(exchange.provider, "BYE")
    assert reactor.ports == [] and exchange.trunk.media.anchors == set()


def test_call_cleared_while_waiting_for_stun_sends_nothing():
    exchange, reactor = relayedExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.phone("100").hangUp()
    exchange.run(3)
    assert "INVITE" not in exchange.provider.methods()
    assert reactor.ports == []
    assert exchange.port.channelsBusy() == 0


def test_silent_stun_server_the_invite_goes_after_the_wait_with_oso_address():
    exchange, reactor = relayedExchange()
    exchange.call("100", "00891234567")
    exchange.run()
    exchange.run(2.5)
    offer = parseSDP(lastRequest(exchange.provider, "INVITE").body)
    [(rtp, _)] = streamTargets(offer)
    assert rtp[0] == "127.0.0.1" and rtp[1] in [p.port for p in reactor.ports]
