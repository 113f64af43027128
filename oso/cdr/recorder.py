"""
The recorder: call model events in, one L{CallRecord} per finished call leg
out.

A leg is one internal extension's part in one call.  It starts when the
extension originates or is offered the call, is answered when the
extension talks, and ends when its connection is cleared, when it
transfers the call away or when it diverts the call elsewhere.  The trunk
number and external number of a call are read from the call model while
the call is alive, because L{oso.callmodel.events.CallCleared} comes after
the call has gone.  A caller who restricted the presentation of its number
(CLIR) is not named in the records of the parties it called: their
external number is empty (doc/cdr.md).
"""

from dataclasses import dataclass

from zope.interface import implementer

from oso.callmodel import events as ev
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import DeviceType
from oso.callmodel.errors import CSTAError
from oso.callmodel.states import LocalConnectionState
from oso.cdr.record import CallRecord, Direction, Disposition, suppressDigits
from oso.interfaces import IEventObserver


@dataclass(frozen=True)
class RecorderSettings:
    """
    Which legs are recorded, as the HiPath call charge settings offered.

    @ivar recordIncoming: record incoming external calls.
    @ivar recordUnanswered: record legs nobody talked on.
    @ivar recordInternal: record calls between two extensions.
    @ivar suppressDigits: how many trailing digits of the external number
        to replace with C{?}.
    """

    recordIncoming: bool = True
    recordUnanswered: bool = True
    recordInternal: bool = False
    suppressDigits: int = 0


@dataclass
class _Leg:
    subscriber: str
    start: float
    originator: bool = False
    answered: float | None = None
    failed: float | None = None
    disposition: Disposition | None = None
    transferredFrom: str = ""
    transferredTo: str = ""
    line: str = ""
    trunkGroup: str = ""
    externalNumber: str = ""
    externalRestricted: bool = False
    direction: Direction = Direction.internal
    accountCode: str = ""
    dialledNumber: str = ""


_FAILURES = {
    EventCause.busy: Disposition.busy,
}


@implementer(IEventObserver)
class CallRecorder:
    """
    Turn call model events into call records.

    @ivar settings: the L{RecorderSettings}.
    """

    def __init__(self, model, write, settings=RecorderSettings()):
        """
        @param model: the L{oso.callmodel.model.CallModel} whose events are
            observed; read for a live call's trunk, numbers and account code.
        @param write: called with each finished L{CallRecord}.
        @param settings: a L{RecorderSettings}.
        """
        self._model = model
        self._write = write
        self.settings = settings
        self._legs = {}
        self._firstCalled = {}

    def eventReceived(self, event):
        """
        Follow one call model event.
        """
        if isinstance(event, ev.Transferred):
            self._transferred(event)
            return
        if isinstance(event, ev.Conferenced):
            self._conferenced(event)
            return
        if isinstance(event, ev.CallCleared):
            self._firstCalled.pop(event.clearedCall, None)
            return
        connection = getattr(event, "connection", None)
        if connection is None:
            return
        key = (connection.callID, connection.deviceID)
        if isinstance(event, (ev.ServiceInitiated, ev.Delivered)):
            if self._isStation(connection.deviceID) and key not in self._legs:
                leg = _Leg(connection.deviceID, event.time,
                           originator=isinstance(event, ev.ServiceInitiated))
                if isinstance(event, ev.Delivered) and event.lastRedirectionDevice:
                    leg.transferredFrom = event.lastRedirectionDevice
                self._legs[key] = leg
        elif isinstance(event, ev.Established):
            self._established(connection.callID, event)
        elif isinstance(event, ev.Failed):
            leg = self._legs.get(key)
            if leg is not None:
                leg.disposition = _FAILURES.get(event.cause, Disposition.failed)
                leg.failed = event.time
        elif isinstance(event, ev.Diverted):
            leg = self._legs.pop((connection.callID, event.divertingDevice), None)
            if event.cause is EventCause.callPickup:
                self._legs[(connection.callID, event.newDestination)] = _Leg(
                    event.newDestination,
                    event.time if leg is None else leg.start,
                    disposition=Disposition.pickedUp,
                )
            elif leg is not None:
                self._refresh(connection.callID, leg)
                leg.disposition = Disposition.forwarded
                leg.transferredTo = event.newDestination
                self._finish(connection.callID, leg, event.time)
        elif isinstance(event, ev.ConnectionCleared):
            leg = self._legs.pop(key, None)
            if leg is not None:
                self._refresh(connection.callID, leg)
                self._finish(connection.callID, leg, event.time)
            return
        self._refreshCall(connection.callID)

    def _type(self, number):
        try:
            return self._model.device(number).type
        except CSTAError:
            return None

    def _isStation(self, number):
        return self._type(number) not in (None, DeviceType.trunk)

    def _established(self, callID, event):
        for (legCall, device), leg in self._legs.items():
            if legCall != callID or leg.answered is not None:
                continue
            if device == event.answeringDevice or leg.originator:
                leg.answered = event.time

    def _refreshCall(self, callID):
        for (legCall, _), leg in self._legs.items():
            if legCall == callID:
                self._refresh(callID, leg)

    def _refresh(self, callID, leg):
        """
        Read the call's trunk, external number and account code while the
        call is alive.
        """
        try:
            call = self._model.call(callID)
        except CSTAError:
            return
        trunk = next(
            (n for n in call.connections if self._type(n) is DeviceType.trunk),
            None,
        )
        if call.accountCode:
            leg.accountCode = call.accountCode
        if trunk is None:
            if not leg.line:
                others = [n for n in call.connections if n != leg.subscriber]
                if others:
                    leg.externalNumber = others[0]
                elif call.calledDevice != leg.subscriber:
                    leg.externalNumber = call.calledDevice
                leg.externalRestricted = (
                    call.callingRestricted and leg.externalNumber == call.callingDevice
                )
                if leg.externalRestricted:
                    leg.externalNumber = ""
            return
        leg.line = trunk
        leg.trunkGroup = self._model.device(trunk).trunkGroup or ""
        if call.callingDevice == trunk:
            leg.direction = Direction.incoming
            leg.externalRestricted = call.callingRestricted
            leg.externalNumber = "" if call.callingRestricted else call.dialled
            leg.dialledNumber = self._firstCalled.setdefault(callID, call.calledDevice)
        else:
            leg.direction = Direction.outgoing
            leg.externalNumber = leg.dialledNumber = call.calledDevice

    def _transferred(self, event):
        """
        The transferring device's legs end, naming where the call went; the
        stations left in the call start a new leg with the new partner.
        """
        for old in (event.primaryOldCall, event.secondaryOldCall):
            leg = old and self._legs.pop((old.callID, old.deviceID), None)
            if leg is not None:
                self._refresh(old.callID, leg)
                leg.transferredTo = event.transferredToDevice
                self._finish(old.callID, leg, event.time)
        self._rejoin(event, event.transferredConnections, lambda old, new: True)

    def _conferenced(self, event):
        """
        The parties keep their legs, each billed for its own time; a party
        coming from the other call starts a new leg, and the conferencing
        device's leg in that call ends.
        """
        self._rejoin(
            event, event.conferenceConnections,
            lambda old, new: old.callID != new.callID,
        )
        for (callID, device), leg in list(self._legs.items()):
            if callID == event.secondaryOldCall.callID:
                del self._legs[(callID, device)]
                self._finish(callID, leg, event.time)

    def _rejoin(self, event, connections, newPartner):
        """
        Move the legs of C{connections} (pairs of old and new connection)
        to their new call; where C{newPartner(old, new)} the old leg ends
        and a new one starts, talking at once unless the new call still
        rings somewhere.
        """
        for old, new in connections:
            leg = self._legs.pop((old.callID, old.deviceID), None)
            if leg is None:
                continue
            if newPartner(old, new):
                self._refresh(old.callID, leg)
                self._finish(old.callID, leg, event.time)
                ringing = self._ringing(new.callID)
                leg = _Leg(
                    leg.subscriber, event.time, originator=ringing,
                    answered=None if ringing else event.time,
                    transferredFrom=getattr(event, "transferringDevice", ""),
                )
            self._legs[(new.callID, new.deviceID)] = leg
            self._refresh(new.callID, leg)

    def _ringing(self, callID):
        try:
            call = self._model.call(callID)
        except CSTAError:
            return False
        return any(c.state is LocalConnectionState.alerting
                   for c in call.connections.values())

    def _finish(self, callID, leg, end):
        answered = leg.answered is not None
        disposition = leg.disposition
        if disposition is None:
            disposition = Disposition.answered if answered else Disposition.noAnswer
        if leg.direction is Direction.incoming and not self.settings.recordIncoming:
            return
        if leg.direction is Direction.internal and not self.settings.recordInternal:
            return
        if not answered and not self.settings.recordUnanswered:
            return
        external = leg.externalNumber
        if leg.direction is not Direction.internal:
            external = suppressDigits(external, self.settings.suppressDigits)
        self._write(CallRecord(
            callID=callID,
            endTime=end,
            ringSeconds=round(
                next(t for t in (leg.answered, leg.failed, end) if t is not None)
                - leg.start
            ),
            durationSeconds=round(end - leg.answered) if answered else 0,
            line=leg.line,
            trunkGroup=leg.trunkGroup,
            subscriber=leg.subscriber,
            externalNumber=external,
            externalRestricted=leg.externalRestricted,
            direction=leg.direction,
            disposition=disposition,
            accountCode=leg.accountCode,
            transferredFrom=leg.transferredFrom,
            transferredTo=leg.transferredTo,
            dialledNumber=leg.dialledNumber,
        ))


__all__ = ["CallRecorder", "RecorderSettings"]
