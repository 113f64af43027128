"""
The media relay's decisions (L{oso.media.relay}) without sockets: whom a
socket takes packets from (symmetric RTP latching, RFC 4961's idea),
where they go, re-pointing on a new SDP address, and the rate-limited log
of dropped packets.
"""

from twisted.internet.task import Clock
from twisted.logger import globalLogPublisher

from oso.media.relay import PHONE, PROVIDER, RTCP, RTP, DropLog, Flow, Peer, Stream


def test_first_packet_from_the_sdp_host_latches_any_port():
    """
    A NAT or a media server may send from another port than its SDP
    names: the first packet from the SDP's host fixes the address.
    """
    peer = Peer()
    peer.point(("192.0.2.1", 4000))
    assert peer.destination == ("192.0.2.1", 4000)
    assert peer.accepts(("192.0.2.1", 4100))
    assert peer.destination == ("192.0.2.1", 4100)
    assert peer.accepts(("192.0.2.1", 4100))
    assert not peer.accepts(("192.0.2.1", 4200))


def test_other_hosts_are_never_latched():
    """
    RTP bleed: a stranger sending first gets nothing, and the real party
    still latches afterwards.
    """
    peer = Peer()
    peer.point(("192.0.2.1", 4000))
    assert not peer.accepts(("198.51.100.9", 4000))
    assert peer.latched is None
    assert peer.accepts(("192.0.2.1", 4000))


def test_unknown_peer_accepts_nothing():
    peer = Peer()
    assert not peer.accepts(("192.0.2.1", 4000))
    assert peer.destination is None


def test_new_address_repoints_and_latches_again():
    """
    A re-INVITE with a new media address: packets go there, and the old
    latched source is refused.
    """
    peer = Peer()
    peer.point(("192.0.2.1", 4000))
    peer.accepts(("192.0.2.1", 4000))
    peer.point(("192.0.2.2", 5000))
    assert peer.destination == ("192.0.2.2", 5000)
    assert not peer.accepts(("192.0.2.1", 4000))
    assert peer.accepts(("192.0.2.2", 5002))


def test_sdp_address_wins_over_a_straggler_from_the_old_port():
    """
    After a re-INVITE moved the party from port 4000 to 4002, a last
    packet from 4000 may latch first; the first from 4002 (the SDP's
    address) takes over, and 4000 is refused from then on.
    """
    peer = Peer()
    peer.point(("192.0.2.1", 4000))
    peer.accepts(("192.0.2.1", 4000))
    peer.point(("192.0.2.1", 4002))
    assert peer.accepts(("192.0.2.1", 4000))
    assert peer.accepts(("192.0.2.1", 4002))
    assert peer.destination == ("192.0.2.1", 4002)
    assert not peer.accepts(("192.0.2.1", 4000))


def test_same_address_keeps_the_latch():
    peer = Peer()
    peer.point(("192.0.2.1", 4000))
    peer.accepts(("192.0.2.1", 4100))
    peer.point(("192.0.2.1", 4000))
    assert peer.destination == ("192.0.2.1", 4100)


def test_rfc2543_hold_mutes_until_resumed():
    """
    RFC 3264 8.4: c=0.0.0.0 means send nothing there; the held party's
    own packets still pass, and the resume with the old address sends to
    the latched one again.
    """
    peer = Peer()
    peer.point(("192.0.2.1", 4000))
    peer.accepts(("192.0.2.1", 4100))
    peer.point(("0.0.0.0", 4000))
    assert peer.destination is None
    assert peer.accepts(("192.0.2.1", 4100))
    peer.point(("192.0.2.1", 4000))
    assert peer.destination == ("192.0.2.1", 4100)


def test_flow_relays_to_the_other_sides_peer_and_counts():
    clock = Clock()
    stream = Stream(clock, "test")
    stream.point(PROVIDER, ("192.0.2.1", 4000), ("192.0.2.1", 4001))
    stream.point(PHONE, ("10.0.0.5", 6000), ("10.0.0.5", 6001))
    fromProvider = stream.flows[PROVIDER, RTP]
    assert fromProvider.received(("192.0.2.1", 4000)) == ("10.0.0.5", 6000)
    assert stream.flows[PHONE, RTCP].received(("10.0.0.5", 6001)) == ("192.0.2.1", 4001)
    assert fromProvider.received(("203.0.113.1", 4000)) is None
    assert stream.relayed() == {
        (PROVIDER, RTP): 1, (PROVIDER, RTCP): 0, (PHONE, RTP): 0, (PHONE, RTCP): 1,
    }
    assert fromProvider.drops.dropped == 1


def test_packets_for_an_unknown_target_are_dropped_uncounted():
    """
    Before the phone's SDP is known, the provider's packets have nowhere
    to go.
    """
    source, target = Peer(), Peer()
    source.point(("192.0.2.1", 4000))
    flow = Flow(source, target, DropLog(Clock(), "test"))
    assert flow.received(("192.0.2.1", 4000)) is None
    assert flow.relayed == 0


def test_drops_are_logged_at_most_once_per_interval():
    clock = Clock()
    lines = []
    globalLogPublisher.addObserver(lines.append)
    try:
        drops = DropLog(clock, "stream 0 provider RTP", interval=10)
        for _ in range(100):
            drops.drop(("203.0.113.1", 9))
        clock.advance(10)
        drops.drop(("203.0.113.1", 9))
    finally:
        globalLogPublisher.removeObserver(lines.append)
    mine = [e for e in lines if e.get("what") == "stream 0 provider RTP"]
    assert [e["count"] for e in mine] == [1, 100]
    assert drops.dropped == 101
