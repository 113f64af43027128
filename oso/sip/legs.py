"""
The two kinds of SIP dialog a back-to-back user agent keeps with a phone,
sans-I/O: the phone's own INVITE to us (L{InboundLeg}, we are its UAS) and
our INVITE to one of a phone's registered contacts (L{OutboundLeg}, we are
its UAC).

A leg knows SIP only: it builds and answers messages of its dialog and
reports what the phone did to its C{owner} (the port driver), which
translates that into the call model's terms.  It sends through C{ua}, the
user agent core of the C{sip} component (L{oso.interfaces.sip.IUserAgent}
or an in-memory twin in tests).
"""

import random

from twisted.logger import Logger

from oso.sip.dialog import Dialog, makeDialogResponse, newTag
from oso.sip.headers import NameAddress
from oso.sip.message import Request
from oso.sip.sdp import SDPParseError, parseSDP
from oso.sip.transaction import TransactionError, makeResponse

#: The content type of the bodies the legs carry.
SDP = "application/sdp"


def withBody(message, body):
    """
    Put an SDP body (or none) into C{message}.
    """
    message.body = body or b""
    if body:
        message.headers.set("content-type", SDP)
    return message


def sdpOf(message):
    """
    @return: the SDP body of C{message}, or C{None} when it carries none.
    """
    kind = (message.headers.get("content-type") or "").split(";")[0].strip().lower()
    return bytes(message.body) if message.body and kind == SDP else None


def sdpProblem(body):
    """
    @return: what is wrong with an SDP body, in words, or C{None} when it
        is none or a valid description.
    """
    if body is None:
        return None
    try:
        parseSDP(body)
    except SDPParseError as e:
        return str(e)
    return None


class Leg:
    """
    What both legs share: the dialog, where its requests go, and the
    re-INVITEs that move media once the call is up.

    @ivar owner: told what happens (see L{InboundLeg} and L{OutboundLeg}).
    @ivar dialog: the L{Dialog} once there is one.
    @ivar destination: C{(host, port)} requests of the dialog go to.
    @ivar transport: the transport name (C{"UDP"}, C{"TCP"}, C{"TLS"}).
    @ivar remoteSDP: the last SDP the phone sent.
    @ivar peerOffer: the server transaction of a re-INVITE from the phone
        waiting for an answer from the other side of the call.
    @ivar ended: set once the dialog is over.
    """

    log = Logger()

    def __init__(self, ua, owner, destination, transport):
        self.ua = ua
        self.owner = owner
        self.destination = destination
        self.transport = transport
        self.dialog = None
        self.remoteSDP = None
        self.peerOffer = None
        self.referring = False
        self._reinvite = None
        self._lastAck = None
        self._queuedOffer = None
        self.ended = False

    # Requests inside the dialog.

    def _send(self, request):
        request.headers.add("via", self.ua.via(self.transport), first=True)
        return self.ua.request(request, self.destination, self.transport, self)

    def reinvite(self, body):
        """
        Offer C{body} to the phone with a re-INVITE (hold, retrieve, a new
        far end); one at a time, the last one wanted goes out after the
        one in flight.
        """
        if self.ended or self.dialog is None:
            return
        if self._reinvite is not None:
            self._queuedOffer = body
            return
        request = withBody(self.dialog.createRequest("INVITE"), body)
        self._reinvite = self._send(request)

    def bye(self):
        """
        Hang up the confirmed dialog.
        """
        if self.ended:
            return
        self.ended = True
        self._stopRetransmitting()
        if self.dialog is not None:
            self._send(self.dialog.createRequest("BYE"))

    def sendDigits(self, digits):
        """
        Send DTMF digits to the phone, one INFO each (the
        C{application/dtmf-relay} body most phones read).
        """
        if self.ended or self.dialog is None:
            return
        for digit in digits:
            request = self.dialog.createRequest("INFO", f"Signal={digit}\r\nDuration=160\r\n".encode())
            request.headers.set("content-type", "application/dtmf-relay")
            self._send(request)

    def notifyRefer(self, statusLine, final):
        """
        Tell the phone how the transfer it asked for with REFER is going
        (RFC 3515 2.4.4): a NOTIFY with a C{message/sipfrag} status line.
        """
        if self.ended or self.dialog is None:
            return
        request = self.dialog.createRequest("NOTIFY", f"{statusLine}\r\n".encode())
        request.headers.set("event", "refer")
        request.headers.set(
            "subscription-state",
            "terminated;reason=noresource" if final else "active;expires=60",
        )
        request.headers.set("content-type", "message/sipfrag;version=2.0")
        self._send(request)

    def answerPeerOffer(self, body):
        """
        Answer the phone's pending re-INVITE with C{body}.

        @return: C{True} when there was one to answer.
        """
        transaction, self.peerOffer = self.peerOffer, None
        if transaction is None:
            return False
        response = makeDialogResponse(
            transaction.request, 200, self.dialog.localTag, self.dialog.localContact
        )
        transaction.respond(withBody(response, body))
        return True

    # What the phone sends inside the dialog.

    def receiveRequest(self, request, transaction):
        """
        A request of this dialog from the phone (the ACK of a 2xx comes
        with no transaction).
        """
        if request.method == "ACK":
            self._acked(request)
            return
        if self.dialog is None:
            self._earlyRequest(request, transaction)
            return
        refusal = self.dialog.receiveRequest(request)
        if refusal is not None:
            transaction.respond(refusal)
            return
        if request.method == "BYE":
            transaction.respond(makeResponse(request, 200, toTag=self.dialog.localTag))
            self.ended = True
            self._stopRetransmitting()
            self.owner.legHungUp(self)
        elif request.method == "INVITE":
            self._reofferReceived(request, transaction)
        elif request.method == "REFER":
            self.owner.legReferred(self, request, transaction)
        elif request.method in ("INFO", "OPTIONS"):
            # DTMF by INFO and keep-alive probes: taken, nothing to do.
            transaction.respond(makeResponse(request, 200, toTag=self.dialog.localTag))
        else:
            transaction.respond(makeResponse(request, 501, toTag=self.dialog.localTag))

    def _earlyRequest(self, request, transaction):
        """
        A request in the early dialog, before we answered: the caller may
        end it with a BYE (RFC 3261 15), which the INVITE's 487 follows;
        nothing else is taken before the dialog is confirmed.
        """
        if request.method != "BYE":
            transaction.respond(makeResponse(request, 481, toTag=self.localTag))
            return
        transaction.respond(makeResponse(request, 200, toTag=self.localTag))
        self.refuse(487)
        self._stopRetransmitting()
        self.owner.legHungUp(self)

    def _reofferReceived(self, request, transaction):
        if self._reinvite is not None or self.peerOffer is not None:
            # RFC 3261 14.2: an offer crosses ours.
            transaction.respond(
                makeResponse(request, 491, toTag=self.dialog.localTag)
            )
            return
        body = sdpOf(request)
        problem = sdpProblem(body)
        if problem is not None:
            self.log.info("re-INVITE refused: {problem}", problem=problem)
            transaction.respond(
                makeResponse(request, 488, "Not Acceptable Here (" + " ".join(problem.split())[:120] + ")",
                             toTag=self.dialog.localTag)
            )
            return
        self.peerOffer = transaction
        if body is None:
            # An offerless re-INVITE asks for our offer: the last one.
            self.answerPeerOffer(self.owner.currentOffer(self))
            return
        self.remoteSDP = body
        self.owner.legReoffered(self, body)

    def _acked(self, request):
        pass

    def _stopRetransmitting(self):
        pass

    # Responses to our requests of the dialog.

    def receiveResponse(self, response, transaction):
        """
        A response to a request this leg sent.
        """
        if self._lastAck is not None and transaction is self._lastAck[0]:
            if 200 <= response.status < 300:
                # A retransmitted 2xx: our ACK was lost (13.2.2.4).
                self.ua.sendAck(self._lastAck[1], self.destination, self.transport)
            return
        if transaction is self._reinvite:
            if response.status < 200:
                return
            self._reinvite = None
            if response.status < 300:
                self.dialog.receiveResponse(transaction.request, response)
                self._lastAck = (transaction, self._sendAck(transaction.request))
                body = sdpOf(response)
                if body is not None:
                    self.remoteSDP = body
                    self.owner.legAnswered(self, body)
            elif response.status == 481 or response.status == 408:
                self.ended = True
                self.owner.legHungUp(self)
                return
            elif response.status == 491 and self._queuedOffer is None:
                # RFC 3261 14.1: offers crossed; try again a little later.
                self._queuedOffer = transaction.request.body
                self._reinvite = self.ua.clock.callLater(
                    2.1 + random.random() * 1.9, self._retry
                )
                return
            queued, self._queuedOffer = self._queuedOffer, None
            if queued is not None:
                self.reinvite(queued)

    def _retry(self):
        self._reinvite = None
        queued, self._queuedOffer = self._queuedOffer, None
        self.reinvite(queued)

    def _sendAck(self, invite, body=b""):
        ack = withBody(self.dialog.createAck(invite), body)
        ack.headers.add("via", self.ua.via(self.transport), first=True)
        self.ua.sendAck(ack, self.destination, self.transport)
        return ack

    def failed(self, transaction, reason):
        """
        A request of this leg timed out or could not be sent: the phone is
        gone.
        """
        if transaction is self._reinvite or transaction.request.method == "INVITE":
            self._reinvite = None
            if not self.ended:
                self.ended = True
                self.owner.legHungUp(self)


class InboundLeg(Leg):
    """
    A phone's INVITE to us: we answer it as its UAS.

    @ivar invite: the INVITE. @ivar transaction: its server transaction.
    @ivar localTag: our To tag.
    """

    def __init__(self, ua, owner, invite, transaction, source):
        transport, host, port = source
        super().__init__(ua, owner, (host, port), transport)
        self.invite = invite
        self.transaction = transaction
        self.localTag = newTag()
        self.remoteSDP = sdpOf(invite)
        self.contact = ua.contact(transport)
        self._ringing = False
        self._retransmit = None
        self._interval = 0

    def trying(self):
        """
        Say 100 Trying at once (the transaction would after 200 ms).
        """
        self.transaction.respond(makeResponse(self.invite, 100))

    def ringing(self):
        """
        The called party is alerting: 180 Ringing, once.
        """
        if self._ringing or self.dialog is not None or self.ended:
            return
        self._ringing = True
        self.transaction.respond(
            makeDialogResponse(self.invite, 180, self.localTag, self.contact)
        )

    def answer(self, body):
        """
        The called party answered: 200 with C{body} (the SDP answer), kept
        up until the ACK (RFC 3261 13.3.1.4).
        """
        if self.dialog is not None or self.ended:
            return
        self.dialog = Dialog.fromRequest(self.invite, self.localTag, self.contact)
        self._ok = withBody(
            makeDialogResponse(self.invite, 200, self.localTag, self.contact), body
        )
        self.transaction.respond(self._ok)
        if self.transaction.reliable:
            return
        config = self.ua.timers
        self._interval = config.t1
        self._deadline = self.ua.clock.seconds() + 64 * config.t1
        self._retransmit = self.ua.clock.callLater(self._interval, self._resendOk)

    def _resendOk(self):
        self._retransmit = None
        if self.ua.clock.seconds() >= self._deadline:
            # RFC 3261 13.3.1.4: no ACK, the dialog ends with a BYE.
            self.log.info("no ACK for the 200 of {call}", call=self.invite.callID)
            self.bye()
            self.owner.legHungUp(self)
            return
        try:
            self.transaction.respond(self._ok)
        except TransactionError:
            return
        self._interval = min(2 * self._interval, self.ua.timers.t2)
        self._retransmit = self.ua.clock.callLater(self._interval, self._resendOk)

    def _acked(self, request):
        first = self._retransmit is not None
        self._stopRetransmitting()
        body = sdpOf(request)
        if first and body is not None:
            # The phone's INVITE had no offer: our 200 offered, its ACK
            # answers.
            self.remoteSDP = body
            self.owner.legMediaChanged(self, body)

    def _stopRetransmitting(self):
        if self._retransmit is not None and self._retransmit.active():
            self._retransmit.cancel()
        self._retransmit = None

    def refuse(self, status, reason=None):
        """
        End the INVITE with a final error response.
        """
        if self.dialog is not None or self.ended:
            return
        self.ended = True
        try:
            self.transaction.respond(
                makeResponse(self.invite, status, reason, toTag=self.localTag)
            )
        except TransactionError:
            # A CANCEL got there first.
            pass

    def hangUp(self):
        """
        Our side ends the call: BYE once answered, else a 480 refusal of
        the INVITE (the caller's call failed).
        """
        if self.dialog is None:
            self.refuse(480)
        else:
            self.bye()


class OutboundLeg(Leg):
    """
    Our INVITE to one registered contact of a phone (one fork of a call to
    the phone).

    @ivar invite: the INVITE. @ivar transaction: its client transaction.
    @ivar status: the final status once there is one.
    """

    def __init__(self, ua, owner, destination, transport):
        super().__init__(ua, owner, destination, transport)
        self.invite = None
        self.transaction = None
        self.status = None
        self.cancelled = False

    def start(self, requestURI, fromAddress, toAddress, body, headers=()):
        """
        Send the INVITE.

        @param headers: more C{(name, value)} fields (Call-Info).
        """
        contact = self.ua.contact(self.transport)
        request = Request("INVITE", requestURI)
        fields = request.headers
        fields.add("max-forwards", "70")
        fields.add("from", NameAddress(fromAddress.uri.copy(), fromAddress.displayName,
                                       {"tag": newTag()}))
        fields.add("to", toAddress.copy())
        fields.add("call-id", f"{newTag()}{newTag()}@{contact.host}")
        fields.add("cseq", "1 INVITE")
        fields.add("contact", NameAddress(contact))
        fields.add("allow", "INVITE, ACK, CANCEL, BYE, OPTIONS")
        for name, value in headers:
            fields.add(name, value)
        self.invite = withBody(request, body)
        self._contact = contact
        self.transaction = self._send(request)

    def cancel(self):
        """
        Stop ringing: CANCEL while no final response came; BYE when a 2xx
        came after all.
        """
        if self.ended:
            return
        self.cancelled = True
        if self.dialog is not None:
            self.bye()
        elif self.status is None:
            self.ended = True
            self.ua.cancel(self.transaction)

    def receiveResponse(self, response, transaction):
        if transaction is not self.transaction:
            super().receiveResponse(response, transaction)
            return
        status = response.status
        if status < 200:
            if status in (180, 183) and not self.cancelled:
                self.owner.legRinging(self)
            return
        if status >= 300:
            if self.status is None:
                self.status = status
                self.ended = True
                if not self.cancelled:
                    self.owner.legRefused(self, response)
            return
        first = self.dialog is None
        if first:
            self.status = status
            self.dialog = Dialog.fromResponse(self.invite, response, self._contact)
        # The ACK for every 2xx, retransmissions too (13.2.2.4); it carries
        # the answer when our INVITE had no offer (delayed offer).
        offer = sdpOf(response)
        answer = self.owner.answerFor(self, offer) if offer and not self.invite.body else b""
        self._sendAck(self.invite, answer)
        if not first:
            return
        if self.cancelled:
            # The 2xx crossed our CANCEL: end the dialog it made.
            self.ended = False
            self.bye()
            return
        self.remoteSDP = offer
        self.owner.legAccepted(self, offer)

    def failed(self, transaction, reason):
        if transaction is self.transaction and self.status is None:
            self.status = 408
            self.ended = True
            if not self.cancelled:
                self.owner.legRefused(self, None)
            return
        super().failed(transaction, reason)
