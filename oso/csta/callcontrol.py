"""
The ECMA-269 call control, logical device feature and snapshot services
of a CSTA link, each answered by the call model service of the same name.

The messages already use the call model's identifiers (L{ConnectionID},
device numbers, states, causes), so each handler only picks the request's
parameters, calls the model and shapes its answer as the ECMA-269 result.
A refusal is the model's L{oso.callmodel.errors.CSTAError}, which the
link returns as the universal failure.
"""

from twisted.internet.defer import maybeDeferred

from oso.callmodel.devices import ForwardingType
from oso.callmodel.errors import CSTAError
from oso.callmodel.ids import ConnectionID
from oso.csta import messages as m


class CallControl:
    """
    The handlers, bound to one call model; L{register} puts them in a
    L{oso.csta.services.ServiceRegistry}.
    """

    def __init__(self, callModel):
        self.model = callModel

    def register(self, registry):
        """
        Serve every service of this module on every link of C{registry}.
        """
        for requestType, handler in self.handlers().items():
            registry.register(requestType, handler)

    def handlers(self):
        """
        @return: request type -> handler C{(link, request) -> response}.
        """
        return {
            m.MakeCall: self.makeCall,
            m.AnswerCall: self.answerCall,
            m.ClearConnection: self.clearConnection,
            m.ClearCall: self.clearCall,
            m.HoldCall: self.holdCall,
            m.RetrieveCall: self.retrieveCall,
            m.ConsultationCall: self.consultationCall,
            m.AlternateCall: self.alternateCall,
            m.ReconnectCall: self.reconnectCall,
            m.TransferCall: self.transferCall,
            m.SingleStepTransferCall: self.singleStepTransferCall,
            m.ConferenceCall: self.conferenceCall,
            m.DeflectCall: self.deflectCall,
            m.GenerateDigits: self.generateDigits,
            m.DirectedPickupCall: self.directedPickupCall,
            m.GroupPickupCall: self.groupPickupCall,
            m.SetForwarding: self.setForwarding,
            m.GetForwarding: self.getForwarding,
            m.SetDoNotDisturb: self.setDoNotDisturb,
            m.GetDoNotDisturb: self.getDoNotDisturb,
            m.SnapshotDevice: self.snapshotDevice,
            m.SnapshotCall: self.snapshotCall,
        }

    # --- call control ---------------------------------------------------------

    def makeCall(self, link, request):
        connection = self.model.makeCall(
            request.callingDevice,
            request.calledDirectoryNumber,
            autoOriginate=request.autoOriginate is m.AutoOriginate.doNotPrompt,
            accountCode=request.accountCode,
        )
        return m.MakeCallResponse(callingDevice=connection)

    def answerCall(self, link, request):
        self.model.answerCall(request.callToBeAnswered)
        return m.AnswerCallResponse()

    def clearConnection(self, link, request):
        self.model.clearConnection(request.connectionToBeCleared)
        return m.ClearConnectionResponse()

    def clearCall(self, link, request):
        self.model.clearCall(request.callToBeCleared.callID)
        return m.ClearCallResponse()

    def holdCall(self, link, request):
        self.model.holdCall(request.callToBeHeld)
        return m.HoldCallResponse()

    def retrieveCall(self, link, request):
        self.model.retrieveCall(request.callToBeRetrieved)
        return m.RetrieveCallResponse()

    def consultationCall(self, link, request):
        _, initiated = self.model.consultationCall(request.existingCall, request.consultedDevice)
        return m.ConsultationCallResponse(initiatedCall=initiated)

    def alternateCall(self, link, request):
        self.model.alternateCall(request.activeCall, request.heldCall)
        return m.AlternateCallResponse()

    def reconnectCall(self, link, request):
        self.model.reconnectCall(request.activeCall, request.heldCall)
        return m.ReconnectCallResponse()

    def transferCall(self, link, request):
        callID = self.model.transferCall(request.heldCall, request.activeCall)
        return m.TransferCallResponse(
            transferredCall=ConnectionID(callID, None),
            connections=self._connectionsOf(callID),
        )

    def singleStepTransferCall(self, link, request):
        transferred = self.model.singleStepTransferCall(request.activeCall, request.transferredTo)
        return m.SingleStepTransferCallResponse(
            transferredCall=transferred, connections=self._connectionsOf(transferred.callID)
        )

    def conferenceCall(self, link, request):
        conference = self.model.conferenceCall(request.heldCall, request.activeCall)
        return m.ConferenceCallResponse(
            conferenceCall=conference, connections=self._connectionsOf(conference.callID)
        )

    def deflectCall(self, link, request):
        self.model.deflectCall(request.callToBeDiverted, request.newDestination)
        return m.DeflectCallResponse()

    def generateDigits(self, link, request):
        self.model.generateDigits(request.connectionToSendDigits, request.charactersToSend)
        return m.GenerateDigitsResponse()

    def directedPickupCall(self, link, request):
        picked = self.model.directedPickupCall(request.callToBePickedUp, request.requestingDevice)
        return m.DirectedPickupCallResponse(pickedCall=picked)

    def groupPickupCall(self, link, request):
        picked = self.model.groupPickupCall(request.newDestination)
        return m.GroupPickupCallResponse(pickedCall=picked)

    def _connectionsOf(self, callID):
        """
        The resulting call's parties, as a transfer or conference result
        lists them (the call may already be gone).
        """
        try:
            parties = self.model.snapshotCall(callID)
        except CSTAError:
            return ()
        return tuple(
            m.ConnectionListEntry(newConnection=connection, endpoint=device)
            for device, connection, _ in parties
        )

    # --- logical device features ----------------------------------------------

    def setForwarding(self, link, request):
        kind = request.forwardingType or ForwardingType.forwardImmediate
        return maybeDeferred(
            self.model.setForwarding,
            request.device,
            kind,
            request.activateForward,
            request.forwardDN,
        ).addCallback(lambda _: m.SetForwardingResponse())

    def getForwarding(self, link, request):
        return m.GetForwardingResponse(
            forwardingList=tuple(
                m.ForwardListEntry(
                    forwardStatus=setting.active,
                    forwardingType=setting.forwardingType,
                    forwardDN=setting.destination,
                )
                for setting in self.model.getForwarding(request.device)
            )
        )

    def setDoNotDisturb(self, link, request):
        return maybeDeferred(
            self.model.setDoNotDisturb, request.device, request.doNotDisturbOn
        ).addCallback(lambda _: m.SetDoNotDisturbResponse())

    def getDoNotDisturb(self, link, request):
        return m.GetDoNotDisturbResponse(
            doNotDisturbOn=self.model.getDoNotDisturb(request.device)
        )

    # --- snapshots ------------------------------------------------------------

    def snapshotDevice(self, link, request):
        """
        Each call at the device with its compound call state: the device's
        own connection state first, then the other parties' (ECMA-269
        12.2.2).
        """
        return m.SnapshotDeviceResponse(
            snapshotData=tuple(
                m.SnapshotDeviceResponseInfo(
                    connectionIdentifier=connection,
                    localCallState=(state,) + self._othersStates(connection),
                )
                for connection, state in self.model.snapshotDevice(request.snapshotObject)
            )
        )

    def _othersStates(self, connection):
        return tuple(
            state
            for _, other, state in self.model.snapshotCall(connection.callID)
            if other != connection
        )

    def snapshotCall(self, link, request):
        return m.SnapshotCallResponse(
            snapshotData=tuple(
                m.SnapshotCallResponseInfo(
                    deviceOnCall=device,
                    callIdentifier=connection,
                    localConnectionState=state,
                )
                for device, connection, state in self.model.snapshotCall(
                    request.snapshotObject.callID
                )
            )
        )
