"""
Property tests of the call model: random sequences of ECMA-269 services and
of what virtual phones do (lift the handset, dial, answer, reject, hang up,
hold keys, unplug) on five phones, a trunk and three hunt groups, with
forwarding, do not disturb and the clock moving, never leave the model in an
impossible state, and every call that ends says so.

The invariants read private attributes of the model (C{_calls},
C{_byDevice}, C{_queues}, C{_callIDs}): they pin the model's own bookkeeping,
which no public service shows whole.
"""

from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from twisted.python.failure import Failure
from twisted.trial.unittest import SynchronousTestCase

from oso.callmodel import events as ev
from oso.callmodel.causes import EventCause
from oso.callmodel.devices import Device, DeviceType, ForwardingType, HuntMode
from oso.callmodel.dialplan import DialPlan, DIDRange, Route
from oso.callmodel.errors import CSTAError, UniversalFailure
from oso.callmodel.ids import ConnectionID
from oso.callmodel.states import LIVE_STATES
from oso.callmodel.states import LocalConnectionState as S
from oso.testing import Exchange

PORT = "virtual-phones"
STATIONS = ("100", "101", "102", "103", "104")
TRUNK = "801"
TERMINALS = STATIONS + (TRUNK,)
GROUPS = {
    "200": (("101", "102", "103"), HuntMode.linear),
    "201": (("102", "103", "104"), HuntMode.parallel),
    "202": (("100", "103", "104"), HuntMode.circular),
}
#: Stations in pickup group 1 (104 is in none).
PICKUP_GROUP = ("100", "101", "102", "103")
DID_PREFIX = "4930555"
DEVICES = STATIONS + tuple(GROUPS) + (TRUNK, "999")
DESTINATIONS = STATIONS + tuple(GROUPS) + ("0301234", "112", "999", "1", "")
DIALLED = ("", "1", "10", "0", "0301234") + STATIONS + tuple(GROUPS) + ("999", "112")
INCOMING = (DID_PREFIX + "101", DID_PREFIX + "200", DID_PREFIX + "201", DID_PREFIX + "999", "")
FORWARD_TO = STATIONS + tuple(GROUPS) + ("0301234", "999", None)
PICKUP_TARGETS = STATIONS + (TRUNK,)
TWO_CALL_SERVICES = ("alternateCall", "reconnectCall", "transferCall", "conferenceCall")
#: The services that cannot succeed without telling a terminal.
TERMINAL_SERVICES = (
    "makeCall", "answerCall", "holdCall", "retrieveCall", "consultationCall",
    "alternateCall", "reconnectCall", "conferenceCall", "generateDigits",
    "directedPickupCall", "groupPickupCall",
)
INDEX = st.integers(min_value=0, max_value=63)


def callOrder(connectionID):
    return (int(connectionID.callID), connectionID.deviceID)


def settled(deferred):
    """
    @return: the result of a Deferred that must have fired successfully
        (the memory store answers at once).
    """
    results = []
    deferred.addBoth(results.append)
    assert results, "a feature change against the memory store did not finish"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def makeExchange():
    """
    @return: an L{Exchange} with the stations, groups, trunk and dial plan
        the machine plays with.
    """
    plan = DialPlan(
        trunkAccessCode="0",
        routes=(Route(pattern="X.", trunkGroup="carrier"),),
        dids=(DIDRange(DID_PREFIX),),
    )
    x = Exchange(stations=(), dialPlan=plan)
    for number in STATIONS:
        x.addDevice(
            Device(number, port=PORT, pickupGroup=1 if number in PICKUP_GROUP else None)
        )
    for number, (members, mode) in GROUPS.items():
        x.addGroup(number, members, mode)
    x.addDevice(Device(TRUNK, type=DeviceType.trunk, port=PORT, trunkGroup="carrier"))
    return x


class CallModelMachine(RuleBasedStateMachine):
    """
    One exchange driven at random.  After every step the model's calls,
    connections and indexes must agree with each other, with the virtual
    phones and with what its events have told an observer.

    @ivar mirror: C{{ConnectionID: state}} as an observer rebuilds it from
        the events alone.
    """

    def __init__(self):
        super().__init__()
        self.x = makeExchange()
        self.model = self.x.model
        self.mirror = {}
        self.processed = 0
        self.cleared = Counter()
        self.merged = Counter()

    # Choosing what to act on.

    def liveIDs(self):
        return sorted(
            (c.id for call in self.model.calls() for c in call.connections.values()),
            key=callOrder,
        )

    def pickID(self, index, stale):
        """
        A live connection id, or (when C{stale}) any id an event ever named,
        which may be long gone.
        """
        ids = sorted(self.everSeen(), key=callOrder) if stale else self.liveIDs()
        return ids[index % len(ids)] if ids else ConnectionID("1", "100")

    def everSeen(self):
        seen = set()
        for event in self.x.recorder.events:
            for name in ("connection", "primaryOldCall", "secondaryOldCall"):
                value = getattr(event, name, None)
                if isinstance(value, ConnectionID):
                    seen.add(value)
        return seen

    def service(self, name, *args, mustFail=False):
        """
        Call a service.  A refusal must be a L{CSTAError} and must change
        nothing: no event, no connection, no feature.

        @param mustFail: the service may not succeed.
        """
        before = self.picture()
        count = len(self.x.recorder.events)
        try:
            result = getattr(self.model, name)(*args)
        except CSTAError:
            assert self.x.recorder.events[count:] == [], f"refused {name}{args} emitted events"
            assert self.picture() == before, f"refused {name}{args} changed the model"
            return None
        assert not mustFail, f"{name}{args} succeeded"
        return result

    def picture(self):
        calls = {
            call.id: tuple(
                (c.device, c.state, c.origination) for c in call.connections.values()
            )
            for call in self.model.calls()
        }
        features = {d.number: d.features for d in self.model.devices()}
        return calls, features

    def phone(self, number):
        return self.x.phone(number)

    # Services.

    @rule(caller=st.sampled_from(DEVICES), called=st.sampled_from(DESTINATIONS),
          autoOriginate=st.booleans())
    def makeCall(self, caller, called, autoOriginate):
        self.service("makeCall", caller, called, autoOriginate)

    @rule(i=INDEX, stale=st.booleans(),
          name=st.sampled_from(("answerCall", "clearConnection", "holdCall", "retrieveCall")))
    def oneConnectionService(self, i, stale, name):
        self.service(name, self.pickID(i, stale))

    @rule(i=INDEX, stale=st.booleans())
    def clearCall(self, i, stale):
        self.service("clearCall", self.pickID(i, stale).callID)

    @rule(i=INDEX, stale=st.booleans(), to=st.sampled_from(DESTINATIONS),
          name=st.sampled_from(("consultationCall", "singleStepTransferCall", "deflectCall")))
    def serviceWithDestination(self, i, stale, to, name):
        self.service(name, self.pickID(i, stale), to)

    @rule(device=st.sampled_from(TERMINALS), i=INDEX, j=INDEX,
          name=st.sampled_from(TWO_CALL_SERVICES))
    def twoCallsAtOneDevice(self, device, i, j, name):
        """
        The services that join or swap two calls, on two connections of
        one device (the case where they can succeed).
        """
        ids = sorted((cid for cid, _ in self.model.snapshotDevice(device)), key=callOrder)
        if ids:
            self.service(name, ids[i % len(ids)], ids[j % len(ids)])

    @rule(i=INDEX, j=INDEX, stale=st.booleans(), name=st.sampled_from(TWO_CALL_SERVICES))
    def twoCallsAnywhere(self, i, j, stale, name):
        self.service(name, self.pickID(i, stale), self.pickID(j, False))

    @rule(device=st.sampled_from(TERMINALS), i=INDEX, j=INDEX,
          name=st.sampled_from(TERMINAL_SERVICES), other=st.sampled_from(DEVICES))
    def portGone(self, device, i, j, name, other):
        """
        While the port driver is unregistered, a service that must tell a
        terminal something is refused, and changes nothing.
        """
        ids = sorted((cid for cid, _ in self.model.snapshotDevice(device)), key=callOrder)
        a, b = (ids[i % len(ids)], ids[j % len(ids)]) if ids else (None, None)
        args = {
            "makeCall": (device, other),
            "consultationCall": (a, other),
            "generateDigits": (a, "1"),
            "directedPickupCall": (other, device),
            "groupPickupCall": (device,),
        }.get(name, (a, b) if name in TWO_CALL_SERVICES else (a,))
        self.model.unregisterPort(PORT)
        try:
            self.service(name, *args, mustFail=True)
        finally:
            self.model.registerPort(self.x.phones)

    @rule(i=INDEX, digits=st.sampled_from(("1", "12#*", "x1", "")))
    def generateDigits(self, i, digits):
        self.service("generateDigits", self.pickID(i, False), digits)

    @rule(ringing=st.sampled_from(PICKUP_TARGETS), byConnection=st.booleans(), i=INDEX,
          requester=st.sampled_from(DEVICES))
    def directedPickup(self, ringing, byConnection, i, requester):
        self.service(
            "directedPickupCall", self.pickID(i, False) if byConnection else ringing, requester
        )

    @rule(requester=st.sampled_from(DEVICES))
    def groupPickup(self, requester):
        self.service("groupPickupCall", requester)

    @rule(device=st.sampled_from(STATIONS + tuple(GROUPS)),
          kind=st.sampled_from(list(ForwardingType)), activate=st.booleans(),
          to=st.sampled_from(FORWARD_TO))
    def setForwarding(self, device, kind, activate, to):
        result = self.service("setForwarding", device, kind, activate, to)
        if result is not None:
            settled(result)
            expected = to if activate else None
            assert self.model.device(device).features.forwardingFor(kind) == expected

    @rule(device=st.sampled_from(STATIONS), on=st.booleans())
    def setDoNotDisturb(self, device, on):
        settled(self.service("setDoNotDisturb", device, on))
        assert self.model.getDoNotDisturb(device) is on

    @rule(device=st.sampled_from(TERMINALS))
    def snapshotDevice(self, device):
        snapshot = self.model.snapshotDevice(device)
        mine = {
            (c.id, c.state) for c in self.model._byDevice.get(device, ()) if c.state is not S.null
        }
        assert len(snapshot) == len(mine) and set(snapshot) == mine

    # What phones do.

    def busyPhone(self, phone, but=None):
        return any(c.state is not S.hold for c in phone.connections if c is not but)

    @rule(number=st.sampled_from(STATIONS), digits=st.sampled_from(DIALLED))
    def offHook(self, number, digits):
        """
        A phone goes off-hook only when it is not using its line (all its
        calls, if any, are held), as a real phone does.
        """
        phone = self.phone(number)
        if phone.pluggedIn and not self.busyPhone(phone):
            phone.offHook(digits)

    @rule(did=st.sampled_from(INCOMING))
    def incoming(self, did):
        """
        A call comes in on the trunk.  No event announces the network's
        connection (ECMA-269 reports the called side), so the observer
        learns of it here.
        """
        phone = self.phone(TRUNK)
        if phone.pluggedIn and not self.busyPhone(phone):
            count = len(self.x.recorder.events)
            connection = phone.offHook(did)
            assert self.processed == count
            self.mirror[connection.id] = S.connected

    @rule(number=st.sampled_from(STATIONS), digits=st.sampled_from(("0", "1", "3", "9")))
    def dial(self, number, digits):
        phone = self.phone(number)
        if any(c.state is S.initiated for c in phone.connections):
            phone.dial(digits)

    @rule(number=st.sampled_from(TERMINALS), i=INDEX,
          action=st.sampled_from(("answer", "reject", "hangUp")))
    def phoneAction(self, number, i, action):
        phone = self.phone(number)
        if phone.connections:
            getattr(phone, action)(phone.connections[i % len(phone.connections)])

    @rule(number=st.sampled_from(STATIONS))
    def pressHold(self, number):
        phone = self.phone(number)
        connected = [c for c in phone.connections if c.state is S.connected]
        if connected:
            phone.pressHold(connected[-1])

    @rule(number=st.sampled_from(STATIONS), i=INDEX)
    def pressRetrieve(self, number, i):
        """
        The retrieve key takes a held call back while the phone uses its
        line for nothing else.
        """
        phone = self.phone(number)
        held = [c for c in phone.connections if c.state is S.hold]
        if held:
            connection = held[i % len(held)]
            if not self.busyPhone(phone, but=connection):
                phone.pressRetrieve(connection)

    @rule(number=st.sampled_from(TERMINALS), refuse=st.booleans())
    def refuseCalls(self, number, refuse):
        self.phone(number).refuseCalls = EventCause.busy if refuse else None

    @rule(number=st.sampled_from(STATIONS), after=st.sampled_from((None, 3, 20)))
    def autoAnswer(self, number, after):
        self.phone(number).autoAnswerAfter = after

    @rule(number=st.sampled_from(TERMINALS), plug=st.booleans())
    def cable(self, number, plug):
        phone = self.phone(number)
        if plug and not phone.pluggedIn:
            phone.plugIn()
        elif not plug and phone.pluggedIn:
            phone.unplug()

    @rule(seconds=st.sampled_from((1, 3, 15, 16, 31)))
    def advance(self, seconds):
        self.x.clock.advance(seconds)

    # Invariants.

    @invariant()
    def eventsTellTheTruth(self):
        """
        Sequence numbers go up by one; an observer that applies each event
        to its picture of the connections sees exactly the model's
        connections and states (null ones excepted: a pending offer is not
        yet part of the call); a call is cleared once, after its last
        connection.
        """
        events = self.x.recorder.events
        for event in events[self.processed:]:
            assert event.seq == self.processed + 1, (event.seq, self.processed)
            self.processed += 1
            self.apply(event)
        live = {
            c.id: c.state
            for call in self.model.calls()
            for c in call.connections.values()
            if c.state is not S.null
        }
        assert self.mirror == live, (self.mirror, live, events[-20:])

    def apply(self, event):
        """
        Change the observer's picture as C{event} says.  Conferenced names
        no state for the conferencing device: its held connection is
        connected again (ECMA-269 conference leaves it talking).  A
        Diverted event may name the connection of a device the call never
        reached (immediate forwarding); every other connection an event
        ends must be one the observer knows.
        """
        if isinstance(event, ev.CallCleared):
            cid = event.clearedCall
            self.cleared[cid] += 1
            assert self.cleared[cid] == 1, f"call {cid} cleared twice"
            assert self.merged[cid] == 0, f"call {cid} cleared after it was merged"
            assert cid not in self.model._calls
            left = [c for c in self.mirror if c.callID == cid]
            assert left == [], f"call {cid} cleared with {left} still in it"
        elif isinstance(event, (ev.Transferred, ev.Conferenced)):
            if event.secondaryOldCall is not None:
                del self.mirror[event.secondaryOldCall]
                self.merged[event.secondaryOldCall.callID] += 1
            if isinstance(event, ev.Transferred):
                del self.mirror[event.primaryOldCall]
                pairs = event.transferredConnections
            else:
                self.mirror[event.primaryOldCall] = S.connected
                pairs = event.conferenceConnections
            moved = {old: self.mirror.pop(old) for old, new in pairs}
            for old, new in pairs:
                self.mirror[new] = moved[old]
        elif isinstance(event, ev.Diverted):
            self.mirror.pop(event.connection, None)
        elif isinstance(event, ev.ConnectionCleared):
            del self.mirror[event.connection]
        elif isinstance(event, ev.CallEvent) and event.localConnectionInfo is not S.null:
            self.mirror[event.connection] = event.localConnectionInfo

    @invariant()
    def connectionsMakeSense(self):
        """
        Every live call has connections, each belonging to it, at most one
        per device, in a state its device and call allow; C{_byDevice}
        indexes exactly these connections.  While a call hunts, the members
        it rings are exactly its alerting connections (so an answer stops
        them all), and none rings while it waits in the group's queue.
        """
        byDevice = {}
        for call in self.model.calls():
            assert self.model._calls[call.id] is call
            assert call.ended is None
            assert call.connections, f"call {call.id} has no connection"
            states = Counter(c.state for c in call.connections.values())
            for device, conn in call.connections.items():
                assert conn.call is call and conn.device == device and not conn.ended
                byDevice.setdefault(device, set()).add(conn)
                assert conn.state in LIVE_STATES, f"{conn!r} outside any pending offer"
                if conn.origination:
                    assert conn.state is S.initiated, conn
                kind = self.model.device(device).type
                assert (conn.state is S.queued) == (kind is DeviceType.group), conn
                if conn.state is S.queued:
                    assert call.hunt is not None and call.hunt.queued is conn
                    assert self.model._queues[device].count(call) == 1
                if conn.state in (S.initiated, S.fail):
                    assert len(call.connections) == 1, f"{conn!r} in {call.connections}"
                if conn.state is S.alerting:
                    assert states[S.connected] + states[S.hold] >= 1, call.connections
            if states[S.connected] + states[S.hold]:
                assert len(call.connections) >= 2, call.connections
            if call.hunt is not None:
                alerting = {c for c in call.connections.values() if c.state is S.alerting}
                ringing = {c for c in call.hunt.ringing if not c.ended}
                assert alerting == (set() if call.hunt.queued else ringing), (call, alerting)
        indexed = {n: set(conns) for n, conns in self.model._byDevice.items() if conns}
        assert indexed == byDevice
        for group, queue in self.model._queues.items():
            for call in queue:
                assert call.hunt.queued is call.connections.get(group)

    @invariant()
    def oneLinePerDevice(self):
        """
        A station or trunk uses its line for at most one call at a time:
        all its other connections are on hold.  (There is no exception for
        a conference: the conferencing device has one connection in it.)
        Hence two connected connections never share a device.  A group
        holds only queued connections, as many as calls wait.
        """
        for number, conns in self.model._byDevice.items():
            if number in GROUPS:
                continue
            using = [c for c in conns if c.state is not S.hold]
            assert len(using) <= 1, f"device {number} uses its line for {using}"

    @invariant()
    def phonesAgree(self):
        """
        Each plugged-in virtual phone holds exactly the connections the
        model has at its device, and plays a tone on exactly those that
        failed; an unplugged one holds none.
        """
        for number in TERMINALS:
            phone = self.phone(number)
            mine = set(phone.connections)
            model = set(self.model._byDevice.get(number, ()))
            assert mine == (model if phone.pluggedIn else set()), (number, mine, model)
            failed = {c for c in model if c.state is S.fail}
            assert set(phone.tone) == failed, (number, phone.tone, failed)

    def teardown(self):
        """
        ClearCall every call left; then every call id ever given out was
        either cleared by exactly one CallCleared or merged into another
        call by exactly one Transferred/Conferenced naming it as
        secondaryOldCall, and nothing is left: no call, connection, queue
        or timer.
        """
        for _ in range(50):
            calls = self.model.calls()
            if not calls:
                break
            self.model.clearCall(calls[0].id)
            self.eventsTellTheTruth()
            self.connectionsMakeSense()
        assert self.model.calls() == []
        issued = int(next(self.model._callIDs))
        everyCall = {str(n) for n in range(1, issued)}
        endings = self.cleared + self.merged
        assert set(endings) <= everyCall
        assert {cid: endings[cid] for cid in everyCall} == dict.fromkeys(everyCall, 1)
        assert not any(self.model._byDevice.values())
        assert not any(self.model._queues.values())
        assert all(self.phone(n).connections == [] for n in TERMINALS)
        assert self.x.clock.getDelayedCalls() == []


CallModelMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class TestCallModelProperties(CallModelMachine.TestCase):
    """
    Random sequences of services and phone actions keep every connection in
    a possible state, events true, and end every call with one CallCleared
    (or one merge).
    """


def brief(event):
    """
    An event as C{"Name subject state"} (C{"CallCleared id"},
    C{"Transferred primary secondary"}, C{"Name device"}).
    """
    if isinstance(event, ev.CallCleared):
        return f"CallCleared {event.clearedCall}"
    if isinstance(event, ev.Transferred):
        return f"Transferred {event.primaryOldCall} {event.secondaryOldCall}"
    if isinstance(event, ev.DeviceEvent):
        return f"{event.name} {event.device}"
    return f"{event.name} {event.connection} {event.localConnectionInfo.name}"


class FoundByThePropertiesTests(SynchronousTestCase):
    """
    The smallest cases of what the property test found, kept as plain
    examples.
    """

    def setUp(self):
        self.x = makeExchange()
        self.model = self.x.model

    def states(self):
        return {
            call.id: {d: c.state for d, c in call.connections.items()}
            for call in self.model.calls()
        }

    def events(self):
        return [brief(e) for e in self.x.recorder.take()]

    def test_rejectingPhoneForgetsTheCall(self):
        """
        A virtual phone that rejects a ringing call no longer holds it.
        """
        self.x.call("100", "101")
        self.x.phone("101").reject()
        self.assertEqual(self.x.phone("101").connections, [])

    def test_parallelGroupMemberRefusesFirst(self):
        """
        When the first member of a parallel group refuses at once, every
        other free member is offered the call once: one Delivered and one
        connection each.
        """
        self.x.phone("102").refuseCalls = EventCause.busy
        self.x.call("100", "201")
        self.assertEqual(
            self.events(),
            [
                "ServiceInitiated 100@1 initiated",
                "Originated 100@1 connected",
                "Delivered 103@1 alerting",
                "Delivered 104@1 alerting",
            ],
        )
        self.assertEqual(
            self.states(), {"1": {"100": S.connected, "103": S.alerting, "104": S.alerting}}
        )
        self.assertEqual([len(self.x.phone(n).connections) for n in ("103", "104")], [1, 1])

    def test_groupSkipsAMemberAlreadyInTheCall(self):
        """
        A hunt group never offers a call to a member that is already a party
        of it (here on hold): single-step transfer of 103's held call to a
        parallel group of 102, 103 and 104 rings 102 and 104.
        """
        self.model.makeCall("103", "101", autoOriginate=True)
        self.x.phone("101").answer()
        self.x.phone("103").pressHold()
        self.x.recorder.take()
        self.model.singleStepTransferCall(ConnectionID("1", "101"), "201")
        self.assertEqual(
            self.events(),
            ["Transferred 101@1 None", "Delivered 102@1 alerting", "Delivered 104@1 alerting"],
        )
        self.assertEqual(
            self.states(), {"1": {"103": S.hold, "102": S.alerting, "104": S.alerting}}
        )

    def test_singleStepTransferToTheOtherParty(self):
        """
        Single-step transfer of a call to the number of its other party is
        refused with invalidDestination and changes nothing.
        """
        self.x.call("100", "101")
        self.x.phone("101").answer()
        self.x.phone("100").pressHold()
        self.x.recorder.take()
        with self.assertRaises(CSTAError) as raised:
            self.model.singleStepTransferCall(ConnectionID("1", "101"), "100")
        self.assertEqual(raised.exception.failure, UniversalFailure("operation", "invalidDestination"))
        self.assertEqual(self.events(), [])
        self.assertEqual(self.states(), {"1": {"100": S.hold, "101": S.connected}})

    def test_pickupOfOnesOwnHeldCall(self):
        """
        A device cannot pick up a call it is already a party of (here it
        holds the call that rings elsewhere): directed pickup is refused
        with invalidDeviceState, group pickup finds no call to answer.
        """
        self.model.makeCall("103", "100", autoOriginate=True)
        self.x.phone("103").pressHold()
        self.x.recorder.take()
        before = self.states()
        with self.assertRaises(CSTAError) as directed:
            self.model.directedPickupCall("100", "103")
        with self.assertRaises(CSTAError) as group:
            self.model.groupPickupCall("103")
        self.assertEqual(
            (directed.exception.failure, group.exception.failure),
            (
                UniversalFailure("stateIncompatibility", "invalidDeviceState"),
                UniversalFailure("stateIncompatibility", "noCallToAnswer"),
            ),
        )
        self.assertEqual(self.events(), [])
        self.assertEqual(self.states(), before)

    def test_dialOwnNumberWithForwarding(self):
        """
        A phone that dials its own number gets busy treatment even when the
        number forwards: no Diverted event names the caller's own
        connection as gone.
        """
        settled(self.model.setForwarding("100", ForwardingType.forwardImmediate, True, "101"))
        self.x.recorder.take()
        self.x.call("100", "100")
        self.assertEqual(
            self.events(),
            ["ServiceInitiated 100@1 initiated", "Originated 100@1 connected", "Failed 100@1 fail"],
        )
        self.assertEqual(self.states(), {"1": {"100": S.fail}})

    def test_heldCallerWhoseCallFails(self):
        """
        When a call fails while its caller holds it (the called device
        refuses it during a consultation), the call is cleared instead of
        putting a second connection of the device in the fail state.
        """
        self.model.makeCall("103", "102", autoOriginate=True)
        self.model.consultationCall(ConnectionID("1", "103"), "100")
        self.x.recorder.take()
        self.x.phone("102").reject()
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 102@1 null", "ConnectionCleared 103@1 null", "CallCleared 1"],
        )
        self.assertEqual(self.states(), {"2": {"103": S.connected, "100": S.alerting}})

    def test_unpluggedPhoneGetsNoQueuedCall(self):
        """
        A phone whose cable is pulled is out of service while its calls
        drop: a call queued at its group is not offered to it meanwhile.
        """
        self.x.phone("100").unplug()
        self.x.phone("104").offHook()
        self.x.call("103", "202")
        self.x.recorder.take()
        self.x.phone("104").unplug()
        self.assertEqual(
            self.events(),
            ["ConnectionCleared 104@1 null", "CallCleared 1", "OutOfService 104"],
        )
        self.assertEqual(self.x.phone("104").connections, [])
        self.assertEqual(self.states(), {"2": {"103": S.connected, "202": S.queued}})

    def test_deflectOneLegOfAParallelGroupCall(self):
        """
        A member that deflects a parallel group call takes it out of the
        group: the other members stop ringing, and an answer at the new
        destination leaves nothing ringing or queued.
        """
        self.x.call("100", "201")
        self.x.recorder.take()
        self.model.deflectCall(ConnectionID("1", "103"), "101")
        self.assertEqual(
            self.events(),
            [
                "ConnectionCleared 102@1 null",
                "ConnectionCleared 104@1 null",
                "Diverted 103@1 null",
                "Delivered 101@1 alerting",
            ],
        )
        self.x.phone("101").answer()
        self.assertEqual(self.states(), {"1": {"100": S.connected, "101": S.connected}})

    def test_deflectToItsOwnGroup(self):
        """
        A member that deflects a parallel group call back to the group
        starts a new hunt: the group does not queue the call while another
        member still rings it, and an answer leaves nothing queued.
        """
        self.x.call("104", "201")
        self.x.phone("103").refuseCalls = EventCause.busy
        self.model.deflectCall(ConnectionID("1", "103"), "201")
        self.assertEqual(self.states(), {"1": {"104": S.connected, "102": S.alerting}})
        self.model.groupPickupCall("100")
        self.assertEqual(self.states(), {"1": {"104": S.connected, "100": S.connected}})
        self.assertFalse(any(self.model._queues.values()))

    def test_callNotSentOutOnTheTrunkItCameIn(self):
        """
        A call is never sent to the network on a trunk that is already in
        it (here the incoming trunk, held): with no other trunk the
        deflection to an external number finds the trunks busy, and as the
        held caller hears nothing the call is cleared.
        """
        self.x.phone(TRUNK).offHook(DID_PREFIX + "101")
        self.model.holdCall(ConnectionID("1", TRUNK))
        self.x.recorder.take()
        self.model.deflectCall(ConnectionID("1", "101"), "0301234")
        self.assertEqual(
            self.events(),
            ["Diverted 101@1 null", "ConnectionCleared 801@1 null", "CallCleared 1"],
        )
        self.assertEqual(self.states(), {})
