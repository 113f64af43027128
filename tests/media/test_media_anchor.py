"""
One call's media anchor (L{oso.media.anchor}) on real loopback sockets:
RTP and RTCP relayed both ways between two parties, strangers dropped,
the provider's description carrying what a STUN server (a small one in
the test, answering with a made-up NAT mapping) said, the sockets closed
with the call, and none left after many calls.
"""

import os
import socket

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.protocol import DatagramProtocol
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase

from oso.media.anchor import MediaRelays, RelaySettings
from oso.media.relay import PHONE, PROVIDER, RTCP, RTP
from oso.media.sdpanchor import streamTargets
from oso.media.udp import MediaPortsExhausted, PortRange, listenPair
from oso.sip.sdp import parseSDP
from oso.sip.stun import (
    BINDING_RESPONSE, XOR_MAPPED_ADDRESS, Address, Attribute, Message, decode, encode,
)

RANGE = PortRange(42000, 42999)


def description(host, port):
    return (f"v=0\r\no=- 7 7 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=sendrecv\r\n").encode()


class Party(DatagramProtocol):
    """
    One end of a call's media: records what arrives.
    """

    def __init__(self):
        self.received = []

    def datagramReceived(self, data, address):
        self.received.append((data, address))


class FakeNATStun(DatagramProtocol):
    """
    A STUN server behind which every socket seems to sit behind a NAT at
    192.0.2.7: even ports map to 40000, odd ones to 45555 (so RTCP is not
    RTP + 1).
    """

    def __init__(self):
        self.asked = []
        self.host = "192.0.2.7"

    def datagramReceived(self, data, address):
        request = decode(data)
        self.asked.append(address)
        mapped = Address(self.host, 45555 if address[1] % 2 else 40000)
        response = Message(BINDING_RESPONSE, request.transactionID,
                           (Attribute(XOR_MAPPED_ADDRESS, mapped),))
        self.transport.write(encode(response), address)


def openFiles():
    return len(os.listdir("/proc/self/fd"))


class AnchorTests(TestCase):
    timeout = 20

    def listen(self, protocol):
        port = reactor.listenUDP(0, protocol, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        return port.getHost().port

    @inlineCallbacks
    def until(self, condition):
        for _ in range(200):
            if condition():
                return
            yield deferLater(reactor, 0.01, lambda: None)
        self.fail("condition not met")

    def relays(self, stun=None):
        relays = MediaRelays(reactor, RelaySettings(RANGE, stun, stunWait=5))
        self.addCleanup(relays.stop)
        return relays

    @inlineCallbacks
    def test_rtp_and_rtcp_relayed_both_ways(self):
        """
        The provider's packets reach the phone at its SDP address, the
        phone's reach the provider at the address its packets came from
        (latched), RTCP likewise on the odd ports; a stranger's are not
        relayed.
        """
        provider, phone, stranger = Party(), Party(), Party()
        providerPort = self.listen(provider)
        phonePort = self.listen(phone)
        self.listen(stranger)
        anchor = self.relays().anchor("127.0.0.1", "127.0.0.1")
        toPhone = parseSDP(anchor.toPhone(description("127.0.0.1", providerPort)))
        [(phoneFacing, phoneFacingRTCP)] = streamTargets(toPhone)
        yield anchor.ready(description("127.0.0.1", phonePort))
        toProvider = parseSDP(anchor.toProvider(description("127.0.0.1", phonePort)))
        [(providerFacing, providerFacingRTCP)] = streamTargets(toProvider)
        assert phoneFacing[1] % 2 == 0 and phoneFacingRTCP[1] == phoneFacing[1] + 1
        assert providerFacing != phoneFacing and providerFacing[0] == "127.0.0.1"

        provider.transport.write(b"\x80\x00rtp-from-provider", providerFacing)
        yield self.until(lambda: phone.received)
        assert phone.received[0] == (b"\x80\x00rtp-from-provider", phoneFacing)
        phone.transport.write(b"\x80\x00rtp-from-phone", phoneFacing)
        yield self.until(lambda: provider.received)
        assert provider.received[0] == (b"\x80\x00rtp-from-phone", providerFacing)

        stranger.transport.write(b"\x80\x00bleed", phoneFacing)
        phone.transport.write(b"\x80\xc8rtcp-from-phone", phoneFacingRTCP)
        # RTCP from the phone goes to the provider's RTP port + 1, where
        # nobody listens here: counted as relayed.
        yield self.until(lambda: anchor.relayed()[0][PHONE, RTCP] == 1)
        yield deferLater(reactor, 0.05, lambda: None)
        assert anchor.relayed()[0] == {
            (PROVIDER, RTP): 1, (PROVIDER, RTCP): 0, (PHONE, RTP): 1, (PHONE, RTCP): 1,
        }
        assert len(provider.received) == 1

    @inlineCallbacks
    def test_reinvite_repoints_the_phone_side(self):
        """
        A new phone address (re-INVITE): the provider's packets go there.
        """
        provider, phone, moved = Party(), Party(), Party()
        providerPort = self.listen(provider)
        phonePort = self.listen(phone)
        movedPort = self.listen(moved)
        anchor = self.relays().anchor("127.0.0.1", "127.0.0.1")
        anchor.toPhone(description("127.0.0.1", providerPort))
        [(providerFacing, _)] = streamTargets(parseSDP(
            anchor.toProvider(description("127.0.0.1", phonePort))))
        provider.transport.write(b"\x80first", providerFacing)
        yield self.until(lambda: phone.received)
        before = anchor.toProvider(description("127.0.0.1", phonePort))
        moved_ = description("127.0.0.1", movedPort).replace(b" 7 7 ", b" 7 8 ")
        # The provider's description does not change: nothing to offer it.
        assert anchor.toProvider(moved_) == before
        provider.transport.write(b"\x80second", providerFacing)
        yield self.until(lambda: moved.received)
        assert [d for d, _ in phone.received] == [b"\x80first"]
        assert [d for d, _ in moved.received] == [b"\x80second"]

    @inlineCallbacks
    def test_stun_mapping_in_the_providers_description(self):
        """
        The provider-facing sockets ask the STUN server; the description
        toward the provider names the mapped RTP address, and a=rtcp the
        RTCP mapping, which is not RTP + 1 (RFC 3605).  The phone's side
        keeps oso's own address.
        """
        stun = FakeNATStun()
        stunPort = self.listen(stun)
        anchor = self.relays(("127.0.0.1", stunPort)).anchor("127.0.0.1", "127.0.0.1")
        yield anchor.ready(description("127.0.0.1", 6000))
        toProvider = anchor.toProvider(description("127.0.0.1", 6000))
        assert streamTargets(parseSDP(toProvider)) == [
            (("192.0.2.7", 40000), ("192.0.2.7", 45555))]
        assert b"a=rtcp:45555 IN IP4 192.0.2.7\r\n" in toProvider
        toPhone = parseSDP(anchor.toPhone(description("127.0.0.1", 7000)))
        assert streamTargets(toPhone)[0][0][0] == "127.0.0.1"
        assert len(stun.asked) == 2

    @inlineCallbacks
    def test_new_mapping_during_the_call_is_reported(self):
        """
        The NAT's mapping changes between two refreshes: the anchor says
        so (the trunk then offers it), and the provider's description
        names the new address.
        """
        stun = FakeNATStun()
        stunPort = self.listen(stun)
        relays = MediaRelays(reactor, RelaySettings(RANGE, ("127.0.0.1", stunPort),
                                                    stunInterval=0.2, stunWait=5))
        self.addCleanup(relays.stop)
        moved = []
        anchor = relays.anchor("127.0.0.1", "127.0.0.1", lambda: moved.append(True))
        yield anchor.ready(description("127.0.0.1", 6000))
        assert not moved
        stun.host = "192.0.2.8"
        yield self.until(lambda: moved)
        yield self.until(lambda: b"c=IN IP4 192.0.2.8" in anchor.toProvider(
            description("127.0.0.1", 6000)))

    @inlineCallbacks
    def test_silent_stun_server_falls_back_to_the_local_address(self):
        silent = Party()
        port = self.listen(silent)
        relays = MediaRelays(reactor, RelaySettings(RANGE, ("127.0.0.1", port), stunWait=0.2))
        self.addCleanup(relays.stop)
        anchor = relays.anchor("127.0.0.1", "127.0.0.1")
        yield anchor.ready(description("127.0.0.1", 6000))
        [(rtp, _)] = streamTargets(parseSDP(anchor.toProvider(description("127.0.0.1", 6000))))
        assert rtp[0] == "127.0.0.1"

    @inlineCallbacks
    def test_many_calls_leave_no_socket_open(self):
        """
        Every call's four sockets close with it: after many calls the
        relay holds none, the process has the files it had, and the ports
        are free to bind again.
        """
        relays = self.relays()
        # The reactor's own files (its waker) come with its first run.
        yield relays.anchor("127.0.0.1", "127.0.0.1").close()
        yield deferLater(reactor, 0.01, lambda: None)
        before = openFiles()
        used = set()
        for _ in range(60):
            anchor = relays.anchor("127.0.0.1", "127.0.0.1")
            anchor.toPhone(description("127.0.0.1", 4000))
            anchor.toProvider(description("127.0.0.1", 6000))
            assert relays.openSockets() == 4
            for side in (PROVIDER, PHONE):
                used.update(port for _, port in anchor.local(0, side))
            yield anchor.close()
        assert relays.openSockets() == 0 and not relays.anchors
        assert openFiles() == before
        for number in list(used)[:8]:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", number))

    @inlineCallbacks
    def test_exhausted_range(self):
        """
        No free pair in the range: an error naming it, nothing left open;
        an anchor then rejects the stream (port 0).
        """
        tiny = PortRange(43000, 43001)
        blocker = reactor.listenUDP(43001, Party(), interface="127.0.0.1")
        self.addCleanup(blocker.stopListening)
        yield deferLater(reactor, 0.01, lambda: None)
        before = openFiles()
        with self.assertRaises(MediaPortsExhausted):
            listenPair(reactor, "127.0.0.1", tiny, (Party(), Party()))
        yield deferLater(reactor, 0.01, lambda: None)
        assert openFiles() == before
        relays = MediaRelays(reactor, RelaySettings(tiny))
        anchor = relays.anchor("127.0.0.1", "127.0.0.1")
        assert parseSDP(anchor.toPhone(description("127.0.0.1", 4000))).media[0].port == 0
        yield anchor.close()

    def test_port_range(self):
        assert len(PortRange(16384, 32767)) == 8192
        assert list(PortRange(10001, 10007).candidates(2, 5)) == [10006, 10002, 10004]
        with self.assertRaises(ValueError):
            PortRange(5000, 5000)
