"""
Tests for L{oso.csta.callcontrol} and L{oso.csta.monitors}: every call
control service over a CSTA link, in BER and in XML, and the event
sequences each party's device monitor gets, as ECMA-269 describes them.
"""

import pytest

from cstadesk import Desk

from oso.callmodel.errors import UniversalFailure
from oso.callmodel.ids import ConnectionID as C
from oso.callmodel.states import LocalConnectionState as S
from oso.csta import messages as m

NOW = m.AutoOriginate.doNotPrompt


@pytest.fixture(params=[False, True], ids=["BER", "XML"])
def desk(request):
    return Desk(xml=request.param)


def monitors(desk, *devices):
    return [desk.monitor(device) for device in devices]


def call(desk, calling="100", called="101"):
    """
    MakeCall, answered; return the calling device's connection.
    """
    response = desk.request(m.MakeCall(callingDevice=calling, calledDirectoryNumber=called, autoOriginate=NOW))
    desk.phone(called).answer()
    return response.callingDevice


def test_basicCall(desk):
    """
    MakeCall answers with the calling device's connection before any
    event; the caller's monitor sees its call set up and the called
    party's events, the called party's monitor only from Delivered on;
    both see the call end, as they left it as it ended.
    """
    a, b = monitors(desk, "100", "101")
    response = desk.request(m.MakeCall(callingDevice="100", calledDirectoryNumber="101", autoOriginate=NOW))
    assert response == m.MakeCallResponse(callingDevice=C("1", "100"))
    assert desk.events and isinstance(desk.events[0], m.ServiceInitiatedEvent)
    desk.phone("101").answer()
    desk.phone("100").hangUp()
    assert desk.seen(a) == [
        ("ServiceInitiated", "100@1"), ("Originated", "100@1"), ("Delivered", "101@1"),
        ("Established", "101@1"), ("ConnectionCleared", "100@1"), ("CallCleared", "call 1"),
    ]
    assert desk.seen(b) == [
        ("Delivered", "101@1"), ("Established", "101@1"), ("ConnectionCleared", "100@1"),
        ("ConnectionCleared", "101@1"), ("CallCleared", "call 1"),
    ]


def test_eventParameters(desk):
    """
    The events carry ECMA-269's parameters: devices, the new local
    connection state, the cause; a redirection the model does not know is
    C{notKnown}.
    """
    a = desk.monitor("100")
    call(desk)
    delivered = next(e for e in desk.events if isinstance(e, m.DeliveredEvent))
    assert delivered == m.DeliveredEvent(
        monitorCrossRefID=a, connection=C("1", "101"), alertingDevice="101", callingDevice="100",
        calledDevice="101", lastRedirectionDevice=m.DeviceIDStatus.notKnown,
        cause=m.EventCause.newCall, localConnectionInfo=S.alerting,
    )


def test_holdRetrieve(desk):
    a, b = monitors(desk, "100", "101")
    connection = call(desk)
    desk.seen(a), desk.seen(b)
    assert desk.request(m.HoldCall(callToBeHeld=connection)) == m.HoldCallResponse()
    assert desk.request(m.RetrieveCall(callToBeRetrieved=connection)) == m.RetrieveCallResponse()
    assert desk.seen(a) == desk.seen(b) == [("Held", "100@1"), ("Retrieved", "100@1")]


def test_consultationAndTransfer(desk):
    """
    ConsultationCall holds the first call and answers with the new
    connection; TransferCall joins the far ends, each monitor seeing one
    Transferred, and the remaining parties' monitors see the call end.
    """
    a, b, c = monitors(desk, "100", "101", "102")
    first = call(desk)
    desk.seen(a), desk.seen(b)
    response = desk.request(m.ConsultationCall(existingCall=first, consultedDevice="102"))
    assert response == m.ConsultationCallResponse(initiatedCall=C("2", "100"))
    desk.phone("102").answer()
    assert desk.seen(a) == [
        ("Held", "100@1"), ("ServiceInitiated", "100@2"), ("Originated", "100@2"),
        ("Delivered", "102@2"), ("Established", "102@2"),
    ]
    assert desk.seen(b) == [("Held", "100@1")]
    assert desk.seen(c) == [("Delivered", "102@2"), ("Established", "102@2")]
    result = desk.request(m.TransferCall(heldCall=first, activeCall=response.initiatedCall))
    assert result.transferredCall == C("1", None)
    assert {entry.endpoint for entry in result.connections} == {"101", "102"}
    assert desk.seen(a) == desk.seen(b) == desk.seen(c) == [("Transfered", "100@1")]
    desk.phone("101").hangUp()
    assert desk.seen(a) == []
    assert desk.seen(c) == [("ConnectionCleared", "101@1"), ("ConnectionCleared", "102@1"), ("CallCleared", "call 1")]


def test_transferredEventLists_theParties(desk):
    desk.monitor("101")
    first = call(desk)
    second = desk.request(m.ConsultationCall(existingCall=first, consultedDevice="102")).initiatedCall
    desk.phone("102").answer()
    desk.request(m.TransferCall(heldCall=first, activeCall=second))
    [transferred] = [e for e in desk.events if isinstance(e, m.TransferedEvent)]
    assert transferred.transferringDevice == "100"
    assert transferred.transferredToDevice == "102"
    assert {(e.oldConnection, e.newConnection) for e in transferred.transferredConnections} == {
        (C("1", "101"), C("1", "101")), (C("2", "102"), C("1", "102")),
    }


def test_conference(desk):
    a, b, c = monitors(desk, "100", "101", "102")
    first = call(desk)
    second = desk.request(m.ConsultationCall(existingCall=first, consultedDevice="102")).initiatedCall
    desk.phone("102").answer()
    desk.seen(a), desk.seen(b), desk.seen(c)
    result = desk.request(m.ConferenceCall(heldCall=first, activeCall=second))
    assert result.conferenceCall == C("1", "100")
    assert {entry.endpoint for entry in result.connections} == {"100", "101", "102"}
    assert desk.seen(a) == desk.seen(b) == desk.seen(c) == [("Conferenced", "100@1")]
    desk.phone("101").hangUp()
    assert desk.seen(a) == desk.seen(c) == [("ConnectionCleared", "101@1")]


def test_alternateReconnect(desk):
    a = desk.monitor("100")
    first = call(desk)
    second = desk.request(m.ConsultationCall(existingCall=first, consultedDevice="102")).initiatedCall
    desk.phone("102").answer()
    desk.seen(a)
    assert desk.request(m.AlternateCall(heldCall=first, activeCall=second)) == m.AlternateCallResponse()
    assert desk.seen(a) == [("Held", "100@2"), ("Retrieved", "100@1")]
    assert desk.request(m.ReconnectCall(activeCall=first, heldCall=second)) == m.ReconnectCallResponse()
    assert desk.seen(a) == [
        ("ConnectionCleared", "100@1"), ("CallCleared", "call 1"), ("Retrieved", "100@2"),
    ]


def test_forwarding(desk):
    """
    SetForwarding is reported as Forwarding on the device; a call to it is
    Diverted there and Delivered at the destination; GetForwarding tells.
    """
    a, b, c = monitors(desk, "100", "101", "102")
    request = m.SetForwarding(
        device="101", activateForward=True, forwardingType=m.ForwardingType.forwardImmediate, forwardDN="102"
    )
    assert desk.request(request) == m.SetForwardingResponse()
    assert desk.seen(b) == [("Forwarding", "101")]
    entries = desk.request(m.GetForwarding(device="101")).forwardingList
    assert m.ForwardListEntry(
        forwardStatus=True, forwardingType=m.ForwardingType.forwardImmediate, forwardDN="102"
    ) in entries
    desk.phone("100").offHook("101")
    assert desk.seen(a) == [
        ("ServiceInitiated", "100@1"), ("Originated", "100@1"), ("Diverted", "101@1"), ("Delivered", "102@1"),
    ]
    assert desk.seen(b) == [("Diverted", "101@1")]
    assert desk.seen(c) == [("Delivered", "102@1")]


def test_doNotDisturb(desk):
    a, b = monitors(desk, "100", "101")
    assert desk.request(m.SetDoNotDisturb(device="101", doNotDisturbOn=True)) == m.SetDoNotDisturbResponse()
    assert desk.request(m.GetDoNotDisturb(device="101")).doNotDisturbOn is True
    assert ("DoNotDisturb", "101") in desk.seen(b)
    desk.phone("100").offHook("101")
    desk.collect()
    failed = [e for e in desk.events if isinstance(e, m.FailedEvent)]
    assert failed[0].cause == m.EventCause.doNotDisturb
    assert desk.seen(a) == [("ServiceInitiated", "100@1"), ("Originated", "100@1"), ("Failed", "100@1")]
    assert desk.seen(b) == []


def test_directedPickup(desk):
    a, b, c = monitors(desk, "100", "101", "102")
    desk.phone("100").offHook("101")
    desk.seen(a), desk.seen(b)
    response = desk.request(m.DirectedPickupCall(callToBePickedUp=C("1", "101"), requestingDevice="102"))
    assert response == m.DirectedPickupCallResponse(pickedCall=C("1", "102"))
    assert desk.seen(a) == [("Diverted", "101@1"), ("Established", "102@1")]
    assert desk.seen(b) == [("Diverted", "101@1")]
    assert desk.seen(c) == [("Established", "102@1")]


def test_answerClearDeflect(desk):
    """
    DeflectCall sends the alerting call on; AnswerCall answers it at the
    new destination; ClearConnection releases that party and so the call.
    """
    a, c = monitors(desk, "101", "102")
    desk.phone("100").offHook("101")
    assert desk.request(m.DeflectCall(callToBeDiverted=C("1", "101"), newDestination="102")) == m.DeflectCallResponse()
    assert desk.seen(a) == [("Delivered", "101@1"), ("Diverted", "101@1")]
    assert desk.request(m.AnswerCall(callToBeAnswered=C("1", "102"))) == m.AnswerCallResponse()
    assert desk.exchange.model.snapshotCall("1") == [
        ("100", C("1", "100"), S.connected), ("102", C("1", "102"), S.connected),
    ]
    assert desk.request(m.ClearConnection(connectionToBeCleared=C("1", "102"))) == m.ClearConnectionResponse()
    assert desk.seen(c) == [
        ("Delivered", "102@1"), ("Established", "102@1"), ("ConnectionCleared", "102@1"),
        ("CallCleared", "call 1"),
    ]
    assert desk.exchange.model.calls() == []


def test_clearCallAndSnapshots(desk):
    a = desk.monitor("100")
    connection = call(desk)
    snapshot = desk.request(m.SnapshotDevice(snapshotObject="100"))
    assert snapshot.snapshotData == (
        m.SnapshotDeviceResponseInfo(connectionIdentifier=connection, localCallState=(S.connected, S.connected)),
    )
    parties = desk.request(m.SnapshotCall(snapshotObject=C("1", None))).snapshotData
    assert {(p.deviceOnCall, p.localConnectionState) for p in parties} == {("100", S.connected), ("101", S.connected)}
    desk.seen(a)
    assert desk.request(m.ClearCall(callToBeCleared=C("1", None))) == m.ClearCallResponse()
    assert desk.seen(a)[-1] == ("CallCleared", "call 1")
    assert desk.exchange.model.calls() == []


def test_generateDigitsAndSingleStepTransfer(desk):
    connection = call(desk)
    assert desk.request(m.GenerateDigits(connectionToSendDigits=connection, charactersToSend="12#")) == (
        m.GenerateDigitsResponse()
    )
    assert desk.phone("100").sentDigits == ["12#"]
    response = desk.request(m.SingleStepTransferCall(activeCall=C("1", "101"), transferredTo="102"))
    assert response.transferredCall == C("1", "100")
    assert [(p.endpoint, p.newConnection) for p in response.connections] == [
        ("100", C("1", "100")), ("102", C("1", "102")),
    ]
    desk.phone("102").answer()
    assert {d for d, _, _ in desk.exchange.model.snapshotCall("1")} == {"100", "102"}


@pytest.mark.parametrize(
    "request_, failure",
    [
        (m.MakeCall(callingDevice="999", calledDirectoryNumber="101"), "invalidCallingDeviceID"),
        (m.AnswerCall(callToBeAnswered=C("9", "100")), "invalidConnectionID"),
        (m.HoldCall(callToBeHeld=C("9", "100")), "invalidConnectionID"),
        (m.MonitorStart(monitorObject="999"), "invalidDeviceID"),
        (m.MonitorStop(monitorCrossRefID="77"), "invalidCrossRefID"),
        (m.GetDoNotDisturb(device="999"), "invalidDeviceID"),
    ],
)
def test_refusals(desk, request_, failure):
    """
    What the call model refuses comes back as its universal failure, and
    no event is sent.
    """
    answer = desk.request(request_)
    assert isinstance(answer, UniversalFailure)
    assert answer.value == failure
    assert desk.events == []
