"""
The ECMA-269 universal failures each call model service raises, one test
per failure and service: the exact category and value, and a refused service
changes nothing (no event, no connection or feature changed, no terminal
told anything, no timer started).
"""

from twisted.trial.unittest import SynchronousTestCase

from oso.callmodel.causes import EventCause
from oso.callmodel.devices import Device, DeviceType, ForwardingType
from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.callmodel.ids import ConnectionID
from oso.callmodel.model import MAX_CONFERENCE
from oso.testing import Exchange

PORT = "virtual-phones"
STATIONS = tuple(str(n) for n in range(100, 110))
TRUNK = "801"
GROUP = "200"
#: A station whose port driver is not registered.
DETACHED = "150"

INVALID_DEVICE = UniversalFailure("operation", "invalidDeviceID")
INVALID_CALLING_DEVICE = UniversalFailure("operation", "invalidCallingDeviceID")
INVALID_CALL = UniversalFailure("operation", "invalidCallID")
INVALID_CONNECTION = UniversalFailure("operation", "invalidConnectionID")
INVALID_DESTINATION = UniversalFailure("operation", "invalidDestination")
INVALID_FORWARDING = UniversalFailure("operation", "invalidForwardingDestination")
INVALID_PARAMETER = UniversalFailure("operation", "invalidParameterValue")
NOT_SAME_DEVICE = UniversalFailure("operation", "notSameDevice")
NOT_DIFFERENT_DEVICES = UniversalFailure("operation", "notDifferentDevices")
INCOMPATIBLE = UniversalFailure("operation", "requestIncompatibleWithDevice")
CONNECTION_STATE = UniversalFailure("stateIncompatibility", "invalidConnectionState")
DEVICE_STATE = UniversalFailure("stateIncompatibility", "invalidDeviceState")
NO_CALL_TO_ANSWER = UniversalFailure("stateIncompatibility", "noCallToAnswer")
RESOURCE_BUSY = UniversalFailure("systemResourceAvailability", "resourceBusy")
OUT_OF_SERVICE = UniversalFailure("systemResourceAvailability", "deviceOutOfService")
MEMBER_LIMIT = UniversalFailure(
    "systemResourceAvailability", "conferenceMemberLimitExceeded"
)

#: Connection ids that name nothing: not a ConnectionID at all, a call that
#: does not exist, a device that is not in call 1 (tests make call 1 first).
BAD_CONNECTIONS = ("100@1", None, ConnectionID("99", "100"), ConnectionID("1", "109"))


class RefusalTestCase(SynchronousTestCase):
    """
    An exchange of ten stations (100-108 in pickup group 1), a trunk, a
    linear group and a station whose port is not registered.
    """

    def setUp(self):
        self.x = Exchange(stations=())
        self.model = self.x.model
        for number in STATIONS:
            self.x.addDevice(
                Device(number, port=PORT, pickupGroup=1 if number != "109" else None)
            )
        self.x.addDevice(Device(DETACHED, port="nowhere", pickupGroup=1))
        self.x.addDevice(Device(TRUNK, type=DeviceType.trunk, port=PORT, trunkGroup="carrier"))
        self.x.addGroup(GROUP, ("101", "102"))

    def phone(self, number):
        return self.x.phone(number)

    def picture(self):
        """
        Everything a service could change: calls and connections, devices
        in the model and in the store, what each phone holds and was told,
        the pending timers.
        """
        calls = {
            call.id: [
                (c.device, c.state, c.origination, c.timer) for c in call.connections.values()
            ]
            for call in self.model.calls()
        }
        stored = self.successResultOf(self.x.store.loadDevices())
        phones = {
            number: (
                list(self.phone(number).connections),
                len(self.phone(number).offers),
                list(self.phone(number).sentDigits),
                list(self.phone(number).clearedWith),
            )
            for number in STATIONS + (TRUNK,)
        }
        timers = [(d.getTime(), d.func) for d in self.x.clock.getDelayedCalls()]
        return calls, self.model.devices(), stored, phones, timers

    def assertRefused(self, failure, service, *args):
        """
        Calling C{service} with C{args} raises a L{CSTAError} carrying
        exactly C{failure} and changes nothing.
        """
        before = self.picture()
        count = len(self.x.recorder.events)
        with self.assertRaises(CSTAError) as raised:
            getattr(self.model, service)(*args)
        self.assertEqual(raised.exception.failure, failure, raised.exception.reason)
        self.assertEqual(self.x.recorder.events[count:], [])
        self.assertEqual(self.picture(), before)

    def ring(self, caller, called):
        """
        @return: the ids of the caller's connection and the called
            device's alerting one.
        """
        a = self.x.call(caller, called)
        return a.id, ConnectionID(a.call.id, called)

    def connect(self, caller, called):
        """
        @return: the ids of both connections of an answered call.
        """
        a, b = self.ring(caller, called)
        self.phone(called).answer()
        return a, b

    def consult(self, device, held, consulted, answer=True):
        """
        C{device} talks to C{held}, holds it and consults C{consulted}.

        @return: the held and the consultation connection ids at C{device}.
        """
        self.connect(device, held)
        mine = self.phone(device).connections[0].id
        heldID, active = self.model.consultationCall(mine, consulted)
        if answer:
            self.phone(consulted).answer()
        return heldID, active

    def forward(self, device, kind, destination):
        self.successResultOf(self.model.setForwarding(device, kind, True, destination))


class InvalidDeviceIDTests(RefusalTestCase):
    def test_device(self):
        """
        Looking up a number that is no device (or no number) is
        invalidDeviceID.
        """
        for number in ("999", None, ["100"]):
            self.assertRefused(INVALID_DEVICE, "device", number)

    def test_removeDevice(self):
        """
        RemoveDevice of an unknown number is invalidDeviceID.
        """
        self.assertRefused(INVALID_DEVICE, "removeDevice", "999")

    def test_directedPickupUnknownDevice(self):
        """
        DirectedPickupCall from a device that does not exist is
        invalidDeviceID.
        """
        self.assertRefused(INVALID_DEVICE, "directedPickupCall", "999", "102")

    def test_directedPickupRequesterNotAStation(self):
        """
        DirectedPickupCall for a requesting device that is unknown, a group
        or a trunk is invalidDeviceID.
        """
        self.ring("100", "101")
        for requester in ("999", GROUP, TRUNK):
            self.assertRefused(INVALID_DEVICE, "directedPickupCall", "101", requester)

    def test_groupPickupRequesterNotAStation(self):
        """
        GroupPickupCall for a requesting device that is unknown, a group or
        a trunk is invalidDeviceID.
        """
        self.ring("100", "101")
        for requester in ("999", GROUP, TRUNK):
            self.assertRefused(INVALID_DEVICE, "groupPickupCall", requester)

    def test_features(self):
        """
        Set/get forwarding and do not disturb on an unknown device are
        invalidDeviceID.
        """
        self.assertRefused(
            INVALID_DEVICE, "setForwarding", "999", ForwardingType.forwardImmediate, True, "101"
        )
        self.assertRefused(INVALID_DEVICE, "getForwarding", "999")
        self.assertRefused(INVALID_DEVICE, "setDoNotDisturb", "999", True)
        self.assertRefused(INVALID_DEVICE, "getDoNotDisturb", "999")

    def test_snapshotDevice(self):
        """
        SnapshotDevice of an unknown device is invalidDeviceID.
        """
        self.assertRefused(INVALID_DEVICE, "snapshotDevice", "999")


class InvalidCallingDeviceIDTests(RefusalTestCase):
    def test_makeCall(self):
        """
        MakeCall from an unknown device, a group or a trunk is
        invalidCallingDeviceID: only stations originate.
        """
        for caller in ("999", None, GROUP, TRUNK):
            self.assertRefused(INVALID_CALLING_DEVICE, "makeCall", caller, "101")


class InvalidCallIDTests(RefusalTestCase):
    def test_call(self):
        """
        Looking up an unknown call id is invalidCallID.
        """
        self.assertRefused(INVALID_CALL, "call", "99")

    def test_clearCall(self):
        """
        ClearCall of an unknown call, or of a call that has ended, is
        invalidCallID.
        """
        a, b = self.connect("100", "101")
        self.model.clearCall(a.callID)
        self.connect("102", "103")
        for callID in ("99", None, a.callID):
            self.assertRefused(INVALID_CALL, "clearCall", callID)

    def test_snapshotCall(self):
        """
        SnapshotCall of an unknown call is invalidCallID.
        """
        self.assertRefused(INVALID_CALL, "snapshotCall", "99")


class InvalidConnectionIDTests(RefusalTestCase):
    def setUp(self):
        super().setUp()
        self.held, self.active = self.consult("100", "101", "102")

    def test_oneConnectionServices(self):
        """
        AnswerCall, ClearConnection, HoldCall, RetrieveCall and
        GenerateDigits of a connection that does not exist (or of something
        that is no connection id) are invalidConnectionID.
        """
        for service, extra in (
            ("answerCall", ()),
            ("clearConnection", ()),
            ("holdCall", ()),
            ("retrieveCall", ()),
            ("generateDigits", ("1",)),
        ):
            for bad in BAD_CONNECTIONS:
                self.assertRefused(INVALID_CONNECTION, service, bad, *extra)

    def test_servicesWithADestination(self):
        """
        ConsultationCall, SingleStepTransferCall and DeflectCall of a
        connection that does not exist are invalidConnectionID.
        """
        for service in ("consultationCall", "singleStepTransferCall", "deflectCall"):
            for bad in BAD_CONNECTIONS:
                self.assertRefused(INVALID_CONNECTION, service, bad, "103")

    def test_twoConnectionServices(self):
        """
        AlternateCall, ReconnectCall, TransferCall and ConferenceCall with
        either connection unknown are invalidConnectionID.
        """
        for service in ("alternateCall", "reconnectCall"):
            for bad in BAD_CONNECTIONS:
                self.assertRefused(INVALID_CONNECTION, service, bad, self.held)
                self.assertRefused(INVALID_CONNECTION, service, self.active, bad)
        for service in ("transferCall", "conferenceCall"):
            for bad in BAD_CONNECTIONS:
                self.assertRefused(INVALID_CONNECTION, service, bad, self.active)
                self.assertRefused(INVALID_CONNECTION, service, self.held, bad)

    def test_directedPickupByConnection(self):
        """
        DirectedPickupCall naming a connection that does not exist is
        invalidConnectionID.
        """
        for bad in (ConnectionID("99", "100"), ConnectionID("1", "109")):
            self.assertRefused(INVALID_CONNECTION, "directedPickupCall", bad, "103")

    def test_connectionThatLeft(self):
        """
        A connection id that was valid stops being so once its device left
        the call.
        """
        self.phone("102").hangUp()
        self.assertRefused(INVALID_CONNECTION, "clearConnection", self.active)
        self.assertRefused(INVALID_CONNECTION, "transferCall", self.held, self.active)


class InvalidDestinationTests(RefusalTestCase):
    #: Not numbers, incomplete, invalid in the dial plan.
    BAD = ("", None, 101, "1", "10", "999", "abc")

    def test_makeCall(self):
        """
        MakeCall to a number that is empty, incomplete or invalid, or to the
        calling device itself, is invalidDestination.
        """
        for number in self.BAD + ("100",):
            self.assertRefused(INVALID_DESTINATION, "makeCall", "100", number)

    def test_consultationCall(self):
        """
        ConsultationCall to a bad number or to the consulting device itself
        is invalidDestination.
        """
        a, b = self.connect("100", "101")
        for number in self.BAD + ("100",):
            self.assertRefused(INVALID_DESTINATION, "consultationCall", a, number)

    def test_singleStepTransferCall(self):
        """
        SingleStepTransferCall to a bad number, to the transferring device
        or to the other party of the call is invalidDestination.
        """
        a, b = self.connect("100", "101")
        for number in self.BAD + ("100", "101"):
            self.assertRefused(INVALID_DESTINATION, "singleStepTransferCall", a, number)

    def test_deflectCall(self):
        """
        DeflectCall to a bad number or to the deflecting device itself is
        invalidDestination.
        """
        a, b = self.ring("100", "101")
        for number in self.BAD + ("101",):
            self.assertRefused(INVALID_DESTINATION, "deflectCall", b, number)


class InvalidForwardingDestinationTests(RefusalTestCase):
    def test_noDestination(self):
        """
        Switching forwarding on without a destination is
        invalidForwardingDestination.
        """
        for destination in (None, ""):
            self.assertRefused(
                INVALID_FORWARDING,
                "setForwarding", "100", ForwardingType.forwardImmediate, True, destination,
            )

    def test_badNumber(self):
        """
        Forwarding to an incomplete or invalid number is
        invalidForwardingDestination.
        """
        for destination in ("1", "999", "abc"):
            self.assertRefused(
                INVALID_FORWARDING,
                "setForwarding", "100", ForwardingType.forwardBusy, True, destination,
            )

    def test_toItself(self):
        """
        A device cannot forward to itself, whatever the forwarding type.
        """
        for kind in ForwardingType:
            self.assertRefused(INVALID_FORWARDING, "setForwarding", "100", kind, True, "100")

    def test_loopRefused(self):
        """
        Immediate forwarding that would close a loop of immediate
        forwarding (directly or through a chain) is refused.
        """
        self.forward("101", ForwardingType.forwardImmediate, "102")
        self.forward("102", ForwardingType.forwardImmediate, "103")
        for device in ("102", "103"):
            self.assertRefused(
                INVALID_FORWARDING,
                "setForwarding", device, ForwardingType.forwardImmediate, True, "101",
            )


class InvalidParameterValueTests(RefusalTestCase):
    def test_generateDigits(self):
        """
        GenerateDigits with anything but DTMF digits (0-9, *, #, A-D) is
        invalidParameterValue.
        """
        a, b = self.connect("100", "101")
        for digits in ("", "12x", "1 2", None, 12, "e"):
            self.assertRefused(INVALID_PARAMETER, "generateDigits", a, digits)

    def test_forwardingType(self):
        """
        SetForwarding with a forwarding type oso does not know is
        invalidParameterValue.
        """
        for kind in (7, -1, "sideways", None):
            self.assertRefused(INVALID_PARAMETER, "setForwarding", "100", kind, True, "101")


class InvalidConnectionStateTests(RefusalTestCase):
    """
    Every service with a precondition on connection states refuses with
    stateIncompatibility/invalidConnectionState.
    """

    def test_answerCall(self):
        """
        AnswerCall of a connection that is connected, held, or dialling is
        refused.
        """
        a, b = self.connect("100", "101")
        self.assertRefused(CONNECTION_STATE, "answerCall", a)
        self.assertRefused(CONNECTION_STATE, "answerCall", b)
        self.model.holdCall(a)
        self.assertRefused(CONNECTION_STATE, "answerCall", a)
        dialling = self.phone("102").offHook().id
        self.assertRefused(CONNECTION_STATE, "answerCall", dialling)

    def test_holdCall(self):
        """
        HoldCall of a connection that is held or alerting is refused.
        """
        a, b = self.ring("100", "101")
        self.assertRefused(CONNECTION_STATE, "holdCall", b)
        self.model.holdCall(a)
        self.assertRefused(CONNECTION_STATE, "holdCall", a)

    def test_retrieveCall(self):
        """
        RetrieveCall of a connection that is not held is refused.
        """
        a, b = self.ring("100", "101")
        self.assertRefused(CONNECTION_STATE, "retrieveCall", a)
        self.assertRefused(CONNECTION_STATE, "retrieveCall", b)

    def test_consultationCall(self):
        """
        ConsultationCall from an alerting or a dialling connection is
        refused.
        """
        a, b = self.ring("100", "101")
        self.assertRefused(CONNECTION_STATE, "consultationCall", b, "102")
        dialling = self.phone("103").offHook().id
        self.assertRefused(CONNECTION_STATE, "consultationCall", dialling, "102")

    def test_alternateCall(self):
        """
        AlternateCall needs a connected and a held connection: given the
        other way round, or one connection twice, it is refused.
        """
        held, active = self.consult("100", "101", "102")
        self.assertRefused(CONNECTION_STATE, "alternateCall", held, active)
        self.assertRefused(CONNECTION_STATE, "alternateCall", active, active)
        self.assertRefused(CONNECTION_STATE, "alternateCall", held, held)

    def test_reconnectCall(self):
        """
        ReconnectCall needs a held connection and a different, unheld one.
        """
        held, active = self.consult("100", "101", "102")
        self.assertRefused(CONNECTION_STATE, "reconnectCall", held, active)
        self.assertRefused(CONNECTION_STATE, "reconnectCall", held, held)
        self.model.holdCall(active)
        self.assertRefused(CONNECTION_STATE, "reconnectCall", active, held)

    def test_transferCallStates(self):
        """
        TransferCall needs a held connection and a connected (or dialled)
        one.
        """
        held, active = self.consult("100", "101", "102")
        self.assertRefused(CONNECTION_STATE, "transferCall", active, held)
        self.assertRefused(CONNECTION_STATE, "transferCall", held, held)

    def test_transferCallNobodyToTransferTo(self):
        """
        TransferCall is refused when the active call has no other party yet
        (the device only has dial tone).
        """
        a, b = self.connect("100", "101")
        self.phone("100").pressHold()
        dialling = self.phone("100").offHook().id
        self.assertRefused(CONNECTION_STATE, "transferCall", a, dialling)

    def test_transferCallNobodyAnswered(self):
        """
        TransferCall is refused when neither call has an answered party (the
        device held its call while it rang, then consulted a device that
        rings too): it would leave a call of two alerting devices and
        nobody in it.
        """
        a, b = self.ring("100", "101")
        self.model.holdCall(a)
        held, active = self.model.consultationCall(a, "102")
        self.assertRefused(CONNECTION_STATE, "transferCall", held, active)

    def test_conferenceCall(self):
        """
        ConferenceCall needs a held connection and an active one whose call
        has a connected party (not one still alerting).
        """
        held, active = self.consult("100", "101", "102", answer=False)
        self.assertRefused(CONNECTION_STATE, "conferenceCall", held, active)
        self.assertRefused(CONNECTION_STATE, "conferenceCall", active, held)
        self.phone("102").answer()
        self.assertRefused(CONNECTION_STATE, "conferenceCall", active, held)

    def test_singleStepTransferCall(self):
        """
        SingleStepTransferCall needs a connected connection in a two-party
        call whose other party answered.
        """
        a, b = self.ring("100", "101")
        self.assertRefused(CONNECTION_STATE, "singleStepTransferCall", b, "102")
        self.assertRefused(CONNECTION_STATE, "singleStepTransferCall", a, "102")
        self.model.clearCall(a.callID)
        held, active = self.consult("103", "104", "105")
        conference = self.model.conferenceCall(held, active)
        self.assertRefused(CONNECTION_STATE, "singleStepTransferCall", conference, "106")

    def test_deflectCall(self):
        """
        DeflectCall is refused for a connected connection and for the
        calling device's own MakeCall prompt.
        """
        a, b = self.connect("100", "101")
        self.assertRefused(CONNECTION_STATE, "deflectCall", b, "102")
        prompt = self.model.makeCall("103", "104")
        self.assertRefused(CONNECTION_STATE, "deflectCall", prompt, "102")

    def test_generateDigits(self):
        """
        GenerateDigits into a connection that is not connected is refused.
        """
        a, b = self.ring("100", "101")
        self.assertRefused(CONNECTION_STATE, "generateDigits", b, "1")

    def test_directedPickupOfAConnection(self):
        """
        DirectedPickupCall naming a connection that is not alerting is
        refused.
        """
        a, b = self.connect("100", "101")
        self.assertRefused(CONNECTION_STATE, "directedPickupCall", b, "102")


class InvalidDeviceStateTests(RefusalTestCase):
    def test_makeCallBusy(self):
        """
        MakeCall from a device that is using its line is invalidDeviceState.
        """
        self.connect("100", "101")
        self.assertRefused(DEVICE_STATE, "makeCall", "100", "102")
        self.assertRefused(DEVICE_STATE, "makeCall", "101", "102")

    def test_retrieveWhileActive(self):
        """
        RetrieveCall while the device has another active call is
        invalidDeviceState (AlternateCall is the service for that).
        """
        held, active = self.consult("100", "101", "102", answer=False)
        self.assertRefused(DEVICE_STATE, "retrieveCall", held)

    def test_consultFromHeldWhileActive(self):
        """
        ConsultationCall from a held connection while the device has
        another active call is invalidDeviceState.
        """
        held, active = self.consult("100", "101", "102")
        self.assertRefused(DEVICE_STATE, "consultationCall", held, "103")

    def test_pickupByBusyDevice(self):
        """
        Directed and group pickup by a device that is using its line are
        invalidDeviceState.
        """
        self.ring("100", "101")
        self.connect("102", "103")
        self.assertRefused(DEVICE_STATE, "directedPickupCall", "101", "102")
        self.assertRefused(DEVICE_STATE, "groupPickupCall", "102")

    def test_pickupOfACallOneHolds(self):
        """
        DirectedPickupCall of a call the requesting device holds is
        invalidDeviceState: it is already a party of that call.
        """
        a, b = self.ring("100", "101")
        self.model.holdCall(a)
        self.assertRefused(DEVICE_STATE, "directedPickupCall", "101", "100")
        self.assertRefused(DEVICE_STATE, "directedPickupCall", b, "100")


class NotSameDeviceTests(RefusalTestCase):
    def test_twoCallServices(self):
        """
        AlternateCall, ReconnectCall, TransferCall and ConferenceCall on
        connections of two different devices are notSameDevice.
        """
        held, active = self.consult("100", "101", "102")
        other = self.x.call("103", "104").id
        self.phone("104").answer()
        self.assertRefused(NOT_SAME_DEVICE, "alternateCall", other, held)
        self.assertRefused(NOT_SAME_DEVICE, "reconnectCall", other, held)
        self.assertRefused(NOT_SAME_DEVICE, "transferCall", held, other)
        self.assertRefused(NOT_SAME_DEVICE, "conferenceCall", held, other)


class NotDifferentDevicesTests(RefusalTestCase):
    def test_partyInBothCalls(self):
        """
        TransferCall and ConferenceCall of two calls that share a party
        (101 holds the first call and answers the consultation) are
        notDifferentDevices.
        """
        a, b = self.connect("100", "101")
        self.model.holdCall(b)
        held, active = self.model.consultationCall(a, "101")
        self.phone("101").answer(self.phone("101").connections[-1])
        self.assertRefused(NOT_DIFFERENT_DEVICES, "transferCall", held, active)
        self.assertRefused(NOT_DIFFERENT_DEVICES, "conferenceCall", held, active)

    def test_pickupOwnCall(self):
        """
        DirectedPickupCall of a connection at the requesting device itself
        is notDifferentDevices.
        """
        a, b = self.ring("100", "101")
        self.assertRefused(NOT_DIFFERENT_DEVICES, "directedPickupCall", b, "101")


class DeviceOutOfServiceTests(RefusalTestCase):
    def test_makeCallPortNotRegistered(self):
        """
        MakeCall from a device whose port driver is not registered, or from
        an unplugged phone, is deviceOutOfService.
        """
        self.assertRefused(OUT_OF_SERVICE, "makeCall", DETACHED, "101")
        self.phone("100").unplug()
        self.assertRefused(OUT_OF_SERVICE, "makeCall", "100", "101")

    def test_pickupByDetachedDevice(self):
        """
        Directed and group pickup by a device without a terminal are
        deviceOutOfService.
        """
        self.ring("100", "101")
        self.assertRefused(OUT_OF_SERVICE, "directedPickupCall", "101", DETACHED)
        self.assertRefused(OUT_OF_SERVICE, "groupPickupCall", DETACHED)

    def test_callServicesWhilePortGone(self):
        """
        While the port driver of a call's devices is unregistered, every
        service that must tell a terminal is deviceOutOfService.
        """
        ringing = self.ring("103", "104")[1]
        held, active = self.consult("100", "101", "102")
        self.model.unregisterPort(PORT)
        for service, args in (
            ("answerCall", (ringing,)),
            ("holdCall", (active,)),
            ("generateDigits", (active, "1")),
            ("consultationCall", (active, "105")),
            ("alternateCall", (active, held)),
            ("reconnectCall", (active, held)),
            ("conferenceCall", (held, active)),
            ("makeCall", ("106", "107")),
        ):
            self.assertRefused(OUT_OF_SERVICE, service, *args)
        self.model.clearConnection(active)
        self.assertRefused(OUT_OF_SERVICE, "retrieveCall", held)
        self.assertRefused(OUT_OF_SERVICE, "consultationCall", held, "105")


class NoCallToAnswerTests(RefusalTestCase):
    def test_directedPickupNothingRinging(self):
        """
        DirectedPickupCall from a device where nothing alerts is
        noCallToAnswer.
        """
        self.connect("100", "101")
        self.assertRefused(NO_CALL_TO_ANSWER, "directedPickupCall", "101", "102")
        self.assertRefused(NO_CALL_TO_ANSWER, "directedPickupCall", "103", "102")

    def test_groupPickupNothingRinging(self):
        """
        GroupPickupCall when nothing alerts in the group (apart from the
        requesting device itself, or outside the group) is noCallToAnswer.
        """
        self.ring("100", "102")
        self.ring("101", "109")
        self.assertRefused(NO_CALL_TO_ANSWER, "groupPickupCall", "102")


class RequestIncompatibleWithDeviceTests(RefusalTestCase):
    def test_groupPickupWithoutGroup(self):
        """
        GroupPickupCall by a device in no pickup group is
        requestIncompatibleWithDevice.
        """
        self.ring("100", "101")
        self.assertRefused(INCOMPATIBLE, "groupPickupCall", "109")

    def test_featuresOnATrunk(self):
        """
        A trunk has no features: set/get forwarding and do not disturb on it
        are requestIncompatibleWithDevice.
        """
        self.assertRefused(
            INCOMPATIBLE, "setForwarding", TRUNK, ForwardingType.forwardImmediate, True, "101"
        )
        self.assertRefused(INCOMPATIBLE, "getForwarding", TRUNK)
        self.assertRefused(INCOMPATIBLE, "setDoNotDisturb", TRUNK, True)
        self.assertRefused(INCOMPATIBLE, "getDoNotDisturb", TRUNK)


class ResourceBusyTests(RefusalTestCase):
    def test_removeDeviceInACall(self):
        """
        RemoveDevice of a device that is in a call (ringing, connected or
        holding) is resourceBusy, and the device stays in the model and the
        store.
        """
        a, b = self.ring("100", "101")
        self.assertRefused(RESOURCE_BUSY, "removeDevice", "101")
        self.phone("101").answer()
        self.model.holdCall(a)
        for number in ("100", "101"):
            self.assertRefused(RESOURCE_BUSY, "removeDevice", number)


class ConferenceMemberLimitExceededTests(RefusalTestCase):
    def test_ninthParty(self):
        """
        A conference holds at most eight parties: adding a ninth is
        conferenceMemberLimitExceeded, and the conference and the
        consultation stay as they were.
        """
        held, active = self.consult("100", "101", "102")
        conference = self.model.conferenceCall(held, active)
        for n in range(103, 100 + MAX_CONFERENCE):
            _, active = self.model.consultationCall(conference, str(n))
            self.phone(str(n)).answer()
            conference = self.model.conferenceCall(conference, active)
        self.assertEqual(len(self.model.snapshotCall(conference.callID)), MAX_CONFERENCE)
        _, active = self.model.consultationCall(conference, "108")
        self.phone("108").answer()
        self.assertRefused(MEMBER_LIMIT, "conferenceCall", conference, active)
