"""
The offer/answer model (RFC 3264) as a B2BUA needs it: it passes each
offer and answer from one leg to the other with only the rewriting the
model requires.

- L{LegOrigin}: the C{o=} line each leg sees. A leg keeps one session id
  whichever phone's description it carries (also after a transfer re-points
  it), and the version goes up by one exactly when the body sent on that
  leg changes (RFC 3264 8); L{unchanged} tells a peer's session refresh
  from a new offer.
- Directions (RFC 3264 5.1, 6.1): L{direction} of a stream (its own
  attribute, else the session's, else sendrecv), L{setDirection} on a
  section, L{answerDirection} for an offered one.
- Hold (RFC 3264 8.4): L{isHold} on an offer, L{holdOffer} and
  L{resumeOffer} made from a previous offer.
- Stream counts (RFC 3264 6 and 8): L{conformAnswer} gives an answer the
  offer's m-lines in the offer's order, and L{conformOffer} keeps a
  re-offer's m-lines at least as many as the leg saw before.
"""

import dataclasses

from oso.randompool import pool
from oso.sip.sdp import Attribute, MediaDescription, Origin, SessionDescription

SENDRECV = "sendrecv"
SENDONLY = "sendonly"
RECVONLY = "recvonly"
INACTIVE = "inactive"
#: The direction attributes, as (sends, receives) from the describing side.
DIRECTIONS = {
    SENDRECV: (True, True),
    SENDONLY: (True, False),
    RECVONLY: (False, True),
    INACTIVE: (False, False),
}
_BY_BITS = {bits: name for name, bits in DIRECTIONS.items()}


class OfferAnswerError(Exception):
    """
    A description that cannot be used as the offer/answer step asks.
    """


def sectionDirection(section):
    """
    The direction attribute a section (session or media) itself carries,
    or C{None}.
    """
    for attribute in section.attributes:
        if attribute.name in DIRECTIONS:
            return attribute.name
    return None


def setDirection(section, value):
    """
    Write C{value} as the section's direction attribute, in the place of
    the one it had; C{None} removes it.
    """
    if value is None:
        section.removeAttributes(*DIRECTIONS)
    else:
        section.replaceAttributes(DIRECTIONS, Attribute(value))


def direction(description, index):
    """
    The direction of media stream C{index}: its own attribute, else the
    session's, else sendrecv (RFC 3264 5.1).
    """
    return (
        sectionDirection(description.media[index])
        or sectionDirection(description)
        or SENDRECV
    )


def offeredDirection(offer, index):
    """
    The direction stream C{index} of an offer really asks for: the RFC 2543
    hold form (connection address 0.0.0.0) means the offerer receives
    nothing whatever its attribute says (RFC 3264 8.4).
    """
    sends, receives = DIRECTIONS[direction(offer, index)]
    connection = offer.mediaConnection(index)
    if connection is not None and connection.isUnspecified:
        receives = False
    return _BY_BITS[sends, receives]


def answerDirection(offered, wanted=SENDRECV):
    """
    The direction an answerer that would like C{wanted} answers an offered
    direction with (RFC 3264 6.1): it sends only to an offerer that
    receives, and receives only from one that sends.
    """
    offerSends, offerReceives = DIRECTIONS[offered]
    wantSend, wantReceive = DIRECTIONS[wanted]
    return _BY_BITS[offerReceives and wantSend, offerSends and wantReceive]


def isStreamHeld(description, index):
    """
    Whether an active stream is held: sendonly or inactive, or sent to the
    RFC 2543 address 0.0.0.0. A rejected stream (port 0) is not.
    """
    if description.media[index].isRejected:
        return False
    return not DIRECTIONS[offeredDirection(description, index)][1]


def isHold(offer):
    """
    Whether an offer puts the other side on hold: it has active streams and
    every one of them is held (L{isStreamHeld}).
    """
    active = [i for i, m in enumerate(offer.media) if not m.isRejected]
    return bool(active) and all(isStreamHeld(offer, i) for i in active)


def _directionsToMedia(description):
    """
    Move a session-level direction attribute onto every media section that
    has none, so that each stream's direction can be changed alone.
    """
    shared = sectionDirection(description)
    if shared is None:
        return
    setDirection(description, None)
    for media in description.media:
        if sectionDirection(media) is None:
            setDirection(media, shared)


def _withDirections(offer, change):
    out = offer.copy()
    _directionsToMedia(out)
    for index, media in enumerate(out.media):
        if not media.isRejected:
            new = _BY_BITS[change(*DIRECTIONS[direction(out, index)])]
            if new != direction(out, index):
                setDirection(media, new)
    return out


def holdOffer(offer):
    """
    A hold offer made from the previous offer: each active stream stops
    receiving, sendrecv becoming sendonly and recvonly becoming inactive
    (RFC 3264 8.4). Everything else stays as it was.
    """
    return _withDirections(offer, lambda sends, receives: (sends, False))


def inactiveOffer(offer):
    """
    The offer to a phone the exchange itself puts on hold (a CTI
    application's HoldCall): every active stream inactive, so the holding
    phone neither plays the held party nor sends to it (RFC 3264 8.4
    allows C{inactive} as a hold).  A phone that holds by itself sends its
    own sendonly offer instead (L{holdOffer}).
    """
    return _withDirections(offer, lambda sends, receives: (False, False))


def resumeOffer(offer):
    """
    A resume offer made from a previous (hold) offer: each active stream
    receives again, sendonly becoming sendrecv and inactive recvonly.

    @raise OfferAnswerError: for an RFC 2543 hold offer (c=0.0.0.0), whose
        real address is gone; make the resume offer from the offer before
        the hold.
    """
    for index, media in enumerate(offer.media):
        connection = offer.mediaConnection(index)
        if not media.isRejected and connection is not None and connection.isUnspecified:
            raise OfferAnswerError(
                f"stream {index} is held with c={connection}: no address to resume to"
            )
    return _withDirections(offer, lambda sends, receives: (sends, True))


def rejectedStream(media):
    """
    A rejected copy of a media section: its m-line with port 0 and nothing
    else (RFC 3264 6: the answer keeps the media type and formats).
    """
    line = media.mediaLine
    return MediaDescription(dataclasses.replace(line, port=0, portCount=None))


def conformAnswer(offer, answer):
    """
    The answer as it must go back to the offerer: one m-line for each of
    the offer's, in the same order (RFC 3264 6). A stream the answer lacks,
    has of another media type, or that the offer rejected, is rejected
    (port 0); extra answer streams are dropped; a direction the offer does
    not allow is narrowed to what it allows (RFC 3264 6.1). Everything else
    is the answer's own.

    @return: C{answer} itself when it conforms already, else a new
        description that shares the streams it leaves as they were with
        C{answer}: to be read (written, compared) only; a caller that
        changes it copies it first.
    """
    media = []
    for index, offered in enumerate(offer.media):
        given = answer.media[index] if index < len(answer.media) else None
        if given is None or given.media != offered.media:
            media.append(rejectedStream(offered))
            continue
        if offered.isRejected:
            if not given.isRejected:
                given = given.copy()
                given.port = 0
        elif not given.isRejected:
            own = direction(answer, index)
            allowed = answerDirection(offeredDirection(offer, index), own)
            if allowed != own:
                given = given.copy()
                setDirection(given, allowed)
        media.append(given)
    if len(media) == len(answer.media) and all(
        mine is theirs for mine, theirs in zip(media, answer.media)
    ):
        return answer
    return SessionDescription(answer.lines, media)


def conformOffer(previous, offer):
    """
    An offer as it may go to a leg that last saw C{previous}: at least as
    many m-lines as before (RFC 3264 8), the missing ones added as rejected
    copies of the previous streams. An answer to it goes back through
    L{conformAnswer} with the original offer, which drops them again.
    """
    if len(offer.media) >= len(previous.media):
        return offer
    out = offer.copy()
    out.media += [rejectedStream(m) for m in previous.media[len(offer.media) :]]
    return out


def unchanged(previous, current):
    """
    Whether a peer's description is the one it sent before: same origin,
    same session version (RFC 3264 8: a session refresh repeats it).
    """
    return previous is not None and previous.origin == current.origin


class LegOrigin:
    """
    The origin (C{o=}) of the descriptions oso sends on one leg of a call.

    Every description sent on the leg, offer or answer, goes through
    L{stamp}: it gets this leg's username, session id and address, and the
    session version goes up by one exactly when the body differs from the
    last one sent on the leg (RFC 3264 8).
    """

    def __init__(self, address, sessionId, username="-"):
        """
        @param address: oso's address on the leg (IPv4 or IPv6 literal).
        @param sessionId: the leg's session id; the first version is the
            same number, as RFC 4566 5.2 suggests.
        """
        addrType = "IP6" if ":" in address else "IP4"
        self.origin = Origin(username, sessionId, sessionId, "IN", addrType, address)
        self._last = None

    @classmethod
    def fresh(cls, address, randbelow=pool.below):
        """
        A leg origin with a random session id, small enough (below 2**62)
        that its versions stay within the 64 bits other UAs assume.
        """
        return cls(address, randbelow(2**62))

    def stamp(self, description):
        """
        A copy of C{description} carrying this leg's origin, ready to send.
        """
        self.serialised(description)
        out = description.copy()
        out.origin = self.origin
        return out

    def serialised(self, description, template=None):
        """
        The bytes of L{stamp}C{(description)}: what is sent, written
        without a copy of the description.

        @param template: the L{oso.sip.sdp.Template} of C{description},
            or C{None}: when given, the bytes are written from it.
        """
        body = self._write(description, template)
        if self._last is not None and body != self._last:
            self.origin = dataclasses.replace(
                self.origin, sessionVersion=self.origin.sessionVersion + 1
            )
            body = self._write(description, template)
        self._last = body
        return body

    def _write(self, description, template):
        if template is not None:
            return template.fill(self.origin)
        if description.origin is None:
            # No o= line to write ours in place of: it goes where RFC 4566
            # puts it.
            out = description.copy()
            out.origin = self.origin
            return out.serialise()
        return description.serialise(origin=self.origin)
