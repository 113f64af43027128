"""
The media relay's decisions, sans-I/O: whom a relay socket takes packets
from and where it sends them on.

A call's media is anchored on two pairs of sockets per stream (RTP on an
even port, RTCP on the next odd one): one pair faces the provider, one the
phone.  Each socket has a L{Peer}: the address the other party's SDP named
(C{expected}) and the address its packets really come from (C{latched}).
A packet that arrives on one side's socket from that side's peer goes out
of the other side's twin socket to the other side's peer; a packet from
anyone else is dropped (L{DropLog} says so, at most once in a while).

Latching is symmetric RTP (RFC 4961's idea): a party sends from the
address it receives on, so its first packet from the SDP's host (any
port: a NAT or a media server may pick another) fixes where it is sent to
and who else is refused.  Packets from another host are never latched
onto, so a stranger spraying a relay's ports ("RTP bleed") gets nowhere.
A new SDP address (a re-INVITE) re-points the peer and latching starts
again (a packet from exactly the SDP's address always wins over one from
the party's old port that came first); the RFC 2543 hold address
(C{0.0.0.0}) only stops sending to it.
"""

from twisted.logger import Logger

#: The addresses of the RFC 2543 hold (RFC 3264 8.4): send nothing there.
UNSPECIFIED = frozenset({"0.0.0.0", "::"})

PROVIDER = "provider"
PHONE = "phone"
RTP = "RTP"
RTCP = "RTCP"


class Peer:
    """
    The party one relay socket talks to.

    @ivar expected: C{(host, port)} from the party's SDP, or C{None}.
    @ivar latched: the C{(host, port)} its packets came from, once one did.
    @ivar muted: whether its SDP asked for nothing (hold by C{0.0.0.0}).
    """

    __slots__ = ("expected", "latched", "muted")

    def __init__(self):
        self.expected = None
        self.latched = None
        self.muted = False

    def point(self, address):
        """
        The party's SDP names C{address} (C{(host, port)}, or C{None}):
        send there from now on, and latch again when it moved.
        """
        if address is None or address[0] in UNSPECIFIED or not address[1]:
            self.muted = True
            return
        self.muted = False
        if address != self.expected:
            self.expected = address
            self.latched = None

    def accepts(self, source):
        """
        Whether a packet from C{source} is the party's: from the address
        latched onto; from the SDP's own address (latched onto then: a
        straggler from the party's old port may have latched first); or,
        before any, the first from the SDP's host.
        """
        if source == self.latched:
            return True
        expected = self.expected
        if expected is None:
            return False
        if source == expected or (self.latched is None and source[0] == expected[0]):
            self.latched = source
            return True
        return False

    @property
    def destination(self):
        """
        Where packets for the party go: the latched address, else the
        SDP's; C{None} while muted or unknown.
        """
        if self.muted:
            return None
        return self.latched or self.expected


class DropLog:
    """
    Packets dropped on one socket, logged at most once per C{interval}
    seconds with the count since the last line.
    """

    log = Logger()

    def __init__(self, clock, what, interval=10.0):
        self._clock = clock
        self.what = what
        self._interval = interval
        self._next = None
        self.dropped = 0
        self._unlogged = 0

    def drop(self, source):
        self.dropped += 1
        self._unlogged += 1
        now = self._clock.seconds()
        if self._next is None or now >= self._next:
            self.log.info("media relay {what}: {count} packet(s) from unknown sources dropped, "
                          "the last from {source}", what=self.what, count=self._unlogged,
                          source=source)
            self._unlogged = 0
            self._next = now + self._interval


class Flow:
    """
    One direction of one component (RTP or RTCP) of a stream: packets
    from C{source} (the peer of the socket they arrive on) go to
    C{target} (the peer of the other side's socket).

    @ivar relayed: packets sent on.
    """

    __slots__ = ("source", "target", "drops", "relayed")

    def __init__(self, source, target, drops):
        self.source = source
        self.target = target
        self.drops = drops
        self.relayed = 0

    def received(self, address):
        """
        A packet arrived from C{address}.

        @return: the C{(host, port)} to send it to, or C{None} to drop it.
        """
        if not self.source.accepts(address):
            self.drops.drop(address)
            return None
        destination = self.target.destination
        if destination is not None:
            self.relayed += 1
        return destination


class Stream:
    """
    One media stream (one m-line) relayed: a L{Peer} per side and
    component, a L{Flow} per direction and component.

    @ivar peers: C{{(side, component): Peer}}.
    @ivar flows: C{{(side, component): Flow}}, by the side packets arrive
        on.
    """

    def __init__(self, clock, name):
        self.peers = {(side, c): Peer() for side in (PROVIDER, PHONE) for c in (RTP, RTCP)}
        other = {PROVIDER: PHONE, PHONE: PROVIDER}
        self.flows = {
            (side, c): Flow(self.peers[side, c], self.peers[other[side], c],
                            DropLog(clock, f"{name} {side} {c}"))
            for side in (PROVIDER, PHONE) for c in (RTP, RTCP)
        }

    def point(self, side, rtp, rtcp):
        """
        A description from C{side} names its C{rtp} and C{rtcp} addresses
        (C{(host, port)} or C{None}).
        """
        self.peers[side, RTP].point(rtp)
        self.peers[side, RTCP].point(rtcp)

    def relayed(self):
        """
        @return: the packets relayed, by C{(side they came from, component)}.
        """
        return {key: flow.relayed for key, flow in self.flows.items()}
