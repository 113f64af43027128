"""
Tests for the SDP a leg writes without copying: description templates
(L{oso.sip.sdp.Template}), the template cache of L{oso.sip.legmedia}, and
L{oso.sip.offeranswer.conformAnswer} handing back an answer that conforms
as it is.
"""

import pytest

from oso.sip import legmedia
from oso.sip.legmedia import LegMedia, sharedDescription
from oso.sip.offeranswer import (
    INACTIVE,
    SENDONLY,
    LegOrigin,
    conformAnswer,
    direction,
    holdOffer,
    inactiveOffer,
    setDirection,
)
from oso.sip.sdp import Origin, SessionDescription, Timing, parseSDP

#: SIPp's offer, as bench/sip_load.py sends it.
SIPP = (
    b"v=0\r\no=- 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    b"t=0 0\r\nm=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)
#: Two streams, a session-level direction, and a second o= line (which
#: writing with an origin drops).
TWO_STREAMS = (
    b"v=0\r\no=alice 1 2 IN IP6 ::1\r\ns=talk\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
    b"a=recvonly\r\nm=audio 4000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n"
    b"m=video 4002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
)
ORIGIN = Origin("-", 77, 78, "IN", "IP4", "192.0.2.9")


@pytest.mark.parametrize("body", [SIPP, TWO_STREAMS])
def test_templateFillsAsSerialise(body):
    """
    A template written from a description fills in any origin as
    C{serialise(origin=)} writes it, and leaves the description as it was.
    """
    description = parseSDP(body)
    template = description.template()
    assert template.fill(ORIGIN) == description.serialise(origin=ORIGIN)
    stamped = description.copy()
    stamped.origin = ORIGIN
    assert template.fill(ORIGIN) == stamped.serialise()
    assert description == parseSDP(body)


def test_templateOneOrigin():
    """
    A description with two o= lines is written with one, the origin given,
    where the first was.
    """
    description = parseSDP(SIPP)
    description.lines.insert(3, ["o", Origin("x", 1, 1, "IN", "IP4", "192.0.2.1")])
    written = description.template().fill(ORIGIN)
    assert written.count(b"\r\no=") == 1
    assert written.startswith(b"v=0\r\no=- 77 78 IN IP4 192.0.2.9\r\ns=-\r\n")


def test_templateFollowsNoLaterChange():
    """
    A template is the description as it was when written: a later change
    is in a new template only.
    """
    description = parseSDP(SIPP)
    template = description.template()
    setDirection(description.media[0], INACTIVE)
    assert b"a=sendrecv" in template.fill(ORIGIN)
    assert b"a=inactive" in description.template().fill(ORIGIN)


def test_templateWithoutOrigin():
    """
    A description without an o= line has no place for an origin: no
    template, and C{serialise(origin=)} writes it as it is.
    """
    bare = SessionDescription([["v", 0], ["s", "-"], ["t", Timing(0, 0)]])
    with pytest.raises(ValueError):
        bare.template()
    assert bare.serialise(origin=ORIGIN) == b"v=0\r\ns=-\r\nt=0 0\r\n"


def test_templateCached():
    """
    A body's template is written once while it stays in the cache, and
    the cache keeps at most as many bodies as the description cache.
    """
    body = SIPP + b"a=ptime:20\r\n"
    first = legmedia._template(body)
    assert legmedia._template(body) is first
    for n in range(legmedia._READ_LIMIT + 1):
        legmedia._template(SIPP.replace(b"6000", str(10000 + n).encode()))
    assert len(legmedia._templates) <= legmedia._READ_LIMIT
    assert body not in legmedia._templates


def test_legMediaWritesAsStamped():
    """
    What a leg sends from a template is what stamping a copy of the
    description writes: the offer of the far end's body, a hold made from
    it, the next far end's, and the answer to the phone's offer, with the
    next version each time the body changes.
    """
    media = LegMedia("192.0.2.5")
    reference = LegOrigin("192.0.2.5", media._origin.origin.sessionId)
    assert media.offer(SIPP) == reference.stamp(parseSDP(SIPP)).serialise()
    assert media.offer() == reference.stamp(parseSDP(SIPP)).serialise()
    media.held = True
    assert media.offer() == reference.stamp(inactiveOffer(parseSDP(SIPP))).serialise()
    media.held = False
    assert media.offer(TWO_STREAMS) == reference.stamp(parseSDP(TWO_STREAMS)).serialise()
    answer = reference.stamp(conformAnswer(parseSDP(SIPP), parseSDP(TWO_STREAMS)))
    assert media.answer(SIPP) == answer.serialise()
    assert media._origin.origin == reference.origin
    assert reference.origin.sessionVersion == reference.origin.sessionId + 3


def test_answerConformsWithoutCopy():
    """
    An answer that already conforms to the offer comes back as it is (the
    shared description, not a copy); one that does not is a new
    description, and the answer it came from is left as it was.
    """
    answer = sharedDescription(SIPP)
    assert conformAnswer(parseSDP(SIPP), answer) is answer
    hold = holdOffer(parseSDP(SIPP))
    narrowed = conformAnswer(hold, answer)
    assert narrowed is not answer
    assert direction(narrowed, 0) == "recvonly"
    assert direction(answer, 0) != "recvonly"
    assert answer == parseSDP(SIPP)
    assert conformAnswer(parseSDP(TWO_STREAMS), answer).media[1].port == 0
    assert answer == parseSDP(SIPP)
    assert SENDONLY in hold.serialise().decode()
