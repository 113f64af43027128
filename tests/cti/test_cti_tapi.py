"""
Tests for L{oso.cti.callstates} (TAPI call states from CSTA events, no
sockets) and L{oso.cti.tapi} (lines and calls over a real CSTA link on
loopback, with virtual phones, in BER and XML).
"""

from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import serverFromString
from twisted.trial.unittest import TestCase

from oso.callmodel.causes import EventCause as E
from oso.callmodel.errors import CSTAError
from oso.callmodel.ids import ConnectionID as C
from oso.csta import messages as m
from oso.csta.callcontrol import CallControl
from oso.csta.framing import Encoding
from oso.csta.monitors import Monitors
from oso.csta.protocol import CSTAFactory
from oso.cti.callstates import CallState as S
from oso.cti.callstates import LineStates
from oso.cti.client import ClientSettings
from oso.cti.protocol import connect
from oso.cti.tapi import Line
from oso.testing import Exchange

X = "1"
UNKNOWN = m.DeviceIDStatus.notKnown


def initiated(device, call, cause=E.newCall):
    return m.ServiceInitiatedEvent(
        monitorCrossRefID=X, initiatedConnection=C(call, device), initiatingDevice=device, cause=cause
    )


def originated(device, call, called):
    return m.OriginatedEvent(
        monitorCrossRefID=X, originatedConnection=C(call, device), callingDevice=device,
        calledDevice=called, cause=E.newCall,
    )


def delivered(calling, called, call):
    return m.DeliveredEvent(
        monitorCrossRefID=X, connection=C(call, called), alertingDevice=called, callingDevice=calling,
        calledDevice=called, lastRedirectionDevice=UNKNOWN, cause=E.newCall,
    )


def established(calling, called, call):
    return m.EstablishedEvent(
        monitorCrossRefID=X, establishedConnection=C(call, called), answeringDevice=called,
        callingDevice=calling, calledDevice=called, lastRedirectionDevice=UNKNOWN, cause=E.newCall,
    )


def held(device, call):
    return m.HeldEvent(monitorCrossRefID=X, heldConnection=C(call, device), holdingDevice=device, cause=E.newCall)


def retrieved(device, call):
    return m.RetrievedEvent(
        monitorCrossRefID=X, retrievedConnection=C(call, device), retrievingDevice=device, cause=E.newCall
    )


def cleared(device, call):
    return m.ConnectionClearedEvent(
        monitorCrossRefID=X, droppedConnection=C(call, device), releasingDevice=device,
        cause=E.normalClearing,
    )


def callCleared(call):
    return m.CallClearedEvent(monitorCrossRefID=X, clearedCall=C(call, None), cause=E.normalClearing)


def entry(device, old, new):
    return m.ConnectionListEntry(oldConnection=C(old, device), newConnection=C(new, device), endpoint=device)


def states(line, events):
    """
    Feed C{events} to a L{LineStates} of C{line}.

    @return: the C{(call id, state name)} changes, in order.
    """
    machine = LineStates(line)
    return [(c.callID, c.state.value) for e in events for c in machine.feed(e)]


BASIC = [
    initiated("100", "1"), originated("100", "1", "101"), delivered("100", "101", "1"),
    established("100", "101", "1"), cleared("100", "1"), callCleared("1"),
]


def test_basicCall_caller():
    assert states("100", BASIC) == [
        ("1", "dialtone"), ("1", "dialing"), ("1", "ringback"), ("1", "connected"), ("1", "idle"),
    ]


def test_basicCall_called():
    """
    The called line sees the call from Delivered; the far end's clearing
    is TAPI's disconnected, its own idle.
    """
    events = BASIC[2:5] + [cleared("101", "1"), callCleared("1")]
    assert states("101", events) == [("1", "offering"), ("1", "connected"), ("1", "disconnected"), ("1", "idle")]


def test_holdRetrieve():
    events = BASIC[:4] + [held("100", "1"), retrieved("100", "1")]
    assert states("100", events)[-2:] == [("1", "onhold"), ("1", "connected")]
    # The other party's line sees its call stay connected.
    assert states("101", BASIC[2:4] + [held("100", "1"), retrieved("100", "1")]) == [
        ("1", "offering"), ("1", "connected"),
    ]


def test_consultationTransfer():
    transferred = m.TransferedEvent(
        monitorCrossRefID=X, primaryOldCall=C("1", "100"), secondaryOldCall=C("2", "100"),
        transferringDevice="100", transferredToDevice="102",
        transferredConnections=(entry("101", "1", "1"), entry("102", "2", "1")), cause=E.transfer,
    )
    consult = [
        held("100", "1"), initiated("100", "2", E.consultation), originated("100", "2", "102"),
        delivered("100", "102", "2"), established("100", "102", "2"),
    ]
    assert states("100", BASIC[:4] + consult + [transferred])[4:] == [
        ("1", "onhold"), ("1", "onholdpendtransfer"), ("2", "dialtone"), ("2", "dialing"),
        ("2", "ringback"), ("2", "connected"), ("1", "idle"), ("2", "idle"),
    ]
    # The consulted party's call 2 becomes the transferred call 1.
    assert states("102", consult[3:] + [transferred]) == [
        ("2", "offering"), ("2", "connected"), ("2", "idle"), ("1", "connected"),
    ]


def test_conference():
    conferenced = m.ConferencedEvent(
        monitorCrossRefID=X, primaryOldCall=C("1", "100"), secondaryOldCall=C("2", "100"),
        conferencingDevice="100", addedParty="102",
        conferenceConnections=(entry("100", "1", "1"), entry("101", "1", "1"), entry("102", "2", "1")),
        cause=E.newCall,
    )
    consult = [held("100", "1"), initiated("100", "2", E.consultation), established("100", "102", "2")]
    assert states("100", BASIC[:4] + consult + [conferenced])[-2:] == [("2", "idle"), ("1", "conferenced")]
    assert states("101", BASIC[2:4] + [conferenced]) == [("1", "offering"), ("1", "connected"), ("1", "conferenced")]


def test_busyAndFailed():
    def failed(cause):
        return m.FailedEvent(
            monitorCrossRefID=X, failedConnection=C("1", "100"), failingDevice="101", callingDevice="100",
            calledDevice="101", lastRedirectionDevice=UNKNOWN, cause=cause,
        )

    assert states("100", BASIC[:2] + [failed(E.busy)])[-1] == ("1", "busy")
    assert states("100", BASIC[:2] + [failed(E.doNotDisturb)])[-1] == ("1", "disconnected")


def test_forwarding():
    """
    A call diverted away from the line is idle there; the caller keeps
    ringing back while the new destination rings.
    """
    diverted = m.DivertedEvent(
        monitorCrossRefID=X, connection=C("1", "101"), divertingDevice="101", newDestination="102",
        lastRedirectionDevice=UNKNOWN, cause=E.callForwardImmediate,
    )
    assert states("101", [delivered("100", "101", "1"), diverted]) == [("1", "offering"), ("1", "idle")]
    assert states("100", BASIC[:3] + [diverted, delivered("100", "102", "1")]) == [
        ("1", "dialtone"), ("1", "dialing"), ("1", "ringback"),
    ]


class LineTests(TestCase):
    """
    L{Line}s on a real CSTA server over loopback TCP.
    """

    async def serve(self):
        self.exchange = Exchange()
        factory = CSTAFactory(reactor, self.exchange.model)
        CallControl(self.exchange.model).register(factory.services)
        monitors = Monitors(self.exchange.model)
        monitors.register(factory.services)
        monitors.startService()
        self.addCleanup(monitors.stopService)
        port = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(factory)
        self.addCleanup(self.stop, port, factory)
        return f"tcp:127.0.0.1:{port.getHost().port}"

    async def stop(self, port, factory):
        await port.stopListening()
        for protocol in list(factory.links):
            protocol.transport.abortConnection()

    async def lines(self, encoding, *devices):
        client = await connect(reactor, await self.serve(), ClientSettings(encoding=encoding))
        self.addCleanup(client.abort)
        lines = [await Line(client, d).open() for d in devices]
        self.changes = {d: [] for d in devices}
        for line in lines:
            line.addCallObserver(lambda call, change, d=line.device: self.changes[d].append(change.state.value))
        return lines

    async def settle(self, line, state):
        """
        Wait until C{line} has a call in C{state}.
        """
        while not any(c.state.value == state for c in line.calls.values()):
            await deferLater(0.01)

    async def basic(self, encoding):
        a, b, c = await self.lines(encoding, "100", "101", "102")
        call = await a.makeCall("101")
        await self.settle(b, "offering")
        await b.calls[call.connection.callID].answer()
        await self.settle(a, "connected")
        await call.hold()
        await self.settle(a, "onhold")
        await call.unhold()
        await self.settle(a, "connected")
        await b.calls[call.connection.callID].blindTransfer("102")
        await self.settle(c, "offering")
        await c.calls[call.connection.callID].answer()
        await self.settle(c, "connected")
        await c.calls[call.connection.callID].drop()
        while a.calls or b.calls or c.calls:
            await deferLater(0.01)
        self.assertEqual(
            self.changes["100"],
            [
                "dialtone", "dialing", "ringback", "connected", "onhold", "connected",
                # Transferred on by 101: 102 rings, answers, hangs up.
                "ringback", "connected", "disconnected", "idle",
            ],
        )
        self.assertEqual(self.changes["101"], ["offering", "connected", "idle"])
        self.assertEqual(self.changes["102"], ["offering", "connected", "idle"])

    def test_basicBER(self):
        return defer.ensureDeferred(self.basic(Encoding.BER))

    def test_basicXML(self):
        return defer.ensureDeferred(self.basic(Encoding.XML))

    async def consult(self, encoding):
        a, b, c = await self.lines(encoding, "100", "101", "102")
        first = await a.makeCall("101")
        self.exchange.phone("101").answer()
        await self.settle(a, "connected")
        second = await first.setupTransfer("102")
        await self.settle(a, "onholdpendtransfer")
        self.exchange.phone("102").answer()
        await self.settle(c, "connected")
        await first.completeTransfer(second)
        while a.calls:
            await deferLater(0.01)
        self.assertEqual(self.changes["100"][-4:], ["ringback", "connected", "idle", "idle"])
        self.assertIn("onholdpendtransfer", self.changes["100"])
        self.assertEqual(list(c.calls), [first.connection.callID])
        self.assertEqual(c.calls[first.connection.callID].state, S.connected)
        await b.forward("103")
        await b.forward(None)
        with self.assertRaises(CSTAError):
            await Line(a.client, "999").open()

    async def redirect(self, encoding):
        a, b, c = await self.lines(encoding, "100", "101", "102")
        self.exchange.phone("100").offHook("101")
        await self.settle(b, "offering")
        await b.calls["1"].redirect("102")
        await self.settle(c, "offering")
        self.assertEqual(self.changes["101"], ["offering", "idle"])
        self.assertEqual(self.changes["100"], ["dialtone", "dialing", "ringback"])
        await c.calls["1"].answer()
        await self.settle(a, "connected")
        await a.calls["1"].generateDigits("12#")
        self.assertEqual(self.exchange.phone("100").sentDigits, ["12#"])
        await c.close()
        await a.calls["1"].drop()
        while a.calls:
            await deferLater(0.01)
        # The closed line heard nothing more.
        self.assertEqual(self.changes["102"], ["offering", "connected"])

    def test_redirectBER(self):
        return defer.ensureDeferred(self.redirect(Encoding.BER))

    def test_redirectXML(self):
        return defer.ensureDeferred(self.redirect(Encoding.XML))

    def test_consultBER(self):
        return defer.ensureDeferred(self.consult(Encoding.BER))

    def test_consultXML(self):
        return defer.ensureDeferred(self.consult(Encoding.XML))


def deferLater(seconds):
    """
    @return: a L{Deferred} firing after C{seconds} on the reactor.
    """
    return task.deferLater(reactor, seconds, lambda: None)
