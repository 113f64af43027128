"""
The call model's two faces: the services applications use (CSTA, HTTP, CTI)
and the reports port drivers make.

Every service either returns its result or raises
L{oso.callmodel.errors.CSTAError} carrying an ECMA-269 universal failure, so
each interface reports the same reason in its own encoding.  Services that
change persistent state return a L{Deferred} that fires once the change is
on disk.
"""

from zope.interface import Attribute, Interface


class ICallModel(Interface):
    """
    Devices, calls and connections in ECMA-269 terms, and the services that
    act on them.
    """

    clock = Attribute("The L{IReactorTime} the model's timers and timestamps use.")

    def addObserver(observer):
        """
        Deliver every later event to C{observer} (an L{IEventObserver}).
        """

    def removeObserver(observer):
        """
        Stop delivering events to C{observer}.
        """

    def device(number):
        """
        @return: the L{oso.callmodel.devices.Device} with that number.
        @raise CSTAError: C{invalidDeviceID} when there is none.
        """

    def devices():
        """
        @return: every device, ordered by number.
        """

    def addDevice(device):
        """
        Add a device, or replace the one with the same number, and store it.

        @return: a L{Deferred} firing with the device once it is on disk.
        """

    def removeDevice(number):
        """
        Remove a device that has no call, and delete it from the store.

        @return: a L{Deferred} firing once it is gone from disk.
        @raise CSTAError: C{invalidDeviceID}, or C{resourceBusy} when it is in
            a call.
        """

    def call(callID):
        """
        @return: the L{oso.callmodel.model.Call} with that id.
        @raise CSTAError: C{invalidCallID}.
        """

    def calls():
        """
        @return: every call in progress.
        """

    # ECMA-269 call control services.

    def makeCall(callingDevice, calledDirectoryNumber, autoOriginate=False,
                 accountCode=None):
        """
        Call C{calledDirectoryNumber} from C{callingDevice}: the calling device
        is offered the call first (it rings, or goes off-hook by itself when
        C{autoOriginate}); when it answers the dial plan routes the number.

        @return: the calling device's L{ConnectionID}.
        """

    def answerCall(connection):
        """
        Answer an alerting connection.
        """

    def clearConnection(connection):
        """
        Release one device from its call.
        """

    def clearCall(callID):
        """
        Release every device of a call.
        """

    def holdCall(connection):
        """
        Put a connected connection on hold.
        """

    def retrieveCall(connection):
        """
        Take a held connection off hold.
        """

    def consultationCall(existingConnection, consultedDevice):
        """
        Hold C{existingConnection} (if not held already) and call
        C{consultedDevice} from the same device.

        @return: C{(heldConnection, initiatedConnection)}.
        """

    def alternateCall(activeConnection, otherConnection):
        """
        Hold the active connection and retrieve the held one.
        """

    def reconnectCall(activeConnection, heldConnection):
        """
        Clear the active connection and retrieve the held one.
        """

    def transferCall(heldConnection, activeConnection):
        """
        Join the far ends of a device's held and active calls and release
        the device.

        @return: the resulting call's id.
        """

    def singleStepTransferCall(activeConnection, transferredTo):
        """
        Send the far end of a connected call to another number and release
        the transferring device.

        @return: the transferred party's L{ConnectionID} in the call.
        """

    def conferenceCall(heldConnection, activeConnection):
        """
        Join a device's held and active calls into one call with every party.

        @return: the conferencing device's L{ConnectionID} in the conference.
        """

    def deflectCall(connection, newDestination):
        """
        Send an alerting call on to another number.
        """

    def generateDigits(connection, digits):
        """
        Send DTMF digits into a connected call.
        """

    def directedPickupCall(callToBePickedUp, requestingDevice):
        """
        Take an alerting call at another device (C{callToBePickedUp} is its
        connection, or a device number where one call alerts).

        @return: the requesting device's L{ConnectionID}.
        """

    def groupPickupCall(requestingDevice):
        """
        Take the longest-alerting call in the requesting device's pickup
        group.

        @return: the requesting device's L{ConnectionID}.
        """

    # ECMA-269 logical device features.

    def setForwarding(device, forwardingType, activate, forwardDN=None):
        """
        Switch one kind of forwarding on (to C{forwardDN}) or off.

        @return: a L{Deferred} that fires once the setting is on disk.
        """

    def getForwarding(device):
        """
        @return: the device's L{ForwardingSetting}s, one per type.
        """

    def setDoNotDisturb(device, doNotDisturbOn):
        """
        @return: a L{Deferred} that fires once the setting is on disk.
        """

    def getDoNotDisturb(device):
        """
        @return: L{bool}.
        """

    # ECMA-269 snapshot services.

    def snapshotDevice(device):
        """
        @return: the device's connections: a list of
            C{(ConnectionID, LocalConnectionState)}.
        """

    def snapshotCall(callID):
        """
        @return: the call's connections: a list of
            C{(deviceNumber, ConnectionID, LocalConnectionState)}.
        """


class IPortEvents(Interface):
    """
    What a port driver tells the call model about its terminals.

    C{connection} is always the L{oso.callmodel.calls.Connection} object the
    model handed the terminal (or returned from L{originate}).  A report about
    a connection that has already ended is logged and ignored.
    """

    def originate(device, digits="", media=None, callingNumber=None, restricted=False):
        """
        The device went off-hook (and dialled C{digits}, possibly all of the
        number).  For a trunk, C{digits} is the called number (DID) and
        C{callingNumber} the caller's number from the network; for a
        station, C{callingNumber} is the identity its terminal prefers to
        present (RFC 3325), one of those the device may present (its own
        number, its public number, its presentable numbers; any other is
        ignored), the call's C{presentedNumber}.
        C{restricted}: the caller asked not to be presented (CLIR, SIP
        privacy); the call's C{callingRestricted}, which a station's
        C{withholdCallerID} sets whatever the terminal asks.

        @return: the new L{oso.callmodel.calls.Connection}.
        """

    def dialDigits(connection, digits):
        """
        More digits dialled on an initiated connection (overlap dialling).
        """

    def alerting(connection):
        """
        The terminal is ringing.
        """

    def answered(connection, media=None):
        """
        The terminal answered (or went off-hook for an origination).
        """

    def rejected(connection, cause):
        """
        The terminal refused an offered call (busy, declined, unreachable).
        """

    def cleared(connection, cause):
        """
        The terminal hung up, or its line dropped.
        """

    def heldByTerminal(connection):
        """
        The user put the call on hold at the phone.
        """

    def retrievedByTerminal(connection):
        """
        The user took the call off hold at the phone.
        """

    def mediaOffered(connection, media):
        """
        The terminal changed its media description: pass it to the other
        legs of the call.
        """

    def earlyMedia(connection, media):
        """
        The terminal of an offered connection that has not answered sends
        media (ringing tone, an announcement): the other connections'
        terminals get C{media} (L{oso.interfaces.ITerminal.earlyMedia}).
        It is no answer: no state changes and no event is emitted.
        """

    def inService(device):
        """
        The device became reachable (registered, line up).
        """

    def outOfService(device):
        """
        The device became unreachable.
        """
