"""
REFER (RFC 3515) sans-I/O: what a REFER asks for (its C{Refer-To}, with a
C{Replaces} among the URI's embedded header fields for an attended
transfer, RFC 3891 4), and the implicit subscription an accepted REFER
makes, whose NOTIFYs carry the referenced request's progress as
C{message/sipfrag} status lines until its final status (or expiry) ends
it.  RFC 4488's C{Refer-Sub: false} asks for no subscription at all.

Nothing here sends: the subscription hands each NOTIFY's body and
C{Subscription-State} to a callable, and keeps its expiry on a clock.
"""

from dataclasses import dataclass

from oso.sip.message import REASONS
from oso.sip.replaces import parseReplaces
from oso.sip.uri import SIPParseError, SIPURI, TelURI

#: Seconds an implicit subscription lasts without a final status (RFC
#: 3515 leaves the duration to the notifier; C{expires} says it).
DEFAULT_EXPIRES = 60

#: The content type of a NOTIFY's body (RFC 3420).
SIPFRAG = "message/sipfrag;version=2.0"


class ReferError(Exception):
    """
    A REFER that cannot be acted on.

    @ivar status: the response it gets (400 malformed, 403 not allowed).
    @ivar reason: the reason phrase, naming the fault.
    """

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ReferTarget:
    """
    What a REFER asks for.

    @ivar uri: the C{Refer-To} URI without its embedded header fields.
    @ivar replaces: the L{oso.sip.replaces.Replaces} embedded in it (an
        attended transfer), or C{None} (a blind one).
    @ivar subscription: whether the REFER-Issuer wants the implicit
        subscription (RFC 4488: C{Refer-Sub: false} says no).
    """

    uri: object
    replaces: object = None
    subscription: bool = True


def parseRefer(request):
    """
    Read a REFER: exactly one C{Refer-To} (RFC 3515 2.4.1) with a SIP,
    SIPS or tel URI whose C{method}, if any, is INVITE.

    @return: a L{ReferTarget}.
    @raise ReferError: 400 for a missing, repeated or malformed
        C{Refer-To} or embedded C{Replaces}; 403 for a target we do not
        refer to (another scheme, another method).
    """
    values = request.headers.getAll("refer-to")
    if len(values) != 1:
        raise ReferError(400, "Bad Request (exactly one Refer-To)")
    try:
        address = request.headers.getParsed("refer-to")
    except SIPParseError as e:
        raise ReferError(400, f"Bad Request (Refer-To: {' '.join(str(e).split())[:80]})")
    uri = address.uri
    if isinstance(uri, TelURI):
        return ReferTarget(uri, None, _subscribed(request))
    if not isinstance(uri, SIPURI):
        raise ReferError(403, "Forbidden (Refer-To is not a SIP or tel URI)")
    if uri.params.get("method", "INVITE").upper() != "INVITE":
        raise ReferError(403, "Forbidden (only INVITE is referred)")
    embedded = {name.lower(): value for name, value in uri.headers.items()}
    replaces = None
    if "replaces" in embedded:
        try:
            replaces = parseReplaces(embedded["replaces"])
        except SIPParseError as e:
            raise ReferError(400, f"Bad Request ({e.message[:80]})")
    target = uri.copy()
    target.headers = {}
    return ReferTarget(target, replaces, _subscribed(request))


def _subscribed(request):
    value = request.headers.get("refer-sub")
    return value is None or value.strip().lower() != "false"


def sipfrag(status, reason=None):
    """
    A C{message/sipfrag} body holding only a status line (RFC 3515 2.4.5).
    """
    return f"SIP/2.0 {status} {reason or REASONS.get(status, '')}".rstrip().encode() + b"\r\n"


class ReferSubscription:
    """
    The implicit subscription of one accepted REFER (RFC 3515 2.4.4): a
    NOTIFY with C{100 Trying} at once, one per change of provisional
    status, and a last one with the final status and C{Subscription-State:
    terminated}; when no final status came within C{expires} seconds, the
    last NOTIFY says C{terminated;reason=timeout}.  Without a subscription
    (RFC 4488) no NOTIFY goes out, but the end is still reported.

    @ivar status: the last status reported.
    @ivar done: set once the subscription has ended.
    """

    def __init__(self, clock, notify, subscribed=True, expires=DEFAULT_EXPIRES, ended=None):
        """
        @param notify: called with C{(body, subscriptionState)} for each
            NOTIFY to send.
        @param ended: called with no arguments when the subscription ends.
        """
        self.clock = clock
        self._notify = notify if subscribed else None
        self._ended = ended
        self.status = None
        self.done = False
        self._deadline = clock.seconds() + expires
        self._timer = clock.callLater(expires, self._expire)
        self.progress(100)

    def progress(self, status, reason=None):
        """
        The referenced request's status changed to C{status}; a final one
        ends the subscription.
        """
        if self.done or (status < 200 and status == self.status):
            return
        self.status = status
        if status < 200:
            remaining = max(0, int(self._deadline - self.clock.seconds()))
            self._send(sipfrag(status, reason), f"active;expires={remaining}")
            return
        self._send(sipfrag(status, reason), "terminated;reason=noresource")
        self._end()

    def refused(self):
        """
        The subscriber refused a NOTIFY (481, or it timed out): the
        subscription is over, with nothing more to send (RFC 6665 4.1.3).
        """
        if not self.done:
            self._end()

    def _expire(self):
        self._timer = None
        self._send(sipfrag(self.status), "terminated;reason=timeout")
        self._end()

    def _send(self, body, state):
        if self._notify is not None:
            self._notify(body, state)

    def _end(self):
        self.done = True
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._ended is not None:
            self._ended()
