"""
SIP dialogs (RFC 3261 section 12): the peer-to-peer relationship an
INVITE (or SUBSCRIBE, REFER) sets up, its identifier, route set, remote
target and sequence numbers, and the requests sent inside it.

A L{Dialog} only keeps state and builds messages; sending them is the
UA core's business (it adds the Via and hands the request to the
transaction layer).
"""

from typing import NamedTuple

from oso.randompool import pool
from oso.sip.headers import NameAddress
from oso.sip.message import Request
from oso.sip.transaction import makeResponse

#: RFC 3261 12.2.1.2, 12.2.2 (and RFC 3311 for UPDATE): the requests
#: whose Contact replaces the remote target.
TARGET_REFRESH = frozenset({"INVITE", "UPDATE"})
# RFC 3261 19.1.1 Table 1: URI parameters not allowed in a Request-URI.
_NOT_IN_REQUEST_URI = ("method",)


class DialogID(NamedTuple):
    """
    RFC 3261 12: a dialog is identified by the Call-ID, the local tag and
    the remote tag.
    """

    callID: str
    localTag: str
    remoteTag: str


def dialogIDOf(message, received=True):
    """
    The id of the dialog a message belongs to, seen from this UA.

    @param received: C{True} for a message received (a request's From tag
        is then the remote tag, a response's To tag too), C{False} for one
        sent.
    @return: a L{DialogID}.
    """
    fromTag = message.fromAddress.tag
    toTag = message.toAddress.tag
    isRequest = isinstance(message, Request)
    if isRequest == received:
        return DialogID(message.callID, toTag, fromTag)
    return DialogID(message.callID, fromTag, toTag)


def newTag():
    """
    @return: a new random tag (RFC 3261 19.3: at least 32 bits of
        randomness).
    """
    return pool.hex(6)


def makeDialogResponse(request, status, localTag, contact, reason=None):
    """
    A response that sets up a dialog at the UAS (RFC 3261 12.1.1): like
    L{oso.sip.transaction.makeResponse} with our To tag, plus the request's
    Record-Route fields in order and our Contact.

    @param contact: the URI of our Contact.
    @return: a new L{oso.sip.message.Response}.
    """
    response = makeResponse(request, status, reason, toTag=localTag)
    for value in request.headers.getAll("record-route"):
        response.headers.add("record-route", value)
    # As text: no copy of the URI for the response to keep while its
    # transaction lives.
    response.headers.add("contact", f"<{contact}>")
    return response


def _contactURI(message):
    contacts = [contact for contact in message.contacts if contact != "*"]
    return contacts[0].uri.copy() if contacts else None


class Dialog:
    """
    The state of one dialog (RFC 3261 12.1).

    @ivar callID: the Call-ID.
    @ivar localTag: our tag. @ivar remoteTag: the peer's tag.
    @ivar localURI: our From/To URI. @ivar remoteURI: the peer's.
    @ivar localSeq: the CSeq number of our last request, or C{None}
        while empty (a UAS that has sent none).
    @ivar remoteSeq: the CSeq number of the peer's last request, or
        C{None} while empty.
    @ivar remoteTarget: the peer's Contact URI: where requests go (the
        peer's From/To URI when it sent no Contact, which RFC 3261 12.1
        requires but not every peer heeds).
    @ivar routeSet: the route set, L{NameAddress} values in the order the
        Route fields are written.
    @ivar localContact: the Contact this UA puts in its requests, or
        C{None}.
    @ivar secure: C{True} when the dialog was set up over C{sips:}.
    @ivar early: C{True} while the dialog rests on a provisional response.
    """

    def __init__(
        self,
        callID,
        localTag,
        remoteTag,
        localURI,
        remoteURI,
        localSeq,
        remoteSeq,
        remoteTarget,
        routeSet,
        localContact=None,
        secure=False,
        early=False,
    ):
        self.callID = callID
        self.localTag = localTag
        self.remoteTag = remoteTag
        self.localURI = localURI
        self.remoteURI = remoteURI
        self.localSeq = localSeq
        self.remoteSeq = remoteSeq
        self.remoteTarget = remoteTarget
        self.routeSet = routeSet
        self.localContact = localContact
        self.secure = secure
        self.early = early
        self._written = {}

    @property
    def id(self):
        """
        The L{DialogID}.
        """
        return DialogID(self.callID, self.localTag, self.remoteTag)

    def __repr__(self):
        state = "early" if self.early else "confirmed"
        return f"<Dialog {self.callID} {self.localTag}/{self.remoteTag} {state}>"

    @classmethod
    def fromResponse(cls, request, response, localContact=None):
        """
        The dialog of a UAC (RFC 3261 12.1.2), from its request and a 2xx
        or a 1xx with a To tag: the route set is the response's
        Record-Route in reverse, the remote target its Contact; our
        sequence number is the request's, the peer's is empty.

        @raise ValueError: when the response has no To tag (a 1xx without
            one makes no dialog).
        """
        remoteTag = response.toAddress.tag
        if remoteTag is None:
            raise ValueError(f"{response!r} has no To tag: no dialog")
        return cls(
            callID=request.callID,
            localTag=request.fromAddress.tag,
            remoteTag=remoteTag,
            localURI=request.fromAddress.uri.copy(),
            remoteURI=request.toAddress.uri.copy(),
            localSeq=request.cseq.number,
            remoteSeq=None,
            remoteTarget=_contactURI(response) or request.toAddress.uri.copy(),
            routeSet=[route.copy() for route in reversed(response.recordRoutes)],
            localContact=localContact,
            secure=_isSecure(request),
            early=response.status < 200,
        )

    @classmethod
    def fromRequest(cls, request, localTag, localContact=None, early=False):
        """
        The dialog of a UAS (RFC 3261 12.1.1), from the request it answers
        with a 2xx (or a 1xx, C{early}): the route set is the request's
        Record-Route in order, the remote target its Contact; the peer's
        sequence number is the request's, ours is empty.

        @param localTag: the To tag of our response.
        """
        return cls(
            callID=request.callID,
            localTag=localTag,
            remoteTag=request.fromAddress.tag,
            localURI=request.toAddress.uri.copy(),
            remoteURI=request.fromAddress.uri.copy(),
            localSeq=None,
            remoteSeq=request.cseq.number,
            remoteTarget=_contactURI(request) or request.fromAddress.uri.copy(),
            routeSet=[route.copy() for route in request.recordRoutes],
            localContact=localContact,
            secure=_isSecure(request),
            early=early,
        )

    def createRequest(self, method, body=b"", cseq=None):
        """
        Build a request inside the dialog (RFC 3261 12.2.1.1): To and From
        from the remote and local URIs and tags, the Call-ID, the next
        local sequence number (or C{cseq}, as an ACK and a CANCEL reuse
        their INVITE's), and the Request-URI and Route fields from the
        remote target and the route set: with a loose router (C{lr}) first
        the Request-URI is the remote target and Route the route set; with
        a strict router the Request-URI is that router's URI and Route is
        the rest of the route set followed by the remote target.

        @param cseq: the CSeq number to use instead of a new one.
        @return: a L{oso.sip.message.Request} without a Via.
        """
        if cseq is None:
            if self.localSeq is None:
                self.localSeq = pool.below(2**31 - 1) + 1
            else:
                self.localSeq += 1
            cseq = self.localSeq
        routes = [route.copy() for route in self.routeSet]
        uri = self.remoteTarget.copy()
        if routes and "lr" not in routes[0].uri.params:
            strict = routes.pop(0).uri.copy()
            for name in _NOT_IN_REQUEST_URI:
                strict.params.pop(name, None)
            strict.headers.clear()
            routes.append(NameAddress(uri))
            uri = strict
        request = Request(method, uri)
        headers = request.headers
        headers.add("max-forwards", "70")
        headers.add("from", self._address("from", self.localURI, self.localTag))
        headers.add("to", self._address("to", self.remoteURI, self.remoteTag))
        headers.add("call-id", self.callID)
        headers.add("cseq", f"{cseq} {method}")
        for route in routes:
            headers.add("route", route)
        if self.localContact is not None and method not in ("ACK", "CANCEL", "BYE"):
            headers.add("contact", NameAddress(self.localContact.copy()))
        request.body = body
        return request

    def _address(self, field, uri, tag):
        """
        The text of the From or To of our requests: the same in every
        request of the dialog, so written once (again only if the URI or
        tag attribute is replaced), and text, which costs no objects that
        the request keeps alive while its transaction lives.
        """
        written = self._written.get(field)
        if written is None or written[0] is not uri or written[1] != tag:
            text = str(NameAddress(uri, params={"tag": tag}))
            written = self._written[field] = (uri, tag, text)
        return written[2]

    def createAck(self, invite, body=b""):
        """
        The ACK for a 2xx to C{invite} (RFC 3261 13.2.2.4): built like any
        request of the dialog, with the INVITE's CSeq number.
        """
        return self.createRequest("ACK", body, cseq=invite.cseq.number)

    def receiveRequest(self, request):
        """
        Take a request of the dialog (RFC 3261 12.2.2): a CSeq number below
        the remote sequence number is out of order and refused with 500;
        otherwise the number is kept, and a target refresh replaces the
        remote target with its Contact.

        @return: the 500 L{oso.sip.message.Response} to send, or C{None}
            when the request is accepted.
        """
        number = request.cseq.number
        if request.method not in ("ACK", "CANCEL"):
            if self.remoteSeq is not None and number < self.remoteSeq:
                return makeResponse(
                    request, 500, "CSeq Out Of Order", toTag=self.localTag
                )
            self.remoteSeq = number
        if request.method in TARGET_REFRESH:
            self._refreshTarget(request)
        return None

    def receiveResponse(self, request, response):
        """
        Take a response to a request of ours in the dialog (RFC 3261
        12.2.1.2, 13.2.2.4): a 2xx to a target refresh replaces the remote
        target; the 2xx that confirms an early dialog also gives its final
        route set.
        """
        if not 200 <= response.status < 300:
            return
        if self.early and request.method == "INVITE":
            self.routeSet = [route.copy() for route in reversed(response.recordRoutes)]
            self.early = False
        if request.method in TARGET_REFRESH:
            self._refreshTarget(response)

    def _refreshTarget(self, message):
        uri = _contactURI(message)
        if uri is not None:
            self.remoteTarget = uri


def _isSecure(request):
    """
    RFC 3261 12.1.1, 12.1.2: a dialog is secure when its request went over
    TLS to a C{sips:} Request-URI.
    """
    via = request.via
    return getattr(request.uri, "secure", False) and via is not None and via.transport == "TLS"
