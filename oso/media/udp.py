"""
The media relay's sockets: thin C{DatagramProtocol}s around the
decisions of L{oso.media.relay}, and the port pairs they listen on (RTP
on an even port, RTCP on the next, RFC 3550 11) taken from a configured
range with C{reactor.listenUDP}.

A socket facing the provider may also carry STUN: the binding requests
of L{oso.sip.stunclient.StunClient} go out of it, and its responses are
taken off (the client's C{datagramReceived} is the socket's C{tap}, the
way L{oso.sip.listeners} lets STUN share the SIP socket) before the relay
sees a packet.
"""

import random

from twisted.internet.defer import gatherResults, maybeDeferred
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import DatagramProtocol

from oso.media.relay import PHONE, PROVIDER, RTCP, RTP


class MediaPortsExhausted(Exception):
    """
    No free RTP/RTCP port pair in the configured range.
    """


class PortRange:
    """
    The ports the relay may listen on: C{first} to C{last}, RTP on the
    even ones.
    """

    def __init__(self, first, last):
        if first % 2:
            first += 1
        if not 0 < first < last <= 65535:
            raise ValueError(f"{first}-{last} holds no even/odd port pair")
        self.first = first
        self.last = last

    def __len__(self):
        return (self.last - self.first + 1) // 2

    def candidates(self, start, limit):
        """
        Up to C{limit} even ports, from pair number C{start} on, wrapping.
        """
        count = len(self)
        for n in range(min(limit, count)):
            yield self.first + 2 * ((start + n) % count)

    def __str__(self):
        return f"{self.first}-{self.last}"


class RelaySocket(DatagramProtocol):
    """
    One relay socket: packets accepted by its L{oso.media.relay.Flow} go
    out of its C{twin} (the other side's socket of the same component).

    @ivar tap: C{tap(data, address) -> bool} offered each datagram first
        (STUN), or C{None}.
    @ivar address: C{(host, port)} it listens on, once it does.
    """

    def __init__(self, flow):
        self.flow = flow
        self.twin = None
        self.tap = None
        self.address = None

    def datagramReceived(self, data, address):
        if self.tap is not None and self.tap(data, address):
            return
        destination = self.flow.received(address[:2])
        if destination is not None:
            self.twin.transport.write(data, destination)

    def connectionRefused(self):
        # An ICMP port unreachable from a party not (yet) listening.
        pass


def listenPair(reactor, interface, ports, protocols, attempts=64, choose=random.randrange):
    """
    Listen with C{protocols} (RTP's, RTCP's) on a free even/odd pair of
    C{ports} on C{interface}.

    @return: the two L{IListeningPort}s.
    @raise MediaPortsExhausted: when C{attempts} pairs were all taken.
    """
    rtpProtocol, rtcpProtocol = protocols
    for port in ports.candidates(choose(len(ports)), attempts):
        try:
            rtp = reactor.listenUDP(port, rtpProtocol, interface=interface)
        except CannotListenError:
            continue
        try:
            rtcp = reactor.listenUDP(port + 1, rtcpProtocol, interface=interface)
        except CannotListenError:
            rtp.stopListening()
            continue
        return rtp, rtcp
    raise MediaPortsExhausted(f"no free RTP/RTCP port pair in {ports} on {interface or '*'}")


class StreamSockets:
    """
    The four sockets of one relayed L{oso.media.relay.Stream}: an RTP/RTCP
    pair on the provider's side and one on the phone's.

    @ivar sockets: C{{(side, component): RelaySocket}}.
    @ivar ports: the L{IListeningPort}s open now.
    """

    def __init__(self, stream):
        self.stream = stream
        self.sockets = {key: RelaySocket(flow) for key, flow in stream.flows.items()}
        for component in (RTP, RTCP):
            a, b = self.sockets[PROVIDER, component], self.sockets[PHONE, component]
            a.twin, b.twin = b, a
        self.ports = []

    def listen(self, reactor, ports, providerHost, phoneHost):
        """
        Listen on a pair for each side.

        @raise MediaPortsExhausted: when a side has no pair (nothing stays
            open then).
        """
        for side, host in ((PROVIDER, providerHost), (PHONE, phoneHost)):
            try:
                pair = listenPair(reactor, host, ports,
                                  (self.sockets[side, RTP], self.sockets[side, RTCP]))
            except MediaPortsExhausted:
                self.close()
                raise
            self.ports.extend(pair)
            for component, port in zip((RTP, RTCP), pair):
                self.sockets[side, component].address = (host, port.getHost().port)

    def local(self, side):
        """
        The C{(rtp, rtcp)} addresses of a side's sockets.
        """
        return self.sockets[side, RTP].address, self.sockets[side, RTCP].address

    def close(self):
        """
        Stop listening on every socket.

        @return: a L{Deferred} that fires once they are closed.
        """
        ports, self.ports = self.ports, []
        return gatherResults([maybeDeferred(port.stopListening) for port in ports])
