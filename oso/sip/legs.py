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

import functools
import random

from twisted.logger import Logger

from oso.sip.dialog import Dialog, makeDialogResponse, newTag
from oso.sip.headers import NameAddress
from oso.sip import update
from oso.sip.message import Request
from oso.sip.reliable import ReliableReceiver, ReliableSender, isReliable, wantsReliable
from oso.sip.legmedia import sharedDescription
from oso.sip.sdp import SDPParseError
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


@functools.lru_cache(maxsize=8)
def _allow(methods):
    return ", ".join(sorted(methods))


def allowOf(methods):
    """
    The C{Allow} value of a leg's user agent's C{methods}, sorted: written
    once for a frozen set of them (the ports' class attributes), which
    every INVITE, 180 and 200 of a call carries.
    """
    if isinstance(methods, frozenset):
        return _allow(methods)
    return ", ".join(sorted(methods))


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
        sharedDescription(body)
    except SDPParseError as e:
        return str(e)
    return None


def dialogContact(ua, transport, requestURI):
    """
    Our Contact for a dialog over C{transport} whose INVITE is for
    C{requestURI}: a C{sips:} URI over TLS only when that was one (RFC 3261
    12.1.1), else C{sip:} with C{transport=tls}, which phones that know no
    C{sips:} (baresip 1.0 sends no ACK or BYE to one) can use.
    """
    contact = ua.contact(transport)
    if contact.scheme == "sips" and getattr(requestURI, "scheme", None) != "sips":
        contact = contact.copy()
        contact.scheme = "sip"
        contact.params["transport"] = "tls"
    return contact


class Leg:
    """
    What both legs share: the dialog, where its requests go, and the
    re-INVITEs that move media once the call is up.

    @ivar owner: told what happens (see L{InboundLeg} and L{OutboundLeg}).
    @ivar dialog: the L{Dialog} once there is one.
    @ivar destination: C{(host, port)} requests of the dialog go to.
    @ivar transport: the transport name (C{"UDP"}, C{"TCP"}, C{"TLS"}).
    @ivar remoteSDP: the last SDP the phone sent.
    @ivar peerOffer: the server transaction of a re-INVITE (or UPDATE)
        from the phone waiting for an answer from the other side of the
        call.
    @ivar early: the early dialog while there is one and no L{dialog}
        (PRACK and UPDATE go in it, RFC 3262, RFC 3311).
    @ivar peerAllow: the methods the phone's Allow listed, or C{None}.
    @ivar ended: set once the dialog is over.
    @ivar endedBy: the phone's BYE that ended it (its C{Reason} says why),
        or C{None}.
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
        self._offerMethod = "INVITE"
        self.early = None
        self.earlyAnswer = None
        self.peerAllow = None
        self.ended = False
        self.endedBy = None

    # Requests inside the dialog.

    def _send(self, request):
        request.headers.add("via", self.ua.via(self.transport), first=True)
        return self.ua.request(request, self.destination, self.transport, self)

    def reinvite(self, body, method="INVITE"):
        """
        Offer C{body} to the phone with a re-INVITE (hold, retrieve, a new
        far end), or with an UPDATE when C{method} asks for one and the
        phone allows it (RFC 3311; the only way in an early dialog); one at
        a time, the last one wanted goes out after the one in flight.

        @return: whether the offer went (or waits to go).
        """
        if method == "UPDATE" and not update.allows(self.peerAllow, "UPDATE"):
            method = "INVITE"
        dialog = self.dialog or (self.early if method == "UPDATE" else None)
        if self.ended or dialog is None:
            return False
        self._offerMethod = method
        if self._reinvite is not None:
            self._queuedOffer = body
            return True
        request = withBody(dialog.createRequest(method), body)
        self._reinvite = self._send(request)
        return True

    def bye(self, reason=None):
        """
        Hang up the confirmed dialog; C{reason} is the BYE's C{Reason}
        (RFC 3326, L{oso.sip.reason.Reason}) if any.
        """
        if self.ended:
            return
        self.ended = True
        self._stopRetransmitting()
        if self.dialog is not None:
            request = self.dialog.createRequest("BYE")
            if reason is not None:
                request.headers.add("reason", str(reason))
            self._send(request)

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

    def notifyRefer(self, body, state, event="refer"):
        """
        Tell the phone how the transfer it asked for with REFER is going
        (RFC 3515 2.4.4): a NOTIFY with a C{message/sipfrag} C{body} and
        its C{Subscription-State} (L{oso.sip.refer.ReferSubscription}).
        """
        if self.ended or self.dialog is None:
            return
        request = self.dialog.createRequest("NOTIFY", body)
        request.headers.set("event", event)
        request.headers.set("subscription-state", state)
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
        dialog = self.dialog or self.early
        if self.dialog is None:
            # An UPDATE in the early dialog: this is now the phone's answer.
            self.earlyAnswer = body
        response = makeDialogResponse(
            transaction.request, 200, dialog.localTag, dialog.localContact
        )
        transaction.respond(withBody(response, body))
        return True

    def refusePeerOffer(self, status, phrase=None):
        """
        Refuse the phone's pending re-INVITE or UPDATE with C{status}: the
        session stays as it was (RFC 3261 14.2, RFC 3311 5.2).

        @return: C{True} when there was one to refuse.
        """
        transaction, self.peerOffer = self.peerOffer, None
        if transaction is None:
            return False
        dialog = self.dialog or self.early
        transaction.respond(makeResponse(transaction.request, status, phrase, toTag=dialog.localTag))
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
        if self.dialog is None and (self.early is None or request.method not in ("PRACK", "UPDATE")):
            self._earlyRequest(request, transaction)
            return
        refusal = (self.dialog or self.early).receiveRequest(request)
        if refusal is not None:
            transaction.respond(refusal)
            return
        if request.method == "BYE":
            transaction.respond(makeResponse(request, 200, toTag=self.dialog.localTag))
            self.ended = True
            self.endedBy = request
            self._stopRetransmitting()
            self.owner.legHungUp(self)
        elif request.method in ("INVITE", "UPDATE"):
            self._reofferReceived(request, transaction)
        elif request.method == "PRACK":
            self._prackReceived(request, transaction)
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
        self.endedBy = request
        self._stopRetransmitting()
        self.owner.legHungUp(self)

    def _reofferReceived(self, request, transaction):
        dialog = self.dialog or self.early
        body = sdpOf(request)
        if request.method == "UPDATE":
            if body is None:
                # RFC 3311 5.2: no offer, a target refresh (a session
                # timer's) only.
                transaction.respond(
                    makeDialogResponse(request, 200, dialog.localTag, dialog.localContact)
                )
                return
            refusal = update.refusal(
                request, dialog.localTag, self._reinvite is not None, self._answering()
            )
        elif self._reinvite is not None or self.peerOffer is not None:
            # RFC 3261 14.2: an offer crosses ours.
            refusal = makeResponse(request, 491, toTag=dialog.localTag)
        else:
            refusal = None
        if refusal is not None:
            transaction.respond(refusal)
            return
        problem = sdpProblem(body)
        if problem is not None:
            self.log.info("{method} refused: {problem}", method=request.method, problem=problem)
            transaction.respond(
                makeResponse(request, 488, "Not Acceptable Here (" + " ".join(problem.split())[:120] + ")",
                             toTag=dialog.localTag)
            )
            return
        self.peerOffer = transaction
        if body is None:
            # An offerless re-INVITE asks for our offer: the last one.
            self.answerPeerOffer(self.owner.currentOffer(self))
            return
        self.remoteSDP = body
        self.owner.legReoffered(self, body)

    def _answering(self):
        """
        Whether an offer from the phone waits for our answer.
        """
        return self.peerOffer is not None

    def _prackReceived(self, request, transaction):
        # We sent no reliable provisional response (RFC 3262 3).
        transaction.respond(makeResponse(request, 481, toTag=self.dialog.localTag))

    def _acked(self, request):
        pass

    def _stopRetransmitting(self):
        pass

    # Responses to our requests of the dialog.

    def receiveResponse(self, response, transaction):
        """
        A response to a request this leg sent.
        """
        if transaction is None or (
            self._lastAck is not None and transaction is self._lastAck[0]
        ):
            if self._isLastAcked(response):
                # A retransmitted 2xx: our ACK was lost (13.2.2.4).
                self.ua.sendAck(self._lastAck[1], self.destination, self.transport)
            return
        if transaction.request.method == "NOTIFY":
            if response.status >= 300:
                # RFC 6665 4.1.3: a refused NOTIFY ends the subscription.
                self.owner.legNotifyRefused(self)
            return
        if transaction is self._reinvite:
            if response.status < 200:
                return
            self._reinvite = None
            if response.status < 300:
                (self.dialog or self.early).receiveResponse(transaction.request, response)
                if transaction.request.method == "INVITE":
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
            else:
                self.owner.legOfferRefused(self, response)
            queued, self._queuedOffer = self._queuedOffer, None
            if queued is not None:
                self.reinvite(queued, self._offerMethod)

    def _isLastAcked(self, response):
        """
        Whether C{response} is a 2xx of the INVITE our last ACK answered.
        """
        return (
            self._lastAck is not None
            and 200 <= response.status < 300
            and response.cseq.number == self._lastAck[0].request.cseq.number
            and response.cseq.method == "INVITE"
        )

    def _retry(self):
        self._reinvite = None
        queued, self._queuedOffer = self._queuedOffer, None
        self.reinvite(queued, self._offerMethod)

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
        elif transaction.request.method == "NOTIFY":
            self.owner.legNotifyRefused(self)


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
        self.contact = dialogContact(ua, transport, invite.uri)
        self.peerAllow = update.allowedMethods(invite)
        self.reliable = None
        if wantsReliable(invite) and "PRACK" in ua.methods:
            self.reliable = ReliableSender(
                ua.clock, ua.timers.t1, invite, self._sendProvisional, self._noPrack
            )
        self._ringing = False
        self._retransmit = None
        self._interval = 0
        self._okWaits = False
        self._afterAck = None

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
        self._provisional(180)

    def earlyMedia(self, body):
        """
        The far end sends media before it answers: 183 Session Progress
        with C{body}, the answer to the phone's offer (reliably when the
        phone takes 100rel). An answer given stays the answer until the
        200 (RFC 3261 13.2.1, RFC 3262 5), so only the first goes.
        """
        if self.earlyAnswer is not None or self.dialog is not None or self.ended:
            return
        if not self.remoteSDP or not body:
            return
        self.earlyAnswer = body
        self._provisional(183, body)

    def reinvite(self, body, method="INVITE"):
        sent = super().reinvite(body, method)
        if sent and self.dialog is None:
            # An UPDATE before the 200: the phone now has this from us, and
            # the 200 repeats it (RFC 3261 13.2.1).
            self.earlyAnswer = body
        return sent

    def _provisional(self, status, body=None):
        """
        Send a 180 or 183 (with Allow, so the phone knows it may UPDATE),
        reliably (RFC 3262) when the phone asked for that: then it makes
        the early dialog in which the PRACK and UPDATEs come.
        """
        response = withBody(makeDialogResponse(self.invite, status, self.localTag, self.contact), body)
        response.headers.set("allow", allowOf(self.ua.methods))
        if self.reliable is None:
            self._sendProvisional(response)
            return
        if self.early is None:
            self.early = Dialog.fromRequest(self.invite, self.localTag, self.contact, early=True)
        self.reliable.send(response)

    def _sendProvisional(self, response):
        if self.ended or self.dialog is not None and not self._okWaits:
            if self.reliable is not None:
                self.reliable.stop()
            return
        try:
            self.transaction.respond(response)
        except TransactionError:
            # A CANCEL got there first.
            pass

    def _noPrack(self, response):
        """
        RFC 3262 3: a reliable provisional response went unacknowledged
        for 64*T1: the INVITE fails with a 5xx and the call is over.
        """
        if self.ended:
            return
        self.ended = True
        self._okWaits = False
        self._stopRetransmitting()
        try:
            self.transaction.respond(
                makeResponse(self.invite, 500, "Server Internal Error (No PRACK)", toTag=self.localTag)
            )
        except TransactionError:
            pass
        self.owner.legHungUp(self)

    def _prackReceived(self, request, transaction):
        """
        A PRACK (RFC 3262 3): 200 when it acknowledges the reliable
        provisional response in flight, else 481; the 200 of the INVITE
        goes once no answer in a provisional response is unacknowledged.
        """
        tag = (self.dialog or self.early).localTag
        if self.reliable is None or self.reliable.prack(request) is None:
            transaction.respond(makeResponse(request, 481, toTag=tag))
            return
        if sdpOf(request) is not None:
            # Our 183s carry answers, so this would be a new offer: RFC
            # 3262 5 allows it, oso does not take one here.
            self.log.info("offer in a PRACK ignored: {call}", call=request.callID)
        transaction.respond(makeResponse(request, 200, toTag=tag))
        if self._okWaits and not self.reliable.holdsOffer():
            self._okWaits = False
            self._sendOk()

    def _answering(self):
        # Before the 200, the INVITE's offer is answered only by a reliable
        # 183 (RFC 3311 5.1).
        return super()._answering() or (
            self.dialog is None and (self.earlyAnswer is None or self.reliable is None)
        )

    def answer(self, body):
        """
        The called party answered: 200 with C{body} (the SDP answer), kept
        up until the ACK (RFC 3261 13.3.1.4).
        """
        if self.dialog is not None or self.ended:
            return
        self.dialog = self.early or Dialog.fromRequest(self.invite, self.localTag, self.contact)
        self.dialog.early = False
        if self.earlyAnswer is not None and body != self.earlyAnswer:
            # The 200 repeats the answer the phone has (RFC 3261 13.2.1);
            # the far end's new one follows as an offer once ACKed.
            self._afterAck, body = body, self.earlyAnswer
        self._ok = withBody(
            makeDialogResponse(self.invite, 200, self.localTag, self.contact), body
        )
        self._ok.headers.set("allow", allowOf(self.ua.methods))
        if self.reliable is not None and self.reliable.holdsOffer():
            # RFC 3262 3: not before the PRACK of the answer in a 183.
            self._okWaits = True
            return
        self._sendOk()

    def _sendOk(self):
        if self.reliable is not None:
            self.reliable.stop()
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
        later, self._afterAck = self._afterAck, None
        if later is not None:
            self.reinvite(later)
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
        if self.reliable is not None:
            self.reliable.stop()
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
    @ivar earlyTags: the To tags of the phone's provisional responses.
    """

    def __init__(self, ua, owner, destination, transport):
        super().__init__(ua, owner, destination, transport)
        self.invite = None
        self.transaction = None
        self.status = None
        self.cancelled = False
        self.earlyTags = set()

    def start(self, requestURI, fromAddress, toAddress, body, headers=()):
        """
        Send the INVITE.

        @param headers: more C{(name, value)} fields (Call-Info).
        """
        contact = dialogContact(self.ua, self.transport, requestURI)
        request = Request("INVITE", requestURI)
        fields = request.headers
        fields.add("max-forwards", "70")
        fields.add("from", NameAddress(fromAddress.uri.copy(), fromAddress.displayName,
                                       {"tag": newTag()}))
        fields.add("to", toAddress.copy())
        fields.add("call-id", f"{newTag()}{newTag()}@{contact.host}")
        fields.add("cseq", "1 INVITE")
        fields.add("contact", NameAddress(contact))
        fields.add("allow", allowOf(self.ua.methods))
        if body and "PRACK" in self.ua.methods:
            # Without an offer of ours, a reliable 183's offer would need
            # its answer in the PRACK: not offered then (RFC 3262 5).
            fields.add("supported", "100rel")
        for name, value in headers:
            fields.add(name, value)
        self.invite = withBody(request, body)
        self._contact = contact
        self._reliable = ReliableReceiver(request, contact)
        self.transaction = self._send(request)

    def cancel(self, reason=None):
        """
        Stop ringing: CANCEL while no final response came; BYE when a 2xx
        came after all.  Either carries C{reason} (RFC 3326: "Call
        completed elsewhere" when another fork answered).
        """
        if self.ended:
            return
        self.cancelled = True
        if self.dialog is not None:
            self.bye(reason)
        elif self.status is None:
            self.ended = True
            self.transaction.cancelReason = reason
            self.ua.cancel(self.transaction)

    def receiveResponse(self, response, transaction):
        if transaction is not self.transaction:
            super().receiveResponse(response, transaction)
            return
        status = response.status
        if status < 200:
            for response in self._provisionals(response):
                status = response.status
                if response.toAddress.tag:
                    # Early dialogs, which an INVITE with Replaces may name.
                    self.earlyTags.add(response.toAddress.tag)
                if status in (180, 183) and not self.cancelled:
                    self.owner.legRinging(self)
                self._earlyMedia(response)
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
            self.dialog = self._reliable.confirmed(response)
            self.peerAllow = update.allowedMethods(response) or self.peerAllow
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
        if offer is None:
            # The answer came in a reliable 183 (RFC 3262 5), or in the
            # 200 of an UPDATE after it.
            offer = self.remoteSDP
        self.remoteSDP = offer
        self.owner.legAccepted(self, offer)

    def _provisionals(self, response):
        """
        The provisional responses to act on: C{response}, or for a reliable
        one (RFC 3262 4) those it lets through in RSeq order, each PRACKed
        in its early dialog (none for a retransmission).
        """
        self.peerAllow = update.allowedMethods(response) or self.peerAllow
        if not isReliable(response):
            return [response]
        ready = self._reliable.receive(response)
        for provisional in ready:
            self.early = self._reliable.dialogs[provisional.toAddress.tag]
            self._send(self._reliable.prack(provisional))
        return ready

    def _earlyMedia(self, response):
        """
        The phone answered our offer in a provisional response: early
        media, passed to an owner that takes it (a trunk port does not).
        """
        body = sdpOf(response)
        if body is None or not self.invite.body or self.cancelled or self.earlyAnswer is not None:
            return
        self.earlyAnswer = self.remoteSDP = body
        report = getattr(self.owner, "legEarlyMedia", None)
        if report is not None:
            report(self, body)

    def failed(self, transaction, reason):
        if transaction is self.transaction and self.status is None:
            self.status = 408
            self.ended = True
            if not self.cancelled:
                self.owner.legRefused(self, None)
            return
        super().failed(transaction, reason)


def passFarMedia(leg, media, legMedia, answered, offerMethod="INVITE"):
    """
    The call model changed the far end's media of the connection C{leg}
    carries: the peer hears of it as the answer to its pending offer, as
    the answer to its own INVITE (the call answered: C{answered(leg)}), or
    in a new offer (re-INVITE or UPDATE as C{offerMethod} says).  Nothing
    once the dialog is up and the far end has no media.

    @param legMedia: the leg's L{oso.sip.legmedia.LegMedia}.
    """
    if media is None and leg.dialog is not None:
        return
    if leg.peerOffer is not None:
        leg.answerPeerOffer(legMedia.answer(leg.remoteSDP, media))
    elif isinstance(leg, InboundLeg) and leg.dialog is None:
        leg.answer(legMedia.answer(leg.remoteSDP, media))
        answered(leg)
    elif media != legMedia.far:
        body = legMedia.offer(media)
        if body is not None:
            leg.reinvite(body, offerMethod)


def passEarlyMedia(leg, media, legMedia):
    """
    The call model passes the far end's early media (its answer before it
    answers the call): a peer whose own INVITE to us waits for its final
    response hears it in a 183 with the answer to its offer (L{InboundLeg.earlyMedia});
    any other leg (C{None} too) has nothing to do with it.

    @param legMedia: the leg's L{oso.sip.legmedia.LegMedia}.
    """
    if isinstance(leg, InboundLeg) and leg.dialog is None and media is not None:
        leg.earlyMedia(legMedia.answer(leg.remoteSDP, media))
