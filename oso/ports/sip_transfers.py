"""
Transfers by SIP phones on the sip-lines port, in the call model's terms.

- A REFER (RFC 3515) on a phone's call dialog: without C{Replaces} in its
  C{Refer-To} it is a blind transfer, the model's single step transfer of
  the phone's connection to the Refer-To number; with C{Replaces} (RFC
  3891 4) naming the phone's other dialog with us it is an attended
  transfer, the model's transfer of the phone's held and consultation
  calls.  The REFER's implicit subscription (L{oso.sip.refer}) reports the
  transferred call's progress (C{100}, C{180}, C{182}, then C{200} when
  the target answers or the failure's status), and the transferor's leg
  ends with a BYE once it has.
- An INVITE with C{Replaces} (RFC 3891 3) naming one of our dialogs with
  another phone takes that phone's place: a confirmed dialog's
  connection is single-step transferred to the new caller, an early
  dialog we started (the phone rings) is picked up (directed pickup); the
  model's offer to the new caller is then answered by the INVITE itself.
"""

from weakref import WeakKeyDictionary

from twisted.logger import Logger

from oso.callmodel import errors
from oso.callmodel import events as ev
from oso.callmodel.states import LocalConnectionState as S
from oso.sip.dialog import DialogID
from oso.sip.legs import InboundLeg, OutboundLeg
from oso.sip.refer import ReferError, ReferSubscription, parseRefer
from oso.sip.replaces import ReplacedDialog, refusal, replacesOf
from oso.sip.transaction import makeResponse
from oso.sip.uri import SIPParseError

#: The status a refused transfer reports in its NOTIFY, by the model's
#: universal failure.
_STATUS_FOR_FAILURE = {
    "invalidDestination": 404,
    "invalidCalledDeviceID": 404,
    "invalidDeviceID": 404,
    "invalidDeviceState": 486,
    "resourceBusy": 486,
    "deviceOutOfService": 480,
}


def _failureStatus(error):
    return _STATUS_FOR_FAILURE.get(error.failure.value, 503)


class Transfers:
    """
    The REFER and Replaces handling of one L{oso.ports.sip_lines.SIPLines}.

    @ivar lines: the port (its model, clock, dialogs and phones).
    """

    log = Logger()

    def __init__(self, lines, dialled, statusForCause):
        """
        @param dialled: the number a SIP or tel URI dials, or C{None}.
        @param statusForCause: the C{(status, reason)} a call failure with
            a model cause is reported as.
        """
        self.lines = lines
        self._dialled = dialled
        self._statusForCause = statusForCause
        self._subscriptions = WeakKeyDictionary()
        self._watched = {}
        self._replacing = {}

    # REFER.

    def referred(self, leg, request, transaction):
        """
        The phone sent REFER in the dialog of C{leg}.
        """
        tag = leg.dialog.localTag
        try:
            target = parseRefer(request)
        except ReferError as e:
            self.log.info("REFER refused: {reason}", reason=e.reason)
            transaction.respond(makeResponse(request, e.status, e.reason, toTag=tag))
            return
        number = None if target.replaces else self._dialled(target.uri)
        if target.replaces is None and not number:
            transaction.respond(makeResponse(request, 400, "Bad Request (Refer-To dials nothing)",
                                             toTag=tag))
            return
        if leg.referring:
            transaction.respond(makeResponse(
                request, 491, "Request Pending (a transfer is going on)", toTag=tag))
            return
        accepted = makeResponse(request, 202, toTag=tag)
        if not target.subscription:
            accepted.headers.add("refer-sub", "false")
        transaction.respond(accepted)
        leg.referring = True
        # RFC 3515 2.4.6: a later REFER's NOTIFYs name it by its CSeq.
        event = "refer" if leg not in self._subscriptions else f"refer;id={request.cseq.number}"
        # The 202 goes out once this request's delivery is over; the first
        # NOTIFY after it.
        self.lines.clock.callLater(0, self._start, leg, target, number, event)

    def _start(self, leg, target, number, event):
        subscription = ReferSubscription(
            self.lines.clock,
            lambda body, state: leg.notifyRefer(body, state, event),
            target.subscription,
            ended=lambda: self._ended(leg),
        )
        self._subscriptions[leg] = subscription
        if target.replaces is None:
            self._blind(leg, subscription, number)
        else:
            self._attended(leg, subscription, target.replaces)

    def _blind(self, leg, subscription, number):
        connection = leg.session.connection
        # The model reports the transferred call while the service runs.
        self._watched[connection.call.id] = subscription
        try:
            self.lines.model.singleStepTransferCall(connection.id, number)
        except errors.CSTAError as e:
            self.log.info("transfer by REFER to {target} refused: {error}", target=number, error=e)
            subscription.progress(_failureStatus(e))

    def _attended(self, leg, subscription, replaces):
        other = self.lines._dialogs.get(replaces.dialogID)
        mine = leg.session.connection
        theirs = getattr(getattr(other, "session", None), "connection", None)
        if (other is None or other is leg or theirs is None
                or theirs.ended or other.session.phone is not leg.session.phone):
            self.log.info("attended transfer by REFER: no dialog {dialog} of {number}",
                          dialog=replaces.dialogID, number=leg.session.phone.number)
            subscription.progress(481)
            return
        held, active = (mine, theirs) if mine.state is S.hold else (theirs, mine)
        if active.state is S.hold:
            # Phones that hold the consultation too before they REFER: to
            # the model the consultation is the active call it transfers.
            self.lines.model.retrievedByTerminal(active)
        try:
            callID = self.lines.model.transferCall(held.id, active.id)
        except errors.CSTAError as e:
            self.log.info("attended transfer by REFER refused: {error}", error=e)
            subscription.progress(_failureStatus(e))
            return
        try:
            call = self.lines.model.call(callID)
        except errors.CSTAError:
            call = None
        if call is None or sum(c.state is S.connected for c in call.connections.values()) >= 2:
            subscription.progress(200)
        else:
            # Transferred while the consulted party rings: its answer ends it.
            self._watched[callID] = subscription

    def transferorCleared(self, leg):
        """
        The model cleared the connection of a leg whose REFER is going on:
        the leg stays (its dialog carries the NOTIFYs) until the
        subscription ends, then hangs up.
        """
        subscription = self._subscriptions.get(leg)
        if subscription is None or subscription.done:
            leg.bye()
            return
        self.lines._dialogs[leg.dialog.id] = leg

    def notifyRefused(self, leg):
        """
        The phone refused or never answered a NOTIFY: its subscription is
        over.
        """
        subscription = self._subscriptions.get(leg)
        if subscription is not None:
            subscription.refused()

    def _ended(self, leg):
        subscription = self._subscriptions.get(leg)
        for callID, watched in list(self._watched.items()):
            if watched is subscription:
                del self._watched[callID]
        leg.referring = False
        if self.transferorGone(leg):
            # The transferor's connection is gone: its dialog too.
            self.lines._dialogs.pop(leg.dialog.id, None)
            leg.bye()

    def transferorGone(self, leg):
        """
        Whether the model cleared the connection of the transferor's leg.
        """
        session = leg.session
        return session.phone.sessions.get(session.connection) is None

    def eventReceived(self, event):
        """
        An event of the call model: progress of a call transferred by
        REFER.
        """
        if not self._watched:
            return
        if isinstance(event, ev.CallCleared):
            subscription = self._watched.get(event.clearedCall)
            if subscription is not None:
                subscription.progress(487)
            return
        if not isinstance(event, ev.CallEvent) or event.connection is None:
            return
        subscription = self._watched.get(event.callID)
        if subscription is None:
            return
        if isinstance(event, ev.Delivered):
            subscription.progress(180)
        elif isinstance(event, ev.Queued):
            subscription.progress(182)
        elif isinstance(event, ev.Established):
            subscription.progress(200)
        elif isinstance(event, ev.Failed):
            subscription.progress(*self._statusForCause.get(event.cause, (480, None)))

    # INVITE with Replaces.

    def replacing(self, request, transaction, source, number):
        """
        A phone's new INVITE, authenticated as extension C{number}: when it
        carries C{Replaces}, act on it here.

        @return: C{True} when the INVITE was taken (answered or refused).
        """
        try:
            replaces = replacesOf(request)
        except SIPParseError as e:
            self.log.info("INVITE refused: {error}", error=e)
            transaction.respond(makeResponse(request, 400, f"Bad Request ({e.message[:80]})"))
            return True
        if replaces is None:
            return False
        old = self.lines._dialogs.get(replaces.dialogID) or self._ringingLeg(replaces)
        connection = getattr(getattr(old, "session", None), "connection", None)
        dialog = None
        if connection is not None:
            dialog = ReplacedDialog(
                early=old.dialog is None,
                initiatedHere=isinstance(old, OutboundLeg),
                ended=old.ended or connection.ended,
            )
        refused = refusal(replaces, dialog)
        if refused is None and connection.device == number:
            refused = (403, "Forbidden (a dialog of the same extension)")
        if refused is not None:
            self.log.info("INVITE with Replaces {replaces} from {number} refused: {reason}",
                          replaces=str(replaces), number=number, reason=refused[1])
            transaction.respond(makeResponse(request, *refused))
            return True
        leg = InboundLeg(self.lines, self.lines, request, transaction, source)
        leg.trying()
        self.lines._dialogs[DialogID(request.callID, leg.localTag, request.fromAddress.tag)] = leg
        self._replacing[number] = leg
        try:
            if dialog.early:
                self.lines.model.directedPickupCall(connection.id, number)
            else:
                self.lines.model.singleStepTransferCall(connection.id, number)
        except errors.CSTAError as e:
            self.log.info("INVITE with Replaces from {number} refused: {error}",
                          number=number, error=e)
        if self._replacing.pop(number, None) is leg:
            # The model did not offer the call to the phone.
            self.lines._dialogs.pop(DialogID(request.callID, leg.localTag, request.fromAddress.tag),
                                    None)
            leg.refuse(480)
        return True

    def claim(self, number):
        """
        The model offers a call to extension C{number}: the INVITE with
        Replaces it sent, if it is the one being acted on, answers it.

        @return: that L{InboundLeg}, or C{None}.
        """
        return self._replacing.pop(number, None)

    def _ringingLeg(self, replaces):
        """
        Our INVITE to a phone that rings, named by an early dialog's tags
        (ours the From tag, the phone's the To tag of its provisional
        response).
        """
        for phone in self.lines._phones.values():
            for session in phone.sessions.values():
                for leg in session.legs:
                    if (isinstance(leg, OutboundLeg) and leg.dialog is None and not leg.ended
                            and leg.invite.callID == replaces.callID
                            and leg.invite.fromAddress.tag == replaces.toTag
                            and replaces.fromTag in leg.earlyTags):
                        return leg
        return None
