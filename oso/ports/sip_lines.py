"""
SIP lines: registered SIP phones as devices of the call model.

The port is a back-to-back user agent.  A phone's INVITE (challenged with
407 first) becomes the phone going off-hook and dialling the Request-URI's
user part; a call the model offers a phone becomes an INVITE to each of
its registered contacts (forking), the first to answer winning and the
others cancelled.  SDP passes between the legs as the model's opaque media
description (the phone's SDP body); each leg toward a phone gets its own
origin line and session version (L{oso.sip.sdp}).  Hold and retrieve go
both ways as re-INVITEs with C{sendonly}/C{inactive}/C{0.0.0.0}.
Provisional responses are reliable (RFC 3262) toward a phone that asks,
a called phone's early media reaches the calling phone in a 183, and an
UPDATE (RFC 3311) passes to the other side as an UPDATE where it can.

The SIP dialogs themselves are in L{oso.sip.legs}; this module translates
between them and the call model.
"""

from weakref import WeakKeyDictionary

from twisted.logger import Logger
from zope.interface import implementer

from oso.callmodel import errors
from oso.callmodel import events as ev
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import DeviceType
from oso.callmodel.states import LocalConnectionState as S
from oso.interfaces import IEventObserver, IPortDriver, ITerminal
from oso.interfaces.sip import ISIPApplication
from oso.ports.sip_peers import peersOf
from oso.ports.sip_transfers import Transfers
from oso.sip.dialog import DialogID, dialogIDOf
from oso.sip.digest import AuthOutcome
from oso.sip.headers import NameAddress
from oso.sip.identity import phoneIdentity, presentedIdentity
from oso.sip.legs import (InboundLeg, OutboundLeg, passEarlyMedia, passFarMedia, sdpOf,
                          sdpProblem)
from oso.sip.legmedia import LegMedia, isHeld
from oso.sip.reason import ANSWERED_ELSEWHERE, causeOf, reasonForCause
from oso.sip.reliable import badExtension
from oso.sip.transaction import makeResponse
from oso.sip.transactions import answerCancel, userFor
from oso.sip.uri import SIPParseError, SIPURI, TelURI, parseURI

#: What a phone's own INVITE hears when its call fails, by the model's
#: cause (RFC 3261 21.4, 21.5, 21.6).
_STATUS_FOR_CAUSE = {
    EventCause.busy: (486, None),
    EventCause.doNotDisturb: (486, "Busy Here (Do Not Disturb)"),
    EventCause.destOutOfOrder: (480, None),
    EventCause.destNotObtainable: (404, None),
    EventCause.numberUnallocated: (404, None),
    EventCause.invalidNumberFormat: (484, None),
    EventCause.trunksBusy: (503, "Service Unavailable (No Trunk)"),
    EventCause.callNotAnswered: (480, "Temporarily Unavailable (No Answer)"),
    EventCause.networkCongestion: (503, None),
}

#: What a phone's final refusal of our INVITE means to the model.
_CAUSE_FOR_STATUS = {
    486: EventCause.busy,
    600: EventCause.busy,
    603: EventCause.busy,
    404: EventCause.destNotObtainable,
    410: EventCause.destNotObtainable,
    484: EventCause.destNotObtainable,
    480: EventCause.destOutOfOrder,
    408: EventCause.destOutOfOrder,
    503: EventCause.destOutOfOrder,
}


class _Session:
    """
    One connection of a phone and the legs that carry it.

    @ivar connection: the model's connection.
    @ivar legs: the forks of a call offered to the phone, or the one
        inbound leg of a call the phone made.
    @ivar leg: the leg that carries the call once answered (or inbound).
    @ivar media: the per-leg origin and version of the SDP we send.
    @cvar anchor: no media relay: a phone's media goes to the far end
        itself (L{oso.ports.sip_peers}).
    """

    anchor = None

    def __init__(self, phone, connection):
        self.phone = phone
        self.connection = connection
        self.legs = []
        self.leg = None
        self.media = LegMedia(phone.lines.ua.contact("UDP").host.strip("[]"))
        self.refusals = []


@implementer(ITerminal)
class SIPPhone:
    """
    The terminal of one SIP extension: its calls as SIP dialogs with
    whichever of its registered contacts took part.

    @ivar number: the extension.
    """

    log = Logger()

    def __init__(self, lines, number):
        self.lines = lines
        self.number = number
        self.sessions = {}
        self._pending = None

    @property
    def _events(self):
        return self.lines.model

    # What the call model asks (ITerminal).

    def offer(self, connection, offer):
        session = self.sessions[connection] = _Session(self, connection)
        session.offer = offer
        leg = self.lines.transfers.claim(self.number)
        if leg is not None:
            # The phone's INVITE with Replaces takes the call (RFC 3891).
            session.leg = leg
            leg.session = session
            self.lines.clock.callLater(0, self._events.answered, connection, leg.remoteSDP)
            return
        self._fork(session, offer.autoAnswer or offer.reason == "origination")

    def _fork(self, session, autoAnswer):
        """
        Send the session's INVITE to every registered contact of the
        phone; C{autoAnswer} asks the phone to answer by itself
        (C{Call-Info: answer-after=0}).
        """
        offer = session.offer
        headers = []
        if autoAnswer:
            headers.append(("call-info", f"<{self.lines.ua.contact('UDP')}>;answer-after=0"))
        origination = offer.reason == "origination"
        body = None if origination else session.media.offer(offer.media)
        caller = offer.calledDevice if origination else offer.callingDevice
        # Phones are untrusted peers: a restricted caller is anonymous.
        fromAddress, fields = presentedIdentity(
            self.lines.address(caller), offer.callingRestricted and not origination, trusted=False
        )
        for binding in self.lines.registrar.contacts(self.number):
            try:
                uri = parseURI(binding.contact)
            except SIPParseError:
                continue
            destination, transport = _destinationOf(binding, uri)
            leg = OutboundLeg(self.lines, self.lines, destination, transport)
            leg.session = session
            session.legs.append(leg)
            leg.start(
                uri,
                fromAddress,
                self.lines.address(self.number),
                body,
                headers + fields,
            )
        if not any(not leg.ended for leg in session.legs):
            del self.sessions[session.connection]
            self._events.rejected(session.connection, EventCause.destOutOfOrder)

    def failed(self, connection, cause):
        session = self._session(connection)
        if session is None or session.leg is None:
            return
        if session.leg.dialog is None:
            status, reason = _STATUS_FOR_CAUSE.get(cause, (480, None))
            session.leg.refuse(status, reason)
        else:
            # A call MakeCall started at the phone: no tone to play, the
            # phone is hung up.
            session.leg.bye(reasonForCause(cause))
        # The phone's call is over once refused; the model hears it later,
        # not from inside its own report.
        self.lines.ua.clock.callLater(0, self._gone, session, cause)

    def answer(self, connection):
        session = self.sessions.get(connection)
        if session is None or session.leg is not None:
            raise errors.invalidCallState(f"{connection.id} is not ringing at {self.number}")
        # SIP has no remote answer: the phone is called again, asked to
        # answer by itself; a phone that does not support it rings again.
        for leg in session.legs:
            leg.cancel()
        self._fork(session, True)

    def clear(self, connection, cause):
        session = self.sessions.pop(connection, None)
        if session is None:
            return
        self.lines.forget(session)
        if session.leg is not None and session.leg.referring:
            # A REFER's subscription outlives the connection (RFC 3515).
            self.lines.transfers.transferorCleared(session.leg)
        elif session.leg is not None:
            if isinstance(session.leg, InboundLeg) and session.leg.dialog is None:
                status, reason = _STATUS_FOR_CAUSE.get(cause, (480, None))
                session.leg.refuse(status, reason)
            else:
                session.leg.bye(reasonForCause(cause))
        for leg in session.legs:
            if leg is not session.leg:
                leg.cancel(reasonForCause(cause))
        _letGo(session)

    def hold(self, connection):
        self._reoffer(connection, True)

    def retrieve(self, connection):
        self._reoffer(connection, False)

    def generateDigits(self, connection, digits):
        session = self.sessions.get(connection)
        if session is not None and session.leg is not None:
            session.leg.sendDigits(digits)

    def mediaChanged(self, connection, media):
        session = self._session(connection)
        if session is None or session.leg is None:
            return
        passFarMedia(session.leg, media, session.media, self.lines.answered,
                     self.lines.peers.offerMethod)

    def earlyMedia(self, connection, media):
        session = self._session(connection)
        if session is not None:
            passEarlyMedia(session.leg, media, session.media)

    # Internals.

    def _session(self, connection):
        """
        The session of a connection; while the phone's own INVITE is being
        routed, the model reports about its connection before handing it
        back, and the pending session is that one.
        """
        session = self.sessions.get(connection)
        if session is None and self._pending is not None:
            session, self._pending = self._pending, None
            session.connection = connection
            self.sessions[connection] = session
        return session

    def _reoffer(self, connection, held):
        session = self.sessions.get(connection)
        if session is None or session.leg is None:
            return
        session.media.held = held
        body = session.media.offer()
        if body is not None:
            session.leg.reinvite(body, self.lines.peers.offerMethod)

    def _gone(self, session, cause):
        if self.sessions.pop(session.connection, None) is not None:
            self.lines.forget(session)
            self._events.cleared(session.connection, cause)
            _letGo(session)


@implementer(IPortDriver, IEventObserver, ISIPApplication)
class SIPLines:
    """
    The C{sip-lines} port driver: every station whose C{port} names it is
    a SIP phone; it is in service while it has a registered contact (or
    a call going on).  It is the application of the C{sip} component's
    user agent.

    @ivar model: the call model (services and port reports).
    @ivar ua: the L{IUserAgent} the port sends through, whose clock,
        timers, registrar (the contacts calls fork to) and authenticator
        (407 for a phone's INVITE) it uses.
    """

    log = Logger()
    methods = frozenset(
        {"INVITE", "ACK", "BYE", "CANCEL", "INFO", "REFER", "OPTIONS", "PRACK", "UPDATE"}
    )
    #: The option tags the port serves (Supported; Require of anything
    #: else is refused with 420).
    supported = frozenset({"100rel", "replaces"})

    def __init__(self, model, ua, name="sip-lines"):
        self.name = name
        self.model = model
        self.ua = ua
        self.registrar = ua.registrar
        self.authenticator = ua.authenticator
        self._phones = {}
        self._dialogs = {}
        self._transactions = WeakKeyDictionary()
        self._ringback = set()
        self.transfers = Transfers(self, _dialled, _STATUS_FOR_CAUSE)
        self.peers = peersOf(ua)
        self.peers.join(self)

    # IPortDriver.

    def sessionOf(self, connection):
        """
        The session of a phone of ours that carries C{connection}, or
        C{None} (L{oso.ports.sip_peers}).
        """
        phone = self._phones.get(connection.device)
        return phone.sessions.get(connection) if phone is not None else None

    def terminalFor(self, device):
        if device.port != self.name or device.type is not DeviceType.station:
            return None
        phone = self._phones.get(device.number)
        if phone is not None and phone.sessions:
            return phone
        if not self.registrar.contacts(device.number):
            return None
        return self.phone(device.number)

    def phone(self, number):
        """
        @return: the L{SIPPhone} of extension C{number}, made on first use.
        """
        phone = self._phones.get(number)
        if phone is None:
            phone = self._phones[number] = SIPPhone(self, number)
        return phone

    def deviceRemoved(self, number):
        """
        A deleted extension's phone is forgotten with its registrations
        (on disk too), so that a new extension with the number does not
        ring the old phone.
        """
        self._phones.pop(number, None)
        self.registrar.unbind(number).addErrback(
            lambda failure: self.log.failure(
                "registrations of deleted extension {number} not removed", failure,
                number=number,
            )
        )

    def accepts(self, request, source):
        """
        The port is the stack's fallback application: every request of its
        methods no trunk claimed is a phone's.
        """
        return True

    def bindingsChanged(self, aor):
        """
        The registrar's hook: an extension's contacts changed, so it is in
        or out of service.
        """
        try:
            device = self.model.device(aor)
        except errors.CSTAError:
            return
        if device.port != self.name:
            return
        if self.registrar.contacts(aor):
            self.model.inService(aor)
        else:
            self.model.outOfService(aor)

    # IEventObserver: the caller's phone hears ringback when the far end
    # alerts.

    def eventReceived(self, event):
        self.transfers.eventReceived(event)
        if not isinstance(event, ev.Delivered) or not self._ringback:
            return
        callID = event.connection.callID
        for leg in list(self._ringback):
            connection = leg.session.connection
            if connection is None:
                # The phone's INVITE is being routed right now: this is
                # its call.
                leg.ringing()
            elif connection.call.id == callID and connection.device != event.connection.deviceID:
                leg.ringing()

    # What the component hands the port.

    def requestReceived(self, request, transaction, source):
        """
        A request for the port: a phone's INVITE, or a request of one of
        its dialogs.

        @param transaction: the server transaction (C{None} for an ACK of a
            2xx that matched none).
        @param source: C{(transport, host, port)} it came from.
        """
        try:
            # What the dialogs will read, checked now: a malformed field is
            # the sender's 400, not a failure later inside the call model.
            request.contacts
            request.recordRoutes
        except SIPParseError as e:
            self.log.info("{method} refused: {error}", method=request.method, error=e)
            if transaction is not None:
                transaction.respond(makeResponse(request, 400, _reason("Bad Request", e)))
            return
        method = request.method
        if method == "CANCEL":
            self._cancel(request, transaction)
            return
        if method == "INVITE" and request.toAddress.tag is None:
            self._invite(request, transaction, source)
            return
        leg = self._dialogs.get(dialogIDOf(request))
        if leg is None and method == "UPDATE":
            leg = self._earlyFork(dialogIDOf(request))
        if leg is None:
            if transaction is not None:
                transaction.respond(makeResponse(request, 481))
            return
        leg.receiveRequest(request, transaction)

    def responseReceived(self, response, transaction):
        """
        A response to a request one of the legs sent.
        """
        leg = userFor(self._transactions, transaction, response)
        if leg is None:
            leg = self._dialogs.get(dialogIDOf(response))
        if leg is None:
            return
        try:
            response.contacts
            response.recordRoutes
        except SIPParseError as e:
            self.log.info("{response} dropped: {error}", response=response, error=e)
            return
        leg.receiveResponse(response, transaction)

    def transactionFailed(self, transaction, reason):
        """
        A request one of the legs sent timed out or could not be sent.
        """
        leg = self._transactions.pop(transaction, None)
        if leg is not None:
            leg.failed(transaction, reason)

    # The legs' user agent (sending through the component's).

    @property
    def clock(self):
        return self.ua.clock

    @property
    def timers(self):
        return self.ua.timers

    def via(self, transport):
        return self.ua.via(transport)

    def contact(self, transport):
        return self.ua.contact(transport)

    def request(self, request, destination, transport, leg):
        transaction = self.ua.request(request, destination, transport)
        self._transactions[transaction] = leg
        return transaction

    def sendAck(self, ack, destination, transport):
        self.ua.sendAck(ack, destination, transport)

    def cancel(self, transaction):
        self.ua.cancel(transaction)

    def address(self, number):
        """
        The From or To address of a device (or an external number).
        """
        uri = SIPURI(self.ua.contact("UDP").host, user=number)
        try:
            name = self.model.device(number).name or None
        except errors.CSTAError:
            name = None
        return NameAddress(uri, name)

    # A phone's new call.

    def _invite(self, request, transaction, source):
        refusal = badExtension(request, self.supported)
        if refusal is not None:
            transaction.respond(refusal)
            return
        result = self.authenticator.verify(request, self._ha1, "Proxy-Authorization")
        if result.outcome in (AuthOutcome.missing, AuthOutcome.stale):
            response = makeResponse(request, 407)
            response.headers.add(
                "proxy-authenticate",
                self.authenticator.challenge(stale=result.outcome is AuthOutcome.stale),
            )
            # Stateless (RFC 3261 8.2.7): no Timer G retransmissions and
            # no transaction waiting for the ACK and Timer I.
            transaction.respondStatelessly(response)
            return
        if not result.ok:
            self.log.info(
                "INVITE from {source} refused: {reason}", source=source, reason=result.reason
            )
            transaction.respond(makeResponse(request, 403, f"Forbidden ({result.reason})"))
            return
        problem = sdpProblem(sdpOf(request))
        if problem is not None:
            self.log.info("INVITE from {source} refused: {problem}", source=source, problem=problem)
            transaction.respond(makeResponse(request, 400, _reason("Bad Request", problem)))
            return
        if self.transfers.replacing(request, transaction, source, result.username):
            return
        digits = _dialled(request.uri)
        if not digits:
            transaction.respond(makeResponse(request, 404, "Not Found (no number dialled)"))
            return
        try:
            identity = phoneIdentity(request, result.username,
                                     self.model.device(result.username).mayPresent)
        except SIPParseError as e:
            self.log.info("INVITE from {source} refused: {error}", source=source, error=e)
            transaction.respond(makeResponse(request, 400, _reason(e.reason, e)))
            return
        phone = self.phone(result.username)
        leg = InboundLeg(self, self, request, transaction, source)
        leg.trying()
        session = _Session(phone, None)
        session.leg = leg
        leg.session = session
        self._dialogs[DialogID(request.callID, leg.localTag, request.fromAddress.tag)] = leg
        self._ringback.add(leg)
        phone._pending = session
        connection = self.model.originate(phone.number, digits, leg.remoteSDP,
                                          callingNumber=identity.number,
                                          restricted=identity.restricted)
        phone._session(connection)
        if not connection.ended and connection.state is S.initiated:
            # En-bloc dialling: what came is all there is.
            leg.refuse(484)
            phone._gone(session, EventCause.invalidNumberFormat)

    def _ha1(self, username):
        try:
            device = self.model.device(username)
        except errors.CSTAError:
            return None
        if device.port != self.name or device.type is not DeviceType.station:
            return None
        return device.credentials.ha1For(self.authenticator.realm)

    def _cancel(self, request, transaction):
        # Answered once this delivery is over: a response made while the
        # CANCEL is being passed up goes out after the INVITE's 487, and
        # the 200 should come first (RFC 3261 9.2).
        self.ua.clock.callLater(0, self._answerCancel, request, transaction)

    def _answerCancel(self, request, transaction):
        invite = transaction.cancels
        leg = None
        if invite is not None:
            for candidate in self._ringback:
                if candidate.transaction is invite:
                    leg = candidate
        if not answerCancel(transaction, leg.localTag if leg else None) or leg is None:
            return
        leg.ended = True
        self._hungUp(leg, causeOf(request))

    # What the legs report.

    def answered(self, leg):
        """
        An inbound leg was answered: it now has a dialog.
        """
        self._ringback.discard(leg)

    def legRinging(self, leg):
        session = leg.session
        if session.leg is None and session.connection.state is S.null:
            self.model.alerting(session.connection)

    def legAccepted(self, leg, body):
        session = leg.session
        self._dialogs[leg.dialog.id] = leg
        if session.leg is not None or session.connection.ended:
            leg.bye()
            return
        session.leg = leg
        for other in session.legs:
            if other is not leg:
                other.cancel(ANSWERED_ELSEWHERE)
        if body is not None:
            leg.remoteSDP = body
        self.model.answered(session.connection, body)

    def legRefused(self, leg, response):
        session = leg.session
        status = response.status if response is not None else 408
        if status in (301, 302) and response is not None:
            target = _redirectTarget(response)
            if target is not None and session.leg is None:
                for other in session.legs:
                    other.cancel()
                session.phone.sessions.pop(session.connection, None)
                self.forget(session)
                try:
                    self.model.deflectCall(session.connection.id, target)
                    return
                except errors.CSTAError as e:
                    self.log.info("{number} redirected to {target}: {e}",
                                  number=session.phone.number, target=target, e=e)
        session.refusals.append(status)
        if session.leg is not None or any(not other.ended for other in session.legs):
            return
        cause = _CAUSE_FOR_STATUS.get(min(session.refusals), EventCause.destOutOfOrder)
        if any(_CAUSE_FOR_STATUS.get(s) is EventCause.busy for s in session.refusals):
            cause = EventCause.busy
        session.phone.sessions.pop(session.connection, None)
        self.forget(session)
        self.model.rejected(session.connection, cause)

    def legHungUp(self, leg):
        self._hungUp(leg, causeOf(leg.endedBy))

    def legReoffered(self, leg, body):
        if leg.dialog is None:
            self.peers.earlyOffer(self.model, leg, body)
            return
        with self.peers.passing(leg.peerOffer.request.method):
            self._reoffered(leg, body)

    def _reoffered(self, leg, body):
        session = leg.session
        held = isHeld(body)
        connection = session.connection
        if held:
            self.model.heldByTerminal(connection)
        else:
            self.model.retrievedByTerminal(connection)
        if not self.peers.relays(session):
            # No SIP peer takes the offer on: answered here, and the other
            # parties (a trunk's relay, its provider) hear of the new media.
            leg.answerPeerOffer(session.media.answer(body))
        self.model.mediaOffered(connection, body)

    def legEarlyMedia(self, leg, body):
        """
        A called phone answered our offer in a provisional response: the
        call model passes that early media to the calling party's terminal
        (a calling phone gets it in a 183).
        """
        self.model.earlyMedia(leg.session.connection, body)

    def _earlyFork(self, dialogID):
        """
        The leg toward a called phone whose early dialog (made by a
        reliable provisional response) has the id C{dialogID}, or C{None}.
        """
        for phone in self._phones.values():
            for session in phone.sessions.values():
                for leg in session.legs:
                    if leg.dialog is None and leg.early is not None and leg.early.id == dialogID:
                        return leg
        return None

    def legAnswered(self, leg, body):
        self.peers.passAnswer(self.model, leg, body)

    def legOfferRefused(self, leg, response):
        self.peers.passRefusal(leg, response)

    def legReferred(self, leg, request, transaction):
        """
        The phone asks to transfer its call with REFER (RFC 3515, 3891):
        see L{oso.ports.sip_transfers}.
        """
        self.transfers.referred(leg, request, transaction)

    def legNotifyRefused(self, leg):
        self.transfers.notifyRefused(leg)

    def legMediaChanged(self, leg, body):
        """
        The phone gave new media of its own (the answer in the ACK of a
        call it made without an offer): the far end is told.
        """
        self.model.mediaOffered(leg.session.connection, body)

    def currentOffer(self, leg):
        return leg.session.media.offer()

    def answerFor(self, leg, offer):
        """
        The answer to a phone's offer in its 200 to our offerless INVITE
        (MakeCall): its streams inactive until the far end is known.
        """
        return leg.session.media.answer(offer)

    # Internals.

    def _hungUp(self, leg, cause):
        session = leg.session
        if session.phone.sessions.pop(session.connection, None) is None:
            return
        self.forget(session)
        self.model.cleared(session.connection, cause)
        _letGo(session)

    def forget(self, session):
        """
        Drop the port's indexes of a session's legs.
        """
        for leg in session.legs + ([session.leg] if session.leg else []):
            self._ringback.discard(leg)
            if leg.dialog is not None:
                self._dialogs.pop(leg.dialog.id, None)
        if isinstance(session.leg, InboundLeg):
            self._dialogs.pop(
                DialogID(session.leg.invite.callID, session.leg.localTag,
                         session.leg.invite.fromAddress.tag),
                None,
            )


def _letGo(session):
    """
    A phone's own call is over: its session lets go of the inbound leg
    (the leg keeps the session, for what it still hears), so that both go
    by reference counting once nothing holds the leg, instead of as a
    cycle the collector has to find (one a call).  A leg whose REFER
    subscription outlives the call keeps its session as it was.
    """
    if isinstance(session.leg, InboundLeg) and not session.leg.referring:
        session.leg = None


def _reason(phrase, problem):
    """
    A reason phrase that says what is wrong, on one line.
    """
    return f"{phrase} ({' '.join(str(problem).split())[:120]})"


def _dialled(uri):
    if isinstance(uri, SIPURI):
        return uri.user
    if isinstance(uri, TelURI):
        return uri.number
    return None


def _destinationOf(binding, uri):
    """
    Where requests to a registered contact go: its contact URI (RFC 3261
    8.1.2; phones on the LAN register where they listen), over the
    transport its C{transport} parameter names, else the one its REGISTER
    came over.
    """
    transport = uri.params.get("transport") or binding.transport or "UDP"
    port = uri.port or (5061 if uri.secure else 5060)
    return (uri.host.strip("[]"), port), transport.upper()


def _redirectTarget(response):
    for contact in response.contacts:
        if contact != "*" and isinstance(contact.uri, (SIPURI, TelURI)):
            return _dialled(contact.uri)
    return None
