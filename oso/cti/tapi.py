"""
A TAPI 2.x-shaped line and call model over an L{oso.interfaces.cti.ICSTAClient}.

A L{Line} is one extension opened for monitoring (a CSTA MonitorStart on
the device); its L{Call}s carry the TAPI state L{oso.cti.callstates}
derives from the monitor's events; the operations (makeCall, answer,
drop, hold, unhold, setupTransfer/completeTransfer, blindTransfer,
redirect, forward, generateDigits) invoke the CSTA service of each and
return its L{Deferred}.
"""

from oso.callmodel.devices import ForwardingType
from oso.callmodel.ids import ConnectionID
from oso.csta import messages as m
from oso.cti.callstates import CallState, LineStates


class Call:
    """
    One call of a line.

    @ivar line: its L{Line}.
    @ivar connection: the line's L{ConnectionID} in the call.
    @ivar state: its L{CallState}.
    """

    def __init__(self, line, callID, state=CallState.idle):
        self.line = line
        self.connection = ConnectionID(callID, line.device)
        self.state = state

    def answer(self):
        return self.line.client.invoke(m.AnswerCall(callToBeAnswered=self.connection))

    def drop(self):
        return self.line.client.invoke(m.ClearConnection(connectionToBeCleared=self.connection))

    def hold(self):
        return self.line.client.invoke(m.HoldCall(callToBeHeld=self.connection))

    def unhold(self):
        return self.line.client.invoke(m.RetrieveCall(callToBeRetrieved=self.connection))

    def setupTransfer(self, destination):
        """
        Hold this call and call C{destination} (ConsultationCall).

        @return: a L{Deferred} firing with the consultation L{Call}.
        """
        request = m.ConsultationCall(existingCall=self.connection, consultedDevice=destination)
        return self.line.client.invoke(request).addCallback(
            lambda response: self.line.call(response.initiatedCall.callID)
        )

    def completeTransfer(self, consultation):
        """
        Join this held call's far end with C{consultation}'s (TransferCall).
        """
        request = m.TransferCall(heldCall=self.connection, activeCall=consultation.connection)
        return self.line.client.invoke(request)

    def blindTransfer(self, destination):
        request = m.SingleStepTransferCall(activeCall=self.connection, transferredTo=destination)
        return self.line.client.invoke(request)

    def redirect(self, destination):
        request = m.DeflectCall(callToBeDiverted=self.connection, newDestination=destination)
        return self.line.client.invoke(request)

    def generateDigits(self, digits):
        request = m.GenerateDigits(connectionToSendDigits=self.connection, charactersToSend=digits)
        return self.line.client.invoke(request)

    def __repr__(self):
        return f"<Call {self.connection} {self.state.value}>"


class Line:
    """
    One extension opened for monitoring.

    @ivar client: the L{oso.interfaces.cti.ICSTAClient}.
    @ivar device: the extension's number.
    @ivar monitorCrossRefID: the device monitor's id once open.
    @ivar calls: call id -> L{Call}, the calls not idle.
    """

    def __init__(self, client, device):
        self.client = client
        self.device = device
        self.monitorCrossRefID = None
        self.calls = {}
        self._states = LineStates(device)
        self._observers = []

    def open(self):
        """
        Start the device monitor.

        @return: a L{Deferred} firing with this line.
        """
        def started(response):
            self.monitorCrossRefID = response.monitorCrossRefID
            self.client.addEventObserver(self.eventReceived, response.monitorCrossRefID)
            return self

        return self.client.invoke(m.MonitorStart(monitorObject=self.device)).addCallback(started)

    def close(self):
        """
        Stop the device monitor.
        """
        crossRef, self.monitorCrossRefID = self.monitorCrossRefID, None
        self.client.removeEventObserver(self.eventReceived, crossRef)
        return self.client.invoke(m.MonitorStop(monitorCrossRefID=crossRef))

    def addCallObserver(self, callback):
        """
        Call C{callback(call, change)} on each call state change, C{change}
        being the L{oso.cti.callstates.CallChange}.
        """
        self._observers.append(callback)

    def call(self, callID):
        """
        @return: the L{Call} with C{callID}, made if new.
        """
        if callID not in self.calls:
            self.calls[callID] = Call(self, callID)
        return self.calls[callID]

    def eventReceived(self, event):
        for change in self._states.feed(event):
            call = self.call(change.callID)
            call.state = change.state
            if change.state is CallState.idle:
                del self.calls[change.callID]
            for callback in list(self._observers):
                callback(call, change)

    def makeCall(self, destination):
        """
        Call C{destination} from this line.

        @return: a L{Deferred} firing with the L{Call}.
        """
        request = m.MakeCall(
            callingDevice=self.device,
            calledDirectoryNumber=destination,
            autoOriginate=m.AutoOriginate.doNotPrompt,
        )
        return self.client.invoke(request).addCallback(
            lambda response: self.call(response.callingDevice.callID)
        )

    def forward(self, destination, forwardingType=ForwardingType.forwardImmediate):
        """
        Forward this line's calls to C{destination}; L{None} switches
        forwarding off.
        """
        request = m.SetForwarding(
            device=self.device,
            activateForward=destination is not None,
            forwardingType=forwardingType,
            forwardDN=destination,
        )
        return self.client.invoke(request)
