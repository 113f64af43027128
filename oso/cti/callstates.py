"""
TAPI 2.x call states derived from CSTA events, sans-I/O.

A L{LineStates} follows the calls of one line (one monitored device) from
the events of its device monitor, and says for each event which of its
calls changed to which TAPI state (C{LINECALLSTATE_*}, as a TAPI 170
application sees them). No sockets, no clock: events in, changes out.
The table in C{doc/cti.md} is this module's mapping.
"""

from dataclasses import dataclass
from enum import Enum

from oso.callmodel.causes import EventCause
from oso.csta import messages as m


class CallState(Enum):
    """
    The TAPI call states a line's call goes through.
    """

    offering = "offering"
    accepted = "accepted"
    dialtone = "dialtone"
    dialing = "dialing"
    ringback = "ringback"
    busy = "busy"
    connected = "connected"
    proceeding = "proceeding"
    onhold = "onhold"
    onholdpendtransfer = "onholdpendtransfer"
    conferenced = "conferenced"
    disconnected = "disconnected"
    idle = "idle"


@dataclass(frozen=True)
class CallChange:
    """
    One call of a line changing state.

    @ivar callID: the CSTA call id.
    @ivar state: the new L{CallState}.
    @ivar cause: the event's L{EventCause}, or L{None}.
    @ivar event: the CSTA event that caused it.
    """

    callID: str
    state: CallState
    cause: EventCause | None
    event: m.CSTAEvent


def _device(value):
    return value if isinstance(value, str) else None


class LineStates:
    """
    The TAPI state of each call of one line.

    @ivar device: the line's device number.
    @ivar calls: call id -> L{CallState}, for calls not yet idle.
    """

    def __init__(self, device):
        self.device = device
        self.calls = {}
        # Calls held while this line set up a consultation from them.
        self._consulting = set()

    def feed(self, event):
        """
        Take one event of the line's device monitor.

        @return: the L{CallChange}s it causes, possibly none.
        """
        changes = []
        for callID, state in self._derive(event):
            if state is None or self.calls.get(callID) is state:
                continue
            if state is CallState.idle:
                if callID not in self.calls:
                    continue
                del self.calls[callID]
                self._consulting.discard(callID)
            else:
                self.calls[callID] = state
            changes.append(CallChange(callID, state, getattr(event, "cause", None), event))
        return changes

    def _ours(self, connection):
        return connection is not None and connection.deviceID == self.device

    def _derive(self, event):
        """
        @return: C{(call id, L{CallState} or None)} pairs for C{event}.
        """
        if isinstance(event, m.ServiceInitiatedEvent):
            connection = event.initiatedConnection
            if self._ours(connection):
                if event.cause is EventCause.consultation:
                    self._consulting.update(
                        c for c, s in self.calls.items() if s is CallState.onhold
                    )
                    return [(c, CallState.onholdpendtransfer) for c in self._consulting] + [
                        (connection.callID, CallState.dialtone)
                    ]
                return [(connection.callID, CallState.dialtone)]
        elif isinstance(event, m.OriginatedEvent):
            if self._ours(event.originatedConnection):
                return [(event.originatedConnection.callID, CallState.dialing)]
        elif isinstance(event, m.DeliveredEvent):
            callID = event.connection.callID
            if self._ours(event.connection):
                return [(callID, CallState.offering)]
            return [(callID, CallState.ringback)]
        elif isinstance(event, m.EstablishedEvent):
            return [(event.establishedConnection.callID, CallState.connected)]
        elif isinstance(event, m.HeldEvent):
            callID = event.heldConnection.callID
            if self._ours(event.heldConnection):
                return [(callID, CallState.onhold)]
            return []
        elif isinstance(event, m.RetrievedEvent):
            if self._ours(event.retrievedConnection):
                self._consulting.discard(event.retrievedConnection.callID)
                return [(event.retrievedConnection.callID, CallState.connected)]
        elif isinstance(event, m.ConnectionClearedEvent):
            callID = event.droppedConnection.callID
            if self._ours(event.droppedConnection):
                return [(callID, CallState.idle)]
            if callID in self.calls and self.calls[callID] is not CallState.conferenced:
                return [(callID, CallState.disconnected)]
        elif isinstance(event, m.CallClearedEvent):
            return [(event.clearedCall.callID, CallState.idle)]
        elif isinstance(event, m.FailedEvent):
            callID = event.failedConnection.callID
            state = CallState.busy if event.cause is EventCause.busy else CallState.disconnected
            return [(callID, state)]
        elif isinstance(event, m.QueuedEvent):
            return [(event.queuedConnection.callID, CallState.proceeding)]
        elif isinstance(event, m.NetworkReachedEvent):
            return [(event.outboundConnection.callID, CallState.proceeding)]
        elif isinstance(event, m.DivertedEvent):
            if self._ours(event.connection):
                return [(event.connection.callID, CallState.idle)]
        elif isinstance(event, m.TransferedEvent):
            return self._transferred(event)
        elif isinstance(event, m.ConferencedEvent):
            old = [event.primaryOldCall.callID] + (
                [event.secondaryOldCall.callID] if event.secondaryOldCall else []
            )
            new = self._newCall(event.conferenceConnections) or event.primaryOldCall.callID
            if _device(event.conferencingDevice) == self.device or self._listed(event.conferenceConnections):
                return [(c, CallState.idle) for c in old if c != new] + [(new, CallState.conferenced)]
            return [(c, CallState.idle) for c in old if c != new]
        return []

    def _listed(self, connections):
        return any(_device(entry.endpoint) == self.device for entry in connections)

    def _newCall(self, connections):
        for entry in connections:
            if entry.newConnection is not None and _device(entry.endpoint) == self.device:
                return entry.newConnection.callID
        return None

    def _transferred(self, event):
        old = [event.primaryOldCall.callID] + (
            [event.secondaryOldCall.callID] if event.secondaryOldCall else []
        )
        if _device(event.transferringDevice) == self.device:
            return [(c, CallState.idle) for c in old]
        new = self._newCall(event.transferredConnections)
        if new is None:
            return [(c, CallState.idle) for c in old]
        return [(c, CallState.idle) for c in old if c != new] + [(new, CallState.connected)]
