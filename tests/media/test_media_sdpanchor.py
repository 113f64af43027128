"""
SDP through the relay (L{oso.media.sdpanchor}): the parties' addresses
read per stream (RFC 4566 c= levels, RFC 3605 a=rtcp), the relay's
written in their place; holds, rejected streams, ICE and the session
version's stability.
"""

from oso.media.sdpanchor import anchored, streamTargets
from oso.sip.offeranswer import LegOrigin, isHold
from oso.sip.sdp import parseSDP

PHONE = (
    b"v=0\r\no=phone 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    b"m=video 0 RTP/AVP 96\r\n"
)

RELAY = [(("198.51.100.7", 40000), ("198.51.100.7", 40001)), None]


def test_targets_read_session_connection_and_rtcp_port_plus_one():
    assert streamTargets(parseSDP(PHONE)) == [
        (("10.0.0.5", 6000), ("10.0.0.5", 6001)), None,
    ]


def test_targets_read_rfc3605_rtcp_and_media_connection():
    description = parseSDP(
        b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 8\r\nc=IN IP4 192.0.2.1\r\na=rtcp:4711 IN IP4 192.0.2.2\r\n"
        b"m=audio 5000 RTP/AVP 8\r\nc=IN IP4 192.0.2.3\r\na=rtcp:5005\r\n"
    )
    assert streamTargets(description) == [
        (("192.0.2.1", 4000), ("192.0.2.2", 4711)),
        (("192.0.2.3", 5000), ("192.0.2.3", 5005)),
    ]


def test_anchored_names_the_relay_and_keeps_the_rest():
    out = anchored(parseSDP(PHONE), RELAY)
    text = out.serialise().decode()
    assert "c=IN IP4 198.51.100.7\r\n" in text and "10.0.0.5\r\nc" not in text
    assert "m=audio 40000 RTP/AVP 0 101\r\n" in text
    assert "m=video 0 RTP/AVP 96\r\n" in text
    assert "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n" in text
    assert "a=rtcp" not in text
    # The origin is the party's: each leg stamps its own.
    assert out.origin == parseSDP(PHONE).origin
    assert streamTargets(out)[0] == RELAY[0]


def test_rtcp_mapping_not_port_plus_one_is_written():
    """
    A NAT maps the RTCP socket elsewhere than RTP's port + 1: a=rtcp says
    where (RFC 3605).
    """
    relay = [(("198.51.100.7", 40000), ("198.51.100.7", 51234)), None]
    text = anchored(parseSDP(PHONE), relay).serialise().decode()
    assert "a=rtcp:51234 IN IP4 198.51.100.7\r\n" in text
    assert streamTargets(parseSDP(text.encode()))[0] == relay[0]


def test_rfc2543_hold_stays_a_hold():
    held = PHONE.replace(b"c=IN IP4 10.0.0.5", b"c=IN IP4 0.0.0.0")
    out = anchored(parseSDP(held), RELAY)
    assert isHold(out)
    assert out.connection.address == "0.0.0.0"


def test_stream_without_relay_sockets_is_rejected():
    out = anchored(parseSDP(PHONE), [None, None])
    assert out.media[0].port == 0


def test_ice_attributes_go():
    ice = PHONE.replace(
        b"a=sendrecv\r\n",
        b"a=sendrecv\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef0123456789\r\n"
        b"a=candidate:1 1 UDP 2130706431 10.0.0.5 6000 typ host\r\n",
    )
    text = anchored(parseSDP(ice), RELAY).serialise().decode()
    assert "ice-" not in text and "candidate" not in text


def test_ipv6_relay_address():
    relay = [(("2001:db8::7", 40000), ("2001:db8::7", 40001)), None]
    text = anchored(parseSDP(PHONE), relay).serialise().decode()
    assert "c=IN IP6 2001:db8::7\r\n" in text


def test_same_description_twice_keeps_the_session_version():
    """
    RFC 3264 8: a description sent again unchanged keeps its version; a
    new relay address is a new version.
    """
    origin = LegOrigin("198.51.100.7", 5)
    first = origin.stamp(anchored(parseSDP(PHONE), RELAY)).origin.sessionVersion
    again = origin.stamp(anchored(parseSDP(PHONE), RELAY)).origin.sessionVersion
    moved = [(("198.51.100.8", 40000), ("198.51.100.8", 40001)), None]
    later = origin.stamp(anchored(parseSDP(PHONE), moved)).origin.sessionVersion
    assert first == again == 5 and later == 6
