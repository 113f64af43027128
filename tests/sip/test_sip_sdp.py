"""
SDP (RFC 4566, RFC 2327 forms) read and written by L{oso.sip.sdp}, and the
RFC 3264 offer/answer helpers of L{oso.sip.offeranswer} a B2BUA uses, on
descriptions shaped like those real phones send.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oso.sip import (
    INACTIVE,
    RECVONLY,
    SENDONLY,
    SENDRECV,
    Attribute,
    Connection,
    LegOrigin,
    MediaDescription,
    MediaLine,
    OfferAnswerError,
    Origin,
    SDPParseError,
    SessionDescription,
    answerDirection,
    conformAnswer,
    conformOffer,
    direction,
    holdOffer,
    isHold,
    parseSDP,
    resumeOffer,
    setDirection,
)
from oso.sip.offeranswer import inactiveOffer, isStreamHeld, offeredDirection, unchanged
from oso.sip.sdp import Bandwidth, Timing


def sdp(*lines):
    """
    A body from its lines, CRLF after each.
    """
    return "".join(line + "\r\n" for line in lines).encode("utf-8")


# Shaped like baresip's offer: session c=, a tool attribute, b=AS, RTCP
# reduced size and an ssrc line.
BARESIP = sdp(
    "v=0",
    "o=- 2120785658 1399596929 IN IP4 127.0.0.2",
    "s=-",
    "c=IN IP4 127.0.0.2",
    "t=0 0",
    "a=tool:baresip 1.0.0",
    "m=audio 15326 RTP/AVP 0 8 101",
    "b=AS:96",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=sendrecv",
    "a=label:1",
    "a=rtcp-rsize",
    "a=ssrc:2737312399 cname:sip:100@127.0.0.1",
)

# Shaped like the answer of SIPp's built-in uas scenario.
SIPP = sdp(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
)

# Shaped like linphone's offer over IPv6: session-level ICE credentials,
# RTCP-XR, per-stream c=, a=rtcp with and without an address, candidates,
# rtcp-fb, and a video stream.
LINPHONE_IPV6 = sdp(
    "v=0",
    "o=alice 3013 1804 IN IP6 2001:db8::10",
    "s=Talk",
    "c=IN IP6 2001:db8::10",
    "t=0 0",
    "a=ice-pwd:31ec21eb38b2ec6d36e8dc7b",
    "a=ice-ufrag:8e1b6c3a",
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
    "a=record:off",
    "m=audio 7078 RTP/AVP 96 97 0 8 101",
    "c=IN IP6 2001:db8::10",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 useinbandfec=1",
    "a=rtpmap:97 speex/16000",
    "a=fmtp:97 vbr=on",
    "a=rtpmap:101 telephone-event/8000",
    "a=rtcp:7079",
    "a=candidate:1 1 UDP 2130706431 2001:db8::10 7078 typ host",
    "a=candidate:1 2 UDP 2130706430 2001:db8::10 7079 typ host",
    "a=candidate:2 1 UDP 1694498815 2001:db8:1::1 7078 typ srflx raddr 2001:db8::10 rport 7078",
    "a=rtcp-fb:* trr-int 1000",
    "a=rtcp-fb:* ccm tmmbr",
    "m=video 9078 RTP/AVP 96 97",
    "a=rtpmap:96 VP8/90000",
    "a=rtpmap:97 H264/90000",
    "a=fmtp:97 profile-level-id=42801F",
    "a=rtcp-fb:96 nack pli",
    "a=rtcp:9079 IN IP6 2001:db8::10",
)

# RFC 4566 5's example with every session-level line: multicast c= with
# TTL, b=CT, t= with r= and z=, k=, a session-level direction.
RFC4566_FULL = sdp(
    "v=0",
    "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5",
    "s=SDP Seminar",
    "i=A Seminar on the session description protocol",
    "u=http://www.example.com/seminars/sdp.pdf",
    "e=j.doe@example.com (Jane Doe)",
    "p=+1 617 555-6011",
    "c=IN IP4 224.2.17.12/127",
    "b=CT:128",
    "t=2873397496 2873404696",
    "r=7d 1h 0 25h",
    "z=2882844526 -1h 2898848070 0",
    "k=clear:secret",
    "a=recvonly",
    "m=audio 49170 RTP/AVP 0",
    "m=video 51372 RTP/AVP 99",
    "a=rtpmap:99 h263-1998/90000",
)

# RFC 2327 forms: a layered-multicast port count, two media c= lines, a
# private bandwidth type, an RFC 2543 hold (c=0.0.0.0), a media k=.
RFC2327 = sdp(
    "v=0",
    "o=mhandley 2890844526 2890842807 IN IP4 126.16.64.4",
    "s=SDP Seminar",
    "e=mjh@isi.edu (Mark Handley)",
    "p=+44-171-380-7777",
    "c=IN IP4 0.0.0.0",
    "t=2873397496 2873404696",
    "m=video 49170/2 RTP/AVP 31",
    "c=IN IP4 224.2.1.1/127",
    "c=IN IP4 224.2.1.2/127",
    "b=X-YZ:128",
    "k=prompt",
    "m=audio 3456 RTP/AVP 0",
)


@pytest.mark.parametrize(
    "body", [BARESIP, SIPP, LINPHONE_IPV6, RFC4566_FULL, RFC2327], ids=lambda b: b[15:40]
)
def test_passThroughIsExact(body):
    """
    RFC 4566 5: every line of a description in the RFC's form, known or
    not, comes back byte for byte and in its place.
    """
    assert parseSDP(body).serialise() == body


def test_baresipFields():
    """
    The typed values of a baresip offer: origin, connection, media line,
    bandwidth and attributes in order, session and media level apart.
    """
    d = parseSDP(BARESIP)
    assert d.origin == Origin("-", 2120785658, 1399596929, "IN", "IP4", "127.0.0.2")
    assert d.name == "-"
    assert d.connection == Connection("IN", "IP4", "127.0.0.2")
    assert d.timings == [Timing(0, 0)]
    assert d.attributes == [Attribute("tool", "baresip 1.0.0")]
    [audio] = d.media
    assert audio.mediaLine == MediaLine("audio", 15326, "RTP/AVP", ("0", "8", "101"))
    assert audio.bandwidths == [Bandwidth("AS", 96)]
    assert audio.attributeValues("rtpmap") == [
        "0 PCMU/8000",
        "8 PCMA/8000",
        "101 telephone-event/8000",
    ]
    assert audio.attribute("rtcp-rsize") == ""
    assert audio.attribute("ptime") is None
    assert audio.hasAttribute("sendrecv")
    assert audio.connection is None
    assert d.mediaConnection(0) == d.connection


def test_linphoneIPv6():
    """
    IPv6 origin and connection addresses; a media-level c= wins over the
    session's; ICE candidates and a=rtcp are kept as attributes.
    """
    d = parseSDP(LINPHONE_IPV6)
    assert d.origin.addrType == "IP6" and d.origin.address == "2001:db8::10"
    assert [m.media for m in d.media] == ["audio", "video"]
    assert d.mediaConnection(0) == Connection("IN", "IP6", "2001:db8::10")
    assert d.mediaConnection(1) is d.connection
    assert len(d.media[0].attributeValues("candidate")) == 3
    assert d.media[1].attribute("rtcp") == "9079 IN IP6 2001:db8::10"
    assert d.attribute("ice-ufrag") == "8e1b6c3a"


def test_rfc4566AndRfc2327Lines():
    """
    Multicast TTL and count, port counts, several media c= lines, r=, z=
    and k= lines are read; the unspecified address is recognised.
    """
    full = parseSDP(RFC4566_FULL)
    assert full.connection == Connection("IN", "IP4", "224.2.17.12", ttl=127)
    assert full.information == "A Seminar on the session description protocol"
    assert full.key == "clear:secret"
    assert full.bandwidths == [Bandwidth("CT", 128)]
    old = parseSDP(RFC2327)
    assert old.connection.isUnspecified
    video = old.media[0]
    assert video.mediaLine.portCount == 2
    assert video.connections == [
        Connection("IN", "IP4", "224.2.1.1", ttl=127),
        Connection("IN", "IP4", "224.2.1.2", ttl=127),
    ]
    assert video.key == "prompt"
    multicast6 = parseSDP(sdp("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 FF15::101/3"))
    assert multicast6.connection == Connection("IN", "IP6", "FF15::101", count=3)
    assert str(multicast6.connection) == "IN IP6 FF15::101/3"


def test_unknownAndDisorderedLinesKept():
    """
    Lines of letters SDP does not define, and known lines out of the RFC's
    order (an a= before the media c=, as some gateways write), stay where
    they were; an empty session name (RFC 2327) is accepted.
    """
    body = sdp(
        "v=0",
        "o=- 5 5 IN IP4 gw.example.net",
        "s=",
        "x=private session line",
        "t=0 0",
        "c=IN IP4 192.0.2.7",
        "m=audio 20000 RTP/AVP 18 101",
        "a=rtpmap:18 G729/8000",
        "c=IN IP4 192.0.2.8",
        "y=private media line",
        "a=X-nat:0",
    )
    d = parseSDP(body)
    assert d.serialise() == body
    assert d.name == ""
    assert d.media[0].connection.address == "192.0.2.8"
    assert ["y", "private media line"] in d.media[0].lines


def test_bareLineFeedsAndBlankLines():
    """
    RFC 4566 5: a parser should accept LF alone as a line end; blank lines
    (a stray CRLF after the body) are skipped. Writing uses CRLF.
    """
    loose = SIPP.replace(b"\r\n", b"\n") + b"\r\n\r\n"
    assert parseSDP(loose) == parseSDP(SIPP)
    assert parseSDP(loose).serialise() == SIPP
    assert parseSDP(SIPP.rstrip(b"\r\n")) == parseSDP(SIPP)


def test_otherCharsetPassesThrough():
    """
    Text that is not UTF-8 (RFC 4566 a=charset) is passed on byte for byte.
    """
    body = SIPP.replace(b"s=-", b"a=charset:ISO-8859-1\r\ns=Gr\xfc\xdfe")
    assert parseSDP(body).serialise() == body


def test_editsGoWhereTheRFCPutsThem():
    """
    A line added by code goes after the lines RFC 4566 puts before it; a
    changed line keeps its place; a removed one leaves the rest alone.
    """
    d = parseSDP(SIPP)
    d.information = "call 42"
    d.media[0].connection = Connection("IN", "IP4", "198.51.100.1")
    d.media[0].addAttribute("ptime", "20")
    d.media[0].port = 7000
    d.origin = Origin("oso", 1, 2, "IN", "IP4", "198.51.100.9")
    assert d.serialise() == sdp(
        "v=0",
        "o=oso 1 2 IN IP4 198.51.100.9",
        "s=-",
        "i=call 42",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        "m=audio 7000 RTP/AVP 0",
        "c=IN IP4 198.51.100.1",
        "a=rtpmap:0 PCMU/8000",
        "a=ptime:20",
    )
    d.media[0].removeAttributes("rtpmap", "ptime")
    d.information = None
    assert b"a=" not in d.serialise() and b"i=" not in d.serialise()


def test_build():
    """
    A description built by code has the mandatory lines in order.
    """
    audio = MediaDescription(MediaLine("audio", 4000, "RTP/AVP", ("0",)))
    audio.addAttribute("sendrecv")
    d = SessionDescription.build(
        Origin("-", 7, 7, "IN", "IP4", "192.0.2.1"),
        connection=Connection("IN", "IP4", "192.0.2.1"),
        media=[audio],
    )
    assert d.serialise() == sdp(
        "v=0",
        "o=- 7 7 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "a=sendrecv",
    )
    assert parseSDP(d.serialise()) == d


HEAD = ("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0")


@pytest.mark.parametrize(
    "lines, line, words",
    [
        ((), None, "no v="),
        (("o=- 1 1 IN IP4 192.0.2.1", "v=0", "s=-"), 1, "first line must be v=0"),
        (("v=1", "o=- 1 1 IN IP4 192.0.2.1", "s=-"), 1, "not version 0"),
        (("v=0", "s=-"), None, "no o= (origin)"),
        (("v=0", "o=- 1 1 IN IP4 192.0.2.1"), None, "no s= (session name)"),
        (("v=0", "o=- 1 IN IP4 192.0.2.1", "s=-"), 2, "o= needs 6 fields, got 5"),
        (("v=0", "o=- x 1 IN IP4 192.0.2.1", "s=-"), 2, "session id 'x' is not a number"),
        (("v=0", "o=- 1 1 IN IP4 300.0.2.1", "s=-"), 2, "not an IPv4 address"),
        (("v=0", "o=- 1 1 IN IP6 2001::db8::1", "s=-"), 2, "not an IPv6 address"),
        (HEAD + ("c=IN IP4 bad_host!",), 5, "neither an IP4 address nor a name"),
        (HEAD + ("c=IN IP4 224.2.1.1/127/3/2",), 5, "too many '/' parts"),
        (HEAD + ("c=IN IP6 ff15::1/127/3",), 5, "too many '/' parts"),
        (HEAD + ("b=AS 64",), 5, "not <type>:<number>"),
        (HEAD + ("m=audio 70000 RTP/AVP 0",), 5, "not a port number"),
        (HEAD + ("m=audio 4000",), 5, "m= needs"),
        (HEAD + ("m=audio 4000 RTP/AVP 0", "o=- 1 1 IN IP4 192.0.2.1"), 6, "o= inside a media"),
        (HEAD + ("o=- 2 2 IN IP4 192.0.2.1",), 5, "a second o= line"),
        (HEAD + ("m=audio 4000 RTP/AVP 0", "i=a", "i=b"), 7, "a second i= line"),
        (("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "r=7d 1h 0"), 4, "r= does not follow"),
        (HEAD + ("r=7d 1h",), 5, "not <interval> <duration> <offsets>"),
        (HEAD + ("z=2882844526",), 5, "not pairs"),
        (HEAD + ("t=now later",), 5, "is not a number"),
        (HEAD + ("a=:value",), 5, "attribute name '' is not a token"),
        (HEAD + ("a=bad name:x",), 5, "is not a token"),
        (HEAD + ("this is not sdp",), 5, "is not <letter>=<value>"),
        (HEAD + ("a = x",), 5, "is not <letter>=<value>"),
        (HEAD + ("a=x\x00y",), 5, "is not <letter>=<value>"),
        (HEAD + ("a=x\ry",), 5, "is not <letter>=<value>"),
    ],
)
def test_errorsSayWhatIsWrong(lines, line, words):
    """
    Bad input raises L{SDPParseError} naming the line and the fault.
    """
    with pytest.raises(SDPParseError) as caught:
        parseSDP(sdp(*lines))
    assert caught.value.lineNumber == line
    assert words in caught.value.message
    assert words in str(caught.value)


# Hypothesis: descriptions built from typed values survive writing and
# reading; arbitrary bytes only ever raise SDPParseError.

# Text lines hold any characters but NUL, CR and LF (RFC 4566 9: text).
_texts = st.text(" \t!\"#:;=/@[]\\aZ09-\x01\x7f\xa0\xfc\u20ac\u4e2d\U0001f4de", max_size=12)
_tokens = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-._+!~", min_size=1, max_size=10)
_numbers = st.integers(0, 2**64)
_unicast = st.one_of(
    st.ip_addresses(v=4).map(lambda a: ("IP4", str(a))),
    st.ip_addresses(v=6).map(lambda a: ("IP6", str(a))),
    st.sampled_from([("IP4", "host.example.com"), ("IP6", "host6.example.com")]),
)


@st.composite
def _connectionValues(draw):
    addrType, address = draw(_unicast)
    # IP4 writes /ttl[/count], IP6 /count (RFC 4566 5.7).
    ttl = draw(st.none() | st.integers(0, 255)) if addrType == "IP4" else None
    count = draw(st.none() | st.integers(1, 9)) if addrType == "IP6" or ttl is not None else None
    return Connection("IN", addrType, address, ttl, count)


_attributes = st.builds(Attribute, _tokens, st.none() | _texts)
_bandwidths = st.builds(Bandwidth, _tokens, _numbers)


def _lines(letter, values, most=1):
    """
    Up to C{most} lines of C{letter} with values drawn from C{values}.
    """
    return st.lists(values.map(lambda v: [letter, v]), max_size=most)


def _joined(*parts):
    """
    The lines of several L{_lines} strategies, one after the other.
    """
    return st.tuples(*parts).map(lambda drawn: [line for part in drawn for line in part])


_connections = _connectionValues()
_mediaSections = st.builds(
    MediaDescription,
    st.builds(
        MediaLine,
        _tokens,
        st.integers(0, 65535),
        _tokens,
        st.lists(_tokens, max_size=3).map(tuple),
        st.none() | st.integers(0, 9),
    ),
    _joined(
        _lines("i", _texts),
        _lines("c", _connections, 2),
        _lines("b", _bandwidths),
        _lines("k", _texts),
        _lines("a", _attributes, 3),
        _lines("y", _texts),
    ),
)
_timeLines = st.lists(
    st.tuples(st.builds(Timing, _numbers, _numbers), _lines("r", st.just("7d 1h 0 25h"))).map(
        lambda drawn: [["t", drawn[0]], *drawn[1]]
    ),
    min_size=1,
    max_size=2,
).map(lambda groups: [line for group in groups for line in group])
descriptions = st.builds(
    lambda origin, name, lines, media: SessionDescription(
        [["v", 0], ["o", origin], ["s", name], *lines], media
    ),
    st.builds(
        lambda address, user, sessionId, version: Origin(user, sessionId, version, "IN", *address),
        _unicast,
        _tokens,
        _numbers,
        _numbers,
    ),
    _texts,
    _joined(
        _lines("i", _texts),
        _lines("u", _texts),
        _lines("e", _texts),
        _lines("p", _texts),
        _lines("c", _connections),
        _lines("b", _bandwidths),
        _timeLines,
        _lines("z", st.just("2882844526 -1h 2898848070 0")),
        _lines("k", _texts),
        _lines("a", _attributes, 3),
        _lines("x", _texts),
    ),
    st.lists(_mediaSections, max_size=2),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(descriptions)
def test_roundTrip(description):
    """
    Writing then reading gives the same description, and writing it again
    the same bytes.
    """
    body = description.serialise()
    again = parseSDP(body)
    assert again == description
    assert again.serialise() == body


@settings(max_examples=500)
@given(st.binary(max_size=300))
def test_arbitraryBytes(data):
    """
    Arbitrary bytes either parse or raise L{SDPParseError}; whatever parses
    reads back the same after writing.
    """
    try:
        d = parseSDP(data)
    except SDPParseError:
        return
    assert parseSDP(d.serialise()) == d


_REAL_LINES = BARESIP.split(b"\r\n") + [b"v=0", b"m=audio 1 RTP/AVP 0", b"a=x:"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_REAL_LINES), max_size=20))
def test_shuffledRealLines(lines):
    """
    Real lines in any order and number either parse or raise
    L{SDPParseError}, never anything else.
    """
    try:
        parseSDP(b"\r\n".join(lines))
    except SDPParseError:
        pass


# Offer/answer (RFC 3264).


def test_directionAtSessionAndMediaLevel():
    """
    RFC 3264 5.1: a stream's direction is its own attribute, else the
    session's, else sendrecv.
    """
    d = parseSDP(RFC4566_FULL)
    assert direction(d, 0) == RECVONLY
    setDirection(d.media[1], INACTIVE)
    assert direction(d, 1) == INACTIVE
    assert direction(parseSDP(SIPP), 0) == SENDRECV
    assert direction(parseSDP(BARESIP), 0) == SENDRECV


def test_setDirectionInPlace():
    """
    Writing a direction replaces the old attribute where it was (so the
    rest of the body is untouched) and removes any duplicate.
    """
    d = parseSDP(BARESIP)
    d.media[0].addAttribute("sendonly")
    setDirection(d.media[0], INACTIVE)
    assert d.serialise() == BARESIP.replace(b"a=sendrecv", b"a=inactive")
    setDirection(d.media[0], None)
    assert direction(d, 0) == SENDRECV
    assert b"inactive" not in d.serialise()


@pytest.mark.parametrize(
    "offered, wanted, answered",
    [
        # RFC 3264 6.1, one sentence each.
        (SENDONLY, SENDRECV, RECVONLY),
        (SENDONLY, SENDONLY, INACTIVE),
        (RECVONLY, SENDRECV, SENDONLY),
        (RECVONLY, RECVONLY, INACTIVE),
        (SENDRECV, SENDRECV, SENDRECV),
        (SENDRECV, RECVONLY, RECVONLY),
        (SENDRECV, INACTIVE, INACTIVE),
        (INACTIVE, SENDRECV, INACTIVE),
    ],
)
def test_answerDirection(offered, wanted, answered):
    """
    RFC 3264 6.1: the answer's direction for an offered one.
    """
    assert answerDirection(offered, wanted) == answered


def test_holdDetection():
    """
    RFC 3264 8.4: an offer is a hold when each active stream is sendonly or
    inactive, or uses the RFC 2543 form c=0.0.0.0; rejected streams do not
    count; a recvonly or partly held offer is no hold.
    """
    assert not isHold(parseSDP(BARESIP))
    assert isHold(parseSDP(BARESIP.replace(b"a=sendrecv", b"a=sendonly")))
    assert isHold(parseSDP(BARESIP.replace(b"a=sendrecv", b"a=inactive")))
    assert not isHold(parseSDP(BARESIP.replace(b"a=sendrecv", b"a=recvonly")))
    rfc2543 = parseSDP(BARESIP.replace(b"c=IN IP4 127.0.0.2", b"c=IN IP4 0.0.0.0"))
    assert isHold(rfc2543)
    assert offeredDirection(rfc2543, 0) == SENDONLY
    assert answerDirection(offeredDirection(rfc2543, 0)) == RECVONLY
    both = parseSDP(LINPHONE_IPV6)
    setDirection(both.media[0], SENDONLY)
    assert isStreamHeld(both, 0) and not isHold(both)
    both.media[1].port = 0
    assert isHold(both)
    both.media[0].port = 0
    assert not isHold(both)
    sessionLevel = parseSDP(SIPP)
    setDirection(sessionLevel, INACTIVE)
    assert isHold(sessionLevel)
    old = parseSDP(RFC2327)
    assert isStreamHeld(old, 1) and not isStreamHeld(old, 0) and not isHold(old)


def test_holdAndResumeOffers():
    """
    RFC 3264 8.4: a hold offer turns sendrecv into sendonly and recvonly
    into inactive, leaving rejected streams and every other line alone; the
    resume offer turns them back.
    """
    offer = parseSDP(LINPHONE_IPV6)
    setDirection(offer.media[0], SENDRECV)
    setDirection(offer.media[1], RECVONLY)
    before = offer.serialise()
    held = holdOffer(offer)
    assert isHold(held)
    assert [direction(held, i) for i in (0, 1)] == [SENDONLY, INACTIVE]
    assert held.serialise() == before.replace(b"a=sendrecv", b"a=sendonly").replace(
        b"a=recvonly", b"a=inactive"
    )
    assert offer.serialise() == before
    assert resumeOffer(held).serialise() == before
    assert holdOffer(held) == held


def test_inactiveOffer():
    """
    The offer to a phone the exchange holds makes every active stream
    inactive, rejected ones and every other line untouched; resuming
    gives back the streams' directions without it.
    """
    offer = parseSDP(LINPHONE_IPV6)
    setDirection(offer.media[0], SENDRECV)
    setDirection(offer.media[1], RECVONLY)
    before = offer.serialise()
    held = inactiveOffer(offer)
    assert isHold(held)
    assert [direction(held, i) for i in (0, 1)] == [INACTIVE, INACTIVE]
    assert held.serialise() == before.replace(b"a=sendrecv", b"a=inactive").replace(
        b"a=recvonly", b"a=inactive"
    )
    assert offer.serialise() == before


def test_holdMovesSessionDirectionDown():
    """
    A session-level direction is moved onto the streams that had none, so
    each stream's hold direction is its own.
    """
    offer = parseSDP(RFC4566_FULL)
    offer.media[0].port = 0
    held = holdOffer(offer)
    assert not held.hasAttribute("recvonly")
    assert held.media[1].attribute(INACTIVE) == ""
    assert held.media[0].attributes == [Attribute(RECVONLY)]


def test_resumeFromRfc2543HoldRefused():
    """
    A c=0.0.0.0 hold lost the address: resuming from it is refused, from
    the offer before the hold it is that offer.
    """
    with pytest.raises(OfferAnswerError, match="no address to resume to"):
        resumeOffer(parseSDP(RFC2327))
    assert resumeOffer(parseSDP(SIPP)) == parseSDP(SIPP)


def test_conformAnswerCountsStreams():
    """
    RFC 3264 6: the answer has one m-line per offered one in the same
    order; missing, mistyped and offer-rejected streams answer with port 0,
    surplus ones are dropped, and the kept streams are untouched.
    """
    offer = parseSDP(LINPHONE_IPV6)
    answer = parseSDP(SIPP)
    fixed = conformAnswer(offer, answer)
    assert [(m.media, m.port) for m in fixed.media] == [("audio", 6000), ("video", 0)]
    assert fixed.media[0] == answer.media[0]
    assert str(fixed.media[1].mediaLine) == "video 0 RTP/AVP 96 97"
    assert len(answer.media) == 1

    swapped = parseSDP(LINPHONE_IPV6)
    swapped.media.reverse()
    fixed = conformAnswer(offer, swapped)
    assert [(m.media, m.port) for m in fixed.media] == [("audio", 0), ("video", 0)]

    offer.media[1].port = 0
    fixed = conformAnswer(offer, parseSDP(LINPHONE_IPV6))
    assert [m.port for m in fixed.media] == [7078, 0]
    assert fixed.media[1].attribute("rtcp") == "9079 IN IP6 2001:db8::10"

    one = parseSDP(SIPP)
    linphone = parseSDP(LINPHONE_IPV6)
    assert conformAnswer(one, linphone).media == linphone.media[:1]


def test_conformAnswerNarrowsDirection():
    """
    RFC 3264 6.1: an answer to a sendonly (hold) offer that says sendrecv
    is narrowed to recvonly; one that already fits is unchanged.
    """
    hold = holdOffer(parseSDP(BARESIP))
    fixed = conformAnswer(hold, parseSDP(SIPP))
    assert direction(fixed, 0) == RECVONLY
    fitting = parseSDP(SIPP + b"a=recvonly\r\n")
    assert conformAnswer(hold, fitting) == fitting


def test_conformOfferKeepsStreamCount():
    """
    RFC 3264 8: a leg that saw two streams gets an offer with at least two
    m-lines, the extra one rejected; the answer goes back with one.
    """
    previous = parseSDP(LINPHONE_IPV6)
    offer = parseSDP(BARESIP)
    padded = conformOffer(previous, offer)
    assert [(m.media, m.port) for m in padded.media] == [("audio", 15326), ("video", 0)]
    assert len(offer.media) == 1
    assert conformOffer(offer, previous) is previous
    answerFromLeg = conformAnswer(padded, parseSDP(LINPHONE_IPV6))
    assert len(conformAnswer(offer, answerFromLeg).media) == 1


def test_legOriginVersions():
    """
    RFC 3264 8: on one leg the session id stays, and the version goes up by
    one exactly when the body sent changes, whoever's description it
    carries.
    """
    leg = LegOrigin("192.0.2.5", 1000)
    first = leg.stamp(parseSDP(BARESIP))
    assert first.origin == Origin("-", 1000, 1000, "IN", "IP4", "192.0.2.5")
    assert first.media == parseSDP(BARESIP).media
    assert leg.stamp(parseSDP(BARESIP)).origin.sessionVersion == 1000
    otherOrigin = parseSDP(BARESIP.replace(b"o=- 2120785658 1399596929", b"o=bob 1 77"))
    assert leg.stamp(otherOrigin).origin.sessionVersion == 1000
    held = leg.stamp(holdOffer(parseSDP(BARESIP)))
    assert held.origin.sessionVersion == 1001
    assert leg.stamp(parseSDP(BARESIP)).origin.sessionVersion == 1002
    assert leg.stamp(parseSDP(BARESIP)).origin.sessionVersion == 1002
    other = LegOrigin("2001:db8::5", 7)
    stamped = other.stamp(parseSDP(SIPP))
    assert (stamped.origin.addrType, stamped.origin.sessionVersion) == ("IP6", 7)
    assert parseSDP(stamped.serialise()) == stamped


def test_legOriginSerialisedAsStamped():
    """
    What a leg sends is the stamped copy's bytes, written without a copy:
    the same bytes and versions, the description given left as it was,
    and an o= line put in where RFC 4566 puts it when there is none.
    """
    stamping, writing = LegOrigin("192.0.2.5", 1000), LegOrigin("192.0.2.5", 1000)
    bodies = [BARESIP, BARESIP, SIPP, BARESIP]
    for body in bodies:
        description = parseSDP(body)
        sent = writing.serialised(description)
        assert sent == stamping.stamp(parseSDP(body)).serialise()
        assert description == parseSDP(body)
    assert writing.origin == stamping.origin
    assert writing.origin.sessionVersion == 1002
    bare = SessionDescription([["v", 0], ["s", "-"], ["t", Timing(0, 0)]])
    assert writing.serialised(bare).startswith(b"v=0\r\no=- 1000 1003 IN IP4 192.0.2.5\r\ns=-\r\n")
    assert bare.origin is None


def test_legOriginFresh():
    """
    A fresh leg origin takes its session id from the random source given.
    """
    assert LegOrigin.fresh("192.0.2.5", lambda n: n - 1).origin.sessionId == 2**62 - 1


def test_b2buaHoldAndRefresh():
    """
    A call A (baresip) -> oso -> B (SIPp): the offer and answer cross with
    each leg's origin; A's hold re-offer is seen as hold and reaches B with
    the next version; A's session refresh (same o= version) is recognised
    and, passed on, leaves B's version alone.
    """
    legA, legB = LegOrigin("192.0.2.1", 10), LegOrigin("192.0.2.1", 20)
    offerA = parseSDP(BARESIP)
    toB = legB.stamp(offerA)
    answerB = parseSDP(SIPP)
    toA = legA.stamp(conformAnswer(toB, answerB))
    assert (toB.origin.sessionVersion, toA.origin.sessionVersion) == (20, 10)
    assert toA.media[0].port == 6000

    reofferA = holdOffer(offerA)
    reofferA.origin = Origin("-", 2120785658, 1399596930, "IN", "IP4", "127.0.0.2")
    assert not unchanged(offerA, reofferA) and isHold(reofferA)
    toB = legB.stamp(reofferA)
    assert toB.origin.sessionVersion == 21 and direction(toB, 0) == SENDONLY
    answerB = parseSDP(SIPP + b"a=recvonly\r\n")
    assert legA.stamp(conformAnswer(toB, answerB)).origin.sessionVersion == 11

    refresh = parseSDP(reofferA.serialise())
    assert unchanged(reofferA, refresh)
    assert legB.stamp(refresh).origin.sessionVersion == 21


def test_readDescriptionOnceAndIndependent():
    """
    A body is read once while cached; each reader gets its own copy, so
    one leg's changes never reach another's; bad bodies are not cached.
    """
    from oso.sip import legmedia

    body = LINPHONE_IPV6 + b""
    first = legmedia.readDescription(body)
    assert legmedia._read[body] == first
    setDirection(first.media[0], INACTIVE)
    second = legmedia.readDescription(body)
    assert second == parseSDP(body)
    assert second is not legmedia._read[body]
    with pytest.raises(SDPParseError):
        legmedia.readDescription(b"v=1\r\n")
    assert b"v=1\r\n" not in legmedia._read
