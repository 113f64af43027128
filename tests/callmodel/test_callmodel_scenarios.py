"""
Scenario tests of the call model with virtual phones: for every service the
exact ECMA-269 event sequence and the connection states it leaves.
"""

from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from oso.callmodel.causes import EventCause
from oso.callmodel.devices import Device, DeviceType, ForwardingType, HuntMode
from oso.callmodel.dialplan import DialPlan, Route
from oso.callmodel.errors import CSTAError
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LocalConnectionState as S
from oso.interfaces import ICallModel, IPortDriver, IPortEvents, IStore, ITerminal
from oso.testing import Exchange


def brief(event):
    """
    One event as a short string: name, subject and the state or detail that
    matters, e.g. C{"Delivered 101@1 alerting"}.
    """
    if event.name == "CallCleared":
        return f"CallCleared {event.clearedCall}"
    if event.name in ("Transferred", "Conferenced"):
        pairs = ",".join(f"{old}>{new}" for old, new in (
            event.transferredConnections if event.name == "Transferred"
            else event.conferenceConnections
        ))
        return f"{event.name} {event.primaryOldCall} {event.secondaryOldCall} [{pairs}]"
    if event.name == "Diverted":
        return f"Diverted {event.connection} {event.divertingDevice}>{event.newDestination}"
    if hasattr(event, "device") and not hasattr(event, "connection"):
        return f"{event.name} {event.device}"
    return f"{event.name} {event.connection} {event.localConnectionInfo.name}"


class ScenarioTestCase(SynchronousTestCase):
    def setUp(self):
        self.x = Exchange(stations=("100", "101", "102", "103", "104"))
        self.model = self.x.model

    def phone(self, number):
        return self.x.phone(number)

    def events(self):
        return [brief(e) for e in self.x.recorder.take()]

    def states(self, callID):
        return {device: state for device, _, state in self.model.snapshotCall(callID)}

    def connect(self, caller="100", called="101"):
        """
        Set up an answered call by dialling and return both connections.
        """
        a = self.x.call(caller, called)
        self.phone(called).answer()
        self.x.recorder.take()
        return a, self.model.call(a.call.id).connections[called]


class InterfaceTests(ScenarioTestCase):
    def test_provides(self):
        """
        The model provides both of its interfaces, the virtual phones driver
        and its terminals theirs, and the memory store its own.
        """
        verifyObject(ICallModel, self.model)
        verifyObject(IPortEvents, self.model)
        verifyObject(IPortDriver, self.x.phones)
        verifyObject(ITerminal, self.phone("100"))
        verifyObject(IStore, self.x.store)


class BasicCallTests(ScenarioTestCase):
    def test_dialledCallAnsweredAndCleared(self):
        """
        ECMA-269 basic call: ServiceInitiated and Originated at the caller,
        Delivered then Established at the called device; when one side hangs
        up both connections clear and the call is cleared.
        """
        a = self.x.call("100", "101")
        self.assertEqual(self.states(a.call.id), {"100": S.connected, "101": S.alerting})
        self.phone("101").answer()
        self.phone("100").hangUp()
        self.assertEqual(
            self.events(),
            [
                "ServiceInitiated 100@1 initiated",
                "Originated 100@1 connected",
                "Delivered 101@1 alerting",
                "Established 101@1 connected",
                "ConnectionCleared 100@1 null",
                "ConnectionCleared 101@1 null",
                "CallCleared 1",
            ],
        )
        self.assertEqual(self.model.calls(), [])

    def test_eventFields(self):
        """
        Delivered and Established name the calling, called and alerting or
        answering devices, with cause newCall.
        """
        self.x.call("100", "101")
        self.phone("101").answer()
        delivered, established = self.x.recorder.events[2:4]
        self.assertEqual(
            (delivered.alertingDevice, delivered.callingDevice, delivered.calledDevice),
            ("101", "100", "101"),
        )
        self.assertEqual(established.answeringDevice, "101")
        self.assertEqual(delivered.cause, EventCause.newCall)

    def test_sequenceNumbers(self):
        """
        Every event has a sequence number one more than the one before.
        """
        self.connect()
        self.phone("101").hangUp()
        seqs = [e.seq for e in self.x.recorder.events]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))))

    def test_makeCallCallingDeviceFirst(self):
        """
        MakeCall: the calling device is offered the call first
        (ServiceInitiated, phone rings); once it answers the call is
        Originated and Delivered at the called device.
        """
        cid = self.model.makeCall("100", "101")
        self.assertEqual(cid, ConnectionID("1", "100"))
        self.assertEqual(self.events(), ["ServiceInitiated 100@1 initiated"])
        self.assertEqual(self.phone("100").offers[-1].reason, "origination")
        self.phone("100").answer()
        self.assertEqual(
            self.events(), ["Originated 100@1 connected", "Delivered 101@1 alerting"]
        )
        self.model.answerCall(ConnectionID("1", "101"))
        self.assertEqual(self.events(), ["Established 101@1 connected"])

    def test_makeCallAutoOriginate(self):
        """
        MakeCall with autoOriginate: the calling device goes off-hook by
        itself.
        """
        self.model.makeCall("100", "101", autoOriginate=True)
        self.assertEqual(
            self.events(),
            [
                "ServiceInitiated 100@1 initiated",
                "Originated 100@1 connected",
                "Delivered 101@1 alerting",
            ],
        )

    def test_makeCallNotAnsweredByCaller(self):
        """
        MakeCall whose calling device refuses: its connection clears and the
        call ends without ever reaching the called device.
        """
        self.model.makeCall("100", "101")
        self.phone("100").reject()
        self.assertEqual(
            self.events(),
            ["ServiceInitiated 100@1 initiated", "ConnectionCleared 100@1 null", "CallCleared 1"],
        )

    def test_busy(self):
        """
        A call to a busy device fails: the caller's connection enters the
        fail state with cause busy and hears busy tone until it hangs up.
        """
        self.connect("101", "102")
        self.x.call("100", "101")
        events = self.x.recorder.take()
        self.assertEqual(
            [brief(e) for e in events],
            ["ServiceInitiated 100@2 initiated", "Originated 100@2 connected", "Failed 100@2 fail"],
        )
        self.assertEqual((events[-1].cause, events[-1].failingDevice), (EventCause.busy, "101"))
        caller = self.phone("100").connections[0]
        self.assertEqual(self.phone("100").tone[caller], EventCause.busy)
        self.phone("100").hangUp()
        self.assertEqual(self.events(), ["ConnectionCleared 100@2 null", "CallCleared 2"])

    def test_rejectedByPhone(self):
        """
        A phone that refuses calls as busy gives the caller busy treatment.
        """
        self.phone("101").refuseCalls = EventCause.busy
        self.x.call("100", "101")
        self.assertEqual(self.events()[-1], "Failed 100@1 fail")

    def test_unknownNumber(self):
        """
        Dialling a number the dial plan does not know fails with
        invalidNumberFormat.
        """
        self.x.call("100", "999")
        events = self.x.recorder.take()
        self.assertEqual(brief(events[-1]), "Failed 100@1 fail")
        self.assertEqual(events[-1].cause, EventCause.invalidNumberFormat)

    def test_callerHangsUpWhileRinging(self):
        """
        When the caller hangs up before the answer, the ringing stops.
        """
        self.x.call("100", "101")
        self.x.recorder.take()
        self.phone("100").hangUp()
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 100@1 null", "ConnectionCleared 101@1 null", "CallCleared 1"],
        )
        self.assertEqual(self.phone("101").connections, [])

    def test_overlapDialling(self):
        """
        Digits dialled one by one: DigitsDialed for each, the call goes out
        once the number is complete.
        """
        phone = self.phone("100")
        phone.offHook()
        phone.dial("1")
        phone.dial("0")
        phone.dial("1")
        self.assertEqual(
            self.events(),
            [
                "ServiceInitiated 100@1 initiated",
                "DigitsDialed 100@1 initiated",
                "DigitsDialed 100@1 initiated",
                "DigitsDialed 100@1 initiated",
                "Originated 100@1 connected",
                "Delivered 101@1 alerting",
            ],
        )

    def test_clearCall(self):
        """
        ClearCall releases every device of the call.
        """
        a, b = self.connect()
        self.model.clearCall(a.call.id)
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 100@1 null", "ConnectionCleared 101@1 null", "CallCleared 1"],
        )
        self.assertEqual(self.phone("100").clearedWith, [EventCause.normalClearing])

    def test_clearConnection(self):
        """
        ClearConnection of one party of a two-party call ends the call.
        """
        a, b = self.connect()
        self.model.clearConnection(b.id)
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 101@1 null", "ConnectionCleared 100@1 null", "CallCleared 1"],
        )

    def test_answerCallMediaExchanged(self):
        """
        Once answered, each party's media is pointed at the other's.
        """
        a, b = self.connect()
        self.assertEqual(self.phone("100").remoteMedia[a], self.phone("101").media)
        self.assertEqual(self.phone("101").remoteMedia[b], self.phone("100").media)

    def test_generateDigits(self):
        """
        GenerateDigits reaches the device's terminal.
        """
        a, b = self.connect()
        self.model.generateDigits(a.id, "12#")
        self.assertEqual(self.phone("100").sentDigits, ["12#"])


class HoldTests(ScenarioTestCase):
    def test_holdRetrieve(self):
        """
        HoldCall then RetrieveCall: Held and Retrieved at the holding
        device.
        """
        a, b = self.connect()
        self.model.holdCall(a.id)
        self.assertEqual(self.states("1"), {"100": S.hold, "101": S.connected})
        self.model.retrieveCall(a.id)
        self.assertEqual(self.events(), ["Held 100@1 hold", "Retrieved 100@1 connected"])

    def test_holdFromPhone(self):
        """
        The phone's own hold key gives the same events.
        """
        a, b = self.connect()
        self.phone("100").pressHold()
        self.phone("100").pressRetrieve()
        self.assertEqual(self.events(), ["Held 100@1 hold", "Retrieved 100@1 connected"])

    def test_heldPartyHangsUp(self):
        """
        When the far end of a held call hangs up, the call ends.
        """
        a, b = self.connect()
        self.model.holdCall(a.id)
        self.x.recorder.take()
        self.phone("101").hangUp()
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 101@1 null", "ConnectionCleared 100@1 null", "CallCleared 1"],
        )


class ConsultationTests(ScenarioTestCase):
    def consult(self):
        a, b = self.connect("100", "101")
        held, new = self.model.consultationCall(a.id, "102")
        return a, held, new

    def test_consultation(self):
        """
        ConsultationCall: the existing call is held, a new call is made from
        the same device to the consulted device.
        """
        a, held, new = self.consult()
        self.assertEqual((held, new), (ConnectionID("1", "100"), ConnectionID("2", "100")))
        self.assertEqual(
            self.events(),
            [
                "Held 100@1 hold",
                "ServiceInitiated 100@2 initiated",
                "Originated 100@2 connected",
                "Delivered 102@2 alerting",
            ],
        )

    def test_consultThenTransfer(self):
        """
        Consultation then TransferCall: the held party and the consulted
        party are joined in the first call; the transferring device leaves;
        one Transferred event says so.
        """
        a, held, new = self.consult()
        self.phone("102").answer()
        self.x.recorder.take()
        result = self.model.transferCall(held, new)
        self.assertEqual(result, "1")
        events = self.x.recorder.take()
        self.assertEqual(
            [brief(e) for e in events],
            ["Transferred 100@1 100@2 [101@1>101@1,102@2>102@1]"],
        )
        self.assertEqual(events[0].transferredToDevice, "102")
        self.assertEqual(self.states("1"), {"101": S.connected, "102": S.connected})
        self.assertEqual(len(self.model.calls()), 1)
        self.assertEqual(self.phone("100").connections, [])
        self.assertEqual(
            self.phone("101").remoteMedia[self.model.call("1").connections["101"]],
            self.phone("102").media,
        )
        self.phone("102").hangUp()
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 102@1 null", "ConnectionCleared 101@1 null", "CallCleared 1"],
        )

    def test_transferWhileRinging(self):
        """
        A transfer before the consulted device answers: it keeps ringing in
        the transferred call and its answer connects the held party.
        """
        a, held, new = self.consult()
        self.x.recorder.take()
        self.model.transferCall(held, new)
        self.assertEqual(self.states("1"), {"101": S.connected, "102": S.alerting})
        self.phone("102").answer()
        self.assertEqual(self.events()[-1], "Established 102@1 connected")

    def test_alternate(self):
        """
        AlternateCall swaps the active and the held call.
        """
        a, held, new = self.consult()
        self.phone("102").answer()
        self.x.recorder.take()
        self.model.alternateCall(new, held)
        self.assertEqual(self.events(), ["Held 100@2 hold", "Retrieved 100@1 connected"])

    def test_reconnect(self):
        """
        ReconnectCall clears the consultation and retrieves the held call.
        """
        a, held, new = self.consult()
        self.phone("102").answer()
        self.x.recorder.take()
        self.model.reconnectCall(new, held)
        self.assertEqual(
            self.events(),
            [
                "ConnectionCleared 100@2 null",
                "ConnectionCleared 102@2 null",
                "CallCleared 2",
                "Retrieved 100@1 connected",
            ],
        )

    def test_conferenceAndLeave(self):
        """
        ConferenceCall joins three parties in one call; when one leaves the
        other two stay connected.
        """
        a, held, new = self.consult()
        self.phone("102").answer()
        self.x.recorder.take()
        result = self.model.conferenceCall(held, new)
        self.assertEqual(result, ConnectionID("1", "100"))
        self.assertEqual(
            self.events(),
            ["Conferenced 100@1 100@2 [100@1>100@1,101@1>101@1,102@2>102@1]"],
        )
        self.assertEqual(
            self.states("1"), {"100": S.connected, "101": S.connected, "102": S.connected}
        )
        self.phone("101").hangUp()
        self.assertEqual(self.events(), ["ConnectionCleared 101@1 null"])
        self.assertEqual(self.states("1"), {"100": S.connected, "102": S.connected})
        self.phone("100").hangUp()
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 100@1 null", "ConnectionCleared 102@1 null", "CallCleared 1"],
        )


class SingleStepTransferTests(ScenarioTestCase):
    def test_singleStepTransfer(self):
        """
        SingleStepTransferCall: the transferring device leaves at once and
        the call is delivered to the new destination with the transferring
        device as last redirection.
        """
        a, b = self.connect("100", "101")
        result = self.model.singleStepTransferCall(b.id, "102")
        self.assertEqual(result, ConnectionID("1", "100"))
        events = self.x.recorder.take()
        self.assertEqual(
            [brief(e) for e in events],
            ["Transferred 101@1 None [100@1>100@1]", "Delivered 102@1 alerting"],
        )
        self.assertEqual(events[1].lastRedirectionDevice, "101")
        self.assertEqual(events[1].cause, EventCause.singleStepTransfer)
        self.phone("102").answer()
        self.assertEqual(self.states("1"), {"100": S.connected, "102": S.connected})


class DeflectAndPickupTests(ScenarioTestCase):
    def test_deflect(self):
        """
        DeflectCall sends an alerting call on: Diverted from the deflecting
        device, Delivered at the new one.
        """
        a = self.x.call("100", "101")
        self.x.recorder.take()
        self.model.deflectCall(ConnectionID("1", "101"), "102")
        self.assertEqual(
            self.events(), ["Diverted 101@1 101>102", "Delivered 102@1 alerting"]
        )
        self.assertEqual(self.phone("101").connections, [])

    def test_directedPickup(self):
        """
        DirectedPickupCall: the call ringing at 101 is taken at 102, which
        is connected at once (Diverted with cause callPickup, Established).
        """
        self.x.call("100", "101")
        self.x.recorder.take()
        result = self.model.directedPickupCall("101", "102")
        self.assertEqual(result, ConnectionID("1", "102"))
        events = self.x.recorder.take()
        self.assertEqual(
            [brief(e) for e in events], ["Diverted 101@1 101>102", "Established 102@1 connected"]
        )
        self.assertEqual({e.cause for e in events}, {EventCause.callPickup})
        self.assertEqual(self.states("1"), {"100": S.connected, "102": S.connected})

    def test_groupPickup(self):
        """
        GroupPickupCall takes the longest-ringing call in the pickup group.
        """
        for number in ("101", "102", "103"):
            self.x.addDevice(Device(number, port="virtual-phones", pickupGroup=1))
        self.x.call("100", "101")
        self.x.clock.advance(1)
        self.x.call("104", "102")
        self.x.recorder.take()
        self.model.groupPickupCall("103")
        self.assertEqual(self.events(), ["Diverted 101@1 101>103", "Established 103@1 connected"])


class ForwardingTests(ScenarioTestCase):
    def forward(self, device, kind, destination):
        self.successResultOf(self.model.setForwarding(device, kind, True, destination))

    def test_setForwardingEventAndState(self):
        """
        SetForwarding stores the setting, emits Forwarding, and
        GetForwarding reports it.
        """
        self.forward("101", ForwardingType.forwardImmediate, "102")
        self.assertEqual(self.events(), ["Forwarding 101"])
        settings = {s.forwardingType: s for s in self.model.getForwarding("101")}
        self.assertEqual(settings[ForwardingType.forwardImmediate].destination, "102")
        self.assertEqual(
            self.x.store._devices["101"].features.forwardingFor(ForwardingType.forwardImmediate),
            "102",
        )

    def test_immediate(self):
        """
        Immediate forwarding: Diverted at the forwarding device, Delivered
        at the destination with it as last redirection.
        """
        self.forward("101", ForwardingType.forwardImmediate, "102")
        self.x.recorder.take()
        self.x.call("100", "101")
        events = self.x.recorder.take()
        self.assertEqual(
            [brief(e) for e in events][2:],
            ["Diverted 101@1 101>102", "Delivered 102@1 alerting"],
        )
        self.assertEqual(events[-1].lastRedirectionDevice, "101")

    def test_noAnswer(self):
        """
        No-answer forwarding: after the device's no-answer time the call
        leaves it for the destination.
        """
        self.forward("101", ForwardingType.forwardNoAns, "102")
        self.x.recorder.take()
        self.x.call("100", "101")
        self.x.clock.advance(14)
        self.assertEqual(self.events()[-1], "Delivered 101@1 alerting")
        self.x.clock.advance(1)
        self.assertEqual(self.events(), ["Diverted 101@1 101>102", "Delivered 102@1 alerting"])
        self.assertEqual(self.phone("101").connections, [])

    def test_busyForward(self):
        """
        Busy forwarding applies when the device is busy.
        """
        self.forward("101", ForwardingType.forwardBusy, "103")
        self.connect("101", "102")
        self.x.call("100", "101")
        self.assertEqual(self.events()[-2:], ["Diverted 101@2 101>103", "Delivered 103@2 alerting"])

    def test_forwardingLoopStopsAtCallTime(self):
        """
        A forwarding chain that loops back stops at the device where it
        would loop, which then rings.
        """
        self.forward("101", ForwardingType.forwardImmediate, "102")
        self.forward("102", ForwardingType.forwardBusy, "101")
        self.connect("102", "103")
        self.x.call("100", "101")
        self.assertEqual(self.events()[-2:], ["Diverted 101@2 101>102", "Failed 100@2 fail"])

    def test_forwardingLoopRefused(self):
        """
        Immediate forwarding that would close a loop is refused.
        """
        self.forward("101", ForwardingType.forwardImmediate, "102")
        with self.assertRaises(CSTAError) as raised:
            self.model.setForwarding("102", ForwardingType.forwardImmediate, True, "101")
        self.assertEqual(str(raised.exception.failure), "operation.invalidForwardingDestination")

    def test_dndBusyTreatment(self):
        """
        Do not disturb gives callers busy treatment with cause doNotDisturb.
        """
        self.successResultOf(self.model.setDoNotDisturb("101", True))
        self.assertEqual(self.events(), ["DoNotDisturb 101"])
        self.assertTrue(self.model.getDoNotDisturb("101"))
        self.x.call("100", "101")
        events = self.x.recorder.take()
        self.assertEqual((events[-1].name, events[-1].cause), ("Failed", EventCause.doNotDisturb))

    def test_dndFollowsBusyForwarding(self):
        """
        Do not disturb follows forwarding on busy when it is set.
        """
        self.successResultOf(self.model.setDoNotDisturb("101", True))
        self.forward("101", ForwardingType.forwardBusy, "102")
        self.x.recorder.take()
        self.x.call("100", "101")
        self.assertEqual(self.events()[-2:], ["Diverted 101@1 101>102", "Delivered 102@1 alerting"])


class HuntGroupTests(ScenarioTestCase):
    def test_linear(self):
        """
        A linear group rings its first free member; after the group's
        no-answer time the call moves on to the next member.
        """
        self.x.addGroup("200", ["101", "102", "103"], HuntMode.linear)
        self.x.call("100", "200")
        self.assertEqual(self.events()[-1], "Delivered 101@1 alerting")
        self.x.clock.advance(15)
        self.assertEqual(self.events(), ["Diverted 101@1 101>102", "Delivered 102@1 alerting"])
        self.phone("102").answer()
        event = self.x.recorder.events[-1]
        self.assertEqual((event.name, event.calledDevice), ("Established", "200"))

    def test_linearSkipsBusy(self):
        """
        A busy member is skipped.
        """
        self.x.addGroup("200", ["101", "102"], HuntMode.linear)
        self.connect("101", "103")
        self.x.call("100", "200")
        self.assertEqual(self.events()[-1], "Delivered 102@2 alerting")

    def test_circular(self):
        """
        A circular group starts after the member that got the last call.
        """
        self.x.addGroup("200", ["101", "102", "103"], HuntMode.circular)
        self.x.call("100", "200")
        self.phone("101").answer()
        self.phone("101").hangUp()
        self.x.recorder.take()
        self.x.call("104", "200")
        self.assertEqual(self.events()[-1], "Delivered 102@2 alerting")

    def test_parallel(self):
        """
        A parallel group rings every free member; the first to answer gets
        the call and the others stop ringing.
        """
        self.x.addGroup("200", ["101", "102", "103"], HuntMode.parallel)
        self.x.call("100", "200")
        self.assertEqual(
            self.events()[-3:],
            ["Delivered 101@1 alerting", "Delivered 102@1 alerting", "Delivered 103@1 alerting"],
        )
        self.phone("102").answer()
        self.assertEqual(
            self.events(),
            [
                "Established 102@1 connected",
                "ConnectionCleared 101@1 null",
                "ConnectionCleared 103@1 null",
            ],
        )
        self.assertEqual(self.states("1"), {"100": S.connected, "102": S.connected})

    def test_queuedUntilMemberFree(self):
        """
        When every member is busy the call waits at the group (Queued) and
        is delivered when a member becomes free.
        """
        self.x.addGroup("200", ["101"], HuntMode.linear)
        a, b = self.connect("101", "102")
        self.x.call("100", "200")
        self.assertEqual(self.events()[-1], "Queued 200@2 queued")
        self.phone("102").hangUp()
        self.assertEqual(
            self.events()[-2:], ["Diverted 200@2 200>101", "Delivered 101@2 alerting"]
        )


class TrunkTests(ScenarioTestCase):
    def setUp(self):
        super().setUp()
        plan = DialPlan(
            trunkAccessCode="0",
            routes=(Route(pattern="X.", trunkGroup="carrier"),),
        )
        self.model.dialPlan = plan
        self.x.addDevice(
            Device("801", type=DeviceType.trunk, port="virtual-phones", trunkGroup="carrier")
        )

    def test_outgoing(self):
        """
        An external number leaves through a trunk: NetworkReached, then
        Delivered and Established as the network reports them.
        """
        self.x.call("100", "0301234")
        self.assertEqual(
            self.events()[2:],
            ["NetworkReached 801@1 null", "Delivered 801@1 alerting"],
        )
        self.phone("801").answer()
        event = self.x.recorder.events[-1]
        self.assertEqual((event.name, event.answeringDevice), ("Established", "301234"))

    def test_noTrunkFree(self):
        """
        With every trunk of the group busy the call fails with trunksBusy.
        """
        self.x.call("100", "0301234")
        self.x.call("101", "0301235")
        event = self.x.recorder.events[-1]
        self.assertEqual((event.name, event.cause), ("Failed", EventCause.trunksBusy))

    def test_emergencyWithoutRouteUsesAnyTrunk(self):
        """
        An emergency number that no route covers leaves through any free
        trunk, whatever its group.
        """
        self.model.dialPlan = DialPlan(trunkAccessCode="0", routes=())
        self.x.call("100", "112")
        event = self.x.recorder.events[-2]
        self.assertEqual((event.name, event.calledDevice), ("NetworkReached", "112"))


    def test_heldTrunkStaysBusy(self):
        """
        A trunk channel whose call is on hold still carries it: the next
        external call finds no free trunk.
        """
        a = self.x.call("100", "0301234")
        self.phone("801").answer()
        self.model.holdCall(a.id)
        self.x.call("101", "0301235")
        event = self.x.recorder.events[-1]
        self.assertEqual((event.name, event.cause), ("Failed", EventCause.trunksBusy))

class ServiceStateTests(ScenarioTestCase):
    def test_outOfServiceAndBack(self):
        """
        A phone that goes out of service drops its call (OutOfService), is
        treated as unreachable by callers (destOutOfOrder), and reports
        BackInService when it returns.
        """
        self.connect("100", "101")
        self.phone("101").unplug()
        self.assertEqual(
            self.events(),
            [
                "ConnectionCleared 101@1 null",
                "ConnectionCleared 100@1 null",
                "CallCleared 1",
                "OutOfService 101",
            ],
        )
        self.x.call("102", "101")
        event = self.x.recorder.events[-1]
        self.assertEqual((event.name, event.cause), ("Failed", EventCause.destOutOfOrder))
        self.phone("102").hangUp()
        self.x.recorder.take()
        self.phone("101").plugIn()
        self.assertEqual(self.events(), ["BackInService 101"])
        self.x.call("102", "101")
        self.assertEqual(self.events()[-1], "Delivered 101@3 alerting")
