"""
The SDP one leg of a back-to-back call sends its phone: what the far end
offered or answered, with this leg's own origin and session version
(L{oso.sip.offeranswer.LegOrigin}), and turned into a hold, resume or
local answer when the call model asks for one.

The call model carries a phone's SDP body as an opaque media description;
a far end that is no SIP phone (a virtual phone) gives something else,
and then the leg answers with its own phone's streams made inactive.
"""

from twisted.logger import Logger

from oso.sip.offeranswer import (
    INACTIVE,
    LegOrigin,
    answerDirection,
    conformAnswer,
    inactiveOffer,
    isHold,
    offeredDirection,
    setDirection,
)
from oso.sip.sdp import SDPParseError, parseSDP

_log = Logger()


#: Descriptions already read, by body: a body passes through several legs
#: (checked where it arrives, answered, offered on), and reading SDP costs
#: more than copying what was read.  The oldest entry goes first.
_read = {}
_READ_LIMIT = 256


def sharedDescription(body):
    """
    The description of an SDP body, read once while it stays in the
    cache, as the cache holds it: for reading only (the offer/answer steps
    that change a description work on a copy of their own).

    @return: a L{oso.sip.sdp.SessionDescription}, not to be changed.
    @raise oso.sip.sdp.SDPParseError: when the body is no description.
    """
    description = _read.get(body)
    if description is None:
        description = parseSDP(body)
        if len(_read) >= _READ_LIMIT:
            del _read[next(iter(_read))]
        _read[body] = description
    return description


#: The templates of the descriptions in L{_read}, by body: each body goes
#: out on at least one leg with that leg's origin, and writing the rest
#: of it costs more than filling in the origin.
_templates = {}


def _template(body):
    """
    The L{oso.sip.sdp.Template} of a body's shared description (one read
    has an origin), written once while it stays in the cache.
    """
    template = _templates.get(body)
    if template is not None:
        return template
    template = sharedDescription(body).template()
    if len(_templates) >= _READ_LIMIT:
        del _templates[next(iter(_templates))]
    _templates[body] = template
    return template


def readDescription(body):
    """
    The description of an SDP body, read once while it stays in the
    cache.

    @return: a L{oso.sip.sdp.SessionDescription} of its own (the caller
        may change it).
    @raise oso.sip.sdp.SDPParseError: when the body is no description.
    """
    return sharedDescription(body).copy()


def _shared(body):
    """
    L{sharedDescription} of a body, or C{None} when it is none (or not
    one: logged).
    """
    if not isinstance(body, (bytes, str)) or not body:
        return None
    try:
        return sharedDescription(body)
    except SDPParseError as e:
        _log.info("unusable SDP ignored: {error}", error=e)
        return None


def parsed(body):
    """
    @return: the L{oso.sip.sdp.SessionDescription} of a body, of its own,
        or C{None} when it is none (or not one: logged).
    """
    description = _shared(body)
    return description.copy() if description is not None else None


def isHeld(body):
    """
    Whether a phone's offer puts its far end on hold (sendonly, inactive or
    c=0.0.0.0 on every active stream).
    """
    description = _shared(body)
    return description is not None and isHold(description)


class LegMedia:
    """
    The descriptions one leg sends.

    @ivar far: the far end's last description passed to this leg (bytes,
        or whatever opaque media a non-SIP terminal gave).
    @ivar held: whether the call model holds this leg's phone.
    """

    def __init__(self, address):
        self._origin = LegOrigin.fresh(address)
        self.far = None
        self.held = False

    def _send(self, description, body=None):
        """
        The bytes of C{description} with the leg's origin.

        @param body: the far end's body when C{description} is its shared
            description as it was read: written from its template.
        """
        template = _template(body) if body is not None else None
        return self._origin.serialised(description, template)

    def offer(self, far=None):
        """
        An offer of the far end's description to the phone (held when the
        model holds the phone), or C{None} when there is none.
        """
        if far is not None:
            self.far = far
        description = _shared(self.far)
        if description is None:
            return None
        if self.held:
            return self._send(inactiveOffer(description))
        return self._send(description, self.far)

    def answer(self, offer, far=None):
        """
        The answer to the phone's C{offer}: the far end's description
        shaped to the offer's streams, or, without one, the offer's own
        streams made inactive.
        """
        if far is not None:
            self.far = far
        offered = _shared(offer)
        if offered is None:
            return self.offer()
        description = _shared(self.far)
        if description is None:
            description = offered.copy()
            for index, media in enumerate(description.media):
                setDirection(media, answerDirection(offeredDirection(offered, index), INACTIVE))
            return self._send(description)
        answer = conformAnswer(offered, description)
        return self._send(answer, self.far if answer is description else None)
